package metrics

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// ClassScore holds the scores of one class (or entity type).
type ClassScore struct {
	// Precision is TP/(TP+FP), 0 when nothing was predicted as the class.
	Precision float64 `json:"precision"`
	// Recall is TP/(TP+FN), 0 when the class has no gold examples.
	Recall float64 `json:"recall"`
	// F1 is the harmonic mean of Precision and Recall, computed as
	// 2TP/(2TP+FP+FN); 0 when that denominator is 0.
	F1 float64 `json:"f1"`
	// Support is the number of gold examples (or gold entities).
	Support int `json:"support"`
}

// Confusion is a confusion matrix: Matrix[g][p] counts examples with gold
// label Labels[g] predicted as Labels[p].
type Confusion struct {
	Labels []string `json:"labels"`
	Matrix [][]int  `json:"matrix"`
}

// Classification is the evaluation of a single-label classifier.
type Classification struct {
	// Accuracy is the fraction of examples predicted correctly (0 if N is 0).
	Accuracy float64 `json:"accuracy"`
	// MacroPrecision, MacroRecall and MacroF1 are unweighted means of the
	// per-class scores over all labels. MacroF1 is the mean of per-class F1,
	// not the F1 of the macro precision and recall (as in scikit-learn).
	MacroPrecision float64 `json:"macro_precision"`
	MacroRecall    float64 `json:"macro_recall"`
	MacroF1        float64 `json:"macro_f1"`
	// N is the number of examples.
	N int `json:"n"`
	// PerClass maps each label to its scores.
	PerClass map[string]ClassScore `json:"per_class"`
	// Confusion has rows for gold labels and columns for predicted ones.
	Confusion Confusion `json:"confusion"`
}

// Classify scores predictions pred against gold, both given as indices
// into labels. It returns an error wrapping ErrLength if the slices differ
// in length, ErrRange if an index is outside labels, and ErrLabels if labels
// repeats a name. Empty input gives N = 0 and all scores 0. The result does
// not alias labels.
func Classify(labels []string, gold, pred []int) (Classification, error) {
	if len(gold) != len(pred) {
		return Classification{}, fmt.Errorf("classify: %d gold and %d predicted: %w", len(gold), len(pred), ErrLength)
	}
	seen := make(map[string]bool, len(labels))
	for _, l := range labels {
		if seen[l] {
			return Classification{}, fmt.Errorf("classify: label %q: %w", l, ErrLabels)
		}
		seen[l] = true
	}
	k := len(labels)
	m := make([][]int, k)
	for i := range m {
		m[i] = make([]int, k)
	}
	correct := 0
	for i, g := range gold {
		p := pred[i]
		if g < 0 || g >= k {
			return Classification{}, fmt.Errorf("classify: gold[%d] = %d, %d labels: %w", i, g, k, ErrRange)
		}
		if p < 0 || p >= k {
			return Classification{}, fmt.Errorf("classify: pred[%d] = %d, %d labels: %w", i, p, k, ErrRange)
		}
		m[g][p]++
		if g == p {
			correct++
		}
	}
	c := Classification{
		N:         len(gold),
		Accuracy:  ratio(correct, len(gold)),
		PerClass:  make(map[string]ClassScore, k),
		Confusion: Confusion{Labels: append([]string{}, labels...), Matrix: m},
	}
	for j, l := range labels {
		tp, support, predicted := m[j][j], 0, 0
		for i := range k {
			support += m[j][i]
			predicted += m[i][j]
		}
		s := score(tp, predicted, support)
		c.PerClass[l] = s
		c.MacroPrecision += s.Precision
		c.MacroRecall += s.Recall
		c.MacroF1 += s.F1
	}
	if k > 0 {
		c.MacroPrecision /= float64(k)
		c.MacroRecall /= float64(k)
		c.MacroF1 /= float64(k)
	}
	return c, nil
}

// score computes precision, recall and F1 from true positives, predicted
// and gold counts, with 0 for any zero denominator.
func score(tp, predicted, gold int) ClassScore {
	return ClassScore{
		Precision: ratio(tp, predicted),
		Recall:    ratio(tp, gold),
		F1:        ratio(2*tp, predicted+gold), // 2TP/(2TP+FP+FN)
		Support:   gold,
	}
}

// ratio returns a/b, or 0 if b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Format writes a human-readable report to w: summary lines, a per-class
// table in label order and the confusion matrix. It returns w's first
// error.
func (c Classification) Format(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "examples: %d\naccuracy: %.4f\n", c.N, c.Accuracy)
	fmt.Fprintf(ew, "macro precision: %.4f  recall: %.4f  f1: %.4f\n\n", c.MacroPrecision, c.MacroRecall, c.MacroF1)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "label\tprecision\trecall\tf1\tsupport\t\n")
	for _, l := range c.Confusion.Labels {
		s := c.PerClass[l]
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t\n", l, s.Precision, s.Recall, s.F1, s.Support)
	}
	tw.Flush()
	fmt.Fprint(ew, "\nconfusion matrix (rows = gold, columns = predicted):\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "gold\\pred\t")
	for _, l := range c.Confusion.Labels {
		fmt.Fprintf(tw, "%s\t", l)
	}
	fmt.Fprint(tw, "\n")
	for i, row := range c.Confusion.Matrix {
		if i < len(c.Confusion.Labels) {
			fmt.Fprintf(tw, "%s\t", c.Confusion.Labels[i])
		}
		for _, v := range row {
			fmt.Fprintf(tw, "%d\t", v)
		}
		fmt.Fprint(tw, "\n")
	}
	tw.Flush()
	return ew.err
}

// errWriter remembers the first write error and drops later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
