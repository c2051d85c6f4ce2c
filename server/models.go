package server

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/pipeline"
)

// BuiltinPrefix marks a built-in model in tasks[].models and models.ner_*:
// "builtin:sentiment-en".
const BuiltinPrefix = "builtin:"

// LoadSnapshot loads the models of the configured tasks and the NER
// taggers (an empty models.ner_* is the built-in tagger), and checks that
// the route task is single-label with a model for every language. A task's
// models may differ between languages in labels and in kind (emotion: the
// multi-label emotion-en beside the six-class emotion-zh): each result
// carries its language's form ("label" or "labels"), and thresholds apply
// to the task's multi-label models. Errors name the configuration key and
// the file.
func LoadSnapshot(cfg config.Config) (*pipeline.Snapshot, error) {
	var tc model.TokenizerCache
	ners := map[string]string{"en": cfg.Models.NEREN, "zh": cfg.Models.NERZH}
	langs := map[string]*pipeline.LangModels{}
	hasMulti := make([]bool, len(cfg.Tasks)) // a task with thresholds has a multi-label model
	for _, lang := range config.Languages {
		var specs []pipeline.TaskSpec
		for i, t := range cfg.Tasks {
			ref, ok := t.Models[lang]
			if !ok {
				continue
			}
			key := fmt.Sprintf("tasks[%d].models.%s (task %s)", i, lang, t.Name)
			l, name, err := loadRef(ref, &tc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			if l.Classifier == nil {
				return nil, fmt.Errorf("%s: %s is a %s, want a classifier", key, ref, kindOf(l))
			}
			cls := l.Classifier
			if len(t.Thresholds) > 0 && cls.MultiLabel {
				hasMulti[i] = true
				if cls, err = withThresholds(cls, t.Thresholds); err != nil {
					return nil, fmt.Errorf("tasks[%d].thresholds (task %s, %s model %s): %w", i, t.Name, lang, ref, err)
				}
			}
			specs = append(specs, pipeline.TaskSpec{Task: t.Name, Classifier: cls, Name: name})
		}
		ref := ners[lang]
		if ref == "" {
			ref = BuiltinPrefix + strings.TrimSuffix(map[string]string{"en": models.NEREN, "zh": models.NERZH}[lang], ".safetensors")
		}
		l, nerName, err := loadRef(ref, &tc)
		if err != nil {
			return nil, fmt.Errorf("models.ner_%s: %w", lang, err)
		}
		if l.Tagger == nil {
			return nil, fmt.Errorf("models.ner_%s: %s is a %s, want a tagger", lang, ref, kindOf(l))
		}
		lm, err := pipeline.NewLangModels(specs, l.Tagger, nerName)
		if err != nil {
			return nil, fmt.Errorf("models for %s: %w", lang, err)
		}
		langs[lang] = lm
	}
	for i, t := range cfg.Tasks {
		if len(t.Thresholds) > 0 && !hasMulti[i] {
			return nil, fmt.Errorf("tasks[%d].thresholds (task %s): thresholds are for multi-label models; every model of this task is single-label", i, t.Name)
		}
	}
	snap, err := pipeline.NewTaskSnapshot(langs, cfg.Output.RouteTask)
	if err != nil {
		return nil, fmt.Errorf("output.route_task: %w", err)
	}
	return snap, nil
}

// loadRef loads a model given as a path or "builtin:NAME" and returns it
// with its name (the file's base name).
func loadRef(ref string, tc *model.TokenizerCache) (model.Loaded, string, error) {
	if name, ok := strings.CutPrefix(ref, BuiltinPrefix); ok {
		file := name + ".safetensors"
		if !slices.Contains(models.Names(), file) {
			return model.Loaded{}, "", fmt.Errorf("no built-in model %q (built in: %s)", name, strings.Join(models.BuiltinRefs(), ", "))
		}
		l, err := models.Load(file, tc)
		return l, file, err
	}
	l, err := modelfile.Load(ref, tc)
	return l, filepath.Base(ref), err
}

// withThresholds returns a copy of the multi-label classifier c with the
// thresholds of over replacing its own (same weights, same version).
func withThresholds(c *model.Classifier, over map[string]float64) (*model.Classifier, error) {
	if !c.MultiLabel {
		return nil, fmt.Errorf("thresholds are for multi-label models; this one is single-label")
	}
	q := *c
	q.Thresholds = slices.Clone(c.Thresholds)
	for l, x := range over {
		i := slices.Index(c.Labels, l)
		if i < 0 {
			return nil, fmt.Errorf("label %q is not one of the model's (%s)", l, strings.Join(c.Labels, ", "))
		}
		q.Thresholds[i] = x
	}
	return &q, nil
}

// kindOf names what l holds.
func kindOf(l model.Loaded) string {
	if l.Tagger != nil {
		return model.KindTagger
	}
	return model.KindClassifier
}
