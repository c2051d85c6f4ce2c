package pipeline

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
)

// feedbackSnapshot serves an untrained "en" classifier labelling neg/pos
// and a "zh" one labelling 负面/正面, on the dictionary-free tokenizer (the
// labels are all ParseFeedback looks at).
func feedbackSnapshot(tb testing.TB) *Snapshot {
	tb.Helper()
	tok, err := text.New(text.Options{Dict: text.DictChars})
	if err != nil {
		tb.Fatal(err)
	}
	langs := map[string]*LangModels{}
	for lang, labels := range map[string][]string{"en": {"neg", "pos"}, "zh": {"负面", "正面"}} {
		cfg := model.ClassifierConfig{Embed: 4, Hidden: 4, Buckets: 8, MaxTokens: 8}
		c, err := model.NewClassifier(cfg, labels, model.NewVocab(nil), tok, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			tb.Fatal(err)
		}
		specs := []TaskSpec{{Task: "sentiment", Classifier: c, Name: "fuzz-" + lang}}
		if lang == "en" { // a multi-label task for English only
			e, err := model.NewClassifier(cfg, []string{"joy", "anger"}, model.NewVocab(nil), tok, rand.New(rand.NewPCG(3, 4)))
			if err != nil {
				tb.Fatal(err)
			}
			e.MultiLabel, e.Thresholds = true, []float64{0.5, 0.5}
			specs = append(specs, TaskSpec{Task: "emotion", Classifier: e, Name: "fuzz-emotion-en"})
		}
		if langs[lang], err = NewLangModels(specs, nil, ""); err != nil {
			tb.Fatal(err)
		}
	}
	s, err := NewSnapshot(langs)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// FuzzParseFeedback feeds any bytes through the consumer's decoding (as a
// feedback record arrives) into ParseFeedback. A rejected record must carry
// a known reason (the decode reason when decoding failed) that its content
// justifies; an accepted one must have a correction, a label the
// language's classifier knows and entity spans inside the text's runes.
// Seeds in testdata/fuzz/FuzzParseFeedback add nasty inputs.
func FuzzParseFeedback(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","text":"great movie","label":"pos","lang":"en"}`,
		`{"text":"张三在北京","lang":"zh","label":"正面","entities":[{"start":0,"end":2,"type":"PER"},{"start":3,"end":5,"type":"LOC"}]}`,
		`{"text":"Bob 👨‍👩‍👧 in NYC","entities":[{"start":0,"end":3,"type":"PER"},{"start":11,"end":14,"type":"LOC"}]}`,
		`{"text":"no correction"}`,
		`{"text":"x","label":"maybe"}`,
		`{"text":"x","label":5}`,
		`{"text":"short","entities":[{"start":2,"end":40,"type":"PER"}]}`,
		`{"text":"short","entities":[{"start":-1,"end":2,"type":"PER"}]}`,
		`{"text":"short","entities":[{"start":0,"end":2,"type":""}]}`,
		`{"text":"short","entities":[{"start":0,"end":1e30,"type":"PER"}]}`,
		`{"text":"short","entities":[{"start":0,"end":9223372036854775807,"type":"PER"}]}`,
		`{"text":"short","entities":{"start":0}}`,
		`{"text":"short","entities":[]}`,
		`{"text":"short","entities":null,"label":null}`,
		`{"text":"\u200f\u202eשלום abc","label":"pos"}`,
		`{"text":"a\ud800b","entities":[{"start":1,"end":2,"type":"X"}]}`,
		`{"text":"","label":"pos"}`,
		`{"text":"so happy","lang":"en","task":"emotion","labels":["joy"]}`,
		`{"text":"so happy","lang":"en","task":"emotion","labels":[]}`,
		`{"text":"so happy","lang":"en","task":"emotion","labels":["joy","joy"]}`,
		`{"text":"so happy","lang":"en","task":"emotion","label":"joy"}`,
		`{"text":"so happy","lang":"en","labels":["pos"]}`,
		`{"text":"so happy","lang":"en","task":"topic","label":"pos"}`,
		`{"text":"太好了","lang":"zh","task":"emotion","labels":["joy"]}`,
		`{"text":"so happy","task":null,"labels":null,"label":"pos"}`,
		`{"text":"so happy","task":7,"label":"pos"}`,
		`[{"text":"x","label":"pos"}]`,
		"{\"text\":\"\xff\",\"label\":\"pos\"}",
	} {
		f.Add([]byte(s))
	}
	snap := feedbackSnapshot(f)
	known := map[string]bool{
		ReasonNoCorrection: true, ReasonBadLabel: true, ReasonBadEntities: true, ReasonBadTask: true,
		string(event.ReasonTooLarge): true, string(event.ReasonInvalidUTF8): true,
		string(event.ReasonInvalidJSON): true, string(event.ReasonWrongType): true,
		string(event.ReasonMissingText): true, string(event.ReasonEmptyText): true,
		string(event.ReasonBadLang): true,
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		src := event.Source{Topic: "fb", Partition: 2, Offset: 7}
		r := event.Record{Topic: src.Topic, Partition: src.Partition, Offset: src.Offset, Value: value}
		ev, derr := event.Decode(src, value, event.DecodeOptions{})
		if derr != nil {
			r.Err = derr.(*event.DecodeError)
		} else {
			r.Event = ev
		}
		fb, reason, err := ParseFeedback(r, snap, nil)
		if (err == nil) != (reason == "") || err == nil && derr != nil {
			t.Fatalf("ParseFeedback(%q): reason %q, error %v (decode error %v)", value, reason, err, derr)
		}
		if err != nil {
			if !known[reason] {
				t.Fatalf("ParseFeedback(%q): unknown reason %q (%v)", value, reason, err)
			}
			if derr != nil && (reason != string(r.Err.Reason) || !errors.Is(err, event.ErrBadEvent)) {
				t.Fatalf("ParseFeedback(%q): reason %q, error %v; decoding said %v", value, reason, err, derr)
			}
			switch reason {
			case ReasonBadLabel:
				if fb.Label == "" && !fb.HasLabels || labelsOK(snap, fb) {
					t.Fatalf("ParseFeedback(%q): task %q label %q labels %q of %s rejected", value, fb.Task, fb.Label, fb.Labels, fb.Lang)
				}
			case ReasonBadTask:
				if _, lm := snap.For(fb.Lang); slices.Contains(snap.Tasks(), fb.Task) && (fb.Label == "" && !fb.HasLabels || lmHas(lm, fb.Task)) {
					t.Fatalf("ParseFeedback(%q): task %q of %s rejected", value, fb.Task, fb.Lang)
				}
			case ReasonBadEntities:
				if entitiesOK(snap, fb) {
					t.Fatalf("ParseFeedback(%q): entities %+v inside %q rejected", value, fb.Entities, fb.Text)
				}
			case ReasonNoCorrection:
				if fb.Label != "" || fb.HasLabels || len(fb.Entities) > 0 {
					t.Fatalf("ParseFeedback(%q): %+v has a correction", value, fb)
				}
			}
			return
		}
		if fb.ID != ev.ID || fb.Text != ev.Text || ev.Lang != "" && fb.Lang != ev.Lang {
			t.Fatalf("ParseFeedback(%q) = %+v, event %+v", value, fb, ev)
		}
		if fb.Lang != "en" && fb.Lang != "zh" {
			t.Fatalf("ParseFeedback(%q): lang %q", value, fb.Lang)
		}
		if fb.Label == "" && !fb.HasLabels && fb.Entities == nil {
			t.Fatalf("ParseFeedback(%q) accepted %+v without a correction", value, fb)
		}
		if (fb.Label != "" || fb.HasLabels) && !labelsOK(snap, fb) {
			t.Fatalf("ParseFeedback(%q): task %q label %q labels %q of %s accepted", value, fb.Task, fb.Label, fb.Labels, fb.Lang)
		}
		if !spansOK(fb) || fb.Entities != nil && !entitiesOK(snap, fb) {
			t.Fatalf("ParseFeedback(%q): entities %+v not inside the %d runes of %q or not learnable by the %s tagger", value, fb.Entities, utf8.RuneCountInString(fb.Text), fb.Text, fb.Lang)
		}
		runes := []rune(fb.Text)
		for _, e := range fb.Entities {
			if !utf8.ValidString(e.Type) || string(runes[e.Start:e.End]) == "" {
				t.Fatalf("ParseFeedback(%q): entity %+v", value, e)
			}
		}
	})
}

// labelsOK reports whether fb's label or labels fit its task's model of
// its language: a known label for a single-label task, distinct known
// labels for a multi-label one.
func labelsOK(s *Snapshot, fb Feedback) bool {
	_, lm := s.For(fb.Lang)
	_, tm := lm.Task(fb.Task)
	if tm == nil {
		return false
	}
	if !tm.MultiLabel {
		return !fb.HasLabels && slices.Contains(tm.Classifier.Labels, fb.Label)
	}
	for i, l := range fb.Labels {
		if !slices.Contains(tm.Classifier.Labels, l) || slices.Contains(fb.Labels[:i], l) {
			return false
		}
	}
	return fb.Label == ""
}

func lmHas(lm *LangModels, task string) bool {
	_, tm := lm.Task(task)
	return tm != nil
}

// spansOK reports whether every entity of fb is a typed, non-empty rune
// span inside fb.Text.
func spansOK(fb Feedback) bool {
	n := utf8.RuneCountInString(fb.Text)
	for _, e := range fb.Entities {
		if e.Start < 0 || e.End <= e.Start || e.End > n || e.Type == "" {
			return false
		}
	}
	return true
}

// entitiesOK reports whether fb's entities are inside its text and the
// language's tagger can learn them.
func entitiesOK(s *Snapshot, fb Feedback) bool {
	_, lm := s.For(fb.Lang)
	if !spansOK(fb) || lm.Tagger == nil {
		return false
	}
	ex := model.EntityExample{Text: fb.Text}
	for _, e := range fb.Entities {
		ex.Entities = append(ex.Entities, model.EntitySpan{Start: e.Start, End: e.End, Type: e.Type})
	}
	return lm.Tagger.CheckEntities(ex) == nil
}

// TestParseFeedbackTasks: corrections name their task; an unknown task, a
// task without a model for the language, a multi-label correction for a
// single-label task and the reverse are dead letters whose message names
// the task.
func TestParseFeedbackTasks(t *testing.T) {
	t.Parallel()
	snap := feedbackSnapshot(t)
	tests := []struct {
		value, reason, errPart string
		task                   string
	}{
		{`{"text":"so good","lang":"en","label":"pos"}`, "", "", "sentiment"},
		{`{"text":"so good","lang":"en","task":"emotion","labels":["joy","anger"]}`, "", "", "emotion"},
		{`{"text":"meh","lang":"en","task":"emotion","labels":[]}`, "", "", "emotion"},
		{`{"text":"so good","lang":"en","task":"topic","label":"pos"}`, ReasonBadTask, `task "topic" unknown (tasks: emotion, sentiment)`, ""},
		{`{"text":"太好了","lang":"zh","task":"emotion","labels":["joy"]}`, ReasonBadTask, `task "emotion" has no zh model`, ""},
		{`{"text":"so good","lang":"en","labels":["pos"]}`, ReasonBadLabel, `task "sentiment" is single-label: want "label", not a multi-label correction "labels"`, ""},
		{`{"text":"so good","lang":"en","task":"emotion","label":"joy"}`, ReasonBadLabel, `task "emotion" is multi-label`, ""},
		{`{"text":"so good","lang":"en","task":"emotion","labels":["joy","fear"]}`, ReasonBadLabel, `labels[1] "fear" unknown to the en classifier of task "emotion"`, ""},
		{`{"text":"so good","lang":"en","task":"emotion","labels":["joy","joy"]}`, ReasonBadLabel, `labels[1] "joy" given twice`, ""},
	}
	for _, tc := range tests {
		var ev event.Event
		if err := json.Unmarshal([]byte(tc.value), &ev); err != nil {
			t.Fatal(err)
		}
		r := event.Record{Topic: "fb", Value: []byte(tc.value), Event: ev}
		fb, reason, err := ParseFeedback(r, snap, nil)
		if reason != tc.reason || (tc.errPart == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.errPart) {
			t.Errorf("ParseFeedback(%s): reason %q, error %v; want %q with %q", tc.value, reason, err, tc.reason, tc.errPart)
		}
		if err == nil && fb.Task != tc.task {
			t.Errorf("ParseFeedback(%s): task %q, want %q", tc.value, fb.Task, tc.task)
		}
	}
	// A task with fine-tuning off takes no corrections.
	r := event.Record{Topic: "fb", Value: []byte(`{"text":"x","lang":"en","task":"emotion","labels":["joy"]}`), Event: event.Event{Text: "x", Lang: "en"}}
	if _, reason, err := ParseFeedback(r, snap, func(task string) bool { return task == "emotion" }); reason != ReasonBadTask || err == nil || !strings.Contains(err.Error(), `task "emotion" has fine-tuning off`) {
		t.Errorf("frozen task: reason %q, error %v", reason, err)
	}
}
