package main

import (
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
)

// defaultRouter loads the embedded default models: English and Chinese
// sentiment and NER, routed by script.
func defaultRouter(tc *model.TokenizerCache) (*router, error) {
	defs, err := models.Defaults(tc)
	if err != nil {
		return nil, err
	}
	r := &router{langs: map[string]*langModels{}}
	for lang, d := range defs {
		r.langs[lang] = &langModels{cls: d.Classifier.Compile(), ner: d.Tagger.Compile()}
	}
	return r, nil
}
