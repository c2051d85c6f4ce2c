package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
)

// keywordTexts labels filler sentences by their cue word: cues[0] → "pos",
// cues[1] → "neg"; random labels instead when noise is set.
func keywordTexts(rng *rand.Rand, n int, cues [2]string, noise bool) []model.LabeledText {
	fill := strings.Fields("the cat sat on a mat with some red wool and two dogs ran by quickly today")
	out := make([]model.LabeledText, n)
	for i := range out {
		words := make([]string, 3+rng.IntN(8))
		for j := range words {
			words[j] = fill[rng.IntN(len(fill))]
		}
		c, label := cues[0], "pos"
		if rng.IntN(2) == 0 {
			c, label = cues[1], "neg"
		}
		words[rng.IntN(len(words))] = c
		if noise {
			label = []string{"pos", "neg"}[rng.IntN(2)]
		}
		out[i] = model.LabeledText{Text: strings.Join(words, " "), Label: label}
	}
	return out
}

// tinySnapshot trains a small English classifier on the good/bad task and
// returns a Snapshot serving it, with its training data.
func tinySnapshot(t *testing.T) (*Snapshot, []model.LabeledText) {
	t.Helper()
	_, en := defaultSnapshot(t).For("en")
	tok := en.Tasks[0].Classifier.Tokenizer // shares the loaded dictionary
	rng := rand.New(rand.NewPCG(5, 6))
	train := keywordTexts(rng, 1500, [2]string{"good", "bad"}, false)
	cfg := model.TrainConfig{
		Model:    model.ClassifierConfig{Embed: 16, Hidden: 16, Buckets: 2000, MaxTokens: 32},
		Settings: model.Settings{Epochs: 4, Batch: 16, LR: 1e-2, LRDecay: 0.9, Dropout: -1, Patience: 4, Seed: 3, Workers: 2},
	}
	base, _, err := model.TrainClassifier(context.Background(), tok, train, train[:300], cfg, model.TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	lm, err := NewLangModels([]TaskSpec{{Task: "sentiment", Classifier: base, Name: "tiny"}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSnapshot(map[string]*LangModels{"en": lm})
	if err != nil {
		t.Fatal(err)
	}
	return s, train
}

func TestTrainerNeverPromotesRandomLabels(t *testing.T) {
	t.Parallel()
	snap, orig := tinySnapshot(t)
	h := NewModelHolder(snap)
	rng := rand.New(rand.NewPCG(21, 22))
	tr, err := NewTrainer(TrainerConfig{MinExamples: 150, FineTune: model.FineTuneConfig{Steps: 60, Batch: 16, Workers: 2}},
		h, map[string][]model.LabeledText{"en": orig[:500]}, map[string][]model.LabeledText{"en": orig[500:800]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rounds := 0
	for _, ex := range keywordTexts(rng, 1000, [2]string{"sunny", "rainy"}, true) {
		tr.Add("sentiment", "en", ex)
		if tr.Ready("sentiment", "en") {
			r, err := tr.RunRound(context.Background(), "sentiment", "en")
			if err != nil {
				t.Fatal(err)
			}
			rounds++
			if r.Decision.Promote {
				t.Fatalf("round %d promoted a model fine-tuned on random labels: %s", rounds, r.Decision.Reason)
			}
			t.Logf("round %d refused: %s", rounds, r.Decision.Reason)
		}
	}
	if p, rj := tr.Stats(); p != 0 || rj != rounds || rounds < 4 {
		t.Fatalf("%d promotions, %d rejections in %d rounds; want 0 promotions in >= 4 rounds", p, rj, rounds)
	}
	if h.Models() != snap {
		t.Fatal("the models in service changed")
	}
	if rec := tr.Recent(); len(rec) != min(rounds, 20) || rec[0].Promoted || rec[0].Task != "sentiment" || rec[0].Reason == "" {
		t.Errorf("recent decisions %+v, want %d rejections with their reasons", rec, rounds)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := tr.Register(reg); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`
# HELP tagstream_finetune_rounds_total Fine-tuning rounds by language, model kind, task (classifiers) and guard decision.
# TYPE tagstream_finetune_rounds_total counter
tagstream_finetune_rounds_total{decision="rejected",kind="classifier",lang="en",task="sentiment"} %d
`, rounds)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tagstream_finetune_rounds_total"); err != nil {
		t.Fatalf("exported round counter: %v", err)
	}
}

// A real drift is learned, promoted and hot-swapped into a running
// pipeline: results before the swap name the old version, results after it
// the new one, and nothing is lost.
func TestTrainerPromotesIntoRunningPipeline(t *testing.T) {
	t.Parallel()
	snap, orig := tinySnapshot(t)
	src := newFakeSource()
	sink := newFakeSink(t, 0)
	p := newTestPipeline(t, Config{BatchMaxSize: 8, Workers: 2}, src, sink, snap)
	stop := runPipeline(t, p)
	rng := rand.New(rand.NewPCG(31, 32))
	tr, err := NewTrainer(TrainerConfig{MinExamples: 400, FineTune: model.FineTuneConfig{Steps: 120, Batch: 16, Workers: 2}},
		p, map[string][]model.LabeledText{"en": orig[:500]}, map[string][]model.LabeledText{"en": orig[500:800]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, before := snap.For("en")
	event := func(i int, text string) event.Record {
		return event.Record{Topic: "t", Partition: 0, Offset: int64(i), Time: time.Now(), Event: event.Event{ID: fmt.Sprint(i), Text: text, Lang: "en"}}
	}
	for i := 0; i < 50; i++ {
		src.add(event(i, "the cat was good"))
	}
	waitFor(t, 20*time.Second, func() error {
		if n := p.Stats().Published; n != 50 {
			return fmt.Errorf("published %d", n)
		}
		return nil
	})
	var promoted Round
	for _, ex := range keywordTexts(rng, 500, [2]string{"sunny", "rainy"}, false) {
		tr.Add("sentiment", "en", ex)
		if tr.Ready("sentiment", "en") {
			r, err := tr.RunRound(context.Background(), "sentiment", "en")
			if err != nil {
				t.Fatal(err)
			}
			if r.Decision.Promote {
				promoted = r
			}
		}
	}
	if promoted.Version == "" || !strings.Contains(promoted.Version, "tiny.ft1@") {
		t.Fatalf("no promotion (version %q); want tiny.ft1@<hash>", promoted.Version)
	}
	t.Logf("promoted %s: %s", promoted.Version, promoted.Decision.Reason)
	for i := 50; i < 100; i++ {
		src.add(event(i, "the dog was sunny"))
	}
	waitFor(t, 20*time.Second, func() error {
		if n := p.Stats().Published; n != 100 {
			return fmt.Errorf("published %d", n)
		}
		return nil
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, it := range sink.published() {
		r := it.Result
		want := before.Versions["sentiment"]
		if r.Source.Offset >= 50 {
			want = promoted.Version
		}
		if r.ModelVersion.Classifier != want {
			t.Fatalf("result %d: version %q, want %q", r.Source.Offset, r.ModelVersion.Classifier, want)
		}
		if r.Source.Offset >= 50 && r.Label != "pos" {
			t.Errorf("result %d (%q) labelled %q by the fine-tuned model, want pos", r.Source.Offset, "the dog was sunny", r.Label)
		}
	}
}

func TestRunFeedback(t *testing.T) {
	t.Parallel()
	snap, orig := tinySnapshot(t)
	h := NewModelHolder(snap)
	tr, err := NewTrainer(TrainerConfig{MinExamples: 160, FineTune: model.FineTuneConfig{Steps: 80, Batch: 16, Workers: 2}},
		h, map[string][]model.LabeledText{"en": orig[:500]}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(41, 42))
	var recs []event.Record
	for i, ex := range keywordTexts(rng, 400, [2]string{"sunny", "rainy"}, false) {
		v := fmt.Appendf(nil, `{"text":%q,"label":%q,"lang":"en"}`, ex.Text, ex.Label)
		recs = append(recs, event.Record{Topic: "fb", Partition: 0, Offset: int64(i), Value: v, Event: event.Event{ID: fmt.Sprint(i), Text: ex.Text, Lang: "en"}})
	}
	bad := []struct {
		value  string
		reason string
	}{
		{`{"text":"no correction here"}`, ReasonNoCorrection},
		{`{"text":"odd label","label":"maybe"}`, ReasonBadLabel},
		{`{"text":"short","entities":[{"start":2,"end":40,"type":"PER"}]}`, ReasonBadEntities},
		{`{"text":"fine","entities":[{"start":0,"end":4,"type":"PER"}]}`, ReasonBadEntities}, // this snapshot has no tagger
	}
	for i, b := range bad {
		var ev event.Event
		_ = json.Unmarshal([]byte(b.value), &ev)
		ev.Lang = "en"
		recs = append(recs, event.Record{Topic: "fb", Partition: 1, Offset: int64(i), Value: []byte(b.value), Event: ev})
	}
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan FeedbackStats, 1)
	go func() {
		st, err := tr.RunFeedback(ctx, src, sink, time.Hour)
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	waitFor(t, 60*time.Second, func() error {
		if n := len(src.doneCounts()); n != len(recs) {
			return fmt.Errorf("%d of %d feedback records done", n, len(recs))
		}
		if p, r := tr.Stats(); p+r < 1 {
			return fmt.Errorf("%d rounds so far", p+r)
		}
		return nil
	})
	cancel()
	st := <-done
	if st.Accepted != 400 || st.DeadLetters != 4 || st.Entities != 0 {
		t.Errorf("stats %+v, want 400 accepted, 4 dead letters", st)
	}
	reasons := map[string]bool{}
	for _, it := range sink.published() {
		reasons[it.DeadLetter.Reason] = true
	}
	for _, b := range bad[:3] {
		if !reasons[b.reason] {
			t.Errorf("no dead letter with reason %s (got %v)", b.reason, reasons)
		}
	}
	if p, _ := tr.Stats(); p == 0 {
		t.Errorf("no promotion from the first round on a real drift")
	}
}

// TestParseFeedbackEntities: entity corrections are checked against the
// language's tagger, so none that it cannot learn (and that would fail every
// later round it is replayed in) is accepted.
func TestParseFeedbackEntities(t *testing.T) {
	t.Parallel()
	snap := defaultSnapshot(t)
	tests := []struct {
		value, lang, reason, errPart string
	}{
		{`{"text":"Bob met Alice in Paris","entities":[{"start":0,"end":3,"type":"PER"},{"start":17,"end":22,"type":"LOC"}]}`, "en", "", ""},
		{`{"text":"Bob met Alice","entities":[]}`, "en", "", ""}, // "no entity here"
		{`{"text":"马云在杭州","entities":[{"start":0,"end":2,"type":"PER"},{"start":3,"end":5,"type":"LOC"}]}`, "zh", "", ""},
		{`{"text":"Bob met Alice","entities":[{"start":0,"end":3,"type":"FOO"}]}`, "en", ReasonBadEntities, "unknown to the tagger"},
		{`{"text":"Bob met Alice","entities":[{"start":0,"end":3,"type":"PER"},{"start":2,"end":13,"type":"PER"}]}`, "en", ReasonBadEntities, "overlap"},
		{`{"text":"Bob met Alice","entities":[{"start":1,"end":2,"type":"PER"}]}`, "en", ReasonBadEntities, "no whole token"},
		{`{"text":"Bob met Alice","entities":[{"start":0,"end":30,"type":"PER"}]}`, "en", ReasonBadEntities, "outside the text"},
	}
	for _, tc := range tests {
		var ev event.Event
		if err := json.Unmarshal([]byte(tc.value), &ev); err != nil {
			t.Fatal(err)
		}
		ev.Lang = tc.lang
		r := event.Record{Topic: "fb", Value: []byte(tc.value), Event: ev}
		_, reason, err := ParseFeedback(r, snap, nil)
		if reason != tc.reason || (tc.errPart == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.errPart) {
			t.Errorf("ParseFeedback(%s): reason %q, error %v; want %q with %q", tc.value, reason, err, tc.reason, tc.errPart)
		}
	}
}
