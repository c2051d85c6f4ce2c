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
	for lang, name := range map[string]string{"en": models.SentimentEN, "zh": models.SentimentZH} {
		cls, err := loadEmbedded(name, tc)
		if err != nil {
			return nil, err
		}
		if cls.Classifier == nil {
			return nil, fmt.Errorf("built-in model %s: want a classifier", name)
		}
		r.langs[lang] = &langModels{cls: cls.Classifier.Compile()}
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
