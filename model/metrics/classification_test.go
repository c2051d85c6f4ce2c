package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

const tol = 1e-12

func near(a, b float64) bool { return math.Abs(a-b) <= tol }

func TestClassify(t *testing.T) {
	t.Parallel()
	labels := []string{"a", "b", "c"}
	tests := []struct {
		name      string
		gold      []int
		pred      []int
		acc       float64
		macro     [3]float64 // precision, recall, f1
		perClass  map[string]ClassScore
		confusion [][]int
	}{
		{
			// Everything predicted as a. a: TP 2, FP 2, FN 0 -> P 2/4, R 2/2,
			// F1 2*2/(2*2+2+0) = 4/6. b: TP 0, FP 0, FN 2 -> P 0/0 = 0
			// (zero_division=0), R 0, F1 0. c: no gold, no predictions -> 0.
			// Macro: P (0.5+0+0)/3, R (1+0+0)/3, F1 (2/3)/3. scikit-learn
			// precision_recall_fscore_support(y, p, labels=[0,1,2],
			// average="macro", zero_division=0) gives the same.
			name: "zero division", gold: []int{0, 0, 1, 1}, pred: []int{0, 0, 0, 0},
			acc:   0.5,
			macro: [3]float64{0.5 / 3, 1.0 / 3, (2.0 / 3) / 3},
			perClass: map[string]ClassScore{
				"a": {0.5, 1, 2.0 / 3, 2}, "b": {0, 0, 0, 2}, "c": {0, 0, 0, 0},
			},
			confusion: [][]int{{2, 0, 0}, {2, 0, 0}, {0, 0, 0}},
		},
		{
			name: "perfect", gold: []int{0, 1, 2, 2}, pred: []int{0, 1, 2, 2},
			acc: 1, macro: [3]float64{1, 1, 1},
			perClass:  map[string]ClassScore{"a": {1, 1, 1, 1}, "b": {1, 1, 1, 1}, "c": {1, 1, 1, 2}},
			confusion: [][]int{{1, 0, 0}, {0, 1, 0}, {0, 0, 2}},
		},
		{
			name: "all wrong", gold: []int{0, 1, 2}, pred: []int{1, 2, 0},
			acc: 0, macro: [3]float64{0, 0, 0},
			perClass:  map[string]ClassScore{"a": {0, 0, 0, 1}, "b": {0, 0, 0, 1}, "c": {0, 0, 0, 1}},
			confusion: [][]int{{0, 1, 0}, {0, 0, 1}, {1, 0, 0}},
		},
		{
			// Accuracy 2/6. a: TP 2, FP 1 (#4), FN 0 -> P 2/3, R 1, F1 4/5.
			// b: TP 0, FP 2 (#2, #5), FN 2 -> 0. c: TP 0, FP 1 (#1), FN 2 -> 0.
			name: "mixed", gold: []int{0, 1, 2, 0, 1, 2}, pred: []int{0, 2, 1, 0, 0, 1},
			acc:   2.0 / 6,
			macro: [3]float64{(2.0 / 3) / 3, 1.0 / 3, 0.8 / 3},
			perClass: map[string]ClassScore{
				"a": {2.0 / 3, 1, 0.8, 2}, "b": {0, 0, 0, 2}, "c": {0, 0, 0, 2},
			},
			confusion: [][]int{{2, 0, 0}, {1, 0, 1}, {0, 2, 0}},
		},
		{
			name: "empty", gold: nil, pred: nil,
			perClass:  map[string]ClassScore{"a": {}, "b": {}, "c": {}},
			confusion: [][]int{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Classify(labels, tt.gold, tt.pred)
			if err != nil {
				t.Fatal(err)
			}
			if c.N != len(tt.gold) || !near(c.Accuracy, tt.acc) {
				t.Errorf("N, accuracy = %d, %v; want %d, %v", c.N, c.Accuracy, len(tt.gold), tt.acc)
			}
			if got := [3]float64{c.MacroPrecision, c.MacroRecall, c.MacroF1}; !near(got[0], tt.macro[0]) || !near(got[1], tt.macro[1]) || !near(got[2], tt.macro[2]) {
				t.Errorf("macro P, R, F1 = %v, want %v", got, tt.macro)
			}
			for l, want := range tt.perClass {
				got := c.PerClass[l]
				if !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.F1, want.F1) || got.Support != want.Support {
					t.Errorf("class %s = %+v, want %+v", l, got, want)
				}
			}
			for i, row := range tt.confusion {
				for j, v := range row {
					if c.Confusion.Matrix[i][j] != v {
						t.Fatalf("confusion = %v, want %v", c.Confusion.Matrix, tt.confusion)
					}
				}
			}
		})
	}
}

func TestClassifyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		labels  []string
		gold    []int
		pred    []int
		wantErr error
	}{
		{"length", []string{"a"}, []int{0}, nil, ErrLength},
		{"negative gold", []string{"a"}, []int{-1}, []int{0}, ErrRange},
		{"large pred", []string{"a", "b"}, []int{0}, []int{2}, ErrRange},
		{"no labels", nil, []int{0}, []int{0}, ErrRange},
		{"duplicate label", []string{"a", "a"}, nil, nil, ErrLabels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Classify(tt.labels, tt.gold, tt.pred); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestClassificationFormatAndJSON(t *testing.T) {
	t.Parallel()
	c, err := Classify([]string{"neg", "pos"}, []int{0, 0, 1, 1}, []int{0, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.Format(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"examples: 4", "accuracy: 0.7500", "neg", "pos", "rows = gold", "support"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"accuracy":0.75`, `"macro_f1":`, `"n":4`, `"per_class":{"neg":{"precision":1,"recall":0.5,"f1":`, `"confusion":{"labels":["neg","pos"],"matrix":[[1,1],[0,2]]}`} {
		if !strings.Contains(string(j), want) {
			t.Errorf("json lacks %s: %s", want, j)
		}
	}
	if err := c.Format(failWriter{}); err == nil {
		t.Error("Format ignored a write error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
