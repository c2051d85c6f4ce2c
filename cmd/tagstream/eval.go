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
		labelMap                     string
	)
	cmd := &cobra.Command{
		Use:   "eval --model MODEL --data FILE [--type-map NAME|FILE] [--text] [--label-map NAME|FILE] [--json]",
		Short: "Evaluate a model on labelled data",
		Long: `Evaluate a classifier on JSONL {"text","label"} or CSV data: accuracy, macro
precision/recall/F1, per-class scores and the confusion matrix (rows gold, columns predicted).
With --json it prints one JSON object with keys accuracy, macro_precision, macro_recall,
macro_f1, n, per_class and confusion; scores are fractions between 0 and 1. A multi-label
classifier is scored on JSONL {"text","labels":[...]} at its own thresholds: micro and macro
F1, subset accuracy, Hamming loss and per-label scores; --json keys micro_precision,
micro_recall, micro_f1, macro_f1, subset_accuracy, hamming_loss, n and per_label (precision,
recall, f1, threshold, support).

When the data has only some of a single-label model's labels (a binary data set scored with a
three-class model), the scores over every label are followed by "restricted" ones: each
prediction is the more probable of the data's own labels (polarity-restricted accuracy for
negative/positive data; --json key restricted with labels and the same keys). --label-map
NAME|FILE reads the data's labels through a label map (see train classifier); partially
labelled records are counted as unscored.

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
			var lm *model.LabelMap
			if labelMap != "" {
				var err error
				if lm, err = loadLabelMap(labelMap); err != nil {
					return fmt.Errorf("eval: --label-map %w", err)
				}
			}
			var tc model.TokenizerCache
			m, err := modelfile.Load(modelPath, &tc)
			if err != nil {
				return err
			}
			opts := dataset.Options{Strict: strict}
			var res interface{ Format(io.Writer) error }
			if labelMap != "" && (m.Tagger != nil || m.Classifier.MultiLabel) {
				return fmt.Errorf("eval: --label-map applies to a single-label classifier; %s is not one", modelPath)
			}
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
					r, err := evalClassifier(cmd, cm, dataPath, opts, lm)
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
	f.StringVar(&labelMap, "label-map", "", "single-label classifier: read the data's labels through this label map (built-in name or JSON file; see train classifier)")
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

func evalClassifier(cmd *cobra.Command, m *model.CompiledClassifier, path string, opts dataset.Options, lm *model.LabelMap) (classEval, error) {
	ex, _, err := readLabelFile(cmd, path, lm, opts)
	if err != nil {
		return classEval{}, err
	}
	index := map[string]int{}
	for i, l := range m.Labels() {
		index[l] = i
	}
	var res classEval
	if lm != nil {
		res.LabelMap = lm.Name
	}
	texts := make([]string, 0, len(ex))
	gold := make([]int, 0, len(ex))
	for i, e := range ex {
		if len(e.Labels) > 0 {
			return classEval{}, fmt.Errorf("eval: %s record %d: a multi-label record (\"labels\"); %v is a single-label model", path, i+1, m.Labels())
		}
		if len(e.Allowed) > 0 {
			res.Unscored++ // a partial label: the true label is one of a set
			continue
		}
		g, ok := index[e.Label]
		if !ok {
			return classEval{}, fmt.Errorf("eval: %s record %d: label %q is not one of the model's labels %v", path, i+1, e.Label, m.Labels())
		}
		texts, gold = append(texts, e.Text), append(gold, g)
	}
	probs := m.Probabilities(texts)
	full, err := model.EvaluateRestricted(m.Labels(), gold, probs, nil)
	if err != nil {
		return classEval{}, err
	}
	if full.Labels != nil {
		r := full.Classification
		res.Restricted = &restricted{Labels: full.Labels, Classification: r}
		// Unrestricted: every label of the model may be predicted.
		if res.Classification, err = model.EvaluateProbs(m.Labels(), gold, probs); err != nil {
			return classEval{}, err
		}
		return res, nil
	}
	res.Classification = full.Classification
	return res, nil
}

// classEval is a single-label classifier's evaluation: the scores over
// every label of the model and, when the data has only some of them (a
// binary set scored with a three-class model), the scores with each
// prediction restricted to the data's labels.
type classEval struct {
	metrics.Classification
	LabelMap   string      `json:"label_map,omitempty"`
	Restricted *restricted `json:"restricted,omitempty"`
	// Unscored counts partially labelled records (a label map's set).
	Unscored int `json:"unscored,omitempty"`
}

type restricted struct {
	Labels []string `json:"labels"`
	metrics.Classification
}

func (e classEval) Format(w io.Writer) error {
	if e.LabelMap != "" {
		fmt.Fprintf(w, "label map: %s (%d partially labelled records not scored)\n", e.LabelMap, e.Unscored)
	}
	if err := e.Classification.Format(w); err != nil {
		return err
	}
	if e.Restricted == nil {
		return nil
	}
	fmt.Fprintf(w, "\nrestricted to the data's labels %v (each prediction the more probable of them):\n", e.Restricted.Labels)
	return e.Restricted.Classification.Format(w)
}
