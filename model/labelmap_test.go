package model

import (
	"slices"
	"strings"
	"testing"
)

// TestLabelMap checks parsing, validation and Apply: one label renamed, a
// set as a partial label, none dropped, an unknown label refused.
func TestLabelMap(t *testing.T) {
	t.Parallel()
	for _, bad := range []struct{ json, want string }{
		{`{"labels":{}}`, "no labels"},
		{`{"labels":{"a":["x","x"]}}`, `maps "a" to "x" twice`},
		{`{"labels":{"a":[""]}}`, "empty label"},
		{`{"labels":`, "label map m.json"},
	} {
		if _, err := ParseLabelMap("m.json", []byte(bad.json)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.json, err, bad.want)
		}
	}
	m, ok := BuiltinLabelMap("weibo2018-sentiment")
	if !ok || !slices.Equal(m.Targets(), []string{"negative", "neutral", "positive"}) {
		t.Fatalf("weibo2018-sentiment: %v %v", ok, m)
	}
	got, keep, err := m.Apply(LabeledText{Text: "t", Label: "positive"})
	if err != nil || !keep || got.Label != "" || !slices.Equal(got.Allowed, []string{"positive", "neutral"}) {
		t.Errorf("positive: %+v %v %v, want the partial label {positive, neutral}", got, keep, err)
	}
	if got, keep, err := m.Apply(LabeledText{Text: "t", Label: "negative"}); err != nil || !keep || got.Label != "negative" || got.Allowed != nil {
		t.Errorf("negative: %+v %v %v", got, keep, err)
	}
	smp, _ := BuiltinLabelMap("smp2020_ewect-sentiment")
	if _, keep, err := smp.Apply(LabeledText{Label: "surprise"}); err != nil || keep {
		t.Errorf("surprise: keep %v err %v, want dropped", keep, err)
	}
	if _, _, err := smp.Apply(LabeledText{Label: "joy"}); err == nil || !strings.Contains(err.Error(), `label "joy" is not in label map smp2020_ewect-sentiment`) {
		t.Errorf("unknown label: %v", err)
	}
	if _, _, err := smp.Apply(LabeledText{Labels: []string{"happy"}}); err == nil {
		t.Error("a multi-label record was mapped")
	}
}
