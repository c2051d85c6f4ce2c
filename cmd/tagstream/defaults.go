package main

import (
	"fmt"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
)

// defaultRouter loads the embedded default models: English and Chinese
// sentiment and NER, routed by script.
func defaultRouter(tc *model.TokenizerCache) (*router, error) {
	r := &router{langs: map[string]*langModels{}}
	for lang, names := range map[string][2]string{"en": {models.SentimentEN, models.NEREN}, "zh": {models.SentimentZH, models.NERZH}} {
		cls, err := loadEmbedded(names[0], tc)
		if err != nil {
			return nil, err
		}
		ner, err := loadEmbedded(names[1], tc)
		if err != nil {
			return nil, err
		}
		if cls.Classifier == nil || ner.Tagger == nil {
			return nil, fmt.Errorf("built-in models %s, %s: want a classifier and a tagger", names[0], names[1])
		}
		r.langs[lang] = &langModels{cls: cls.Classifier.Compile(), ner: ner.Tagger.Compile()}
	}
	return r, nil
}

func loadEmbedded(name string, tc *model.TokenizerCache) (_ model.Loaded, err error) {
	f, err := models.Open(name)
	if err != nil {
		return model.Loaded{}, fmt.Errorf("built-in model %s: %w", name, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	return model.Load(f, "built-in "+name, tc)
}
