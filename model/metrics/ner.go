package metrics

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// Entity is a typed token span [Start, End) of a sentence.
type Entity struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// splitTag splits a tag into its prefix (B, I, E, S or O) and type. Any tag
// that is not "B-T", "I-T", "E-T" or "S-T" with a non-empty T counts as O.
func splitTag(tag string) (byte, string) {
	if len(tag) >= 3 && tag[1] == '-' {
		switch tag[0] {
		case 'B', 'I', 'E', 'S':
			return tag[0], tag[2:]
		}
	}
	return 'O', ""
}

// chunkEnds reports whether a chunk ends just before the current token,
// as conlleval's endOfChunk does.
func chunkEnds(prev, cur byte, prevType, curType string) bool {
	switch {
	case prev == 'E' || prev == 'S':
		return true
	case (prev == 'B' || prev == 'I') && (cur == 'B' || cur == 'S' || cur == 'O'):
		return true
	case prev != 'O' && prevType != curType:
		return true
	}
	return false
}

// chunkStarts reports whether a chunk starts at the current token, as
// conlleval's startOfChunk does.
func chunkStarts(prev, cur byte, prevType, curType string) bool {
	switch {
	case cur == 'B' || cur == 'S':
		return true
	case (prev == 'E' || prev == 'S' || prev == 'O') && (cur == 'I' || cur == 'E'):
		return true
	case cur != 'O' && prevType != curType:
		return true
	}
	return false
}

// Entities returns the entities of a tag sequence in order, using the
// chunking rules of conlleval (identical to seqeval's default mode):
//
//   - B-T (and S-T) always starts a new entity of type T.
//   - I-T (and E-T) continues the current entity if it has type T;
//     otherwise, after O, after another type or at the start of the
//     sentence, it starts a new entity (IOB1 style).
//   - An entity ends before O, before B-T/S-T, before a tag of another
//     type, and after E-T/S-T.
//
// Tags other than O, B-T, I-T, E-T and S-T (T non-empty) are treated as O.
// The result is nil if there are no entities.
func Entities(tags []string) []Entity {
	var (
		out      []Entity
		prev     byte = 'O'
		prevType string
		open     = -1
	)
	for i := 0; i <= len(tags); i++ {
		cur, curType := byte('O'), ""
		if i < len(tags) {
			cur, curType = splitTag(tags[i])
		}
		if open >= 0 && chunkEnds(prev, cur, prevType, curType) {
			out = append(out, Entity{Type: prevType, Start: open, End: i})
			open = -1
		}
		if chunkStarts(prev, cur, prevType, curType) {
			open = i
		}
		prev, prevType = cur, curType
	}
	return out
}

// NER is the entity-level evaluation of a tagger.
type NER struct {
	// Precision, Recall and F1 are micro-averaged over all entities of
	// all types: Correct/Predicted, Correct/Gold and 2·Correct/(Gold+Predicted),
	// each 0 when its denominator is 0 (conlleval).
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// N is the number of sentences.
	N int `json:"n"`
	// Tokens is the number of tokens.
	Tokens int `json:"tokens"`
	// Gold, Predicted and Correct count gold entities, predicted entities
	// and predicted entities that exactly match a gold one (type and span).
	Gold      int `json:"gold_entities"`
	Predicted int `json:"predicted_entities"`
	Correct   int `json:"correct_entities"`
	// PerType maps every entity type seen in gold or predictions to its
	// scores; Support is the number of gold entities of that type.
	PerType map[string]ClassScore `json:"per_type"`
	// TokenAccuracy is the fraction of tokens whose predicted tag equals
	// the gold tag exactly, O included (conlleval "accuracy").
	TokenAccuracy float64 `json:"token_accuracy"`
}

// EvalNER scores predicted tag sequences against gold ones, sentence by
// sentence. It returns an error wrapping ErrLength if the number of
// sentences differs or a sentence's predicted tags differ in length from its
// gold tags.
func EvalNER(gold, pred [][]string) (NER, error) {
	if len(gold) != len(pred) {
		return NER{}, fmt.Errorf("evaluate ner: %d gold and %d predicted sentences: %w", len(gold), len(pred), ErrLength)
	}
	byType := map[string]*typeCounts{}
	get := func(t string) *typeCounts { return countOf(byType, t) }
	n := NER{N: len(gold)}
	sameTags := 0
	for i, g := range gold {
		p := pred[i]
		if len(g) != len(p) {
			return NER{}, fmt.Errorf("evaluate ner: sentence %d: %d gold and %d predicted tags: %w", i, len(g), len(p), ErrLength)
		}
		n.Tokens += len(g)
		for j := range g {
			if g[j] == p[j] {
				sameTags++
			}
		}
		ge, pe := Entities(g), Entities(p)
		for _, e := range ge {
			get(e.Type).gold++
		}
		for _, e := range pe {
			get(e.Type).pred++
		}
		// Both lists are ordered by Start with distinct starts; walk them
		// together to find exact matches.
		for a, b := 0, 0; a < len(ge) && b < len(pe); {
			switch {
			case ge[a].Start < pe[b].Start:
				a++
			case ge[a].Start > pe[b].Start:
				b++
			default:
				if ge[a] == pe[b] {
					get(ge[a].Type).correct++
					n.Correct++
				}
				a++
				b++
			}
		}
		n.Gold += len(ge)
		n.Predicted += len(pe)
	}
	n.Precision = ratio(n.Correct, n.Predicted)
	n.Recall = ratio(n.Correct, n.Gold)
	n.F1 = ratio(2*n.Correct, n.Gold+n.Predicted)
	n.TokenAccuracy = ratio(sameTags, n.Tokens)
	n.PerType = make(map[string]ClassScore, len(byType))
	for t, c := range byType {
		n.PerType[t] = score(c.correct, c.pred, c.gold)
	}
	return n, nil
}

// Span is a typed span [Start, End) of a text, in any unit the caller
// chooses (EvalSpans only compares them); tagstream eval --text uses rune
// offsets.
type Span struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// EvalSpans scores predicted spans against gold ones, text by text, by exact
// (Type, Start, End) match, as EvalNER does for the entities of tag
// sequences; spans need not be sorted and may overlap. A span that occurs k
// times in gold and j times in the predictions of one text counts min(k, j)
// times as correct. It fills the same fields as EvalNER except Tokens and
// TokenAccuracy, which are 0 (spans have no tokens). It returns an error
// wrapping ErrLength if the number of texts differs.
func EvalSpans(gold, pred [][]Span) (NER, error) {
	if len(gold) != len(pred) {
		return NER{}, fmt.Errorf("evaluate spans: %d gold and %d predicted texts: %w", len(gold), len(pred), ErrLength)
	}
	byType := map[string]*typeCounts{}
	n := NER{N: len(gold)}
	left := map[Span]int{}
	for i, g := range gold {
		clear(left)
		for _, s := range g {
			left[s]++
			countOf(byType, s.Type).gold++
		}
		for _, s := range pred[i] {
			c := countOf(byType, s.Type)
			c.pred++
			if left[s] > 0 {
				left[s]--
				c.correct++
				n.Correct++
			}
		}
		n.Gold += len(g)
		n.Predicted += len(pred[i])
	}
	n.Precision = ratio(n.Correct, n.Predicted)
	n.Recall = ratio(n.Correct, n.Gold)
	n.F1 = ratio(2*n.Correct, n.Gold+n.Predicted)
	n.PerType = make(map[string]ClassScore, len(byType))
	for t, c := range byType {
		n.PerType[t] = score(c.correct, c.pred, c.gold)
	}
	return n, nil
}

// typeCounts holds one entity type's gold, predicted and correct counts.
type typeCounts struct{ gold, pred, correct int }

// countOf returns the counts of type t in m, adding them if missing.
func countOf(m map[string]*typeCounts, t string) *typeCounts {
	c := m[t]
	if c == nil {
		c = &typeCounts{}
		m[t] = c
	}
	return c
}

// Format writes a human-readable report to w: summary lines and a per-type
// table sorted by type. It returns w's first error.
func (n NER) Format(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "sentences: %d  tokens: %d  token accuracy: %.4f\n", n.N, n.Tokens, n.TokenAccuracy)
	fmt.Fprintf(ew, "entities: gold %d  predicted %d  correct %d\n", n.Gold, n.Predicted, n.Correct)
	fmt.Fprintf(ew, "micro precision: %.4f  recall: %.4f  f1: %.4f\n\n", n.Precision, n.Recall, n.F1)
	types := make([]string, 0, len(n.PerType))
	for t := range n.PerType {
		types = append(types, t)
	}
	slices.Sort(types)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "type\tprecision\trecall\tf1\tsupport\t\n")
	for _, t := range types {
		s := n.PerType[t]
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t\n", t, s.Precision, s.Recall, s.F1, s.Support)
	}
	tw.Flush()
	return ew.err
}
