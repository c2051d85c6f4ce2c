package metrics

import (
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
)

// LabelScore holds the scores of one label of a multi-label classifier.
type LabelScore struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Threshold is the probability at or above which the label is
	// predicted.
	Threshold float64 `json:"threshold"`
	// Support is the number of examples that carry the label.
	Support int `json:"support"`
}

// MultiLabel is the evaluation of a multi-label classifier, whose examples
// carry any number of labels.
type MultiLabel struct {
	// MicroPrecision, MicroRecall and MicroF1 pool the (example, label)
	// decisions of every label.
	MicroPrecision float64 `json:"micro_precision"`
	MicroRecall    float64 `json:"micro_recall"`
	MicroF1        float64 `json:"micro_f1"`
	// MacroF1 is the unweighted mean of the labels' F1.
	MacroF1 float64 `json:"macro_f1"`
	// SubsetAccuracy is the fraction of examples whose predicted label set
	// is exactly the gold set.
	SubsetAccuracy float64 `json:"subset_accuracy"`
	// HammingLoss is the fraction of (example, label) decisions that are
	// wrong.
	HammingLoss float64 `json:"hamming_loss"`
	// N is the number of examples.
	N int `json:"n"`
	// PerLabel maps each label to its scores and threshold.
	PerLabel map[string]LabelScore `json:"per_label"`
}

// EvalMultiLabel scores probabilities probs (n×k, row-major, k =
// len(labels)) against the gold label sets gold (n×k, true where the
// example carries the label), predicting label j where probs ≥
// thresholds[j]. It returns an error wrapping ErrLength when the sizes
// disagree and ErrLabels when labels repeats a name.
func EvalMultiLabel(labels []string, gold []bool, probs []float32, thresholds []float64) (MultiLabel, error) {
	k := len(labels)
	if k == 0 || len(gold)%k != 0 || len(probs) != len(gold) || len(thresholds) != k {
		return MultiLabel{}, fmt.Errorf("multi-label: %d labels, %d gold, %d probabilities, %d thresholds: %w", k, len(gold), len(probs), len(thresholds), ErrLength)
	}
	seen := make(map[string]bool, k)
	for _, l := range labels {
		if seen[l] {
			return MultiLabel{}, fmt.Errorf("multi-label: label %q: %w", l, ErrLabels)
		}
		seen[l] = true
	}
	n := len(gold) / k
	tp, fp, fn := make([]int, k), make([]int, k), make([]int, k)
	exact, wrong := 0, 0
	for r := 0; r < n; r++ {
		same := true
		for j := 0; j < k; j++ {
			g, p := gold[r*k+j], float64(probs[r*k+j]) >= thresholds[j]
			switch {
			case g && p:
				tp[j]++
			case p:
				fp[j]++
			case g:
				fn[j]++
			}
			if g != p {
				same = false
				wrong++
			}
		}
		if same {
			exact++
		}
	}
	m := MultiLabel{N: n, PerLabel: make(map[string]LabelScore, k)}
	var TP, FP, FN int
	for j, l := range labels {
		cs := score(tp[j], tp[j]+fp[j], tp[j]+fn[j])
		s := LabelScore{Precision: cs.Precision, Recall: cs.Recall, F1: cs.F1, Threshold: thresholds[j], Support: cs.Support}
		m.PerLabel[l] = s
		m.MacroF1 += s.F1 / float64(k)
		TP, FP, FN = TP+tp[j], FP+fp[j], FN+fn[j]
	}
	micro := score(TP, TP+FP, TP+FN)
	m.MicroPrecision, m.MicroRecall, m.MicroF1 = micro.Precision, micro.Recall, micro.F1
	if n > 0 {
		m.SubsetAccuracy = float64(exact) / float64(n)
		m.HammingLoss = float64(wrong) / float64(n*k)
	}
	return m, nil
}

// ThresholdGrid is the set of decision thresholds TuneThresholds tries:
// 0.05, 0.10, ..., 0.95.
var ThresholdGrid = func() []float64 {
	var g []float64
	for i := 1; i <= 19; i++ {
		g = append(g, float64(i)/20)
	}
	return g
}()

// TuneThresholds returns, per label, the threshold of ThresholdGrid that
// gives the label the highest F1 on (gold, probs) (n×k as for
// EvalMultiLabel); ties go to the threshold closest to 0.5, and a label
// without gold examples keeps 0.5. The data must not be what the model
// was trained on.
func TuneThresholds(gold []bool, probs []float32, k int) []float64 {
	n := len(gold) / k
	out := make([]float64, k)
	type cand struct{ f1, dist, t float64 }
	for j := 0; j < k; j++ {
		best := cand{f1: -1}
		support := 0
		for r := 0; r < n; r++ {
			if gold[r*k+j] {
				support++
			}
		}
		if support == 0 {
			out[j] = 0.5
			continue
		}
		for _, t := range ThresholdGrid {
			var tp, fp, fn int
			for r := 0; r < n; r++ {
				g, p := gold[r*k+j], float64(probs[r*k+j]) >= t
				switch {
				case g && p:
					tp++
				case p:
					fp++
				case g:
					fn++
				}
			}
			c := cand{score(tp, tp+fp, tp+fn).F1, math.Abs(t - 0.5), t}
			if c.f1 > best.f1+1e-12 || math.Abs(c.f1-best.f1) <= 1e-12 && c.dist < best.dist {
				best = c
			}
		}
		out[j] = best.t
	}
	return out
}

// Format writes a human-readable report: the summary scores and a table of
// the labels with their scores, thresholds and support. It returns w's
// first error.
func (m MultiLabel) Format(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "examples\t%d\t\n", m.N)
	fmt.Fprintf(tw, "micro F1\t%.4f\t(P %.4f, R %.4f)\n", m.MicroF1, m.MicroPrecision, m.MicroRecall)
	fmt.Fprintf(tw, "macro F1\t%.4f\t\n", m.MacroF1)
	fmt.Fprintf(tw, "subset accuracy\t%.4f\t\n", m.SubsetAccuracy)
	fmt.Fprintf(tw, "Hamming loss\t%.4f\t\n\n", m.HammingLoss)
	fmt.Fprintf(tw, "label\tprecision\trecall\tf1\tthreshold\tsupport\t\n")
	labels := make([]string, 0, len(m.PerLabel))
	for l := range m.PerLabel {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for _, l := range labels {
		s := m.PerLabel[l]
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.2f\t%d\t\n", l, s.Precision, s.Recall, s.F1, s.Threshold, s.Support)
	}
	return tw.Flush()
}
