package model

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// sentimentSources makes three synthetic data sets the way the Chinese
// sentiment sources are: "reviews" label good and bad words positive and
// negative only; "posts" label bad words negative and everything else
// "positive or neutral" (a partial label); "emotions" label plain words
// neutral. No source alone tells all three classes apart.
func sentimentSources(rng *rand.Rand, n int) (reviews, posts, emotions []LabeledText) {
	words := map[string][]string{
		"positive": strings.Fields("great lovely superb happy wonderful"),
		"negative": strings.Fields("awful terrible sad broken horrid"),
		"neutral":  strings.Fields("tuesday train report schedule notice"),
	}
	fill := strings.Fields("the a today my it was this and so")
	text := func(class string) string {
		w := make([]string, 3+rng.IntN(5))
		for j := range w {
			w[j] = fill[rng.IntN(len(fill))]
		}
		w[rng.IntN(len(w))] = words[class][rng.IntN(len(words[class]))]
		return strings.Join(w, " ")
	}
	for range n {
		c := []string{"positive", "negative"}[rng.IntN(2)]
		reviews = append(reviews, LabeledText{Text: text(c), Label: c, Set: "reviews"})
		c = []string{"positive", "negative", "neutral"}[rng.IntN(3)]
		if c == "negative" {
			posts = append(posts, LabeledText{Text: text(c), Label: c, Set: "posts"})
		} else {
			posts = append(posts, LabeledText{Text: text(c), Allowed: []string{"positive", "neutral"}, Set: "posts"})
		}
		emotions = append(emotions, LabeledText{Text: text(c), Label: c, Set: "emotions"})
	}
	return reviews, posts, emotions
}

// TestClassifierLearnsFromPartialLabels trains a three-class model on the
// sources above: it must tell the three classes apart, and the dev report
// must score the binary set over its two labels.
func TestClassifierLearnsFromPartialLabels(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	rv, po, em := sentimentSources(rng, 600)
	em = slices.DeleteFunc(em, func(e LabeledText) bool { return e.Label != "neutral" }) // only its neutral posts train
	train := slices.Concat(rv, po, em)
	drv, dpo, dem := sentimentSources(rng, 200)
	dev := slices.Concat(drv, dpo, dem)
	cfg := TrainConfig{
		Model:    ClassifierConfig{Embed: 16, Hidden: 16, Buckets: 100, MaxTokens: 16},
		Settings: Settings{Epochs: 6, Batch: 16, LR: 1e-2, LRDecay: 0.9, Dropout: -1, Patience: 6, Seed: 3, Workers: 2},
	}
	clf, reports, err := TrainClassifier(context.Background(), tokenizer(t), train, dev, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"negative", "neutral", "positive"}; !slices.Equal(clf.Labels, want) {
		t.Fatalf("labels %v, want %v", clf.Labels, want)
	}
	var best EpochReport
	for _, r := range reports {
		if r.Best {
			best = r
		}
	}
	if len(best.DevClassSets) != 3 {
		t.Fatalf("dev sets %+v, want reviews, posts, emotions", best.DevClassSets)
	}
	var sum float64
	for i, want := range []struct {
		set    string
		labels []string
		n      int
	}{{"reviews", []string{"negative", "positive"}, 200}, {"posts", []string{"negative"}, len(dpo)}, {"emotions", nil, 200}} {
		got := best.DevClassSets[i]
		if want.set == "posts" {
			n := 0
			for _, e := range dpo {
				if e.Allowed == nil {
					n++
				}
			}
			want.n = n // partially labelled dev examples are not scored
		}
		if got.Set != want.set || !slices.Equal(got.Labels, want.labels) || got.N != want.n {
			t.Errorf("dev set %d: %s labels %v n %d, want %s %v %d", i, got.Set, got.Labels, got.N, want.set, want.labels, want.n)
		}
		sum += got.MacroF1
		t.Logf("%s: accuracy %.3f macro-F1 %.3f", got.Set, got.Accuracy, got.MacroF1)
	}
	if mean := sum / 3; mean != best.Score {
		t.Errorf("score %v, want the mean of the sets' macro-F1 %v", best.Score, mean)
	}
	// Three classes from sources that each know two at most.
	if acc := best.DevClassSets[2].Accuracy; acc < 0.95 {
		t.Errorf("three-class dev accuracy %.3f, want >= 0.95", acc)
	}
	m := clf.Compile()
	probs := m.Probabilities(texts(dpo))
	var inSet, n float64
	for i, e := range dpo {
		if e.Allowed != nil {
			inSet += float64(probs[i*3+1] + probs[i*3+2])
			n++
		}
	}
	if inSet/n < 0.9 {
		t.Errorf("partially labelled posts: mean probability of {neutral, positive} %.3f, want >= 0.9", inSet/n)
	}
}

// TestEvaluateRestricted scores a binary set with a three-class model: the
// restricted argmax ignores the label the set lacks.
func TestEvaluateRestricted(t *testing.T) {
	t.Parallel()
	labels := []string{"negative", "neutral", "positive"}
	probs := []float32{
		0.2, 0.5, 0.3, // neutral overall, positive among {negative, positive}
		0.6, 0.3, 0.1,
		0.1, 0.2, 0.7,
	}
	gold := []int{2, 0, 0}
	r, err := EvaluateRestricted(labels, gold, probs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Labels, []string{"negative", "positive"}) || r.N != 3 {
		t.Fatalf("labels %v n %d", r.Labels, r.N)
	}
	if r.Accuracy != 2.0/3 {
		t.Errorf("restricted accuracy %v, want 2/3", r.Accuracy)
	}
	full, err := EvaluateRestricted(labels, []int{1, 0, 2}, probs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if full.Labels != nil || full.Accuracy != 1 {
		t.Errorf("every label present: labels %v accuracy %v, want none and 1", full.Labels, full.Accuracy)
	}
}
