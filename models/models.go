// Package models embeds the default trained models, so the tagstream binary
// works on a machine with only the binary. models/README.md is their model
// card and gives the command that reproduces them.
package models

import (
	"embed"
	"io/fs"
)

// Names of the embedded default models.
const (
	// SentimentEN is the English sentiment classifier (tweeteval_sentiment).
	SentimentEN = "sentiment-en.safetensors"
	// SentimentZH is the Chinese sentiment classifier (chnsenticorp + waimai_10k).
	SentimentZH = "sentiment-zh.safetensors"
	// NEREN is the English NER tagger (conll2003_en: PER, LOC, ORG, MISC).
	NEREN = "ner-en.safetensors"
	// NERZH is the Chinese NER tagger (weibo_ner, types mapped to PER/LOC/ORG).
	NERZH = "ner-zh.safetensors"
)

//go:embed *.safetensors
var files embed.FS

// Open opens an embedded model file by name.
func Open(name string) (fs.File, error) { return files.Open(name) }
