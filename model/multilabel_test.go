package model

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// multiTask returns n texts of filler words in which "alpha" marks label
// a, "beta" label b and "gamma" label c; each marker is present with
// probability 0.4, independently, so a text has any subset of the labels.
func multiTask(rng *rand.Rand, n int) []LabeledText {
	filler := strings.Fields("the a cat sat on mat quickly dog ran far home today big small red")
	out := make([]LabeledText, n)
	for i := range out {
		words := make([]string, 4+rng.IntN(6))
		for j := range words {
			words[j] = filler[rng.IntN(len(filler))]
		}
		var labels []string
		for k, marker := range []string{"alpha", "beta", "gamma"} {
			if rng.Float64() < 0.4 {
				pos := rng.IntN(len(words) + 1)
				words = slices.Insert(words, pos, marker)
				labels = append(labels, string(rune('a'+k)))
			}
		}
		out[i] = LabeledText{Text: strings.Join(words, " "), Labels: labels}
	}
	return out
}

// TestMultiLabelClassifier trains a multi-label classifier on the
// synthetic marker task: dev macro-F1 near 1, thresholds stored per label,
// texts with no label predicted with none, and the model file keeps the
// thresholds and the probabilities.
func TestMultiLabelClassifier(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(31, 32))
	train, dev := multiTask(rng, 2000), multiTask(rng, 300)
	cfg := TrainConfig{
		Model:      ClassifierConfig{Embed: 16, Hidden: 16, Buckets: 100, MaxTokens: 32},
		Settings:   Settings{Epochs: 8, Batch: 16, LR: 1e-2, LRDecay: 0.9, Dropout: -1, Patience: 8, Seed: 3, Workers: 2},
		MultiLabel: true,
	}
	clf, reports, err := TrainClassifier(context.Background(), tokenizer(t), train, dev, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if !clf.MultiLabel || !slices.Equal(clf.Labels, []string{"a", "b", "c"}) || len(clf.Thresholds) != 3 {
		t.Fatalf("model: multi %v, labels %v, thresholds %v", clf.MultiLabel, clf.Labels, clf.Thresholds)
	}
	var best EpochReport
	for _, r := range reports {
		if r.Best {
			best = r
		}
		if r.DevMulti == nil || r.Dev != nil {
			t.Fatalf("epoch %d report has no multi-label dev scores: %+v", r.Epoch, r)
		}
	}
	t.Logf("marker task: dev macro-F1 %.4f, micro-F1 %.4f, subset accuracy %.4f, thresholds %v", best.DevMulti.MacroF1, best.DevMulti.MicroF1, best.DevMulti.SubsetAccuracy, clf.Thresholds)
	if best.DevMulti.MacroF1 < 0.97 {
		t.Fatalf("dev macro-F1 %.4f, want >= 0.97", best.DevMulti.MacroF1)
	}
	m := clf.Compile()
	gold := make([]bool, len(dev)*3)
	for i, ex := range dev {
		for _, l := range ex.Labels {
			gold[i*3+int(l[0]-'a')] = true
		}
	}
	got, err := m.EvaluateMultiLabel(texts(dev), gold)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.MacroF1-best.DevMulti.MacroF1) > 1e-12 {
		t.Errorf("returned model macro-F1 %.4f, best epoch %.4f", got.MacroF1, best.DevMulti.MacroF1)
	}
	// Probabilities are independent sigmoids: a text with all three
	// markers has all three high, one with none has none over threshold.
	probs := m.Probabilities([]string{"alpha the beta cat gamma", "the cat sat on the mat"})
	if over := m.LabelsOver(nil, probs[:3]); !slices.Equal(over, []int{0, 1, 2}) {
		t.Errorf("all markers: labels %v, probabilities %v", over, probs[:3])
	}
	if over := m.LabelsOver(nil, probs[3:]); len(over) != 0 {
		t.Errorf("no marker: labels %v, probabilities %v", over, probs[3:])
	}

	var buf bytes.Buffer
	if err := clf.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := LoadClassifier(bytes.NewReader(buf.Bytes()), "multi.safetensors", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !back.MultiLabel || !slices.Equal(back.Thresholds, clf.Thresholds) {
		t.Fatalf("loaded: multi %v thresholds %v, saved %v", back.MultiLabel, back.Thresholds, clf.Thresholds)
	}
	if p2 := back.Compile().Probabilities([]string{"alpha the beta cat gamma"}); math.Abs(float64(p2[1]-probs[1])) > 1e-6 {
		t.Errorf("loaded model probability %v, saved %v", p2[1], probs[1])
	}
}

// TestMultiLabelExamplesChecked: single-label training refuses examples
// with Labels, multi-label training refuses examples with Label.
func TestMultiLabelExamplesChecked(t *testing.T) {
	t.Parallel()
	cfg := TrainConfig{Settings: Settings{Epochs: 1}}
	multi := []LabeledText{{Text: "x", Labels: []string{"a", "b"}}, {Text: "y", Labels: []string{"b"}}}
	if _, _, err := TrainClassifier(context.Background(), tokenizer(t), multi, multi, cfg, TrainHooks{}); !errors.Is(err, ErrData) {
		t.Errorf("single-label training on Labels: %v", err)
	}
	cfg.MultiLabel = true
	single := []LabeledText{{Text: "x", Label: "a"}, {Text: "y", Label: "b"}}
	if _, _, err := TrainClassifier(context.Background(), tokenizer(t), single, single, cfg, TrainHooks{}); !errors.Is(err, ErrData) {
		t.Errorf("multi-label training on Label: %v", err)
	}
}

// TestMultiLabelThresholdsNotFromDev: the thresholds come from a held-out
// share of train, never from dev. Over one epoch (dev then chooses
// nothing) two dev sets, one with its labels scrambled, give the same
// thresholds; a dev-tuned threshold would follow the scrambled labels.
func TestMultiLabelThresholdsNotFromDev(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(41, 42))
	train, dev := multiTask(rng, 600), multiTask(rng, 200)
	scrambled := slices.Clone(dev)
	for i := range scrambled {
		scrambled[i].Labels = dev[(i+7)%len(dev)].Labels
	}
	cfg := TrainConfig{
		Model:      ClassifierConfig{Embed: 8, Hidden: 8, Buckets: 50, MaxTokens: 32},
		Settings:   Settings{Epochs: 1, Batch: 16, LR: 1e-2, Dropout: -1, Seed: 5, Workers: 1},
		MultiLabel: true,
	}
	var th [2][]float64
	for k, d := range [][]LabeledText{dev, scrambled} {
		clf, _, err := TrainClassifier(context.Background(), tokenizer(t), train, d, cfg, TrainHooks{})
		if err != nil {
			t.Fatal(err)
		}
		th[k] = clf.Thresholds
	}
	if !slices.Equal(th[0], th[1]) {
		t.Fatalf("thresholds depend on dev: %v with the real dev labels, %v with scrambled ones", th[0], th[1])
	}
}
