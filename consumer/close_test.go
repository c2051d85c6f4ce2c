package consumer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestCloseIdempotent closes while a Fetch is blocked, then again.
func TestCloseIdempotent(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 2, 1)
	c, err := New(k.config("close-" + k.topics[0]))
	if err != nil {
		t.Fatal(err)
	}
	fetchErr := make(chan error, 1)
	go func() { // owned by the test: joined through fetchErr
		_, err := c.Fetch(context.Background(), 10) // empty topic: blocks
		fetchErr <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("first close: %v", err)
	}
	if err := <-fetchErr; !errors.Is(err, ErrClosed) {
		t.Errorf("blocked Fetch returned %v, want ErrClosed", err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("close took %v", d)
	}
	if _, err := c.Fetch(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Fetch after Close = %v, want ErrClosed", err)
	}
}

// TestCloseCommitsDone relies on Close alone to commit: the committer's
// period is an hour.
func TestCloseCommitsDone(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 2, 1)
	topic := k.topics[0]
	group := "closecommit-" + topic
	k.produce(t, jsonMsgs(topic, 2, 5)...)
	cfg := k.config(group)
	cfg.CommitInterval = time.Hour
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := fetchN(t, c, 10, 20*time.Second)
	c.Done(recs...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	got, err := k.committed(t, group, topic, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 5 || got[1] != 5 {
		t.Fatalf("committed %v after Close, want 5 for both partitions", got)
	}
}

// TestCloseBounded closes after the cluster went away: the final commit
// fails, and Close returns by its deadline whatever kafka-go does.
func TestCloseBounded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for a deadline")
	}
	k := newTestKafka(t, 1, 1, kfake.NumBrokers(1)) // kfake only: it stops the cluster
	topic := k.topics[0]
	k.produce(t, jsonMsgs(topic, 1, 3)...)
	cfg := k.config("bounded-" + topic)
	cfg.CommitInterval = time.Hour
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := fetchN(t, c, 3, 20*time.Second)
	c.Done(recs...)
	k.cluster.Close()

	const deadline = 1500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err = c.Close(ctx)
	if d := time.Since(start); d > deadline+time.Second {
		t.Fatalf("Close took %v with a %v deadline", d, deadline)
	}
	if err == nil {
		t.Fatalf("Close succeeded without a cluster; want a commit error")
	}
	t.Logf("close without a cluster: %v", err)
	// Let kafka-go finish in the background so the leak check passes.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	_ = c.Close(ctx2)
	if ctx2.Err() != nil {
		t.Fatalf("kafka-go Reader.Close did not return within 30s")
	}
}
