package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

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
		res.NER, err = m.EvaluateGoldTypesOnly(toTagged(ex))
		return res, err
	} else if !textMode {
		res.NER, err = m.EvaluateSentences(toTagged(ex))
		return res, err
	}
	res.NER, err = m.EvaluateEntities(toTagged(ex), dm, textMode)
	var se *model.SentenceError
	if errors.As(err, &se) {
		return res, fmt.Errorf("eval: %s line %d: %w", path, ex[se.Index].Line, se.Err)
	}
	return res, err
}
