package producer

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
)

type batchReturn struct {
	n   int
	err error
}

// publishAsync runs PublishBatch on a goroutine owned by the test: the
// result channel joins it (Close unblocks it if the test fails first).
func publishAsync(ctx context.Context, p *Publisher, batch []event.Item) <-chan batchReturn {
	done := make(chan batchReturn, 1)
	go func() {
		n, err := p.PublishBatch(ctx, batch)
		done <- batchReturn{n, err}
	}()
	return done
}

// waitMsgs waits until tn's stream holds want messages, failing at once if
// it ever holds more.
func waitMsgs(t *testing.T, tn *testNATS, want uint64) {
	t.Helper()
	s := tn.streamHandle(t)
	waitFor(t, 10*time.Second, func() error {
		n := tn.msgCount(t, s)
		if n > want {
			t.Fatalf("stream holds %d messages, more than %d", n, want)
		}
		if n < want {
			return fmt.Errorf("stream holds %d messages, want %d", n, want)
		}
		return nil
	})
}

func TestBackpressure(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	const bound, total = 3, 10
	cfg := tn.config(ModeJetStream)
	cfg.MaxPendingAcks = bound
	p := newPublisher(t, cfg)
	s := tn.streamHandle(t)

	done := publishAsync(context.Background(), p, items("events", 0, total, "x"))
	// Nobody receives Acks yet: exactly bound items get out, then
	// PublishBatch blocks.
	waitMsgs(t, tn, bound)
	select {
	case r := <-done:
		t.Fatalf("PublishBatch returned %+v with %d acks unreceived", r, bound)
	default:
	}
	for received := 1; received <= total; received++ {
		select {
		case a := <-p.Acks():
			if a.Err != nil {
				t.Fatalf("ack %v: %v", a.Token, a.Err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no ack %d of %d", received, total)
		}
		if n := tn.msgCount(t, s); n > uint64(received+bound) {
			t.Fatalf("after %d acks the stream holds %d messages: more than %d outstanding", received, n, bound)
		}
	}
	if r := <-done; r.n != total || r.err != nil {
		t.Errorf("PublishBatch = %d, %v; want %d, nil", r.n, r.err, total)
	}
}

func TestBackpressureContext(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	const bound = 2
	cfg := tn.config(ModeJetStream)
	cfg.MaxPendingAcks = bound
	p := newPublisher(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := publishAsync(ctx, p, items("events", 0, 5, "x"))
	waitMsgs(t, tn, bound)
	cancel()
	r := <-done
	if r.n != bound || !errors.Is(r.err, context.Canceled) {
		t.Errorf("PublishBatch = %d, %v; want %d, context.Canceled", r.n, r.err, bound)
	}
	for i := range bound { // the accepted ones still get their Acks
		if a := <-p.Acks(); a.Err != nil || a.Token.(int64) >= bound {
			t.Errorf("ack %d: %+v", i, a)
		}
	}
}
