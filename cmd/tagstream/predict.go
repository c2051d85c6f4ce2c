package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
)

// prediction is one output line of predict.
type prediction struct {
	Text     string             `json:"text"`
	Label    string             `json:"label,omitempty"`
	Labels   *[]string          `json:"labels,omitempty"` // a multi-label model's labels over threshold ([] for none)
	Scores   map[string]float64 `json:"scores,omitempty"`
	Entities *[]model.Entity    `json:"entities,omitempty"` // nil without a tagger; [] when it found none
	Lang     string             `json:"lang,omitempty"`
	Error    string             `json:"error,omitempty"`
}

func newPredictCmd() *cobra.Command {
	var modelPath, nerPath string
	var batch int
	cmd := &cobra.Command{
		Use:   "predict [--model CLASSIFIER] [--ner TAGGER]",
		Short: "Label text read from stdin",
		Long: `Read plain text lines or JSONL {"text": ...} objects on stdin and write one JSON line
per input: {"text","label","scores":{label:probability},"entities":[{"text","type","start","end"}]}
where start/end are rune offsets into the input text; a multi-label classifier writes "labels"
(those whose probability reaches their threshold, possibly none) instead of "label", and
"scores" holds every label's probability. --model and --ner may be given alone or together. Without either, it uses the built-in English and Chinese models and routes each line
by its script.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var tc model.TokenizerCache
			route, err := loadRouter(modelPath, nerPath, &tc)
			if err != nil {
				return err
			}
			return predictStream(cmd.InOrStdin(), cmd.OutOrStdout(), route, batch)
		},
	}
	cmd.Flags().StringVar(&modelPath, "model", "", "classifier model file")
	cmd.Flags().StringVar(&nerPath, "ner", "", "NER tagger model file")
	cmd.Flags().IntVar(&batch, "batch", 64, "texts per batch")
	return cmd
}

// router sends each text to the models for its language.
type router struct {
	langs map[string]*langModels // "" = every language
}

type langModels struct {
	cls   *model.CompiledClassifier
	ner   *model.CompiledTagger
	clsWS *model.ClassifierWorkspace
	nerWS *model.TaggerWorkspace
}

func (r *router) pick(s string) (string, *langModels) {
	if m, ok := r.langs[""]; ok {
		return text.DetectLang(s), m
	}
	lang := text.DetectLang(s)
	if m, ok := r.langs[lang]; ok {
		return lang, m
	}
	return "en", r.langs["en"]
}

func loadRouter(clsPath, nerPath string, tc *model.TokenizerCache) (*router, error) {
	if clsPath == "" && nerPath == "" {
		return defaultRouter(tc)
	}
	lm := &langModels{}
	if clsPath != "" {
		m, err := modelfile.Load(clsPath, tc)
		if err != nil {
			return nil, err
		}
		if m.Classifier == nil {
			return nil, fmt.Errorf("predict: --model %s is a %s, want a classifier", clsPath, model.KindTagger)
		}
		lm.cls = m.Classifier.Compile()
	}
	if nerPath != "" {
		m, err := modelfile.Load(nerPath, tc)
		if err != nil {
			return nil, err
		}
		if m.Tagger == nil {
			return nil, fmt.Errorf("predict: --ner %s is a %s, want a tagger", nerPath, model.KindClassifier)
		}
		lm.ner = m.Tagger.Compile()
	}
	return &router{langs: map[string]*langModels{"": lm}}, nil
}

type pending struct {
	text, lang string
	err        string
}

// predictStream classifies r line by line in batches, flushing whenever the
// input has nothing more buffered so interactive use answers at once.
func predictStream(r io.Reader, w io.Writer, route *router, batch int) error {
	if batch < 1 {
		return fmt.Errorf("predict: --batch = %d, want >= 1", batch)
	}
	in := bufio.NewReaderSize(r, 1<<16)
	out := bufio.NewWriter(w)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	var queue []pending
	flush := func() error {
		// Group by language models, keep input order in the output.
		results := make([]prediction, len(queue))
		groups := map[*langModels][]int{}
		for i, p := range queue {
			results[i] = prediction{Text: p.text, Error: p.err}
			if p.err != "" {
				continue
			}
			lang, m := route.pick(p.text)
			results[i].Lang = lang
			groups[m] = append(groups[m], i)
		}
		for m, idx := range groups {
			texts := make([]string, len(idx))
			for k, i := range idx {
				texts[k] = queue[i].text
			}
			if m.cls != nil {
				if m.clsWS == nil {
					m.clsWS = m.cls.NewWorkspace()
				}
				labels := m.cls.Labels()
				probs := make([]float32, len(texts)*len(labels))
				best := make([]int, len(texts))
				m.cls.ClassifyBatch(m.clsWS, texts, probs, best)
				for k, i := range idx {
					row := probs[k*len(labels) : (k+1)*len(labels)]
					sc := make(map[string]float64, len(labels))
					for j, l := range labels {
						sc[l] = float64(row[j])
					}
					results[i].Scores = sc
					if !m.cls.MultiLabel() {
						results[i].Label = labels[best[k]]
						continue
					}
					over := []string{}
					for _, j := range m.cls.LabelsOver(nil, row) {
						over = append(over, labels[j])
					}
					results[i].Labels = &over
				}
			}
			if m.ner != nil {
				if m.nerWS == nil {
					m.nerWS = m.ner.NewWorkspace()
				}
				m.ner.TagBatch(m.nerWS, texts)
				for k, i := range idx {
					ents := append([]model.Entity{}, m.nerWS.Entities(k)...)
					results[i].Entities = &ents
				}
			}
		}
		for _, res := range results {
			if err := enc.Encode(res); err != nil {
				return err
			}
		}
		queue = queue[:0]
		return out.Flush()
	}
	for {
		line, err := in.ReadString('\n')
		if len(line) > 0 {
			queue = append(queue, parseInput(strings.TrimRight(line, "\r\n")))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(queue) >= batch || in.Buffered() == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// parseInput takes a plain line or a JSON object with a "text" string.
func parseInput(line string) pending {
	if !utf8.ValidString(line) {
		return pending{text: strings.ToValidUTF8(line, "\uFFFD"), err: "input is not valid UTF-8"}
	}
	trimmed := bytes.TrimSpace([]byte(line))
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var obj struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(trimmed, &obj); err != nil {
			return pending{text: line, err: "invalid JSON: " + err.Error()}
		}
		if obj.Text == nil {
			return pending{text: line, err: `JSON object has no "text" string`}
		}
		return pending{text: *obj.Text}
	}
	return pending{text: line}
}
