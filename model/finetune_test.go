package model

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// keywordTask labels filler sentences by which of the two cue words they
// contain (cues[0] → "pos", cues[1] → "neg"). labelFn overrides the label
// (random labels for the noise test).
func keywordTask(rng *rand.Rand, n int, cues [2]string, labelFn func(i int, l string) string) []LabeledText {
	fill := strings.Fields("the cat sat on a mat with some red wool and two dogs ran by quickly today")
	out := make([]LabeledText, n)
	for i := range out {
		l := 3 + rng.IntN(8)
		words := make([]string, l)
		for j := range words {
			words[j] = fill[rng.IntN(len(fill))]
		}
		c, label := cues[0], "pos"
		if rng.IntN(2) == 0 {
			c, label = cues[1], "neg"
		}
		words[rng.IntN(l)] = c
		if labelFn != nil {
			label = labelFn(i, label)
		}
		out[i] = LabeledText{Text: strings.Join(words, " "), Label: label}
	}
	return out
}

func trainKeywordBase(t *testing.T) (*Classifier, []LabeledText) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	train, dev := keywordTask(rng, 1500, [2]string{"good", "bad"}, nil), keywordTask(rng, 300, [2]string{"good", "bad"}, nil)
	cfg := TrainConfig{
		Model:    ClassifierConfig{Embed: 16, Hidden: 16, Buckets: 2000, MaxTokens: 32},
		Settings: Settings{Epochs: 4, Batch: 16, LR: 1e-2, LRDecay: 0.9, Dropout: -1, Patience: 4, Seed: 3, Workers: 2},
	}
	base, _, err := TrainClassifier(context.Background(), tokenizer(t), train, dev, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	return base, train
}

func accuracyOf(t *testing.T, c *Classifier, exs []LabeledText) float64 {
	t.Helper()
	m, err := c.Compile().Evaluate(texts(exs), gold(t, c, exs))
	if err != nil {
		t.Fatal(err)
	}
	return m.Accuracy
}

// Fine-tuning on a drifted task (new cue words the base never saw) learns
// it, keeps the original task, leaves the base weights untouched, and the
// guard promotes it; the same round on random labels is refused.
func TestFineTuneClassifierAndGuard(t *testing.T) {
	t.Parallel()
	base, orig := trainKeywordBase(t)
	rng := rand.New(rand.NewPCG(9, 10))
	origDev := keywordTask(rng, 300, [2]string{"good", "bad"}, nil)
	drift := keywordTask(rng, 600, [2]string{"sunny", "rainy"}, nil)
	driftHoldout := keywordTask(rng, 300, [2]string{"sunny", "rainy"}, nil)
	before := make([][]float64, 0)
	for _, p := range base.net.params() {
		before = append(before, slices.Clone(p.W))
	}
	baseOrig, baseDrift := accuracyOf(t, base, origDev), accuracyOf(t, base, driftHoldout)
	if baseOrig < 0.95 {
		t.Fatalf("base accuracy %.3f on its own task, want >= 0.95", baseOrig)
	}
	cfg := FineTuneConfig{Steps: 120, Batch: 16, Workers: 2, Seed: 4}
	cand, err := FineTuneClassifier(context.Background(), base, drift, orig[:500], cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range base.net.params() {
		if !slices.Equal(p.W, before[i]) {
			t.Fatalf("fine-tuning wrote the base model's %s", p.Name)
		}
	}
	candOrig, candDrift := accuracyOf(t, cand, origDev), accuracyOf(t, cand, driftHoldout)
	t.Logf("drift task %.3f -> %.3f, original task %.3f -> %.3f, candidate checksum %s", baseDrift, candDrift, baseOrig, candOrig, cand.Checksum)
	if candDrift < baseDrift+0.2 || candDrift < 0.9 {
		t.Errorf("drift accuracy %.3f -> %.3f, want >= 0.9 and +0.2", baseDrift, candDrift)
	}
	if candOrig < baseOrig-0.02 {
		t.Errorf("original accuracy %.3f -> %.3f: forgot more than 0.02", baseOrig, candOrig)
	}
	if cand.Checksum == "" || cand.Checksum == base.Checksum {
		t.Errorf("candidate checksum %q (base %q), want a new one", cand.Checksum, base.Checksum)
	}
	d := Guard(base.Compile(), cand.Compile(), driftHoldout, origDev, 0.01)
	if !d.Promote {
		t.Errorf("guard refused a real improvement: %s", d.Reason)
	}

	// Random labels: the candidate cannot beat the base on held-out
	// feedback that is random too.
	noise := func(int, string) string {
		if rng.IntN(2) == 0 {
			return "pos"
		}
		return "neg"
	}
	noisy := keywordTask(rng, 600, [2]string{"sunny", "rainy"}, noise)
	noisyHoldout := keywordTask(rng, 300, [2]string{"sunny", "rainy"}, noise)
	cand2, err := FineTuneClassifier(context.Background(), base, noisy, orig[:500], cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := Guard(base.Compile(), cand2.Compile(), noisyHoldout, origDev, 0.01); d.Promote {
		t.Errorf("guard promoted a model fine-tuned on random labels: %s", d.Reason)
	} else {
		t.Logf("random labels refused: %s", d.Reason)
	}

	if _, err := FineTuneClassifier(context.Background(), base, []LabeledText{{Text: "x", Label: "other"}}, nil, cfg); err == nil {
		t.Error("feedback with an unknown label was accepted")
	}
}
