package model

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// trainMultiBase trains a small multi-label classifier on the marker task
// (multiTask: "alpha" → a, "beta" → b, "gamma" → c) and returns it with its
// training data (for replay) and a dev set from the same task (the guard
// set).
func trainMultiBase(t *testing.T) (base *Classifier, train, dev []LabeledText) {
	t.Helper()
	rng := rand.New(rand.NewPCG(51, 52))
	train, dev = multiTask(rng, 1000), multiTask(rng, 300)
	cfg := TrainConfig{
		Model:      ClassifierConfig{Embed: 16, Hidden: 16, Buckets: 1000, MaxTokens: 32},
		Settings:   Settings{Epochs: 5, Batch: 16, LR: 1e-2, LRDecay: 0.9, Dropout: -1, Patience: 5, Seed: 3, Workers: 2},
		MultiLabel: true,
	}
	base, _, err := TrainClassifier(context.Background(), tokenizer(t), train, dev, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	return base, train, dev
}

// withDelta returns copies of exs in which, with probability p, the new
// word "delta" is inserted at a random place and label "a" applies (added
// when absent): a signal the base has never seen.
func withDelta(rng *rand.Rand, exs []LabeledText, p float64) []LabeledText {
	out := make([]LabeledText, len(exs))
	for i, ex := range exs {
		ex.Labels = slices.Clone(ex.Labels)
		if rng.Float64() < p {
			words := strings.Fields(ex.Text)
			words = slices.Insert(words, rng.IntN(len(words)+1), "delta")
			ex.Text = strings.Join(words, " ")
			if !slices.Contains(ex.Labels, "a") {
				ex.Labels = append(ex.Labels, "a")
			}
		}
		out[i] = ex
	}
	return out
}

// randomSubsets returns copies of exs whose Labels are uniformly random
// subsets of {a, b, c} (each label with probability 1/2): no signal.
func randomSubsets(rng *rand.Rand, exs []LabeledText) []LabeledText {
	out := make([]LabeledText, len(exs))
	for i, ex := range exs {
		ex.Labels = nil
		for _, l := range []string{"a", "b", "c"} {
			if rng.IntN(2) == 0 {
				ex.Labels = append(ex.Labels, l)
			}
		}
		out[i] = ex
	}
	return out
}

// TestFineTuneMultiLabelGuard: a multi-label base fine-tuned on feedback
// with a new, learnable signal ("delta" means a) learns it and is
// promoted at exact-set accuracy, keeping base's thresholds; fine-tuned on
// uniformly random label sets it is refused, for several seeds.
func TestFineTuneMultiLabelGuard(t *testing.T) {
	t.Parallel()
	base, train, dev := trainMultiBase(t)
	cur := base.Compile()
	before := make([][]float64, 0)
	for _, p := range base.net.params() {
		before = append(before, slices.Clone(p.W))
	}
	cfg := FineTuneConfig{Steps: 150, Batch: 32, Workers: 2, Seed: 4}

	t.Run("new_signal", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(61, 62))
		feedback := withDelta(rng, multiTask(rng, 600), 0.5)
		holdout := withDelta(rng, multiTask(rng, 300), 0.5)
		cand, err := FineTuneClassifier(context.Background(), base, feedback, train[:500], cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range base.net.params() {
			if !slices.Equal(p.W, before[i]) {
				t.Fatalf("fine-tuning wrote the base model's %s", p.Name)
			}
		}
		if !cand.MultiLabel || !slices.Equal(cand.Thresholds, base.Thresholds) || !slices.Equal(cand.Labels, base.Labels) {
			t.Fatalf("candidate: multi %v thresholds %v labels %v; base thresholds %v labels %v", cand.MultiLabel, cand.Thresholds, cand.Labels, base.Thresholds, base.Labels)
		}
		if cand.Checksum == "" || cand.Checksum == base.Checksum {
			t.Errorf("candidate checksum %q (base %q), want a new one", cand.Checksum, base.Checksum)
		}
		var buf bytes.Buffer
		if err := cand.Save(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := LoadClassifier(bytes.NewReader(buf.Bytes()), "candidate", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !back.MultiLabel || !slices.Equal(back.Thresholds, base.Thresholds) || back.Checksum != cand.Checksum {
			t.Fatalf("reloaded candidate: multi %v thresholds %v checksum %s, want true %v %s", back.MultiLabel, back.Thresholds, back.Checksum, base.Thresholds, cand.Checksum)
		}
		d := Guard(cur, cand.Compile(), holdout, dev, 0.02)
		t.Logf("new signal: %+v", d)
		if !d.Promote {
			t.Fatalf("guard refused a real improvement: %s", d.Reason)
		}
		if d.CandidateHoldout < d.CurrentHoldout+0.2 || d.CandidateHoldout < 0.9 {
			t.Errorf("held-out subset accuracy %.3f -> %.3f, want >= 0.9 and +0.2", d.CurrentHoldout, d.CandidateHoldout)
		}
	})

	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("random_labels/seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 70))
			feedback := randomSubsets(rng, withDelta(rng, multiTask(rng, 600), 0.5))
			holdout := randomSubsets(rng, withDelta(rng, multiTask(rng, 300), 0.5))
			c := cfg
			c.Seed = seed
			cand, err := FineTuneClassifier(context.Background(), base, feedback, train[:500], c)
			if err != nil {
				t.Fatal(err)
			}
			d := Guard(cur, cand.Compile(), holdout, dev, 0.02)
			t.Logf("random labels: %+v", d)
			if d.Promote {
				t.Fatalf("guard promoted a model fine-tuned on random label sets: %s", d.Reason)
			}
		})
	}
}

// TestFineTuneClassifierLabelForms: a multi-label base reads Labels (each
// one of its labels, none allowed), a single-label base reads Label; the
// other form is an ErrData error naming the example.
func TestFineTuneClassifierLabelForms(t *testing.T) {
	t.Parallel()
	multi := smallMultiLabel(t, 3, tokenizer(t)) // anger joy sadness surprise
	single := smallClassifier(t, 3)              // neg neu pos
	cfg := FineTuneConfig{Steps: 2, Batch: 4, Workers: 1}
	for _, c := range []struct {
		name             string
		base             *Classifier
		feedback, replay []LabeledText
		want             string // in the error; "" for none
	}{
		{"multi_labels", multi, []LabeledText{{Text: "good movie", Labels: []string{"joy"}}, {Text: "bad", Labels: []string{"anger", "sadness", "anger"}}}, []LabeledText{{Text: "sad", Labels: []string{"sadness"}}}, ""},
		{"multi_no_label_applies", multi, []LabeledText{{Text: "the movie", Labels: nil}, {Text: "a movie", Labels: []string{}}}, nil, ""},
		{"multi_given_label", multi, []LabeledText{{Text: "good movie", Labels: []string{"joy"}}, {Text: "bad", Label: "anger"}}, nil, `feedback example 2 has a single label "anger"`},
		{"multi_given_both", multi, []LabeledText{{Text: "bad", Label: "anger", Labels: []string{"anger"}}}, nil, "feedback example 1 has a single label"},
		{"multi_unknown_label", multi, []LabeledText{{Text: "good", Labels: []string{"joy"}}, {Text: "bad", Labels: []string{"anger", "fear"}}}, nil, `feedback example 2 has label "fear"`},
		{"multi_replay_given_label", multi, []LabeledText{{Text: "good", Labels: []string{"joy"}}}, []LabeledText{{Text: "bad", Label: "anger"}}, `replay example 1 has a single label "anger"`},
		{"single_label", single, []LabeledText{{Text: "good movie", Label: "pos"}}, nil, ""},
		{"single_given_labels", single, []LabeledText{{Text: "good movie", Labels: []string{"pos"}}}, nil, "feedback example 1 has labels [pos]; the model is single-label"},
		{"single_unknown_label", single, []LabeledText{{Text: "x", Label: "other"}}, nil, `feedback example 1 has label "other"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cand, err := FineTuneClassifier(context.Background(), c.base, c.feedback, c.replay, cfg)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cand.MultiLabel != c.base.MultiLabel || !slices.Equal(cand.Thresholds, c.base.Thresholds) {
					t.Fatalf("candidate multi %v thresholds %v, base %v %v", cand.MultiLabel, cand.Thresholds, c.base.MultiLabel, c.base.Thresholds)
				}
				return
			}
			if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want ErrData saying %q", err, c.want)
			}
		})
	}
}

// TestGuardMultiLabelRefusesMismatch: models that disagree in
// multi-label or labels, and examples of the other label form, are never
// promoted, whatever the scores.
func TestGuardMultiLabelRefusesMismatch(t *testing.T) {
	t.Parallel()
	multi := smallMultiLabel(t, 3, tokenizer(t)).Compile()
	single := smallClassifier(t, 3).Compile()
	relabelled := smallMultiLabel(t, 3, tokenizer(t))
	relabelled.Labels = []string{"anger", "joy", "sadness", "fear"}
	ok := []LabeledText{{Text: "good", Labels: []string{"joy"}}}
	for _, c := range []struct {
		name         string
		cur, cand    *CompiledClassifier
		holdout, grd []LabeledText
		want         string
	}{
		{"single_vs_multi", single, multi, ok, nil, "disagree in multi-label"},
		{"other_labels", multi, relabelled.Compile(), ok, nil, "different labels"},
		{"multi_holdout_label", multi, multi, []LabeledText{{Text: "good", Label: "joy"}}, nil, `held-out example 1 has a single label "joy"`},
		{"multi_guard_label", multi, multi, ok, []LabeledText{{Text: "a"}, {Text: "good", Label: "joy"}}, `guard example 2 has a single label`},
		{"single_holdout_labels", single, single, []LabeledText{{Text: "good", Labels: []string{"pos"}}}, nil, "held-out example 1 has labels [pos]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Guard(c.cur, c.cand, c.holdout, c.grd, 1)
			if d.Promote || !strings.Contains(d.Reason, c.want) {
				t.Fatalf("decision %+v, want no promotion saying %q", d, c.want)
			}
		})
	}
}

// TestSameLabelSet: exact-set match of predicted label indices against
// gold label names.
func TestSameLabelSet(t *testing.T) {
	t.Parallel()
	labels := []string{"a", "b", "c"}
	for _, c := range []struct {
		name string
		over []int
		gold []string
		want bool
	}{
		{"both_empty", nil, nil, true},
		{"equal", []int{0, 2}, []string{"c", "a"}, true},
		{"repeated_gold", []int{1}, []string{"b", "b"}, true},
		{"missing_one", []int{0}, []string{"a", "b"}, false},
		{"extra_one", []int{0, 1}, []string{"a"}, false},
		{"predicted_none", nil, []string{"a"}, false},
		{"gold_none", []int{2}, nil, false},
		{"unknown_gold", []int{0}, []string{"a", "z"}, false},
		{"unknown_only", nil, []string{"z"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sameLabelSet(labels, c.over, c.gold); got != c.want {
				t.Fatalf("sameLabelSet(%v, %v) = %v, want %v", c.over, c.gold, got, c.want)
			}
		})
	}
}
