package model

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// weatherTask: lower-case surnames after "dr" are people — a convention
// the synthetic NER task never had — as corrected entity spans.
func weatherTask(rng *rand.Rand, n int, noise bool) []EntityExample {
	names := strings.Fields("kowalski nguyen mendes haddad ivanova tanaka obi lindqvist")
	out := make([]EntityExample, n)
	for i := range out {
		lead := []string{"we met dr", "call dr", "nobody knows dr", "yesterday dr"}[rng.IntN(4)]
		name := names[rng.IntN(len(names))]
		s := lead + " " + name + " today"
		start := utf8.RuneCountInString(lead) + 1
		span := EntitySpan{Start: start, End: start + utf8.RuneCountInString(name), Type: "PER"}
		if noise { // a random word marked as a random type
			words := strings.Fields(s)
			k := rng.IntN(len(words))
			st := utf8.RuneCountInString(strings.Join(words[:k], " "))
			if k > 0 {
				st++
			}
			span = EntitySpan{Start: st, End: st + utf8.RuneCountInString(words[k]), Type: []string{"PER", "LOC"}[rng.IntN(2)]}
		}
		out[i] = EntityExample{Text: s, Entities: []EntitySpan{span}}
	}
	return out
}

func TestFineTuneTaggerAndGuard(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(61, 62))
	train := nerTask(rng, 800)
	base, _, err := TrainTagger(context.Background(), tokenizer(t), train, train[:100], smallTaggerConfig(), TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	before := make([][]float64, 0)
	for _, p := range base.net.params() {
		before = append(before, slices.Clone(p.W))
	}
	fb, holdout := weatherTask(rng, 300, false), weatherTask(rng, 200, false)
	cfg := FineTuneConfig{Steps: 120, Batch: 16, Workers: 2, Seed: 5}
	cand, err := FineTuneTagger(context.Background(), base, fb, train[:300], cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range base.net.params() {
		if !slices.Equal(p.W, before[i]) {
			t.Fatalf("fine-tuning wrote the base tagger's %s", p.Name)
		}
	}
	d := GuardTagger(base.Compile(), cand.Compile(), holdout)
	t.Logf("entity feedback: %s", d.Reason)
	if !d.Promote || d.CandidateHoldout < 0.9 {
		t.Errorf("guard: %s; want a promotion with >= 0.9 exact match", d.Reason)
	}
	orig, err := cand.Compile().EvaluateSentences(nerTask(rng, 200))
	if err != nil {
		t.Fatal(err)
	}
	if orig.F1 < 0.95 {
		t.Errorf("original task F1 %.3f after fine-tuning, want >= 0.95", orig.F1)
	}
	cand2, err := FineTuneTagger(context.Background(), base, weatherTask(rng, 300, true), train[:300], cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := GuardTagger(base.Compile(), cand2.Compile(), weatherTask(rng, 200, true)); d.Promote {
		t.Errorf("random entity feedback promoted: %s", d.Reason)
	} else {
		t.Logf("random entities refused: %s", d.Reason)
	}
	if _, err := FineTuneTagger(context.Background(), base, []EntityExample{{Text: "we love Hanoi", Entities: []EntitySpan{{Start: 3, End: 13, Type: "ORG"}}}}, nil, cfg); err == nil {
		t.Error("a type the tagger lacks was accepted")
	}
}
