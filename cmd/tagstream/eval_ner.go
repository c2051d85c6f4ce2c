package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/dataset"
	"github.com/tagstream/tagstream/model/metrics"
)

// Modes of tagger evaluation (nerEval.Mode).
const (
	evalModeTokens = "tokens" // the gold tokens are the tagger's tokens
	evalModeText   = "text"   // the tagger reads the joined text, as predict does
)

// evalTextBatch is the number of texts tagged per TagBatch call in text mode.
const evalTextBatch = 64

// nerEval is the result of eval on a tagger: the entity scores (the JSON
// keys of metrics.NER) plus how they were computed.
type nerEval struct {
	metrics.NER
	// TypeMap is the name of the --type-map map, "" without one.
	TypeMap string `json:"type_map"`
	// Mode is evalModeTokens or evalModeText.
	Mode string `json:"mode"`

	targets []string // the map's unified types, for Format
}

// Format writes the metrics.NER report and one line naming the map and
// mode. It returns w's first error.
func (e nerEval) Format(w io.Writer) error {
	if err := e.NER.Format(w); err != nil {
		return err
	}
	m := "none (raw model tags)"
	switch {
	case e.TypeMap != "":
		m = fmt.Sprintf("%s (scored types %s, nominal mentions dropped)", e.TypeMap, strings.Join(e.targets, ", "))
	case e.Mode == evalModeText:
		m = "none (the model's reported types against the gold types as given)"
	}
	mode := e.Mode
	if mode == evalModeText {
		mode += " (rune spans of the joined sentence; no token accuracy)"
	}
	_, err := fmt.Fprintf(w, "\ntype map: %s  mode: %s\n", m, mode)
	return err
}

// loadTypeMap returns the built-in data type map called arg or else the
// JSON map in file arg.
func loadTypeMap(arg string) (*model.DataTypeMap, error) {
	if dm, ok := model.BuiltinTypeMap(arg); ok {
		return dm, nil
	}
	b, err := os.ReadFile(arg)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("eval: --type-map %s: no such file and not a built-in map (%s)", arg, strings.Join(model.BuiltinTypeMapNames(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("eval: --type-map %s: %w", arg, err)
	}
	dm, err := model.ParseDataTypeMap(arg, b)
	if err != nil {
		return nil, fmt.Errorf("eval: --type-map %s: %w", arg, err)
	}
	return dm, nil
}

// evalTagger scores m on the tagged sentences of path. Without a type map
// (dm nil) and without textMode it scores the raw tags
// (CompiledTagger.EvaluateSentences); otherwise see evalEntities.
//
// goldTypesOnly (raw token mode) drops predicted entities of types that
// occur nowhere in the data's gold tags: a tagger trained on several data
// sets knows types (CLUENER's MISC) that another (weibo_ner) never
// annotates, so such predictions are not errors on it.
func evalTagger(cmd *cobra.Command, m *model.CompiledTagger, path string, opts dataset.Options, dm *model.DataTypeMap, textMode, goldTypesOnly bool) (nerEval, error) {
	ex, err := readSentences(cmd, path, opts)
	if err != nil {
		return nerEval{}, err
	}
	res := nerEval{Mode: evalModeTokens}
	if textMode {
		res.Mode = evalModeText
	}
	if dm != nil {
		res.TypeMap, res.targets = dm.Name, dm.Targets()
	} else if !textMode && goldTypesOnly {
		res.NER, err = evalGoldTypesOnly(m, ex)
		return res, err
	} else if !textMode {
		res.NER, err = m.EvaluateSentences(toTagged(ex))
		return res, err
	}
	res.NER, err = evalEntities(m, ex, path, dm, textMode)
	return res, err
}

// evalGoldTypesOnly scores m's raw tags on ex, predicted entities of types
// absent from every gold sentence of ex turned to O.
func evalGoldTypesOnly(m *model.CompiledTagger, ex []dataset.NERExample) (metrics.NER, error) {
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

// evalEntities scores m's unified output on ex.
//
// Gold: each gold entity's type is mapped with dm (a type mapped to "" is
// dropped; a type dm does not know is an error naming path and line).
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
func evalEntities(m *model.CompiledTagger, ex []dataset.NERExample, path string, dm *model.DataTypeMap, textMode bool) (metrics.NER, error) {
	gold := make([][]metrics.Entity, len(ex))
	for i, e := range ex {
		g, err := mapGold(metrics.Entities(e.Tags), dm)
		if err != nil {
			return metrics.NER{}, fmt.Errorf("eval: %s line %d: %w", path, e.Line, err)
		}
		gold[i] = g
	}
	score := scoredType(dm)
	if textMode {
		return evalText(m, ex, gold, score)
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

// evalText tags the joined sentences of ex and scores the spans kept by
// score against the gold entities (token indices, types already mapped).
func evalText(m *model.CompiledTagger, ex []dataset.NERExample, gold [][]metrics.Entity, score func(string, bool) (string, bool)) (metrics.NER, error) {
	sep := " "
	if m.Lang() == "zh" {
		sep = ""
	}
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
func mapGold(ents []metrics.Entity, dm *model.DataTypeMap) ([]metrics.Entity, error) {
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
func scoredType(dm *model.DataTypeMap) func(typ string, nominal bool) (string, bool) {
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
