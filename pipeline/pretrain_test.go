package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tagstream/tagstream/event"
	tu "github.com/tagstream/tagstream/internal/testutil"
	"github.com/tagstream/tagstream/model"
)

// pretrainFixture is a small words-view language model pretrained for one
// epoch on generated sentences, a classifier trained with --init from it
// and one trained from scratch (another vocabulary), and more of the same
// sentences for the stream.
type pretrainFixture struct {
	lm            *model.LanguageModel
	fromLM, other *model.Classifier
	labelled      []model.LabeledText
	stream        []string
}

func newPretrainFixture(t *testing.T) pretrainFixture {
	t.Helper()
	f := pretrainLM(t)
	_, en := defaultSnapshot(t).For("en")
	tok := en.Tasks[0].Classifier.Tokenizer
	var err error
	ccfg := model.TrainConfig{
		Model:    model.ClassifierConfig{MaxTokens: 32},
		Settings: model.Settings{Epochs: 2, Batch: 16, LR: 1e-2, LRDecay: 0.9, Dropout: -1, Patience: 2, Seed: 3, Workers: 1},
		Init:     model.Pretrained{LM: f.lm, LayerLR: 1},
	}
	if f.fromLM, _, err = model.TrainClassifier(context.Background(), tok, f.labelled, f.labelled[:100], ccfg, model.TrainHooks{}); err != nil {
		t.Fatal(err)
	}
	ccfg.Init = model.Pretrained{}
	ccfg.Model = model.ClassifierConfig{Embed: 8, Hidden: 8, Buckets: 50, MaxTokens: 32}
	ccfg.MinCount = 3 // another vocabulary than the LM's
	if f.other, _, err = model.TrainClassifier(context.Background(), tok, f.labelled, f.labelled[:100], ccfg, model.TrainHooks{}); err != nil {
		t.Fatal(err)
	}
	return f
}

// pretrainLM returns the fixture's language model, labelled texts and
// stream, without the classifiers.
func pretrainLM(t *testing.T) pretrainFixture {
	t.Helper()
	_, en := defaultSnapshot(t).For("en")
	tok := en.Tasks[0].Classifier.Tokenizer // shares the loaded dictionary
	rng := rand.New(rand.NewPCG(41, 42))
	var f pretrainFixture
	f.labelled = keywordTexts(rng, 400, [2]string{"good", "bad"}, false)
	var pre []string
	for _, ex := range keywordTexts(rng, 150, [2]string{"good", "bad"}, false) {
		pre = append(pre, ex.Text)
	}
	for _, ex := range keywordTexts(rng, 600, [2]string{"good", "bad"}, false) {
		f.stream = append(f.stream, ex.Text)
	}
	lcfg := model.DefaultLMTrainConfig()
	lcfg.Model = model.LMConfig{Embed: 8, Hidden: 8, Buckets: 50, MaxTokens: 32}
	lcfg.Epochs, lcfg.Samples, lcfg.Workers, lcfg.MinCount, lcfg.Batch = 1, 8, 1, 1, 16
	var err error
	if f.lm, _, err = model.TrainLM(context.Background(), tok, pre, pre[:20], lcfg, model.LMHooks{}); err != nil {
		t.Fatal(err)
	}
	return f
}

func holderFor(t *testing.T, c *model.Classifier, name string) *ModelHolder {
	t.Helper()
	lm, err := NewLangModels([]TaskSpec{{Task: "sentiment", Classifier: c, Name: name}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSnapshot(map[string]*LangModels{"en": lm})
	if err != nil {
		t.Fatal(err)
	}
	return NewModelHolder(s)
}

// TestPretrainerRefreshesAndHandsOver runs the pipeline with the
// Pretrainer's fetch hook on generated text, lets Run refresh the language
// model, and checks that the next fine-tuning round of a classifier
// trained from that model starts from the refreshed encoder, while a
// classifier trained from scratch keeps its own (logged once, counted).
func TestPretrainerRefreshesAndHandsOver(t *testing.T) {
	f := newPretrainFixture(t)
	var logs tu.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var (
		savedMu sync.Mutex
		saved   []*model.LanguageModel // what OnKept was given, in order
	)
	lastSaved := func() (*model.LanguageModel, int) {
		savedMu.Lock()
		defer savedMu.Unlock()
		if len(saved) == 0 {
			return nil, 0
		}
		return saved[len(saved)-1], len(saved)
	}
	pt, err := NewPretrainer(PretrainConfig{
		Sample: 1, Buffer: 1000, Interval: 10 * time.Millisecond, MinTexts: 300, Duty: 0.5,
		Train: model.LMTrainConfig{Samples: 8, Settings: model.Settings{Batch: 16, LR: 5e-3}},
		OnKept: func(lang string, lm *model.LanguageModel) error {
			if lang != "en" {
				t.Errorf("OnKept for %q", lang)
			}
			savedMu.Lock()
			defer savedMu.Unlock()
			saved = append(saved, lm)
			return nil
		},
	}, map[string]*model.LanguageModel{"en": f.lm}, log)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := pt.Register(reg); err != nil {
		t.Fatal(err)
	}

	// The stream: the pipeline hands every fetched batch to Offer.
	recs := make([]event.Record, len(f.stream))
	for i, s := range f.stream {
		recs[i] = event.Record{Topic: "t", Partition: i % 2, Offset: int64(i / 2), Time: time.Now(), Event: event.Event{ID: fmt.Sprint(i), Text: s}}
	}
	holder := holderFor(t, f.fromLM, "from-lm")
	p, err := New(Config{BatchMaxSize: 32, Workers: 1}, newFakeSource(recs...), newFakeSink(t, 0), holder.Models(), WithFetchHook(pt.Offer))
	if err != nil {
		t.Fatal(err)
	}
	stop := runPipeline(t, p)
	waitPublished(t, p, len(recs), 20*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if kept, fresh := pt.Sampled("en"); kept != len(recs) || fresh != len(recs) {
		t.Fatalf("sampled %d (fresh %d), want all %d", kept, fresh, len(recs))
	}

	// Run refreshes the LM once MinTexts are in; its owner stops it.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pt.Run(ctx) }()
	waitFor(t, 15*time.Second, func() error {
		if n := testutil.ToFloat64(pt.m.rounds.WithLabelValues("en", "kept")); n < 1 {
			return fmt.Errorf("kept rounds %v; logs:\n%s", n, logs.String())
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	refreshed := pt.Encoder("en")
	if refreshed == f.lm || refreshed.Info["epochs"] != "2" {
		t.Fatalf("language model in service: same %v, epochs %q", refreshed == f.lm, refreshed.Info["epochs"])
	}
	// Every kept model went to OnKept (to be saved), the one in service last.
	nKept := int(testutil.ToFloat64(pt.m.rounds.WithLabelValues("en", "kept")))
	if last, n := lastSaved(); last != refreshed || n != nKept {
		t.Fatalf("OnKept got %d models (last is the one in service: %v), want one per kept round (%d)", n, last == refreshed, nKept)
	}
	before := testutil.ToFloat64(pt.m.perplexity.WithLabelValues("en", "before"))
	after := testutil.ToFloat64(pt.m.perplexity.WithLabelValues("en", "after"))
	if !(after <= before) || after <= 1 {
		t.Fatalf("held-out perplexity before %v, after %v", before, after)
	}
	if n := testutil.ToFloat64(pt.m.sampled.WithLabelValues("en")); n != float64(len(recs)) {
		t.Fatalf("texts sampled metric %v", n)
	}
	if !strings.Contains(logs.String(), "pretraining round kept") {
		t.Fatalf("no round logged:\n%s", logs.String())
	}

	// The next fine-tuning round starts from the refreshed encoder, once.
	fineTune := func(h *ModelHolder) Round {
		t.Helper()
		tr, err := NewTrainer(TrainerConfig{MinExamples: 1, FineTune: model.FineTuneConfig{Steps: 5, Batch: 8}}, h, nil, nil, log)
		if err != nil {
			t.Fatal(err)
		}
		tr.UseEncoders(pt)
		for _, ex := range f.labelled[:40] {
			tr.Add("sentiment", "en", ex)
		}
		r, err := tr.RunRound(context.Background(), "sentiment", "en")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := fineTune(holder); !r.Encoder {
		t.Fatal("the round after a refresh did not start from the refreshed encoder")
	}
	if r := fineTune(holder); r.Encoder {
		t.Fatal("a refreshed encoder was handed over twice")
	}
	if n := testutil.ToFloat64(pt.m.handoffs.WithLabelValues("en", "used")); n != 1 {
		t.Fatalf("handoffs used %v, want 1", n)
	}

	// A classifier with another vocabulary keeps its encoder: logged once,
	// counted every time.
	other := holderFor(t, f.other, "scratch")
	for i := 0; i < 2; i++ {
		pt.mu.Lock()
		pt.langs["en"].pending = refreshed
		pt.mu.Unlock()
		if r := fineTune(other); r.Encoder {
			t.Fatal("an incompatible classifier took the encoder")
		}
	}
	if n := testutil.ToFloat64(pt.m.handoffs.WithLabelValues("en", "incompatible")); n != 2 {
		t.Fatalf("handoffs incompatible %v, want 2", n)
	}
	if n := strings.Count(logs.String(), "does not fit the classifier"); n != 1 {
		t.Fatalf("mismatch logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "vocabulary") {
		t.Fatalf("the mismatch log does not say why:\n%s", logs.String())
	}
	// A round reports its duty cycle: at Duty 0.5 it sleeps as well as
	// computes. (The exact ratio is TestPacer's, on a fake clock; here
	// wall-clock sleeps overshoot on a loaded machine.)
	r, err := pt.RunRound(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	if r.Busy <= 0 || r.Paused < r.Busy/2 || r.Train+r.Heldout != len(recs) || r.Heldout != 60 {
		t.Fatalf("round %+v", r)
	}
	if last, n := lastSaved(); r.Kept != (n == nKept+1) || (r.Kept && last != pt.Encoder("en")) {
		t.Fatalf("round kept %v: OnKept called %d times in all, before it %d", r.Kept, n, nKept)
	}
	if n := testutil.ToFloat64(pt.m.seconds.WithLabelValues("en", "paused")); n <= 0 {
		t.Fatalf("paused seconds metric %v", n)
	}
	t.Logf("logs:\n%s", logs.String())
}

// TestPretrainerStopsPromptly cancels Run in the middle of a round paced
// to 1% of a core: it returns at once, and the model in service stays.
func TestPretrainerStopsPromptly(t *testing.T) {
	t.Parallel()
	f := pretrainLM(t)
	pt, err := NewPretrainer(PretrainConfig{
		Sample: 1, Buffer: 1000, Interval: time.Millisecond, MinTexts: 10, Duty: 0.01,
		Train: model.LMTrainConfig{Samples: 8, Settings: model.Settings{Batch: 8}},
	}, map[string]*model.LanguageModel{"en": f.lm}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.stream {
		pt.OfferText("", s)
	}
	inRound := make(chan struct{})
	var once sync.Once
	pt.sleep = func(ctx context.Context, d time.Duration) {
		once.Do(func() { close(inRound) })
		sleepCtx(ctx, d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pt.Run(ctx) }()
	select {
	case <-inRound:
	case <-time.After(15 * time.Second):
		cancel()
		<-done
		t.Fatal("no round started")
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	t.Logf("Run returned %v after cancel", time.Since(start))
	if pt.Encoder("en") != f.lm {
		t.Fatal("a cancelled round replaced the language model")
	}
}

// TestPacer checks the duty cycle: after busy time b the pacer sleeps
// b·(1−duty)/duty (e.g. 30 ms after 10 ms at 25%), never at duty 1.
func TestPacer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		duty      float64
		busy      time.Duration
		wantSleep time.Duration
	}{
		{"quarter", 0.25, 10 * time.Millisecond, 30 * time.Millisecond},
		{"half", 0.5, 7 * time.Millisecond, 7 * time.Millisecond},
		{"tenth", 0.1, time.Millisecond, 9 * time.Millisecond},
		{"full", 1, 10 * time.Millisecond, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Unix(0, 0)
			var slept time.Duration
			pc := newPacer(tc.duty, func(_ context.Context, d time.Duration) { slept += d; now = now.Add(d) })
			pc.now, pc.last = func() time.Time { return now }, now
			for i := 0; i < 3; i++ {
				now = now.Add(tc.busy)
				pc.pace(context.Background())
			}
			if slept != 3*tc.wantSleep || pc.busy != 3*tc.busy || pc.paused != slept {
				t.Fatalf("slept %v, busy %v, paused %v; want slept %v", slept, pc.busy, pc.paused, 3*tc.wantSleep)
			}
		})
	}
}

// TestPretrainerSampling keeps a Sample fraction of the offered texts in a
// reservoir of Buffer per language, drops texts of languages without a
// model, and cuts long texts at a rune boundary.
func TestPretrainerSampling(t *testing.T) {
	t.Parallel()
	f := pretrainLM(t)
	pt, err := NewPretrainer(PretrainConfig{Sample: 0.5, Buffer: 100}, map[string]*model.LanguageModel{"en": f.lm}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		pt.OfferText("en", fmt.Sprintf("text %d", i))
	}
	pt.OfferText("", "北京的烤鸭太好吃了") // zh: no model
	kept, fresh := pt.Sampled("en")
	if kept != 100 || fresh < 900 || fresh > 1100 {
		t.Fatalf("kept %d, sampled %d of 2000 at 0.5", kept, fresh)
	}
	if k, _ := pt.Sampled("zh"); k != 0 {
		t.Fatalf("zh texts kept without a zh model: %d", k)
	}
	if got := cutText(strings.Repeat("é", 2000), 2049); len(got) != 2048 {
		t.Fatalf("cut to %d bytes", len(got))
	}
	// Validation names the field.
	for _, c := range []PretrainConfig{{Sample: 2}, {Buffer: 5}, {Duty: 1.5}, {Holdout: 0.9}} {
		if _, err := NewPretrainer(c, map[string]*model.LanguageModel{"en": f.lm}, nil); err == nil {
			t.Fatalf("%+v accepted", c)
		}
	}
	if _, err := NewPretrainer(PretrainConfig{}, nil, nil); err == nil {
		t.Fatal("no language model accepted")
	}
}
