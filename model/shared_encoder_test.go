package model

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/text"
)

// TestSharedEncoder: a classifier trained on a shared encoder keeps that
// encoder's vocabulary, embedding and BiLSTM weights exactly (only its
// output layer learns) and still learns its own task from them; the
// settings that cannot work together are refused.
func TestSharedEncoder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	train, dev := orderTask(rng, 400), orderTask(rng, 100)
	cfg := TrainConfig{
		Model:    ClassifierConfig{Embed: 16, Hidden: 16, Buckets: 50, MaxTokens: 20},
		Settings: Settings{Epochs: 6, Batch: 16, LR: 1e-2, LRDecay: 0.9, Dropout: -1, Patience: 6, Seed: 3, Workers: 2},
	}
	enc, _, err := TrainClassifier(context.Background(), tokenizer(t), train, dev, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	enc.Checksum = "feedc0de"
	// A second task whose answer the encoder's states hold: the first
	// task's, under other names (a head that learns nothing stays near
	// 0.5).
	relabel := func(exs []LabeledText) []LabeledText {
		out := make([]LabeledText, len(exs))
		for i, ex := range exs {
			out[i] = LabeledText{Text: ex.Text, Label: "task2-" + ex.Label}
		}
		return out
	}
	head := cfg
	head.Model = ClassifierConfig{Embed: 4, Hidden: 4} // replaced by the encoder's
	head.SharedEncoder = enc
	got, reports, err := TrainClassifier(context.Background(), tokenizer(t), relabel(train), relabel(dev), head, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Config != enc.Config || got.Vocab != enc.Vocab || got.Info["shared_encoder"] != "feedc0de" {
		t.Fatalf("config %+v, info %q: want the encoder's config %+v and its checksum", got.Config, got.Info["shared_encoder"], enc.Config)
	}
	gp, ep := got.net.params(), enc.net.params()
	for i := range len(gp) - len(got.net.out.Params()) {
		if !slices.Equal(gp[i].W, ep[i].W) {
			t.Fatalf("encoder parameter %d changed in training", i)
		}
	}
	if acc := bestDev(reports); acc < 0.8 {
		t.Errorf("the head learned nothing: dev accuracy %.3f", acc)
	}

	other, err := text.New(text.Options{Dict: text.DictChars})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := TrainClassifier(context.Background(), other, relabel(train), relabel(dev), head, TrainHooks{}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "tokenizer settings") {
		t.Errorf("another tokenizer: %v", err)
	}
	both := head
	both.Init.LM = &LanguageModel{}
	if _, _, err := TrainClassifier(context.Background(), tokenizer(t), relabel(train), relabel(dev), both, TrainHooks{}); !errors.Is(err, ErrConfig) {
		t.Errorf("shared encoder and LM init: %v", err)
	}
}

// bestDev returns the best dev accuracy of the epochs.
func bestDev(reports []EpochReport) float64 {
	best := 0.0
	for _, r := range reports {
		if r.Dev != nil {
			best = max(best, r.Dev.Accuracy)
		}
	}
	return best
}
