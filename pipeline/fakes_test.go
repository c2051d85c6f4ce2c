package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tagstream/tagstream/event"
)

// fakeSource serves a fixed list of records and records MarkDone calls.
type fakeSource struct {
	mu      sync.Mutex
	recs    []event.Record
	next    int
	fetches int
	done    map[string]int // "topic/partition/offset" → MarkDone calls
	more    chan struct{}  // closed-and-replaced when records are added
}

func newFakeSource(recs ...event.Record) *fakeSource {
	return &fakeSource{recs: recs, done: map[string]int{}, more: make(chan struct{})}
}

func (s *fakeSource) add(recs ...event.Record) {
	s.mu.Lock()
	s.recs = append(s.recs, recs...)
	close(s.more)
	s.more = make(chan struct{})
	s.mu.Unlock()
}

func (s *fakeSource) Fetch(ctx context.Context, max int) ([]event.Record, error) {
	for {
		s.mu.Lock()
		if s.next < len(s.recs) {
			n := min(max, len(s.recs)-s.next)
			out := append([]event.Record(nil), s.recs[s.next:s.next+n]...)
			s.next += n
			s.fetches++
			s.mu.Unlock()
			return out, nil
		}
		more := s.more
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-more:
		}
	}
}

func (s *fakeSource) MarkDone(topic string, partition int, offset int64) {
	s.mu.Lock()
	s.done[fmt.Sprintf("%s/%d/%d", topic, partition, offset)]++
	s.mu.Unlock()
}

func (s *fakeSource) fetched() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

func (s *fakeSource) doneCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.done))
	for k, v := range s.done {
		out[k] = v
	}
	return out
}

// fakeSink acknowledges every published item on its own goroutine, failing
// the first failFirst attempts of each item, and records what it saw. While
// hold is set it accepts items but acknowledges none (a stuck server).
type fakeSink struct {
	acks      chan event.Ack
	failFirst int

	mu       sync.Mutex
	attempts map[string]int
	items    []event.Item // every accepted item, in order
	batches  []int        // sizes of PublishBatch calls
	hold     bool
	held     []event.Ack
	queue    chan event.Ack
	stop     chan struct{}
	wg       sync.WaitGroup
}

func newFakeSink(t *testing.T, failFirst int) *fakeSink {
	k := &fakeSink{
		acks: make(chan event.Ack), failFirst: failFirst, attempts: map[string]int{},
		queue: make(chan event.Ack, 1<<16), stop: make(chan struct{}),
	}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		for {
			select {
			case a := <-k.queue:
				select {
				case k.acks <- a:
				case <-k.stop:
					return
				}
			case <-k.stop:
				return
			}
		}
	}()
	t.Cleanup(func() { close(k.stop); k.wg.Wait() })
	return k
}

func itemKey(it event.Item) string {
	if it.Result != nil {
		return it.Result.Source.String()
	}
	return it.DeadLetter.Source.String()
}

func (k *fakeSink) PublishBatch(ctx context.Context, items []event.Item) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.batches = append(k.batches, len(items))
	for _, it := range items {
		key := itemKey(it)
		k.attempts[key]++
		var err error
		if k.attempts[key] <= k.failFirst {
			err = errors.New("fake: publish failed")
		} else {
			k.items = append(k.items, it)
		}
		a := event.Ack{Token: it.Token, Err: err}
		if k.hold {
			k.held = append(k.held, a)
			continue
		}
		k.queue <- a
	}
	return len(items), nil
}

func (k *fakeSink) Acks() <-chan event.Ack { return k.acks }

func (k *fakeSink) setHold(h bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.hold = h
	if !h {
		for _, a := range k.held {
			k.queue <- a
		}
		k.held = nil
	}
}

func (k *fakeSink) published() []event.Item {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]event.Item(nil), k.items...)
}

func (k *fakeSink) batchSizes() []int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]int(nil), k.batches...)
}

// records returns n valid English/Chinese records over 3 partitions of
// topic "t", with offsets counting per partition.
func records(n int) []event.Record {
	out := make([]event.Record, n)
	for i := range out {
		p := i % 3
		text := fmt.Sprintf("event %d is great", i)
		lang := ""
		if i%4 == 3 {
			text = fmt.Sprintf("第%d条消息，北京天气很好", i)
		}
		out[i] = event.Record{
			Topic: "t", Partition: p, Offset: int64(i / 3), Time: time.Now(),
			Event: event.Event{ID: fmt.Sprintf("e%d", i), Text: text, Lang: lang},
		}
	}
	return out
}

// waitPublished waits until p has published n results.
func waitPublished(t *testing.T, p *Pipeline, n int, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, func() error {
		if s := p.Stats(); s.Published != int64(n) {
			return fmt.Errorf("published %d of %d (stats %+v)", s.Published, n, s)
		}
		return nil
	})
}

// waitFor polls check until it returns nil or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		<-tick.C
	}
}

// runPipeline starts p.Run and returns a stop function that cancels it and
// returns Run's error.
func runPipeline(t *testing.T, p *Pipeline) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(30 * time.Second):
				err = errors.New("Run did not return within 30s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// TestMain fails the package if a goroutine outlives the tests: Run must
// stop everything it starts.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// nats.go's JetStream starts this per connection for async
		// publishes; after a reconnect racing a Close it can stay blocked
		// on a nil channel (seen once against a real nats-server in CI,
		// 2026-12-07): the library's, not a goroutine of ours.
		goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"))
}
