package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
)

var (
	defaultsOnce sync.Once
	defaultsSnap *Snapshot
	defaultsErr  error
)

// defaultSnapshot returns the built-in English and Chinese models, loaded
// once for the package.
func defaultSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	defaultsOnce.Do(func() {
		var tc model.TokenizerCache
		defs, err := models.Defaults(&tc)
		if err != nil {
			defaultsErr = err
			return
		}
		langs := map[string]*LangModels{}
		for l, d := range defs {
			lm, err := NewLangModels([]TaskSpec{{Task: "sentiment", Classifier: d.Classifier, Name: d.ClassifierName}}, d.Tagger, d.TaggerName)
			if err != nil {
				defaultsErr = err
				return
			}
			langs[l] = lm
		}
		defaultsSnap, defaultsErr = NewSnapshot(langs)
	})
	if defaultsErr != nil {
		t.Fatalf("default models: %v", defaultsErr)
	}
	return defaultsSnap
}

func newTestPipeline(t *testing.T, cfg Config, src Source, sink Sink, s *Snapshot, opts ...Option) *Pipeline {
	t.Helper()
	p, err := New(cfg, src, sink, s, opts...)
	if err != nil {
		t.Fatalf("new pipeline: %v", err)
	}
	return p
}

// checkAllDone asserts every record was marked done exactly once.
func checkAllDone(t *testing.T, src *fakeSource, recs []event.Record) {
	t.Helper()
	done := src.doneCounts()
	for _, r := range recs {
		key := fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset)
		if done[key] != 1 {
			t.Errorf("record %s marked done %d times, want 1", key, done[key])
		}
	}
	if len(done) != len(recs) {
		t.Errorf("%d records marked done, want %d", len(done), len(recs))
	}
}

func TestPipelineLabelsEveryRecordWithDefaultModels(t *testing.T) {
	t.Parallel()
	recs := records(200)
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	snap := defaultSnapshot(t)
	reg := prometheus.NewPedanticRegistry()
	p := newTestPipeline(t, Config{BatchMaxSize: 16, BatchMaxDelay: time.Millisecond, Workers: 2, IncludeText: true}, src, sink, snap, WithRegisterer(reg))
	stop := runPipeline(t, p)
	waitPublished(t, p, len(recs), 30*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	checkAllDone(t, src, recs)
	_, en := snap.For("en")
	_, zh := snap.For("zh")
	wantLabels := map[[2]string]int{}   // lang, label
	wantEntities := map[[2]string]int{} // lang, type
	for _, it := range sink.published() {
		r := it.Result
		if r == nil {
			t.Fatalf("unexpected dead letter %+v", it.DeadLetter)
		}
		wantLabels[[2]string{r.Lang, r.Label}]++
		for _, e := range r.Entities {
			wantEntities[[2]string{r.Lang, e.Type}]++
		}
		want := en
		if strings.HasPrefix(r.Text, "第") {
			want = zh
			if r.Lang != "zh" {
				t.Errorf("%s: lang %q, want zh (script detection)", r.ID, r.Lang)
			}
		}
		if r.ModelVersion.Classifier != want.Versions["sentiment"] || r.ModelVersion.NER != want.NERVersion {
			t.Errorf("%s: model version %+v, want %s/%s", r.ID, r.ModelVersion, want.Versions["sentiment"], want.NERVersion)
		}
		if !strings.Contains(r.ModelVersion.Classifier, "@") {
			t.Errorf("%s: classifier version %q has no checksum", r.ID, r.ModelVersion.Classifier)
		}
		labels := want.Analyzer.Classifier().Labels()
		if len(r.Scores) != len(labels) {
			t.Errorf("%s: %d scores, want %d", r.ID, len(r.Scores), len(labels))
		}
		var sum float64
		best := ""
		for _, l := range labels {
			sum += r.Scores[l]
			if best == "" || r.Scores[l] > r.Scores[best] {
				best = l
			}
		}
		if sum < 0.999 || sum > 1.001 || r.Label != best {
			t.Errorf("%s: label %q scores %v (sum %v), want the argmax", r.ID, r.Label, r.Scores, sum)
		}
		if r.Entities == nil {
			t.Errorf("%s: nil entities, want a (possibly empty) list from the tagger", r.ID)
		}
	}
	if got := testutil.ToFloat64(p.m.consumed); got != float64(len(recs)) {
		t.Errorf("tagstream_events_consumed_total = %v, want %d", got, len(recs))
	}
	for k, n := range wantLabels {
		if got := testutil.ToFloat64(p.m.published.WithLabelValues(k[0], k[1])); got != float64(n) {
			t.Errorf("tagstream_results_published_total{lang=%q,label=%q} = %v, want %d", k[0], k[1], got, n)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "tagstream_results_published_total"); err != nil || n != len(wantLabels) {
		t.Errorf("tagstream_results_published_total series = %d (%v), want %d", n, err, len(wantLabels))
	}
	if len(wantEntities) == 0 {
		t.Error("no entity in any result: tagstream_entities_total is not exercised")
	}
	for k, n := range wantEntities {
		if got := testutil.ToFloat64(p.m.entities.WithLabelValues(k[0], k[1])); got != float64(n) {
			t.Errorf("tagstream_entities_total{lang=%q,type=%q} = %v, want %d", k[0], k[1], got, n)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "tagstream_entities_total"); err != nil || n != len(wantEntities) {
		t.Errorf("tagstream_entities_total series = %d (%v), want %d", n, err, len(wantEntities))
	}
	if n, err := testutil.GatherAndCount(reg, "tagstream_model_info"); err != nil || n != 4 {
		t.Errorf("tagstream_model_info series = %d (%v), want 4", n, err)
	}
}

func TestPipelineDeadLettersBadRecords(t *testing.T) {
	t.Parallel()
	recs := records(30)
	for i := 0; i < len(recs); i += 5 {
		r := &recs[i]
		r.Value = []byte("{not json")
		r.Err = &event.DecodeError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Reason: event.ReasonInvalidJSON, Msg: "bad"}
		r.Event = event.Event{}
	}
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	p := newTestPipeline(t, Config{BatchMaxSize: 8, Workers: 2}, src, sink, IdentitySnapshot())
	stop := runPipeline(t, p)
	waitFor(t, 10*time.Second, func() error {
		if s := p.Stats(); s.Published+s.DeadLetters != int64(len(recs)) {
			return fmt.Errorf("stats %+v, want %d records out", s, len(recs))
		}
		return nil
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkAllDone(t, src, recs)
	dead := 0
	for _, it := range sink.published() {
		if d := it.DeadLetter; d != nil {
			dead++
			if d.Reason != string(event.ReasonInvalidJSON) || string(d.Raw) != "{not json" || d.Source.Offset%1 != 0 {
				t.Errorf("dead letter %+v", d)
			}
		} else if it.Result.Label != IdentityLabel {
			t.Errorf("identity label %q", it.Result.Label)
		}
	}
	if dead != 6 || p.Stats().DeadLetters != 6 {
		t.Errorf("%d dead letters (stats %d), want 6", dead, p.Stats().DeadLetters)
	}
}

func TestPipelineBatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		n, max    int
		delay     time.Duration
		wantBatch func([]int) error
	}{
		{"max size caps batches", 100, 7, 50 * time.Millisecond, func(b []int) error {
			for _, n := range b {
				if n > 7 {
					return fmt.Errorf("batch of %d > 7", n)
				}
			}
			return nil
		}},
		// Three records and a huge max size: only the delay can flush them,
		// so they go out together.
		{"delay flushes a partial batch", 3, 1000, 20 * time.Millisecond, func(b []int) error {
			if len(b) != 1 || b[0] != 3 {
				return fmt.Errorf("batches %v, want [3]", b)
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := records(tc.n)
			src := newFakeSource(recs...)
			sink := newFakeSink(t, 0)
			p := newTestPipeline(t, Config{BatchMaxSize: tc.max, BatchMaxDelay: tc.delay, Workers: 1}, src, sink, IdentitySnapshot())
			stop := runPipeline(t, p)
			waitFor(t, 10*time.Second, func() error {
				if s := p.Stats(); s.Published != int64(tc.n) {
					return fmt.Errorf("published %d of %d", s.Published, tc.n)
				}
				return nil
			})
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if err := tc.wantBatch(sink.batchSizes()); err != nil {
				t.Error(err)
			}
			checkAllDone(t, src, recs)
		})
	}
}

func TestPipelineRetriesFailedPublishes(t *testing.T) {
	t.Parallel()
	recs := records(50)
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 2) // every item fails twice, then succeeds
	p := newTestPipeline(t, Config{BatchMaxSize: 10, Workers: 2, RetryBackoff: time.Millisecond}, src, sink, IdentitySnapshot())
	stop := runPipeline(t, p)
	waitPublished(t, p, len(recs), 20*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkAllDone(t, src, recs)
	if got := p.Stats().PublishErrors; got != 2*int64(len(recs)) {
		t.Errorf("publish errors %d, want %d", got, 2*len(recs))
	}
	if got := len(sink.published()); got != len(recs) {
		t.Errorf("%d items stored, want %d", got, len(recs))
	}
}

func TestPipelineBackpressureStopsFetching(t *testing.T) {
	t.Parallel()
	recs := records(5000)
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	sink.setHold(true) // accepted, never acknowledged: the sink is stuck
	// The fake sink never blocks PublishBatch, so the bound comes from the
	// pipeline's own in-flight limit.
	cfg := Config{BatchMaxSize: 10, Workers: 1, QueueSize: 100, MaxInFlight: 300}
	p := newTestPipeline(t, cfg, src, sink, IdentitySnapshot())
	stop := runPipeline(t, p)
	waitFor(t, 10*time.Second, func() error {
		if n := src.fetched(); n < 300 {
			return fmt.Errorf("fetched %d, want the pipeline full (300)", n)
		}
		return nil
	})
	// Stays bounded: give the fetch loop time to misbehave, then check.
	before := src.fetched()
	waitFor(t, time.Second, func() error {
		if len(sink.published()) < 290 {
			return fmt.Errorf("published %d", len(sink.published()))
		}
		return nil
	})
	if n := src.fetched(); n != before || n != cfg.MaxInFlight {
		t.Fatalf("fetched %d then %d records while the sink acknowledged none, want exactly MaxInFlight = %d", before, n, cfg.MaxInFlight)
	}
	if len(src.doneCounts()) != 0 {
		t.Fatalf("records marked done without an ack")
	}
	sink.setHold(false) // the server recovers
	waitPublished(t, p, len(recs), 20*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkAllDone(t, src, recs)
}

func TestPipelineShutdownDrainsInFlight(t *testing.T) {
	t.Parallel()
	recs := records(300)
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	sink.setHold(true)
	p := newTestPipeline(t, Config{BatchMaxSize: 1000, BatchMaxDelay: 10 * time.Second, Workers: 2, ShutdownTimeout: 20 * time.Second}, src, sink, IdentitySnapshot())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	// A partial batch waits for a 10 s delay; shutdown must flush it at once.
	waitFor(t, 10*time.Second, func() error {
		if src.fetched() != len(recs) {
			return fmt.Errorf("fetched %d", src.fetched())
		}
		return nil
	})
	cancel()
	waitFor(t, 10*time.Second, func() error {
		if n := len(sink.published()); n != len(recs) {
			return fmt.Errorf("flushed %d of %d", n, len(recs))
		}
		return nil
	})
	select {
	case err := <-errc:
		t.Fatalf("Run returned %v before the acks arrived", err)
	default:
	}
	sink.setHold(false)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the acks")
	}
	checkAllDone(t, src, recs)
}

func TestPipelineShutdownDeadline(t *testing.T) {
	t.Parallel()
	recs := records(20)
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	sink.setHold(true) // never acknowledged
	p := newTestPipeline(t, Config{Workers: 1, ShutdownTimeout: 50 * time.Millisecond}, src, sink, IdentitySnapshot())
	stop := runPipeline(t, p)
	waitFor(t, 10*time.Second, func() error {
		if n := len(sink.published()); n != len(recs) {
			return fmt.Errorf("published %d", n)
		}
		return nil
	})
	err := stop()
	if err == nil || !strings.Contains(err.Error(), "20 records unacknowledged") {
		t.Fatalf("Run = %v, want the shutdown deadline error naming 20 records", err)
	}
	if n := len(src.doneCounts()); n != 0 {
		t.Fatalf("%d records marked done without an ack", n)
	}
}

func TestPipelineHotSwapLosesNothing(t *testing.T) {
	t.Parallel()
	src := newFakeSource()
	sink := newFakeSink(t, 0)
	v1 := &LangModels{NERVersion: "v1"}
	v2 := &LangModels{NERVersion: "v2"}
	s1, _ := NewSnapshot(map[string]*LangModels{"en": v1})
	s2, _ := NewSnapshot(map[string]*LangModels{"en": v2})
	p := newTestPipeline(t, Config{BatchMaxSize: 4, Workers: 2}, src, sink, s1)
	stop := runPipeline(t, p)
	all := records(400)
	src.add(all[:100]...)
	waitFor(t, 10*time.Second, func() error {
		if s := p.Stats(); s.Published != 100 {
			return fmt.Errorf("published %d", s.Published)
		}
		return nil
	})
	// Swap, then stream the rest while a goroutine keeps swapping between
	// two equal-version snapshots (s2, s2b): every later batch must use v2.
	p.SetModels(s2)
	s2b, _ := NewSnapshot(map[string]*LangModels{"en": v2})
	stopSwaps := make(chan struct{})
	swapped := make(chan struct{})
	go func() {
		defer close(swapped)
		for i := 0; ; i++ {
			select {
			case <-stopSwaps:
				return
			default:
			}
			if i%2 == 0 {
				p.SetModels(s2b)
			} else {
				p.SetModels(s2)
			}
		}
	}()
	for i := 1; i < 4; i++ {
		src.add(all[i*100 : (i+1)*100]...)
	}
	waitFor(t, 10*time.Second, func() error {
		if s := p.Stats(); s.Published != int64(len(all)) {
			return fmt.Errorf("published %d", s.Published)
		}
		return nil
	})
	close(stopSwaps)
	<-swapped
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkAllDone(t, src, all)
	seen := map[string]int{}
	for _, it := range sink.published() {
		seen[it.Result.ModelVersion.NER]++
	}
	if seen["v1"] != 100 || seen["v2"] != 300 {
		t.Fatalf("versions %v, want v1 for the 100 records before the swap and v2 for the 300 after", seen)
	}
	if m := p.Models(); m != s2 && m != s2b {
		t.Fatal("Models() is not a swapped-in snapshot")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Config{}, ""},
		{"batch too big", Config{BatchMaxSize: 5000}, "BatchMaxSize = 5000, want 1..4096"},
		{"negative delay", Config{BatchMaxDelay: -1}, "BatchMaxDelay = -1"},
		{"workers", Config{Workers: 300}, "Workers = 300, want 1..256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := New(Config{}, nil, nil, IdentitySnapshot()); err == nil {
		t.Fatal("New with nil source and sink succeeded")
	}
	if _, err := NewSnapshot(nil); !errors.Is(err, ErrNoModels) {
		t.Fatalf("NewSnapshot(nil) = %v", err)
	}
}
