package pipeline

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tagstream/tagstream/model"
)

// TaskModel is one task's classifier for one language.
type TaskModel struct {
	// Task is the task's name.
	Task string
	// Classifier is the source weights (for fine-tuning); never written
	// after the LangModels is built.
	Classifier *model.Classifier
	// Name is the model's base name, Version its version
	// ("name@<12 hex digits of the weights' SHA-256>").
	Name, Version string
	// MultiLabel is Classifier.MultiLabel.
	MultiLabel bool
}

// TaskSpec names one task's classifier for NewLangModels.
type TaskSpec struct {
	Task       string
	Classifier *model.Classifier
	// Name names the model (a file name; directory and extension are
	// dropped).
	Name string
}

// LangModels are the models that label one language: a classifier per task
// (the tasks this language has a model for) and a tagger.
type LangModels struct {
	// Analyzer runs the classifiers and the tagger, tokenizing each text
	// once. nil is the identity analyzer: every result gets the label
	// IdentityLabel, no scores, no tasks and no entities (for measuring
	// the plumbing alone).
	Analyzer *model.Analyzer
	// Tasks are the classifiers, in the Analyzer's order.
	Tasks []TaskModel
	// Versions maps each task to its classifier's version; shared by
	// every result, never written.
	Versions map[string]string
	// Tagger is the source weights of the analyzer's tagger (nil if none),
	// NERName its base name and NERVersion its version (model_version.ner;
	// "" without a tagger).
	Tagger     *model.Tagger
	NERName    string
	NERVersion string
}

// Task returns the index and model of task in m, or -1 and nil.
func (m *LangModels) Task(task string) (int, *TaskModel) {
	for i := range m.Tasks {
		if m.Tasks[i].Task == task {
			return i, &m.Tasks[i]
		}
	}
	return -1, nil
}

// Specs returns the TaskSpecs of m's classifiers, to build a LangModels
// that differs in one model.
func (m *LangModels) Specs() []TaskSpec {
	out := make([]TaskSpec, len(m.Tasks))
	for i, t := range m.Tasks {
		out[i] = TaskSpec{Task: t.Task, Classifier: t.Classifier, Name: t.Name}
	}
	return out
}

// IdentityLabel is the label of results made by the identity analyzer.
const IdentityLabel = "none"

// Snapshot is an immutable set of models, one LangModels per language
// ("en", "zh"), and the route task, whose label is each result's label.
// Workers load the current Snapshot once per batch, so a Snapshot must
// never be modified after it was passed to New or SetModels: build a new
// one instead.
type Snapshot struct {
	langs map[string]*LangModels
	order []string // sorted language codes, the first is the fallback
	route string
	tasks []string // every task of any language, sorted
	// missing maps a language to the tasks it has no model for.
	missing map[string][]string
}

// NewSnapshot returns a Snapshot of langs whose route task is the first
// task of the fallback language (none without classifiers). See
// NewTaskSnapshot.
func NewSnapshot(langs map[string]*LangModels) (*Snapshot, error) {
	return NewTaskSnapshot(langs, "")
}

// NewTaskSnapshot returns a Snapshot of langs, which must name at least one
// language. A language missing from langs is served by the models of "en"
// if present, otherwise by the first language in sorted order. route names
// the route task ("": the first task of the fallback language): every
// language with classifiers must have it, single-label. It copies the map,
// not the LangModels.
func NewTaskSnapshot(langs map[string]*LangModels, route string) (*Snapshot, error) {
	if len(langs) == 0 {
		return nil, ErrNoModels
	}
	s := &Snapshot{langs: make(map[string]*LangModels, len(langs)), missing: map[string][]string{}}
	for l, m := range langs {
		if m == nil {
			return nil, fmt.Errorf("%w: language %q has nil models", ErrNoModels, l)
		}
		s.langs[l] = m
		s.order = append(s.order, l)
		for _, t := range m.Tasks {
			if !slices.Contains(s.tasks, t.Task) {
				s.tasks = append(s.tasks, t.Task)
			}
		}
	}
	sort.Strings(s.order)
	sort.Strings(s.tasks)
	if _, ok := s.langs["en"]; ok {
		s.order = append([]string{"en"}, remove(s.order, "en")...)
	}
	if route == "" {
		if ts := s.langs[s.order[0]].Tasks; len(ts) > 0 {
			route = ts[0].Task
		}
	}
	s.route = route
	for _, l := range s.order {
		m := s.langs[l]
		if m.Analyzer == nil {
			continue // the identity analyzer
		}
		for _, t := range s.tasks {
			if _, tm := m.Task(t); tm == nil {
				s.missing[l] = append(s.missing[l], t)
			}
		}
		if len(m.Tasks) == 0 {
			continue // a tagger alone
		}
		_, tm := m.Task(route)
		switch {
		case tm == nil:
			return nil, fmt.Errorf("%w: route task %q has no %s model (the %s tasks: %s)", ErrInvalidConfig, route, l, l, taskNames(m.Tasks))
		case tm.MultiLabel:
			return nil, fmt.Errorf("%w: route task %q is multi-label (%s model %s): the route task gives the result one label, want a single-label task", ErrInvalidConfig, route, l, tm.Name)
		}
	}
	return s, nil
}

func taskNames(ts []TaskModel) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Task
	}
	return strings.Join(names, ", ")
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

// Route returns the route task ("" without classifiers).
func (s *Snapshot) Route() string { return s.route }

// Tasks returns every task any language has a model for, sorted.
func (s *Snapshot) Tasks() []string { return append([]string(nil), s.tasks...) }

// IdentitySnapshot returns a Snapshot with the identity analyzer for "en"
// and "zh" and version "none".
func IdentitySnapshot() *Snapshot {
	id := &LangModels{NERVersion: IdentityLabel}
	s, _ := NewSnapshot(map[string]*LangModels{"en": id, "zh": id})
	return s
}

// NewLangModels compiles the classifiers of tasks and ner (either may be
// empty, not both) into the LangModels of one language. Task names must be
// unique. Each version is the model name followed by "@" and the first 12
// hex digits of the weights' SHA-256 when the model was loaded from a file.
func NewLangModels(tasks []TaskSpec, ner *model.Tagger, nerName string) (*LangModels, error) {
	lm := &LangModels{Tagger: ner, NERName: baseName(nerName), Versions: make(map[string]string, len(tasks))}
	ccs := make([]*model.CompiledClassifier, 0, len(tasks))
	for _, t := range tasks {
		if t.Classifier == nil {
			return nil, fmt.Errorf("%w: task %q has no classifier", ErrInvalidConfig, t.Task)
		}
		if _, dup := lm.Versions[t.Task]; dup {
			return nil, fmt.Errorf("%w: task %q given twice", ErrInvalidConfig, t.Task)
		}
		v := Version(t.Name, t.Classifier.Checksum)
		lm.Tasks = append(lm.Tasks, TaskModel{Task: t.Task, Classifier: t.Classifier, Name: baseName(t.Name), Version: v, MultiLabel: t.Classifier.MultiLabel})
		lm.Versions[t.Task] = v
		ccs = append(ccs, t.Classifier.Compile())
	}
	var ct *model.CompiledTagger
	if ner != nil {
		ct = ner.Compile()
		lm.NERVersion = Version(nerName, ner.Checksum)
	}
	a, err := model.NewTaskAnalyzer(ccs, ct)
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

// With returns a copy of s in which lang is served by m (the route task
// unchanged). It fails only if m lacks the route task.
func (s *Snapshot) With(lang string, m *LangModels) (*Snapshot, error) {
	langs := make(map[string]*LangModels, len(s.langs)+1)
	for l, lm := range s.langs {
		langs[l] = lm
	}
	langs[lang] = m
	return NewTaskSnapshot(langs, s.route)
}
