package metrics

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestEvalMultiLabel(t *testing.T) {
	t.Parallel()
	labels := []string{"joy", "anger", "fear"}
	// Four examples; gold sets {joy}, {joy, anger}, {}, {fear}.
	gold := []bool{
		true, false, false,
		true, true, false,
		false, false, false,
		false, false, true,
	}
	probs := []float32{
		0.9, 0.1, 0.2, // {joy}: exact
		0.8, 0.4, 0.1, // {joy}: anger missed
		0.6, 0.2, 0.1, // {joy}: joy false positive
		0.1, 0.1, 0.7, // {fear}: exact
	}
	m, err := EvalMultiLabel(labels, gold, probs, []float64{0.5, 0.5, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	// joy: tp 2, fp 1, fn 0; anger: tp 0, fn 1; fear: tp 1.
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("micro P", m.MicroPrecision, 3.0/4)
	near("micro R", m.MicroRecall, 3.0/4)
	near("micro F1", m.MicroF1, 6.0/8)
	near("macro F1", m.MacroF1, (4.0/5+0+1)/3)
	near("subset accuracy", m.SubsetAccuracy, 2.0/4)
	near("Hamming loss", m.HammingLoss, 2.0/12)
	if m.N != 4 || m.PerLabel["joy"].Support != 2 || m.PerLabel["anger"].Support != 1 || m.PerLabel["fear"].Threshold != 0.5 {
		t.Errorf("scores %+v", m)
	}
	// A lower anger threshold catches it.
	m2, _ := EvalMultiLabel(labels, gold, probs, []float64{0.5, 0.3, 0.5})
	near("anger F1 at 0.3", m2.PerLabel["anger"].F1, 1)

	if _, err := EvalMultiLabel(labels, gold[:5], probs[:5], []float64{0.5, 0.5, 0.5}); !errors.Is(err, ErrLength) {
		t.Errorf("ragged: %v", err)
	}
	if _, err := EvalMultiLabel([]string{"a", "a"}, []bool{true, false}, []float32{1, 0}, []float64{0.5, 0.5}); !errors.Is(err, ErrLabels) {
		t.Errorf("repeated label: %v", err)
	}
	var sb strings.Builder
	if err := m.Format(&sb); err != nil || !strings.Contains(sb.String(), "subset accuracy") || !strings.Contains(sb.String(), "anger") {
		t.Errorf("Format: %v\n%s", err, sb.String())
	}
}

func TestTuneThresholds(t *testing.T) {
	t.Parallel()
	// Label 0: positives at 0.3-0.4, negatives at 0.1-0.2: any threshold in
	// (0.2, 0.3] is perfect, 0.3 is the closest to 0.5. Label 1: never
	// gold: 0.5. Label 2: separable at 0.55 or 0.6 or ... 0.7; 0.55 is closest.
	gold := []bool{
		true, false, false,
		true, false, true,
		false, false, false,
		false, false, true,
	}
	probs := []float32{
		0.3, 0.9, 0.5,
		0.4, 0.8, 0.8,
		0.1, 0.9, 0.52,
		0.2, 0.1, 0.75,
	}
	got := TuneThresholds(gold, probs, 3)
	want := []float64{0.3, 0.5, 0.55}
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-9 {
			t.Errorf("threshold %d = %v, want %v (all %v)", j, got[j], want[j], got)
		}
	}
}
