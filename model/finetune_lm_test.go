package model

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/nn"
)

// TestReplaceEncoder takes a classifier trained with --init from a
// language model, continues the language model, and puts its encoder into
// a copy of the classifier (loaded from its file, so with a vocabulary of
// its own that is equal to the LM's).
func TestReplaceEncoder(t *testing.T) {
	t.Parallel()
	lm, train := smallLM(t, ViewWords)
	var ex []LabeledText
	for i, s := range train[:60] {
		ex = append(ex, LabeledText{Text: s, Label: []string{"a", "b"}[i%2]})
	}
	cfg := DefaultTrainConfig()
	cfg.Epochs, cfg.Workers = 1, 1
	cfg.Init = Pretrained{LM: lm, LayerLR: 1}
	trained, _, err := TrainClassifier(context.Background(), lm.Tokenizer, ex, ex[:10], cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := trained.Save(&b); err != nil {
		t.Fatal(err)
	}
	clf, err := LoadClassifier(&b, "clf", NewTokenizerCache(lm.Tokenizer))
	if err != nil {
		t.Fatal(err)
	}
	lcfg := DefaultLMTrainConfig()
	lcfg.Epochs, lcfg.Samples, lcfg.Workers, lcfg.Resume = 1, 4, 1, lm
	refreshed, _, err := TrainLM(context.Background(), nil, train, train[:20], lcfg, LMHooks{})
	if err != nil {
		t.Fatal(err)
	}
	before := make([][]float64, 0)
	for _, p := range clf.net.params() {
		before = append(before, slices.Clone(p.W))
	}
	got, err := ReplaceEncoder(clf, refreshed)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*nn.Param{
		{got.net.emb.Table, refreshed.net.emb.Table},
		{got.net.fwd.Wx, refreshed.net.fwd.Wx}, {got.net.fwd.Wh, refreshed.net.fwd.Wh}, {got.net.fwd.B, refreshed.net.fwd.B},
		{got.net.bwd.Wx, refreshed.net.bwd.Wx}, {got.net.bwd.Wh, refreshed.net.bwd.Wh}, {got.net.bwd.B, refreshed.net.bwd.B},
	} {
		if !slices.Equal(pair[0].W, pair[1].W) {
			t.Fatalf("%s: not the language model's weights", pair[0].Name)
		}
		if &pair[0].W[0] == &pair[1].W[0] {
			t.Fatalf("%s: shares its storage with the language model", pair[0].Name)
		}
	}
	// The refreshed encoder differs from the classifier's: the copy is new.
	if slices.Equal(got.net.fwd.Wh.W, clf.net.fwd.Wh.W) {
		t.Fatal("the encoder was not replaced (same weights as the classifier's)")
	}
	for _, p := range clf.net.out.Params() {
		var q *nn.Param
		for _, g := range got.net.out.Params() {
			if g.Name == p.Name {
				q = g
			}
		}
		if q == nil || !slices.Equal(q.W, p.W) {
			t.Fatalf("output layer %s: not the classifier's", p.Name)
		}
	}
	for i, p := range clf.net.params() {
		if !slices.Equal(p.W, before[i]) {
			t.Fatalf("%s: ReplaceEncoder wrote the classifier's weights", p.Name)
		}
	}
	if got.Checksum != "" || got.Info["encoder_lm"] == "" || clf.Info["encoder_lm"] != "" {
		t.Fatalf("checksum %q, info %q (original's %q)", got.Checksum, got.Info["encoder_lm"], clf.Info["encoder_lm"])
	}
	// The copy classifies and fine-tunes like any classifier.
	if _, err := FineTuneClassifier(context.Background(), got, ex[:20], nil, FineTuneConfig{Steps: 2, Batch: 4}); err != nil {
		t.Fatal(err)
	}
}

// TestReplaceEncoderMismatch names the first difference between the
// language model and the classifier.
func TestReplaceEncoderMismatch(t *testing.T) {
	t.Parallel()
	lm, _ := smallLM(t, ViewWords)
	chars, _ := smallLM(t, ViewChars)
	words := lm.Vocab.Words()
	swapped := slices.Clone(words)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	base := ClassifierConfig{Embed: lm.Config.Embed, Hidden: lm.Config.Hidden, Buckets: lm.Config.Buckets}
	newClf := func(c ClassifierConfig, vocab *Vocab) *Classifier {
		clf, err := NewClassifier(c, []string{"a", "b"}, vocab, lm.Tokenizer, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		return clf
	}
	withEmbed, withHidden, withBuckets := base, base, base
	withEmbed.Embed, withHidden.Hidden, withBuckets.Buckets = 16, 16, 31
	tests := []struct {
		name string
		clf  *Classifier
		lm   *LanguageModel
		want string
	}{
		{"chars view", newClf(base, lm.Vocab), chars, "reads chars"},
		{"embedding", newClf(withEmbed, lm.Vocab), lm, "embedding width 8, the classifier's is 16"},
		{"hidden", newClf(withHidden, lm.Vocab), lm, "hidden size 8, the classifier's is 16"},
		{"buckets", newClf(withBuckets, lm.Vocab), lm, "30 sub-word buckets, the classifier has 31"},
		{"vocabulary size", newClf(base, NewVocab(words[:len(words)-1])), lm, "vocabulary of"},
		{"vocabulary order", newClf(base, NewVocab(swapped)), lm, "vocabulary row 1 is"},
		{"nil model", newClf(base, lm.Vocab), nil, "nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReplaceEncoder(tc.clf, tc.lm)
			if got != nil || !errors.Is(err, ErrEncoderMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want ErrEncoderMismatch naming %q", got != nil, err, tc.want)
			}
		})
	}
	// Equal vocabularies in separate objects fit.
	if _, err := ReplaceEncoder(newClf(base, NewVocab(words)), lm); err != nil {
		t.Fatal(err)
	}
}
