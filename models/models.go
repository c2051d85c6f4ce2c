// Package models embeds the default trained models, so the tagstream binary
// works on a machine with only the binary. models/README.md is their model
// card and gives the command that reproduces them.
package models

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/tagstream/tagstream/model"
)

// Names of the embedded default models.
const (
	// SentimentEN is the English sentiment classifier (tweeteval_sentiment).
	SentimentEN = "sentiment-en.safetensors"
	// SentimentZH is the Chinese sentiment classifier (chnsenticorp + waimai_10k).
	SentimentZH = "sentiment-zh.safetensors"
	// NEREN is the English NER tagger (conll2003_en + btc + wnut17: PER, LOC,
	// ORG, MISC).
	NEREN = "ner-en.safetensors"
	// NERZH is the Chinese NER tagger (weibo_ner + cluener, types mapped to
	// PER/LOC/ORG/MISC).
	NERZH = "ner-zh.safetensors"
	// EmotionEN is the English multi-label emotion classifier (goemotions:
	// 27 emotions and neutral), the built-in second task.
	EmotionEN = "emotion-en.safetensors"
	// EmotionZH is the Chinese emotion classifier (smp2020_ewect: angry,
	// fear, happy, neutral, sad, surprise; single-label), the Chinese
	// model of the emotion task.
	EmotionZH = "emotion-zh.safetensors"
)

// Names returns the file names of every built-in model.
func Names() []string {
	return []string{SentimentEN, SentimentZH, NEREN, NERZH, EmotionEN, EmotionZH}
}

// BuiltinRefs returns every built-in model as the configuration names it:
// "builtin:sentiment-en", ...
func BuiltinRefs() []string {
	var out []string
	for _, n := range Names() {
		out = append(out, "builtin:"+strings.TrimSuffix(n, ".safetensors"))
	}
	return out
}

// Load loads the built-in model file name, sharing tokenizers through tc.
func Load(name string, tc *model.TokenizerCache) (model.Loaded, error) { return load(name, tc) }

//go:embed *.safetensors
var files embed.FS

// Open opens an embedded model file by name.
func Open(name string) (fs.File, error) { return files.Open(name) }

// Lang is the built-in pair of models of one language.
type Lang struct {
	Classifier     *model.Classifier
	Tagger         *model.Tagger
	ClassifierName string // file name, e.g. SentimentEN
	TaggerName     string
}

// Defaults loads the built-in models of "en" and "zh". Models that share
// tokenizer settings share one tokenizer through tc.
func Defaults(tc *model.TokenizerCache) (map[string]Lang, error) {
	out := map[string]Lang{}
	for lang, names := range map[string][2]string{"en": {SentimentEN, NEREN}, "zh": {SentimentZH, NERZH}} {
		cls, err := load(names[0], tc)
		if err != nil {
			return nil, err
		}
		ner, err := load(names[1], tc)
		if err != nil {
			return nil, err
		}
		if cls.Classifier == nil || ner.Tagger == nil {
			return nil, fmt.Errorf("built-in models %s, %s: want a classifier and a tagger", names[0], names[1])
		}
		out[lang] = Lang{Classifier: cls.Classifier, Tagger: ner.Tagger, ClassifierName: names[0], TaggerName: names[1]}
	}
	return out, nil
}

func load(name string, tc *model.TokenizerCache) (_ model.Loaded, err error) {
	f, err := Open(name)
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
