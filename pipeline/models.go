package pipeline

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tagstream/tagstream/model"
)

// LangModels are the models that label one language.
type LangModels struct {
	// Analyzer runs the classifier and the tagger. nil is the identity
	// analyzer: every result gets the label IdentityLabel, no scores and
	// no entities (for measuring the plumbing alone).
	Analyzer *model.Analyzer
	// ClassifierVersion and NERVersion name the models in every result
	// (model_version.classifier and model_version.ner); "" when the
	// analyzer has no such model.
	ClassifierVersion string
	NERVersion        string
	// Classifier and Tagger are the source weights of the analyzer's
	// models (nil if none), for fine-tuning; ClassifierName and NERName
	// are their base names. Never written after the LangModels is built.
	Classifier     *model.Classifier
	Tagger         *model.Tagger
	ClassifierName string
	NERName        string
}

// IdentityLabel is the label of results made by the identity analyzer.
const IdentityLabel = "none"

// Snapshot is an immutable set of models, one LangModels per language
// ("en", "zh"). Workers load the current Snapshot once per batch, so a
// Snapshot must never be modified after it was passed to New or SetModels:
// build a new one instead.
type Snapshot struct {
	langs map[string]*LangModels
	order []string // sorted language codes, the first is the fallback
}

// NewSnapshot returns a Snapshot of langs, which must name at least one
// language. A language missing from langs is served by the models of
// "en" if present, otherwise by the first language in sorted order.
// NewSnapshot copies the map, not the LangModels.
func NewSnapshot(langs map[string]*LangModels) (*Snapshot, error) {
	if len(langs) == 0 {
		return nil, ErrNoModels
	}
	s := &Snapshot{langs: make(map[string]*LangModels, len(langs))}
	for l, m := range langs {
		if m == nil {
			return nil, fmt.Errorf("%w: language %q has nil models", ErrNoModels, l)
		}
		s.langs[l] = m
		s.order = append(s.order, l)
	}
	sort.Strings(s.order)
	if _, ok := s.langs["en"]; ok {
		s.order = append([]string{"en"}, remove(s.order, "en")...)
	}
	return s, nil
}

func remove(s []string, v string) []string {
	out := s[:0:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// For returns the models for lang and the language they are for (lang
// itself, or the fallback language when lang has none).
func (s *Snapshot) For(lang string) (string, *LangModels) {
	if m, ok := s.langs[lang]; ok {
		return lang, m
	}
	l := s.order[0]
	return l, s.langs[l]
}

// Langs returns the languages of s, the fallback first.
func (s *Snapshot) Langs() []string { return append([]string(nil), s.order...) }

// IdentitySnapshot returns a Snapshot with the identity analyzer for "en"
// and "zh" and version "none".
func IdentitySnapshot() *Snapshot {
	id := &LangModels{ClassifierVersion: IdentityLabel, NERVersion: IdentityLabel}
	s, _ := NewSnapshot(map[string]*LangModels{"en": id, "zh": id})
	return s
}

// NewLangModels compiles cls and ner (either may be nil, not both) into the
// LangModels of one language. clsName and nerName name the models (file
// names without directory and extension are best); each version is the
// name followed by "@" and the first 12 hex digits of the weights' SHA-256
// when the model was loaded from a file.
func NewLangModels(cls *model.Classifier, clsName string, ner *model.Tagger, nerName string) (*LangModels, error) {
	var cc *model.CompiledClassifier
	var ct *model.CompiledTagger
	lm := &LangModels{Classifier: cls, Tagger: ner, ClassifierName: baseName(clsName), NERName: baseName(nerName)}
	if cls != nil {
		if cls.MultiLabel {
			// A result has one label per language today; multi-label
			// models serve once a stream has several tasks (issue 22).
			return nil, fmt.Errorf("classifier %s is multi-label: the pipeline serves single-label classifiers only (a result carries one label)", baseName(clsName))
		}
		cc = cls.Compile()
		lm.ClassifierVersion = Version(clsName, cls.Checksum)
	}
	if ner != nil {
		ct = ner.Compile()
		lm.NERVersion = Version(nerName, ner.Checksum)
	}
	a, err := model.NewAnalyzer(cc, ct)
	if err != nil {
		return nil, err
	}
	lm.Analyzer = a
	return lm, nil
}

// Version formats a model version: "name@<12 hex digits of checksum>", or
// name alone without a checksum.
func Version(name, checksum string) string {
	name = baseName(name)
	if checksum == "" {
		return name
	}
	return name + "@" + checksum[:min(12, len(checksum))]
}

func baseName(name string) string {
	return strings.TrimSuffix(filepath.Base(name), ".safetensors")
}

// With returns a copy of s in which lang is served by m.
func (s *Snapshot) With(lang string, m *LangModels) *Snapshot {
	langs := make(map[string]*LangModels, len(s.langs)+1)
	for l, lm := range s.langs {
		langs[l] = lm
	}
	langs[lang] = m
	out, _ := NewSnapshot(langs) // never empty
	return out
}
