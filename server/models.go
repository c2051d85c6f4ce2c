package server

import (
	"fmt"
	"path/filepath"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/pipeline"
)

// LoadSnapshot loads the configured models; an empty path means the
// built-in model of that slot.
func LoadSnapshot(m config.Models) (*pipeline.Snapshot, error) {
	var tc model.TokenizerCache
	defs, err := models.Defaults(&tc)
	if err != nil {
		return nil, err
	}
	langs := map[string]*pipeline.LangModels{}
	for lang, paths := range map[string][2]string{"en": {m.ClassifierEN, m.NEREN}, "zh": {m.ClassifierZH, m.NERZH}} {
		d := defs[lang]
		cls, clsName := d.Classifier, d.ClassifierName
		ner, nerName := d.Tagger, d.TaggerName
		if paths[0] != "" {
			l, err := modelfile.Load(paths[0], &tc)
			if err != nil {
				return nil, fmt.Errorf("models.classifier_%s: %w", lang, err)
			}
			if l.Classifier == nil {
				return nil, fmt.Errorf("models.classifier_%s: %s is a %s, want a classifier", lang, paths[0], model.KindTagger)
			}
			cls, clsName = l.Classifier, filepath.Base(paths[0])
		}
		if paths[1] != "" {
			l, err := modelfile.Load(paths[1], &tc)
			if err != nil {
				return nil, fmt.Errorf("models.ner_%s: %w", lang, err)
			}
			if l.Tagger == nil {
				return nil, fmt.Errorf("models.ner_%s: %s is a %s, want a tagger", lang, paths[1], model.KindClassifier)
			}
			ner, nerName = l.Tagger, filepath.Base(paths[1])
		}
		lm, err := pipeline.NewLangModels(cls, clsName, ner, nerName)
		if err != nil {
			return nil, fmt.Errorf("models for %s: %w", lang, err)
		}
		langs[lang] = lm
	}
	return pipeline.NewSnapshot(langs)
}
