package producer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TestServerRestart stops and restarts the in-process server (same port,
// same store) mid-stream: the Publisher reconnects, items published while
// it was down are acknowledged one way or the other, and publishing
// resumes.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, func(*server.Options) {})
	cfg := tn.config(ModeJetStream)
	cfg.AckTimeout = 2 * time.Second
	p := newPublisher(t, cfg)
	log := collectAcks(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := p.PublishBatch(ctx, items("events", 0, 5, "x")); err != nil {
		t.Fatal(err)
	}
	if err := ackErrs(log.wait(t, 5, 10*time.Second)); err != nil {
		t.Fatal(err)
	}

	tn.stop()
	waitFor(t, 10*time.Second, func() error {
		if p.Connected() {
			return errors.New("still connected")
		}
		return nil
	})
	// Published while down: buffered by the client, acked after the
	// reconnect or failed, never lost.
	if n, err := p.PublishBatch(ctx, items("events", 5, 5, "x")); n != 5 || err != nil {
		t.Fatalf("PublishBatch while down = %d, %v", n, err)
	}

	tn.start(t)
	waitFor(t, 15*time.Second, func() error {
		if !p.Connected() {
			return errors.New("not reconnected")
		}
		return nil
	})
	next := int64(10)
	resumed := false
	for attempt := 0; attempt < 20 && !resumed; attempt++ {
		if _, err := p.PublishBatch(ctx, items("events", next, 1, "x")); err != nil {
			t.Fatal(err)
		}
		next++
		for _, a := range log.wait(t, int(next), 10*time.Second) {
			resumed = resumed || a.Token == next-1 && a.Err == nil
		}
	}
	if !resumed {
		t.Fatalf("no successful publish after the restart: %v", ackErrs(log.snapshot()))
	}

	acks := log.wait(t, int(next), 10*time.Second)
	seen := map[any]int{}
	ok := 0
	for _, a := range acks {
		seen[a.Token]++
		if a.Err == nil {
			ok++
		} else {
			t.Logf("ack %v: %v", a.Token, a.Err)
		}
	}
	for off := range next {
		if seen[off] != 1 {
			t.Errorf("item %d: %d acks, want exactly 1", off, seen[off])
		}
	}
	if n := tn.msgCount(t, tn.streamHandle(t)); n < uint64(ok) || n > uint64(next) {
		t.Errorf("stream holds %d messages; %d items acked ok of %d", n, ok, next)
	}
	if len(acks) != int(next) {
		t.Errorf("%d acks for %d items", len(acks), next)
	}
}
