package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tagstream/tagstream/model/metrics"
)

// PredictSentences tags pre-tokenized sentences (the gold tokens are the
// tagger's tokens, in batches of 64; EvaluateSentences scores its output) and returns
// the raw predicted tags, one per token: elements of Tags(), such as
// "B-PER.NAM", before the model's type map. Tokens past the model's
// MaxTokens are "O". The result is newly allocated; its strings are shared
// with Tags(). tokens is not modified. Safe for concurrent use.
func (m *CompiledTagger) PredictSentences(tokens [][]string) [][]string {
	ws := m.NewWorkspace()
	pred := make([][]string, len(tokens))
	for lo := 0; lo < len(tokens); lo += 64 {
		hi := min(lo+64, len(tokens))
		ws.feat.reset()
		for _, s := range tokens[lo:hi] {
			m.tg.encodeGold(&ws.feat, &ws.buf, s)
		}
		m.forward(ws)
		for i, s := range tokens[lo:hi] {
			p := make([]string, len(s))
			for j := range p {
				p[j] = "O"
			}
			for j, t := range ws.tagsOf(i) {
				p[j] = m.tg.Tags[t]
			}
			pred[lo+i] = p
		}
	}
	return pred
}

// UnifiedType returns the type TagBatch reports (Entity.Type) for a raw
// entity type of the tagger's tags (the part after "B-"/"I-"), and whether
// such a mention is nominal (Entity.Nominal set and true): a ".NAM" or
// ".NOM" suffix is removed and the rest mapped through the model's TypeMap,
// unmapped types passing through, as Compile does. "GPE.NOM" gives "LOC",
// true with the built-in map. Safe for concurrent use.
func (m *CompiledTagger) UnifiedType(rawType string) (typ string, nominal bool) {
	return unifiedType(m.tg.TypeMap, rawType)
}

// evalTextBatch is the number of texts tagged per TagBatch call when
// EvaluateEntities runs in text mode.
const evalTextBatch = 64

// SentenceError is an error in the gold data of one sentence: Index is
// its position in the evaluated slice.
type SentenceError struct {
	Index int
	Err   error
}

func (e *SentenceError) Error() string { return fmt.Sprintf("sentence %d: %v", e.Index, e.Err) }

// Unwrap returns the cause.
func (e *SentenceError) Unwrap() error { return e.Err }

// EvaluateGoldTypesOnly scores m's raw tags on ex, predicted entities of
// types absent from every gold sentence of ex turned to O: a tagger trained
// on several data sets knows types (CLUENER's MISC) that another
// (weibo_ner) never annotates, so such predictions are not errors on it.
func (m *CompiledTagger) EvaluateGoldTypesOnly(ex []TaggedSentence) (metrics.NER, error) {
	types := map[string]bool{}
	tokens := make([][]string, len(ex))
	gold := make([][]string, len(ex))
	for i, e := range ex {
		tokens[i], gold[i] = e.Tokens, e.Tags
		for _, t := range e.Tags {
			if len(t) > 2 {
				types[t[2:]] = true
			}
		}
	}
	pred := m.PredictSentences(tokens)
	for _, p := range pred {
		for j, t := range p {
			if len(t) > 2 && !types[t[2:]] {
				p[j] = "O"
			}
		}
	}
	return metrics.EvalNER(gold, pred)
}

// EvaluateEntities scores m's unified output on ex (Tags are the data
// set's own BIO tags; Map and Set are not read).
//
// Gold: each gold entity's type is mapped with dm (a type mapped to "" is
// dropped; a type dm does not know is a *SentenceError).
// Predictions: each entity's type as CompiledTagger reports it (after the
// model's own type map); with dm, nominal mentions and types outside
// dm.Targets() are dropped. Without dm both keep their types as they are.
//
// In token mode the tagger tags the gold tokens and both sides are
// re-rendered as BIO tags of the mapped types and scored with
// metrics.EvalNER. In text mode each sentence's tokens are joined (" " for
// an English model, "" for Chinese) and tagged with TagBatch as predict
// does, and gold and predicted rune spans of that text are scored with
// metrics.EvalSpans.
func (m *CompiledTagger) EvaluateEntities(ex []TaggedSentence, dm *DataTypeMap, textMode bool) (metrics.NER, error) {
	gold := make([][]metrics.Entity, len(ex))
	for i, e := range ex {
		g, err := mapGold(metrics.Entities(e.Tags), dm)
		if err != nil {
			return metrics.NER{}, &SentenceError{Index: i, Err: err}
		}
		gold[i] = g
	}
	score := scoredType(dm)
	if textMode {
		return m.evaluateText(ex, gold, score)
	}
	tokens := make([][]string, len(ex))
	for i, e := range ex {
		tokens[i] = e.Tokens
	}
	raw := m.PredictSentences(tokens)
	goldTags := make([][]string, len(ex))
	predTags := make([][]string, len(ex))
	for i, e := range ex {
		goldTags[i] = renderTags(len(e.Tokens), gold[i])
		var pred []metrics.Entity
		for _, p := range metrics.Entities(raw[i]) {
			if t, ok := score(m.UnifiedType(p.Type)); ok {
				pred = append(pred, metrics.Entity{Type: t, Start: p.Start, End: p.End})
			}
		}
		predTags[i] = renderTags(len(e.Tokens), pred)
	}
	return metrics.EvalNER(goldTags, predTags)
}

// evaluateText tags the joined sentences of ex and scores the spans kept by
// score against the gold entities (token indices, types already mapped).
func (m *CompiledTagger) evaluateText(ex []TaggedSentence, gold [][]metrics.Entity, score func(string, bool) (string, bool)) (metrics.NER, error) {
	sep := tokenSep(m.Lang())
	sepRunes := utf8.RuneCountInString(sep)
	texts := make([]string, len(ex))
	goldSpans := make([][]metrics.Span, len(ex))
	for i, e := range ex {
		texts[i] = strings.Join(e.Tokens, sep)
		// start[k] is the rune offset of token k, start[len] past the end.
		start := make([]int, len(e.Tokens)+1)
		for k, tok := range e.Tokens {
			start[k+1] = start[k] + utf8.RuneCountInString(tok) + sepRunes
		}
		for _, g := range gold[i] {
			end := start[g.End] - sepRunes
			goldSpans[i] = append(goldSpans[i], metrics.Span{Type: g.Type, Start: start[g.Start], End: end})
		}
	}
	pred := make([][]metrics.Span, len(ex))
	ws := m.NewWorkspace()
	for lo := 0; lo < len(texts); lo += evalTextBatch {
		hi := min(lo+evalTextBatch, len(texts))
		m.TagBatch(ws, texts[lo:hi])
		for k := range hi - lo {
			for _, e := range ws.Entities(k) {
				if t, ok := score(e.Type, e.Nominal != nil && *e.Nominal); ok {
					pred[lo+k] = append(pred[lo+k], metrics.Span{Type: t, Start: e.Start, End: e.End})
				}
			}
		}
	}
	return metrics.EvalSpans(goldSpans, pred)
}

// mapGold maps the types of gold entities with dm, dropping those mapped
// to "". Without dm it returns ents unchanged. A type dm does not know is
// an error.
func mapGold(ents []metrics.Entity, dm *DataTypeMap) ([]metrics.Entity, error) {
	if dm == nil {
		return ents, nil
	}
	out := ents[:0]
	for _, e := range ents {
		tag, known := dm.MapTag("B-" + e.Type)
		if !known {
			return nil, fmt.Errorf("entity type %q is not in type map %s (it maps %s)", e.Type, dm.Name, strings.Join(slices.Sorted(maps.Keys(dm.Types)), ", "))
		}
		if tag != "O" {
			e.Type = tag[2:]
			out = append(out, e)
		}
	}
	return out, nil
}

// scoredType returns the filter for predicted mentions: given the type the
// model reports and whether the mention is nominal, the type to score and
// whether to score it at all. With dm it drops nominal mentions and types
// outside dm.Targets(); without dm it keeps everything.
func scoredType(dm *DataTypeMap) func(typ string, nominal bool) (string, bool) {
	if dm == nil {
		return func(typ string, _ bool) (string, bool) { return typ, true }
	}
	targets := map[string]bool{}
	for _, t := range dm.Targets() {
		targets[t] = true
	}
	return func(typ string, nominal bool) (string, bool) {
		return typ, !nominal && targets[typ]
	}
}

// renderTags returns the BIO tags of n tokens holding the non-overlapping
// entities ents.
func renderTags(n int, ents []metrics.Entity) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = "O"
	}
	for _, e := range ents {
		tags[e.Start] = "B-" + e.Type
		for j := e.Start + 1; j < e.End; j++ {
			tags[j] = "I-" + e.Type
		}
	}
	return tags
}
