package producer

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCloseIdempotent(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	p := newPublisher(t, tn.config(ModeJetStream))
	log := collectAcks(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.PublishBatch(ctx, items("events", 0, 3, "x")); err != nil {
		t.Fatal(err)
	}
	log.wait(t, 3, 10*time.Second)
	if !p.Connected() {
		t.Error("Connected() = false before Close")
	}

	start := time.Now()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	<-log.done // Acks is closed
	if n, err := p.PublishBatch(ctx, items("events", 3, 1, "x")); n != 0 || !errors.Is(err, ErrClosed) {
		t.Errorf("PublishBatch after Close = %d, %v; want 0, ErrClosed", n, err)
	}
	if p.Connected() {
		t.Error("Connected() = true after Close")
	}
}

// TestCloseWaitsForAcks closes right after publishing: the soft phase
// delivers every Ack before Acks is closed.
func TestCloseWaitsForAcks(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	p := newPublisher(t, tn.config(ModeJetStream))
	log := collectAcks(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const total = 200
	if _, err := p.PublishBatch(ctx, items("events", 0, total, "x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	<-log.done
	acks := log.snapshot()
	if len(acks) != total {
		t.Fatalf("%d acks before Acks closed, want %d", len(acks), total)
	}
	if err := ackErrs(acks); err != nil {
		t.Fatal(err)
	}
	if n := tn.msgCount(t, tn.streamHandle(t)); n != total {
		t.Errorf("stream holds %d messages, want %d", n, total)
	}
}

// TestCloseBounded closes while PublishBatch is blocked on a full window
// and nobody receives Acks: Close unblocks it, gives up on the unreceived
// Ack when its ctx ends, and still closes Acks and stops every goroutine.
func TestCloseBounded(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	cfg := tn.config(ModeJetStream)
	cfg.MaxPendingAcks = 1
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := publishAsync(context.Background(), p, items("events", 0, 3, "x"))
	waitMsgs(t, tn, 1)

	cctx, ccancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer ccancel()
	start := time.Now()
	err = p.Close(cctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want a deadline error (an Ack was never received)", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v with a 300ms deadline", d)
	}
	if r := <-done; r.n != 1 || !errors.Is(r.err, ErrClosed) {
		t.Errorf("blocked PublishBatch = %d, %v; want 1, ErrClosed", r.n, r.err)
	}
	for range p.Acks() { // closed: the undelivered Ack was dropped
	}
	if err2 := p.Close(ctx); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second Close = %v, want the first result %v", err2, err)
	}
}
