package producer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsserver "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/tagstream/tagstream/event"
)

// TestMain fails the package if any goroutine (ours, nats.go's or the
// in-process server's) outlives the tests: every test closes what it starts
// in t.Cleanup.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// nats.go's JetStream starts this per connection for async
		// publishes; after a reconnect racing a Close it can stay blocked
		// on a nil channel (seen once against a real nats-server in CI,
		// 2026-12-07): the library's, not a goroutine of ours.
		goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"))
}

// natsEnv names a real NATS server (with JetStream) to run the tests
// against instead of an in-process one.
const natsEnv = "TAGSTREAM_NATS_URL"

var nameSeq atomic.Int64

// testNATS is one test's NATS: a fresh in-process server with JetStream, or
// the real server from TAGSTREAM_NATS_URL. Each test gets its own subjects
// and stream name, so tests never see each other's messages.
type testNATS struct {
	url         string
	prefix, dlq string
	stream      string
	srv         *server.Server  // nil against a real server
	opts        *server.Options // nil against a real server
	external    bool
}

// newTestNATS returns a server for t. Only this constructor differs between
// the in-process and the real server; mutate, if non-nil, adjusts the
// in-process server's options (the test is skipped against a real server).
func newTestNATS(t *testing.T, mutate func(*server.Options)) *testNATS {
	t.Helper()
	u := fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, nameSeq.Add(1))
	tn := &testNATS{prefix: u + ".results", dlq: u + ".dlq", stream: "TS_" + u}
	if env := os.Getenv(natsEnv); env != "" {
		if mutate != nil {
			t.Skipf("in-process only: %s is set", natsEnv)
		}
		tn.url, tn.external = env, true
		t.Cleanup(func() { // the stream may not exist (core mode)
			nc, err := nats.Connect(tn.url)
			if err != nil {
				return
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = js.DeleteStream(ctx, tn.stream)
		})
		return tn
	}
	opts := natsserver.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	if mutate != nil {
		mutate(&opts)
	}
	tn.opts = &opts
	tn.start(t)
	tn.url = tn.srv.ClientURL()
	return tn
}

// start runs the in-process server with tn.opts (again, after stop).
func (tn *testNATS) start(t *testing.T) {
	t.Helper()
	opts := *tn.opts
	srv := natsserver.RunServer(&opts)
	tn.srv = srv
	if tn.opts.Port == -1 { // keep the port for a restart
		tn.opts.Port = srv.Addr().(*net.TCPAddr).Port
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
}

// stop shuts the in-process server down, keeping its store.
func (tn *testNATS) stop() {
	tn.srv.Shutdown()
	tn.srv.WaitForShutdown()
}

// config returns a Config for tn with test-sized timers.
func (tn *testNATS) config(mode Mode) Config {
	return Config{
		URL:           tn.url,
		Mode:          mode,
		Stream:        tn.stream,
		SubjectPrefix: tn.prefix,
		DLQSubject:    tn.dlq,
		AckTimeout:    5 * time.Second,
	}
}

// conn returns a plain client connection, closed at cleanup.
func (tn *testNATS) conn(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(tn.url)
	if err != nil {
		t.Fatalf("connect %s: %v", tn.url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// stream returns tn's stream through a plain client.
func (tn *testNATS) streamHandle(t *testing.T) jetstream.Stream {
	t.Helper()
	js, err := jetstream.New(tn.conn(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, tn.stream)
	if err != nil {
		t.Fatalf("stream %s: %v", tn.stream, err)
	}
	return s
}

// msgCount returns the number of messages in tn's stream.
func (tn *testNATS) msgCount(t *testing.T, s jetstream.Stream) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", tn.stream, err)
	}
	return info.State.Msgs
}

// newPublisher returns a Publisher for cfg, closed at cleanup (bounded).
func newPublisher(t *testing.T, cfg Config, opts ...Option) *Publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := New(ctx, cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { closePublisher(t, p) })
	return p
}

func closePublisher(t *testing.T, p *Publisher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// ackLog collects a Publisher's Acks on a goroutine owned by the test: it
// ends when Acks is closed, and cleanup closes the Publisher and joins it.
type ackLog struct {
	mu   sync.Mutex
	acks []event.Ack
	done chan struct{}
}

func collectAcks(t *testing.T, p *Publisher) *ackLog {
	t.Helper()
	l := &ackLog{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for a := range p.Acks() {
			l.mu.Lock()
			l.acks = append(l.acks, a)
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		closePublisher(t, p)
		<-l.done
	})
	return l
}

func (l *ackLog) snapshot() []event.Ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]event.Ack(nil), l.acks...)
}

// wait returns the acks once there are n of them.
func (l *ackLog) wait(t *testing.T, n int, timeout time.Duration) []event.Ack {
	t.Helper()
	waitFor(t, timeout, func() error {
		if got := len(l.snapshot()); got < n {
			return fmt.Errorf("%d acks, want %d", got, n)
		}
		return nil
	})
	return l.snapshot()
}

// waitFor polls cond until it returns nil, failing t after timeout with
// cond's last error.
func waitFor(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(delay) // polling interval, not a wait for an event
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// result returns a Result from topic/0/offset with label.
func result(topic string, offset int64, label string) *event.Result {
	return &event.Result{
		ID:       fmt.Sprintf("ev-%d", offset),
		Label:    label,
		Scores:   map[string]float64{"positive": 0.75, "negative": 0.25},
		Entities: []event.Entity{{Text: "Paris", Type: "LOC", Start: 3, End: 8}},
		Tasks: map[string]event.TaskResult{
			"sentiment": {Label: label, Scores: map[string]float64{"positive": 0.75, "negative": 0.25}},
			"emotion":   {MultiLabel: true, Labels: []string{"joy"}, Scores: map[string]float64{"joy": 0.8, "anger": 0.1}},
		},
		Lang:         "en",
		Text:         "in Paris today",
		ModelVersion: event.ModelVersion{Classifier: "cls-1", NER: "ner-en-2", Tasks: map[string]string{"sentiment": "cls-1", "emotion": "emo-1"}},
		Source:       event.Source{Topic: topic, Partition: 0, Offset: offset},
		EventTime:    time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC),
		ProcessedAt:  time.Date(2025, 3, 1, 12, 0, 1, 5, time.UTC),
	}
}

// items returns n result Items with offsets from..from+n-1, Token = offset.
func items(topic string, from int64, n int, label string) []event.Item {
	out := make([]event.Item, n)
	for i := range out {
		off := from + int64(i)
		out[i] = event.Item{Result: result(topic, off, label), Token: off}
	}
	return out
}

// ackErrs returns the errors among acks.
func ackErrs(acks []event.Ack) error {
	var errs []error
	for _, a := range acks {
		if a.Err != nil {
			errs = append(errs, fmt.Errorf("token %v: %w", a.Token, a.Err))
		}
	}
	return errors.Join(errs...)
}
