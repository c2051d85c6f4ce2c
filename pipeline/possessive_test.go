package pipeline

import (
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
)

// TestPipelineEntityLeavesPossessiveOut runs an English post with a
// possessive through the pipeline with the built-in models: the result's
// entity is the name alone, typed PER, its span ending before the 's.
func TestPipelineEntityLeavesPossessiveOut(t *testing.T) {
	t.Parallel()
	text := "Barack Obama's new podcast episode is really thoughtful"
	recs := []event.Record{{Topic: "t", Time: time.Now(), Event: event.Event{ID: "obama", Text: text}}}
	src := newFakeSource(recs...)
	sink := newFakeSink(t, 0)
	p := newTestPipeline(t, Config{BatchMaxSize: 4, BatchMaxDelay: time.Millisecond, Workers: 1}, src, sink, defaultSnapshot(t))
	stop := runPipeline(t, p)
	waitPublished(t, p, 1, 30*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	r := sink.published()[0].Result
	if r == nil {
		t.Fatal("dead letter, want a result")
	}
	for _, e := range r.Entities {
		if e.Text == "Barack Obama" && e.Type == "PER" && e.Start == 0 && e.End == 12 {
			return
		}
	}
	t.Fatalf("entities %+v, want {Barack Obama PER 0 12} (the possessive outside the span)", r.Entities)
}
