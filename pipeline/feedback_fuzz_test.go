package pipeline

import (
	"errors"
	"math/rand/v2"
	"slices"
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
		if langs[lang], err = NewLangModels([]TaskSpec{{Task: "sentiment", Classifier: c, Name: "fuzz-"+lang}}, nil, ""); err != nil {
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
		`[{"text":"x","label":"pos"}]`,
		"{\"text\":\"\xff\",\"label\":\"pos\"}",
	} {
		f.Add([]byte(s))
	}
	snap := feedbackSnapshot(f)
	known := map[string]bool{
		ReasonNoCorrection: true, ReasonBadLabel: true, ReasonBadEntities: true,
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
				if fb.Label == "" || slices.Contains(labels(snap, fb.Lang), fb.Label) {
					t.Fatalf("ParseFeedback(%q): label %q of %s rejected", value, fb.Label, fb.Lang)
				}
			case ReasonBadEntities:
				if entitiesOK(snap, fb) {
					t.Fatalf("ParseFeedback(%q): entities %+v inside %q rejected", value, fb.Entities, fb.Text)
				}
			case ReasonNoCorrection:
				if fb.Label != "" || len(fb.Entities) > 0 {
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
		if fb.Label == "" && fb.Entities == nil {
			t.Fatalf("ParseFeedback(%q) accepted %+v without a correction", value, fb)
		}
		if fb.Label != "" && !slices.Contains(labels(snap, fb.Lang), fb.Label) {
			t.Fatalf("ParseFeedback(%q): label %q unknown to %s accepted", value, fb.Label, fb.Lang)
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

func labels(s *Snapshot, lang string) []string {
	_, lm := s.For(lang)
	return lm.Analyzer.Classifier().Labels()
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
