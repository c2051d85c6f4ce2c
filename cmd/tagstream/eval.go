package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/dataset"
	"github.com/tagstream/tagstream/model/metrics"
)

func newEvalCmd() *cobra.Command {
	var (
		modelPath, dataPath, typeMap string
		asJSON, strict, textMode     bool
		goldTypesOnly                bool
	)
	cmd := &cobra.Command{
		Use:   "eval --model MODEL --data FILE [--type-map NAME|FILE] [--text] [--json]",
		Short: "Evaluate a model on labelled data",
		Long: `Evaluate a classifier on JSONL {"text","label"} or CSV data: accuracy, macro
precision/recall/F1, per-class scores and the confusion matrix (rows gold, columns predicted).
With --json it prints one JSON object with keys accuracy, macro_precision, macro_recall,
macro_f1, n, per_class and confusion; scores are fractions between 0 and 1. A multi-label
classifier is scored on JSONL {"text","labels":[...]} at its own thresholds: micro and macro
F1, subset accuracy, Hamming loss and per-label scores; --json keys micro_precision,
micro_recall, micro_f1, macro_f1, subset_accuracy, hamming_loss, n and per_label (precision,
recall, f1, threshold, support).

Evaluate a tagger on JSONL {"tokens","tags"} or CoNLL data: entity-level exact-match
precision/recall/F1 (conlleval semantics), per-type scores and token accuracy. With --json it
prints one object with keys precision, recall, f1, n (sentences), per_type and token_accuracy,
plus the entity counts, type_map and mode.

--type-map NAME|FILE scores a tagger in the product's terms: gold types are mapped to PER, LOC,
ORG and MISC by a built-in map (` + strings.Join(model.BuiltinTypeMapNames(), ", ") + `) or a JSON
file {"types": {"source": "PER", "dropped": ""}}; types mapped to "" are not scored and a gold
type the map lacks is an error. Predictions are the types the model reports (after its own type
map), without nominal mentions and without types the map never produces (btc has no MISC).
--text scores the way predict runs: each sentence's tokens are joined (" " for an English model,
"" for Chinese) and tagged as one text, and predicted rune spans must match the gold spans
exactly; token_accuracy is then 0. --text without --type-map compares the model's reported
types with the gold types as they are.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" || dataPath == "" {
				return fmt.Errorf("eval: --model and --data are required")
			}
			var dm *model.DataTypeMap // checked before the slow model load
			if typeMap != "" {
				var err error
				if dm, err = loadTypeMap(typeMap); err != nil {
					return err
				}
			}
			var tc model.TokenizerCache
			m, err := modelfile.Load(modelPath, &tc)
			if err != nil {
				return err
			}
			opts := dataset.Options{Strict: strict}
			var res interface{ Format(io.Writer) error }
			if m.Tagger != nil {
				r, err := evalTagger(cmd, m.Tagger.Compile(), dataPath, opts, dm, textMode, goldTypesOnly)
				if err != nil {
					return err
				}
				res = r
			} else {
				if typeMap != "" || textMode || goldTypesOnly {
					return fmt.Errorf("eval: --type-map and --text apply to a tagger; %s is a %s", modelPath, model.KindClassifier)
				}
				cm := m.Classifier.Compile()
				if cm.MultiLabel() {
					r, err := evalMultiLabel(cmd, cm, dataPath, opts)
					if err != nil {
						return err
					}
					res = r
				} else {
					r, err := evalClassifier(cmd, cm, dataPath, opts)
					if err != nil {
						return err
					}
					res = r
				}
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			return res.Format(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "model file")
	f.StringVar(&dataPath, "data", "", "labelled data (JSONL or CSV)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.BoolVar(&strict, "strict", false, "fail on the first bad data line instead of skipping it")
	f.StringVar(&typeMap, "type-map", "", "tagger: score unified PER/LOC/ORG/MISC types with this built-in data set map or JSON map file")
	f.BoolVar(&textMode, "text", false, "tagger: tag each sentence's joined text as predict does and score rune spans")
	f.BoolVar(&goldTypesOnly, "gold-types-only", false, "tagger, raw types: do not score predicted types that occur nowhere in the data (a model trained on several data sets knows types another never annotates)")
	return cmd
}

// evalMultiLabel scores a multi-label classifier on the "labels" records
// of path; a record with a single "label" or a label the model lacks is an
// error naming the line.
func evalMultiLabel(cmd *cobra.Command, m *model.CompiledClassifier, path string, opts dataset.Options) (metrics.MultiLabel, error) {
	ex, err := readExamples(cmd, path, opts)
	if err != nil {
		return metrics.MultiLabel{}, err
	}
	labels := m.Labels()
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		index[l] = i
	}
	texts := make([]string, len(ex))
	gold := make([]bool, len(ex)*len(labels))
	for i, e := range ex {
		if e.Label != "" {
			return metrics.MultiLabel{}, fmt.Errorf("eval: %s line %d: a single \"label\"; the multi-label model reads \"labels\"", path, e.Line)
		}
		for _, l := range e.Labels {
			j, ok := index[l]
			if !ok {
				return metrics.MultiLabel{}, fmt.Errorf("eval: %s line %d: label %q is not one of the model's labels %v", path, e.Line, l, labels)
			}
			gold[i*len(labels)+j] = true
		}
		texts[i] = e.Text
	}
	return m.EvaluateMultiLabel(texts, gold)
}

func evalClassifier(cmd *cobra.Command, m *model.CompiledClassifier, path string, opts dataset.Options) (metrics.Classification, error) {
	ex, err := readExamples(cmd, path, opts)
	if err != nil {
		return metrics.Classification{}, err
	}
	index := map[string]int{}
	for i, l := range m.Labels() {
		index[l] = i
	}
	texts := make([]string, len(ex))
	gold := make([]int, len(ex))
	for i, e := range ex {
		if len(e.Labels) > 0 {
			return metrics.Classification{}, fmt.Errorf("eval: %s line %d: a multi-label record (\"labels\"); %v is a single-label model", path, e.Line, m.Labels())
		}
		g, ok := index[e.Label]
		if !ok {
			return metrics.Classification{}, fmt.Errorf("eval: %s line %d: label %q is not one of the model's labels %v", path, e.Line, e.Label, m.Labels())
		}
		texts[i], gold[i] = e.Text, g
	}
	return m.Evaluate(texts, gold)
}
