package consumer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/tagstream/tagstream/event"
)

// TestMain fails the package if any goroutine (ours, kafka-go's or kfake's)
// outlives the tests: every test closes what it starts in t.Cleanup.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// brokersEnv names real brokers to run the integration tests against
// instead of kfake (franz-go's KGO_SEEDS pattern).
const brokersEnv = "TAGSTREAM_KAFKA_BROKERS"

var topicSeq atomic.Int64

// testKafka is one test's Kafka: a fresh kfake cluster, or the real brokers
// from TAGSTREAM_KAFKA_BROKERS with freshly created topics.
type testKafka struct {
	brokers   []string
	topics    []string
	transport *kafka.Transport
	cluster   *kfake.Cluster // nil against real brokers
}

// newTestKafka returns brokers and n unique topics of partitions partitions.
// Only this constructor differs between kfake and real brokers.
func newTestKafka(t *testing.T, partitions, n int, opts ...kfake.Opt) *testKafka {
	t.Helper()
	k := &testKafka{transport: &kafka.Transport{}}
	t.Cleanup(k.transport.CloseIdleConnections)
	for i := 0; i < n; i++ {
		k.topics = append(k.topics, fmt.Sprintf("%s-%d-%d", sanitize(t.Name()), time.Now().UnixNano()%1e9, topicSeq.Add(1)))
	}
	if env := os.Getenv(brokersEnv); env != "" {
		if len(opts) > 0 {
			t.Skipf("kfake-only test: %s is set", brokersEnv)
		}
		k.brokers = strings.Split(env, ",")
		cl := k.client()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req := &kafka.CreateTopicsRequest{}
		for _, tp := range k.topics {
			req.Topics = append(req.Topics, kafka.TopicConfig{Topic: tp, NumPartitions: partitions, ReplicationFactor: 1})
		}
		resp, err := cl.CreateTopics(ctx, req)
		if err != nil {
			t.Fatalf("create topics %v: %v", k.topics, err)
		}
		for tp, err := range resp.Errors {
			if err != nil {
				t.Fatalf("create topic %s: %v", tp, err)
			}
		}
		return k
	}
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), k.topics...)}, opts...)
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("kfake cluster: %v", err)
	}
	t.Cleanup(cluster.Close)
	k.cluster = cluster
	k.brokers = cluster.ListenAddrs()
	return k
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

func (k *testKafka) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(k.brokers...), Transport: k.transport, Timeout: 10 * time.Second}
}

// config returns a Config with short timers for tests.
func (k *testKafka) config(group string) Config {
	return Config{
		Brokers:           k.brokers,
		Topics:            k.topics,
		Group:             group,
		FetchMaxWait:      100 * time.Millisecond,
		CommitInterval:    20 * time.Millisecond,
		HeartbeatInterval: 100 * time.Millisecond,
		SessionTimeout:    6 * time.Second, // real Kafka's minimum by default
		RebalanceTimeout:  2 * time.Second,
	}
}

// produce writes msgs, each to its Topic and Partition, and waits for all
// replicas to acknowledge.
func (k *testKafka) produce(t *testing.T, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(k.brokers...),
		Balancer:     kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }),
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond,
		BatchSize:    1000,
		Transport:    k.transport,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce %d messages: %v", len(msgs), err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close writer: %v", err)
	}
}

// committed returns the group's committed offset of every partition of
// topic (-1: none), read with kafka-go's Client.OffsetFetch.
func (k *testKafka) committed(t *testing.T, group, topic string, partitions int) (map[int]int64, error) {
	t.Helper()
	ps := make([]int, partitions)
	for i := range ps {
		ps[i] = i
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := k.client().OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ps}})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	out := make(map[int]int64, partitions)
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

// waitCommitted waits until the group's committed offsets of topic equal want.
func (k *testKafka) waitCommitted(t *testing.T, group, topic string, want map[int]int64) {
	t.Helper()
	waitFor(t, 15*time.Second, func() error {
		got, err := k.committed(t, group, topic, len(want))
		if err != nil {
			return err
		}
		for p, w := range want {
			if got[p] != w {
				return fmt.Errorf("committed %v, want %v", got, want)
			}
		}
		return nil
	})
}

// waitFor polls check until it returns nil or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
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

// newTestConsumer returns a consumer closed at cleanup.
func newTestConsumer(t *testing.T, cfg Config, opts ...Option) *Consumer {
	t.Helper()
	c, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// fetchN fetches until n records arrived or the timeout passes.
func fetchN(t *testing.T, c *Consumer, n int, timeout time.Duration) []event.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []event.Record
	for len(out) < n {
		recs, err := c.Fetch(ctx, n-len(out))
		if err != nil {
			t.Fatalf("fetch after %d of %d records: %v", len(out), n, err)
		}
		out = append(out, recs...)
	}
	return out
}

// jsonMsgs returns n valid JSON events per partition of topic.
func jsonMsgs(topic string, partitions, n int) []kafka.Message {
	var msgs []kafka.Message
	for p := 0; p < partitions; p++ {
		for i := 0; i < n; i++ {
			msgs = append(msgs, kafka.Message{
				Topic: topic, Partition: p,
				Value: fmt.Appendf(nil, `{"id":"%s-%d-%d","text":"hello %d","lang":"en"}`, topic, p, i, i),
			})
		}
	}
	return msgs
}

type coord struct {
	p int
	o int64
}

func coords(recs []event.Record) map[coord]bool {
	m := make(map[coord]bool, len(recs))
	for _, r := range recs {
		m[coord{r.Partition, r.Offset}] = true
	}
	return m
}
