package producer

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
)

// The hand-written result encoder must produce JSON that decodes to the
// same value as encoding/json's encoding of the same resultWire (the
// reference), for any strings, scores and times.
func checkAppendResult(t *testing.T, w resultWire) {
	t.Helper()
	got, err := appendResult(nil, &w)
	want, wantErr := json.Marshal(w)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("appendResult error %v, json.Marshal error %v", err, wantErr)
	}
	if err != nil {
		return
	}
	if !json.Valid(got) {
		t.Fatalf("invalid JSON: %s", got)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("appendResult:\n%s\njson.Marshal:\n%s", got, want)
	}
}

func TestAppendResult(t *testing.T) {
	t.Parallel()
	yes := true
	text := "line\nbreak \"quoted\" \\ tab\t \x01 \u2028 é 中文 😀 <html>&"
	base := resultWire{
		ID: "id-1", Label: "positive", Lang: "en", Text: &text, Meta: json.RawMessage(`{"user":"dana","tags":["a","b"],"n":1.5}`),
		Scores:   map[string]float64{"positive": 0.75, "negative": 0.25, "neutral": 1e-9, "big": 1e22, "zero": 0},
		Entities: []event.Entity{{Text: "Paris", Type: "LOC", Start: 3, End: 8}, {Text: "他", Type: "PER", Start: 0, End: 1, Nominal: &yes}},
		Tasks: map[string]event.TaskResult{
			"sentiment":   {Label: "positive", Scores: map[string]float64{"positive": 0.75, "negative": 0.25}},
			"emotion":     {MultiLabel: true, Labels: []string{"joy", "gratitude"}, Scores: map[string]float64{"joy": 0.9, "gratitude": 0.6, "anger": 0.01}},
			"needs_reply": {MultiLabel: true, Labels: []string{}, Scores: map[string]float64{"yes": 0.2}},
		},
		ModelVersion: event.ModelVersion{Classifier: "sentiment-en@abc", NER: "ner@def", Tasks: map[string]string{"sentiment": "sentiment-en@abc", "emotion": "emotion-en@123"}},
		Source:       event.Source{Topic: "events", Partition: 7, Offset: 1 << 40},
		EventTime:    time.Date(2026, 12, 1, 8, 0, 0, 123456789, time.UTC),
		ProcessedAt:  time.Date(2026, 12, 1, 8, 0, 1, 0, time.FixedZone("x", 3600)),
	}
	tests := []struct {
		name string
		mod  func(*resultWire)
	}{
		{"full", func(*resultWire) {}},
		{"no text, no entities, no meta", func(w *resultWire) { w.Text = nil; w.Entities = []event.Entity{}; w.Meta = nil }},
		{"truncated", func(w *resultWire) { w.Truncated = true }},
		{"invalid utf-8", func(w *resultWire) { s := "bad \xff\xfe bytes"; w.Text = &s; w.ID = "\xc3" }},
		{"empty scores", func(w *resultWire) { w.Scores = map[string]float64{} }},
		{"no tasks", func(w *resultWire) {
			w.Tasks = map[string]event.TaskResult{}
			w.ModelVersion.Tasks = map[string]string{}
		}},
		{"multi-label task with nil labels", func(w *resultWire) {
			w.Tasks = map[string]event.TaskResult{"emotion": {MultiLabel: true, Scores: map[string]float64{"joy": 0.1}}}
		}},
		{"NaN task score", func(w *resultWire) {
			w.Tasks = map[string]event.TaskResult{"emotion": {MultiLabel: true, Scores: map[string]float64{"joy": math.NaN()}}}
		}},
		{"many scores", func(w *resultWire) {
			w.Scores = map[string]float64{}
			for i := 0; i < 40; i++ {
				w.Scores[strings.Repeat("k", i+1)] = float64(i) / 7
			}
		}},
		{"NaN score", func(w *resultWire) { w.Scores = map[string]float64{"x": math.NaN()} }},
		{"year 10000", func(w *resultWire) { w.EventTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := base
			tc.mod(&w)
			checkAppendResult(t, w)
		})
	}
}

func FuzzAppendResult(f *testing.F) {
	f.Add("id", "label", "text \n \"x\"", "Paris", 0.5, int64(1700000000123456789))
	f.Add("\xff", "", "\u2028\x00", "", 1e-300, int64(0))
	f.Fuzz(func(t *testing.T, id, label, text, ent string, score float64, ns int64) {
		w := resultWire{
			ID: id, Label: label, Text: &text, Lang: "zh",
			Scores:   map[string]float64{label: score, "other": 1 - score},
			Entities: []event.Entity{{Text: ent, Type: label, Start: 1, End: 2}},
			Tasks: map[string]event.TaskResult{
				"t":  {Label: label, Scores: map[string]float64{label: score}},
				"ml": {MultiLabel: true, Labels: []string{label, text}, Scores: map[string]float64{text: score}},
			},
			ModelVersion: event.ModelVersion{Tasks: map[string]string{"t": id, "ml": text}},
			Source:       event.Source{Topic: id, Partition: 1, Offset: ns},
			EventTime:    time.Unix(0, ns).UTC(), ProcessedAt: time.Unix(0, ns),
		}
		checkAppendResult(t, w)
	})
}

func BenchmarkEncodeResult(b *testing.B) {
	text := "Angela Merkel met Tim Cook in Paris, loved it!"
	w := resultWire{
		ID: "demo-1234", Label: "positive", Lang: "en", Text: &text,
		Scores:       map[string]float64{"positive": 0.75, "negative": 0.05, "neutral": 0.2},
		Entities:     []event.Entity{{Text: "Angela Merkel", Type: "PER", Start: 0, End: 13}, {Text: "Paris", Type: "LOC", Start: 30, End: 35}},
		ModelVersion: event.ModelVersion{Classifier: "sentiment-en@523c76f0cdf1", NER: "ner-en@48f7309e6daf"},
		Source:       event.Source{Topic: "tagstream.events", Partition: 3, Offset: 123456},
		EventTime:    time.Now(), ProcessedAt: time.Now(),
	}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appendResult(make([]byte, 0, 512), &w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(w); err != nil {
				b.Fatal(err)
			}
		}
	})
}
