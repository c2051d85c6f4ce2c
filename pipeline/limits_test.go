package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestPipelineInFlightBytesBound: with a stuck sink, fetching stops once
// the in-flight record values reach MaxInFlightBytes (overshooting by at
// most one fetch), long before the record bound; when the sink recovers
// everything drains and the byte count returns to 0.
func TestPipelineInFlightBytesBound(t *testing.T) {
	t.Parallel()
	recs := records(2000)
	for i := range recs {
		recs[i].Value = make([]byte, 1000)
	}
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	sink.setHold(true)
	cfg := Config{BatchMaxSize: 10, Workers: 1, QueueSize: 1000, MaxInFlight: 2000, MaxInFlightBytes: 50_000}
	reg := prometheus.NewPedanticRegistry()
	p := newTestPipeline(t, cfg, src, sink, IdentitySnapshot(), WithRegisterer(reg))
	stop := runPipeline(t, p)
	waitFor(t, 10*time.Second, func() error {
		if n := src.fetched(); n < 50 {
			return fmt.Errorf("fetched %d, want at least 50 (50,000 bytes)", n)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // room to misbehave
	if n, s := src.fetched(), p.Stats(); n > 50+cfg.BatchMaxSize || s.InFlightBytes != int64(n)*1000 {
		t.Fatalf("fetched %d records (%d bytes in flight) with a stuck sink, want at most %d (MaxInFlightBytes %d + one fetch)", n, s.InFlightBytes, 50+cfg.BatchMaxSize, cfg.MaxInFlightBytes)
	}
	// The pause is counted while it lasts, not only once it ends.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var paused float64
	for _, mf := range mfs {
		if mf.GetName() == "tagstream_backpressure_seconds_total" {
			paused = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if paused < 0.25 {
		t.Fatalf("tagstream_backpressure_seconds_total = %v during a stall of at least 0.3 s", paused)
	}
	sink.setHold(false)
	waitFor(t, 20*time.Second, func() error {
		if s := p.Stats(); s.Published != int64(len(recs)) || s.InFlightBytes != 0 {
			return fmt.Errorf("published %d of %d, %d bytes in flight", s.Published, len(recs), s.InFlightBytes)
		}
		return nil
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkAllDone(t, src, recs)
}

// TestPipelineBatchMaxBytes: a batch closes once its record values reach
// BatchMaxBytes; a single larger record still makes a batch.
func TestPipelineBatchMaxBytes(t *testing.T) {
	t.Parallel()
	recs := records(200)
	for i := range recs {
		recs[i].Value = make([]byte, 1000)
	}
	recs[7].Value = make([]byte, 10_000)
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	cfg := Config{BatchMaxSize: 64, BatchMaxDelay: 50 * time.Millisecond, Workers: 1, BatchMaxBytes: 3000}
	p := newTestPipeline(t, cfg, src, sink, IdentitySnapshot())
	stop := runPipeline(t, p)
	waitPublished(t, p, len(recs), 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, n := range sink.batchSizes() {
		if n > 3 {
			t.Fatalf("batch sizes %v: want at most 3 records of 1000 bytes per batch", sink.batchSizes())
		}
	}
}

// TestPipelineTruncatedResults: with MaxTokens the results of longer texts
// say truncated, and the label is that of the text's head.
func TestPipelineTruncatedResults(t *testing.T) {
	t.Parallel()
	snap := defaultSnapshot(t)
	head := "I love this phone, the camera is great"
	texts := []string{head, head + strings.Repeat(" but the battery is awful and I hate it", 30), "短评", "北京的烤鸭太好吃了" + strings.Repeat("，但是服务太差了", 30)}
	recs := records(len(texts))
	for i := range recs {
		recs[i].Event.Text = texts[i]
	}
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	p := newTestPipeline(t, Config{Workers: 1, MaxTokens: 10, IncludeText: true}, src, sink, snap)
	stop := runPipeline(t, p)
	waitPublished(t, p, len(recs), 20*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	byText := map[string]bool{}
	labels := map[string]string{}
	for _, it := range sink.published() {
		byText[it.Result.Text] = it.Result.Truncated
		labels[it.Result.Text] = it.Result.Label
	}
	for i, want := range []bool{false, true, false, true} {
		if got, ok := byText[texts[i]]; !ok || got != want {
			t.Errorf("text %d (%d runes): truncated %v, want %v", i, len([]rune(texts[i])), got, want)
		}
	}
	if labels[texts[1]] != labels[head] {
		t.Errorf("cut text labelled %q, its head %q", labels[texts[1]], labels[head])
	}
}
