package metrics

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestEntities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tags []string
		want []Entity
	}{
		{"empty", nil, nil},
		{"all O", []string{"O", "O"}, nil},
		{"BIO", []string{"B-PER", "I-PER", "O", "B-LOC"}, []Entity{{"PER", 0, 2}, {"LOC", 3, 4}}},
		{"I after O starts", []string{"O", "I-PER", "I-PER", "O", "B-LOC", "I-LOC"}, []Entity{{"PER", 1, 3}, {"LOC", 4, 6}}},
		{"I at start", []string{"I-ORG", "O"}, []Entity{{"ORG", 0, 1}}},
		{"B after B", []string{"B-PER", "B-PER"}, []Entity{{"PER", 0, 1}, {"PER", 1, 2}}},
		{"B after I same type", []string{"B-PER", "I-PER", "B-PER"}, []Entity{{"PER", 0, 2}, {"PER", 2, 3}}},
		{"I of other type", []string{"B-PER", "I-LOC", "I-LOC"}, []Entity{{"PER", 0, 1}, {"LOC", 1, 3}}},
		{"entity at end", []string{"O", "B-MISC", "I-MISC"}, []Entity{{"MISC", 1, 3}}},
		{"IOBES", []string{"S-PER", "B-LOC", "E-LOC", "E-LOC"}, []Entity{{"PER", 0, 1}, {"LOC", 1, 3}, {"LOC", 3, 4}}},
		{"hyphenated types", []string{"B-creative-work", "I-creative-work", "B-PER.NAM"}, []Entity{{"creative-work", 0, 2}, {"PER.NAM", 2, 3}}},
		{"malformed as O", []string{"PER", "B-", "X-PER", "", "I-PER"}, []Entity{{"PER", 4, 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Entities(tt.tags); !slices.Equal(got, tt.want) {
				t.Errorf("Entities(%v) = %v, want %v", tt.tags, got, tt.want)
			}
		})
	}
}

func TestEvalNER(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		gold, pred [][]string
		p, r, f1   float64
		tokenAcc   float64
		perType    map[string]ClassScore
	}{
		{
			// Gold PER[0,2) LOC[3,4); pred PER[0,2) ORG[3,4). Correct 1 of 2
			// gold and 2 predicted: P = R = F1 = 1/2. Tokens: 3 of 4 equal.
			// LOC has no prediction (P = 0 by zero division), ORG no gold.
			name: "wrong type",
			gold: [][]string{{"B-PER", "I-PER", "O", "B-LOC"}},
			pred: [][]string{{"B-PER", "I-PER", "O", "B-ORG"}},
			p:    0.5, r: 0.5, f1: 0.5, tokenAcc: 0.75,
			perType: map[string]ClassScore{"PER": {1, 1, 1, 1}, "LOC": {0, 0, 0, 1}, "ORG": {0, 0, 0, 0}},
		},
		{
			// seqeval README example: gold MISC[3,6) PER[0,2); pred
			// MISC[2,6) PER[0,2). Correct 1, gold 2, predicted 2 -> 0.5.
			// Tokens: sentence 1 differs at 2 and 3 -> 8 of 10 equal.
			name: "seqeval readme",
			gold: [][]string{{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}},
			pred: [][]string{{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}},
			p:    0.5, r: 0.5, f1: 0.5, tokenAcc: 0.8,
			perType: map[string]ClassScore{"MISC": {0, 0, 0, 1}, "PER": {1, 1, 1, 1}},
		},
		{
			// Pred I-PER after O starts PER[1,3), equal to gold B-PER I-PER.
			// Gold LOC[4,5) missed. Correct 1, gold 2, pred 1: P 1, R 1/2,
			// F1 2*1/(2+1) = 2/3. Tokens: 1 and 4 differ -> 3 of 5.
			name: "I after O",
			gold: [][]string{{"O", "B-PER", "I-PER", "O", "B-LOC"}},
			pred: [][]string{{"O", "I-PER", "I-PER", "O", "O"}},
			p:    1, r: 0.5, f1: 2.0 / 3, tokenAcc: 0.6,
			perType: map[string]ClassScore{"PER": {1, 1, 1, 1}, "LOC": {0, 0, 0, 1}},
		},
		{
			name: "perfect",
			gold: [][]string{{"B-A", "I-A", "B-B"}, {}, {"O"}},
			pred: [][]string{{"B-A", "I-A", "B-B"}, {}, {"O"}},
			p:    1, r: 1, f1: 1, tokenAcc: 1,
			perType: map[string]ClassScore{"A": {1, 1, 1, 1}, "B": {1, 1, 1, 1}},
		},
		{
			// Split entity: gold A[0,3); pred A[0,1) and A[1,3). Nothing
			// correct; tokens: 1 differs -> 2 of 3.
			name: "everything wrong",
			gold: [][]string{{"B-A", "I-A", "I-A"}},
			pred: [][]string{{"B-A", "B-A", "I-A"}},
			p:    0, r: 0, f1: 0, tokenAcc: 2.0 / 3,
			perType: map[string]ClassScore{"A": {0, 0, 0, 1}},
		},
		{
			name: "no entities", gold: [][]string{{"O"}}, pred: [][]string{{"O"}},
			tokenAcc: 1, perType: map[string]ClassScore{},
		},
		{name: "no sentences", perType: map[string]ClassScore{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := EvalNER(tt.gold, tt.pred)
			if err != nil {
				t.Fatal(err)
			}
			if !near(n.Precision, tt.p) || !near(n.Recall, tt.r) || !near(n.F1, tt.f1) || !near(n.TokenAccuracy, tt.tokenAcc) {
				t.Errorf("P, R, F1, token acc = %v, %v, %v, %v; want %v, %v, %v, %v",
					n.Precision, n.Recall, n.F1, n.TokenAccuracy, tt.p, tt.r, tt.f1, tt.tokenAcc)
			}
			if n.N != len(tt.gold) || len(n.PerType) != len(tt.perType) {
				t.Errorf("N = %d, per type %v; want %d, %v", n.N, n.PerType, len(tt.gold), tt.perType)
			}
			for typ, want := range tt.perType {
				got := n.PerType[typ]
				if !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.F1, want.F1) || got.Support != want.Support {
					t.Errorf("type %s = %+v, want %+v", typ, got, want)
				}
			}
		})
	}
}

func TestEvalNERErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		gold, pred [][]string
	}{
		{"sentence count", [][]string{{"O"}}, nil},
		{"sentence length", [][]string{{"O"}, {"O", "O"}}, [][]string{{"O"}, {"O"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := EvalNER(tt.gold, tt.pred); !errors.Is(err, ErrLength) {
				t.Errorf("err = %v, want ErrLength", err)
			}
		})
	}
}

func TestNERFormat(t *testing.T) {
	t.Parallel()
	n, err := EvalNER([][]string{{"B-PER", "O", "B-LOC"}}, [][]string{{"B-PER", "O", "O"}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := n.Format(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"sentences: 1", "precision: 1.0000", "recall: 0.5000", "LOC", "PER"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "LOC") > strings.Index(out, "PER") {
		t.Errorf("types not sorted:\n%s", out)
	}
}

func TestEvalSpans(t *testing.T) {
	t.Parallel()
	type S = Span
	tests := []struct {
		name                   string
		gold, pred             [][]Span
		p, r, f1               float64
		nGold, nPred, nCorrect int
		perType                map[string]ClassScore
	}{
		{
			// Gold PER[0,4) LOC[10,14); pred PER[0,4) ORG[10,14): 1 of 2
			// correct both ways.
			name: "wrong type",
			gold: [][]Span{{S{"PER", 0, 4}, S{"LOC", 10, 14}}},
			pred: [][]Span{{S{"PER", 0, 4}, S{"ORG", 10, 14}}},
			p:    0.5, r: 0.5, f1: 0.5, nGold: 2, nPred: 2, nCorrect: 1,
			perType: map[string]ClassScore{"PER": {1, 1, 1, 1}, "LOC": {0, 0, 0, 1}, "ORG": {0, 0, 0, 0}},
		},
		{
			// Pred ends one rune late: no partial credit. Order does not
			// matter. Correct 1 (LOC), gold 2, pred 2.
			name: "boundary off by one, unsorted",
			gold: [][]Span{{S{"LOC", 7, 9}, S{"PER", 0, 3}}},
			pred: [][]Span{{S{"PER", 0, 4}, S{"LOC", 7, 9}}},
			p:    0.5, r: 0.5, f1: 0.5, nGold: 2, nPred: 2, nCorrect: 1,
			perType: map[string]ClassScore{"PER": {0, 0, 0, 1}, "LOC": {1, 1, 1, 1}},
		},
		{
			// The same span predicted twice matches the one gold span once:
			// P 1/2, R 1, F1 2/3.
			name: "duplicate prediction",
			gold: [][]Span{{S{"ORG", 2, 5}}},
			pred: [][]Span{{S{"ORG", 2, 5}, S{"ORG", 2, 5}}},
			p:    0.5, r: 1, f1: 2.0 / 3, nGold: 1, nPred: 2, nCorrect: 1,
			perType: map[string]ClassScore{"ORG": {0.5, 1, 2.0 / 3, 1}},
		},
		{
			// Spans are matched within their own text only: text 0's gold
			// is predicted in text 1. Nothing correct.
			name:  "other text",
			gold:  [][]Span{{S{"PER", 0, 3}}, nil},
			pred:  [][]Span{nil, {S{"PER", 0, 3}}},
			nGold: 1, nPred: 1,
			perType: map[string]ClassScore{"PER": {0, 0, 0, 1}},
		},
		{
			// Overlapping gold spans of different types are both scored.
			name: "overlap",
			gold: [][]Span{{S{"LOC", 0, 6}, S{"ORG", 0, 3}}},
			pred: [][]Span{{S{"ORG", 0, 3}}},
			p:    1, r: 0.5, f1: 2.0 / 3, nGold: 2, nPred: 1, nCorrect: 1,
			perType: map[string]ClassScore{"LOC": {0, 0, 0, 1}, "ORG": {1, 1, 1, 1}},
		},
		{name: "no entities", gold: [][]Span{nil}, pred: [][]Span{{}}, perType: map[string]ClassScore{}},
		{name: "no texts", perType: map[string]ClassScore{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := EvalSpans(tt.gold, tt.pred)
			if err != nil {
				t.Fatal(err)
			}
			if !near(n.Precision, tt.p) || !near(n.Recall, tt.r) || !near(n.F1, tt.f1) {
				t.Errorf("P, R, F1 = %v, %v, %v; want %v, %v, %v", n.Precision, n.Recall, n.F1, tt.p, tt.r, tt.f1)
			}
			if n.Gold != tt.nGold || n.Predicted != tt.nPred || n.Correct != tt.nCorrect {
				t.Errorf("gold, predicted, correct = %d, %d, %d; want %d, %d, %d", n.Gold, n.Predicted, n.Correct, tt.nGold, tt.nPred, tt.nCorrect)
			}
			if n.N != len(tt.gold) || n.Tokens != 0 || n.TokenAccuracy != 0 || len(n.PerType) != len(tt.perType) {
				t.Errorf("N, tokens, token acc = %d, %d, %v, per type %v; want %d, 0, 0, %v", n.N, n.Tokens, n.TokenAccuracy, n.PerType, len(tt.gold), tt.perType)
			}
			for typ, want := range tt.perType {
				got := n.PerType[typ]
				if !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.F1, want.F1) || got.Support != want.Support {
					t.Errorf("type %s = %+v, want %+v", typ, got, want)
				}
			}
		})
	}
	if _, err := EvalSpans([][]Span{nil}, nil); !errors.Is(err, ErrLength) {
		t.Errorf("EvalSpans with 1 gold and 0 predicted texts: err = %v, want ErrLength", err)
	}
}

// TestEvalSpansMatchesEvalNER checks EvalSpans against EvalNER, the
// reference, on random BIO sequences: the entities of a tag sequence as
// spans must get the same counts and per-type scores (exactly: both divide
// the same integers).
func TestEvalSpansMatchesEvalNER(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 1))
	tags := []string{"O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"}
	randTags := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = tags[rng.IntN(len(tags))]
		}
		return out
	}
	spans := func(tags []string) []Span {
		var out []Span
		for _, e := range Entities(tags) {
			out = append(out, Span(e))
		}
		return out
	}
	for size := 0; size <= 20; size++ {
		var gold, pred [][]string
		var gs, ps [][]Span
		for range size {
			n := rng.IntN(12)
			g, p := randTags(n), randTags(n)
			gold, pred = append(gold, g), append(pred, p)
			gs, ps = append(gs, spans(g)), append(ps, spans(p))
		}
		want, err := EvalNER(gold, pred)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EvalSpans(gs, ps)
		if err != nil {
			t.Fatal(err)
		}
		want.Tokens, want.TokenAccuracy = 0, 0
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d sentences: EvalSpans = %+v, EvalNER = %+v", size, got, want)
		}
	}
}
