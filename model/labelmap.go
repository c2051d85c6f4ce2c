package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// LabelMap maps the labels of one classification data set onto a model's
// labels, so that data sets with different label sets train one
// classifier. Each source label maps to a set of model labels:
//
//   - one label: the example's label, renamed (SMP2020-EWECT's "happy" is
//     "positive" for a sentiment model);
//   - several labels: partial annotation, the true label is one of them
//     (weibo2018's "positive" also holds plain informational posts, so for
//     a three-class model it is "positive or neutral"); training maximises
//     the probability of the set (nn.SoftmaxSetCrossEntropy), and dev and
//     eval leave such examples unscored;
//   - no label: the examples are dropped.
//
// A label the map does not name is an error, so a map never drops data
// silently.
type LabelMap struct {
	// Name identifies the map (a built-in name or a file name).
	Name string `json:"name"`
	// Labels maps each source label to its model labels.
	Labels map[string][]string `json:"labels"`
}

// Map returns the model labels of a source label and whether the map knows
// it.
func (m *LabelMap) Map(label string) ([]string, bool) {
	out, ok := m.Labels[label]
	return out, ok
}

// Apply reads a single-label example's label through the map: its Label
// becomes the one model label or, for a set, Allowed (a partial label);
// keep is false when the label maps to none (drop the example). A label
// the map lacks, or a multi-label example, is an error.
func (m *LabelMap) Apply(ex LabeledText) (out LabeledText, keep bool, err error) {
	if len(ex.Labels) > 0 || len(ex.Allowed) > 0 {
		return ex, false, errors.New("a label map applies to single-label records")
	}
	to, ok := m.Labels[ex.Label]
	if !ok {
		return ex, false, fmt.Errorf("label %q is not in label map %s (%s)", ex.Label, m.Name, strings.Join(slices.Sorted(maps.Keys(m.Labels)), ", "))
	}
	switch len(to) {
	case 0:
		return ex, false, nil
	case 1:
		ex.Label = to[0]
	default:
		ex.Label, ex.Allowed = "", slices.Clone(to)
	}
	return ex, true, nil
}

// Targets returns the sorted model labels the map produces.
func (m *LabelMap) Targets() []string {
	set := map[string]bool{}
	for _, ls := range m.Labels {
		for _, l := range ls {
			set[l] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// Validate reports a map with no labels, an empty label name or a label
// repeated in one set.
func (m *LabelMap) Validate() error {
	if len(m.Labels) == 0 {
		return fmt.Errorf("%w: label map %q has no labels", ErrConfig, m.Name)
	}
	for s, ls := range m.Labels {
		if s == "" {
			return fmt.Errorf("%w: label map %q has an empty source label", ErrConfig, m.Name)
		}
		for i, l := range ls {
			if l == "" {
				return fmt.Errorf("%w: label map %q maps %q to an empty label", ErrConfig, m.Name, s)
			}
			if slices.Contains(ls[:i], l) {
				return fmt.Errorf("%w: label map %q maps %q to %q twice", ErrConfig, m.Name, s, l)
			}
		}
	}
	return nil
}

// ParseLabelMap decodes a JSON label map ({"labels": {"source": ["model",
// ...]}}) and validates it; name is used when the JSON has none.
func ParseLabelMap(name string, b []byte) (*LabelMap, error) {
	var m LabelMap
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: label map %s: %v", ErrConfig, name, err)
	}
	if m.Name == "" {
		m.Name = name
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// BuiltinLabelMap returns a label map shipped for a data set of
// ../shared/data, or false.
func BuiltinLabelMap(name string) (*LabelMap, bool) {
	m, ok := builtinLabelMaps()[name]
	return m, ok
}

// BuiltinLabelMapNames returns the names BuiltinLabelMap knows, sorted.
func BuiltinLabelMapNames() []string {
	return slices.Sorted(maps.Keys(builtinLabelMaps()))
}

func builtinLabelMaps() map[string]*LabelMap {
	neg, pos, neu := []string{"negative"}, []string{"positive"}, []string{"neutral"}
	return map[string]*LabelMap{
		// SMP2020-EWECT read as three-class sentiment: happiness is positive;
		// anger, sadness and fear negative; neutral neutral. Surprise is
		// dropped: it is either sign and rarely neutral (measured in
		// docs/experiments/2026-12-07-issue24-sentiment-zh.md).
		"smp2020_ewect-sentiment": {Name: "smp2020_ewect-sentiment", Labels: map[string][]string{
			"happy": pos, "angry": neg, "sad": neg, "fear": neg, "neutral": neu, "surprise": nil,
		}},
		// The polarity view: the sentiment view without neutral posts, for
		// accuracy comparable with binary data sets.
		"smp2020_ewect-polarity": {Name: "smp2020_ewect-polarity", Labels: map[string][]string{
			"happy": pos, "angry": neg, "sad": neg, "fear": neg, "neutral": nil, "surprise": nil,
		}},
		// weibo2018 for a three-class model: its "positive" also holds
		// plain informational posts (news, announcements), so it is
		// "positive or neutral"; its negative posts are negative.
		"weibo2018-sentiment": {Name: "weibo2018-sentiment", Labels: map[string][]string{
			"negative": neg, "positive": {"positive", "neutral"},
		}},
	}
}
