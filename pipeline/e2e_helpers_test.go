package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/producer"
)

// Real brokers replace the in-process ones when these are set (franz-go's
// KGO_SEEDS pattern); only the constructors below differ.
const (
	brokersEnv = "TAGSTREAM_KAFKA_BROKERS"
	natsEnv    = "TAGSTREAM_NATS_URL"
)

var seq atomic.Int64

func uniqueName(t *testing.T) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	return fmt.Sprintf("%s_%d_%d", name, time.Now().UnixNano()%1e9, seq.Add(1))
}

// e2eKafka is one test's Kafka: a kfake cluster or the real brokers, with a
// fresh topic.
type e2eKafka struct {
	brokers    []string
	topic      string
	partitions int
	transport  *kafka.Transport
}

func newE2EKafka(t *testing.T, partitions int) *e2eKafka {
	t.Helper()
	k := &e2eKafka{topic: "ts-" + uniqueName(t), partitions: partitions, transport: &kafka.Transport{}}
	t.Cleanup(k.transport.CloseIdleConnections)
	if env := os.Getenv(brokersEnv); env != "" {
		k.brokers = strings.Split(env, ",")
		cl := &kafka.Client{Addr: kafka.TCP(k.brokers...), Transport: k.transport, Timeout: 30 * time.Second}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
			{Topic: k.topic, NumPartitions: partitions, ReplicationFactor: 1,
				// Room for the over-limit (2 MiB) event of the DLQ test.
				ConfigEntries: []kafka.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: "4194304"}}},
		}})
		if err != nil {
			t.Fatalf("create topic %s: %v", k.topic, err)
		}
		if err := resp.Errors[k.topic]; err != nil {
			t.Fatalf("create topic %s: %v", k.topic, err)
		}
		return k
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), k.topic),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": "4194304"}))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	k.brokers = c.ListenAddrs()
	return k
}

// produce writes values round-robin over the partitions and returns the
// messages with their partitions set.
func (k *e2eKafka) produce(t *testing.T, values [][]byte) []kafka.Message {
	t.Helper()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Topic: k.topic, Partition: i % k.partitions, Value: v, Time: time.Now()}
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(k.brokers...),
		Balancer:     kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }),
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond,
		BatchSize:    1000,
		BatchBytes:   8 << 20,
		Transport:    k.transport,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce %d messages: %v", len(msgs), err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close writer: %v", err)
	}
	return msgs
}

// committed returns the group's committed offset per partition (-1: none).
func (k *e2eKafka) committed(t *testing.T, group string) map[int]int64 {
	t.Helper()
	ps := make([]int, k.partitions)
	for i := range ps {
		ps[i] = i
	}
	cl := &kafka.Client{Addr: kafka.TCP(k.brokers...), Transport: k.transport, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{k.topic: ps}})
	if err != nil {
		t.Fatalf("offset fetch: %v", err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[k.topic] {
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

func (k *e2eKafka) consumerConfig(group string) consumer.Config {
	return consumer.Config{
		Brokers:           k.brokers,
		Topics:            []string{k.topic},
		Group:             group,
		FetchMaxWait:      100 * time.Millisecond,
		FetchLinger:       2 * time.Millisecond,
		CommitInterval:    20 * time.Millisecond,
		HeartbeatInterval: 100 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		RebalanceTimeout:  2 * time.Second,
	}
}

// e2eNATS is one test's NATS with JetStream: in-process or the real server,
// with its own subjects and stream.
type e2eNATS struct {
	url, prefix, dlq, stream string
}

func newE2ENATS(t *testing.T) *e2eNATS {
	t.Helper()
	u := uniqueName(t)
	n := &e2eNATS{prefix: u + ".results", dlq: u + ".dlq", stream: "TS_" + u}
	if env := os.Getenv(natsEnv); env != "" {
		n.url = env
		t.Cleanup(func() {
			nc, err := nats.Connect(n.url)
			if err != nil {
				return
			}
			defer nc.Close()
			if js, err := jetstream.New(nc); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = js.DeleteStream(ctx, n.stream)
			}
		})
		return n
	}
	opts := natsserver.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	srv := natsserver.RunServer(&opts)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	n.url = srv.ClientURL()
	return n
}

func (n *e2eNATS) producerConfig() producer.Config {
	return producer.Config{URL: n.url, Stream: n.stream, SubjectPrefix: n.prefix, DLQSubject: n.dlq, AckTimeout: 5 * time.Second, IncludeText: true}
}

// streamMsg is one message read back from the stream.
type streamMsg struct {
	subject string
	result  struct {
		ID     string          `json:"id"`
		Label  string          `json:"label"`
		Source event.Source    `json:"source"`
		Text   string          `json:"text"`
		Meta   json.RawMessage `json:"meta"`
	}
	dead struct {
		Reason    string       `json:"reason"`
		Error     string       `json:"error"`
		Source    event.Source `json:"source"`
		RawBase64 string       `json:"raw_base64"`
		RawBytes  int          `json:"raw_bytes"`
		Truncated bool         `json:"raw_truncated"`
	}
}

// readStream returns every message in n's stream.
func (n *e2eNATS) readStream(t *testing.T) []streamMsg {
	t.Helper()
	nc, err := nats.Connect(n.url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, n.stream)
	if err != nil {
		t.Fatalf("stream %s: %v", n.stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := int(info.State.Msgs)
	if total == 0 {
		return nil
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []streamMsg
	for len(out) < total {
		batch, err := c.Fetch(min(total-len(out), 1000), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("fetch from stream: %v", err)
		}
		for m := range batch.Messages() {
			var sm streamMsg
			sm.subject = m.Subject()
			if sm.subject == n.dlq {
				err = json.Unmarshal(m.Data(), &sm.dead)
			} else {
				err = json.Unmarshal(m.Data(), &sm.result)
			}
			if err != nil {
				t.Fatalf("message on %s: %v: %s", sm.subject, err, m.Data())
			}
			out = append(out, sm)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("fetch from stream: %v", err)
		}
	}
	return out
}

// frozenSource drops MarkDone calls.
type frozenSource struct{ *consumer.Consumer }

func (frozenSource) MarkDone(string, int, int64) {}

// instance is one running tagstream: consumer, publisher and pipeline.
type instance struct {
	cons   *consumer.Consumer
	pub    *producer.Publisher
	pipe   *Pipeline
	cancel context.CancelFunc
	errc   chan error
	closed bool
}

// startInstance starts an instance; cleanup stops it if the test did not.
//
// With frozen, the instance never marks a record done, so it never commits:
// it behaves like a process that dies before any commit reaches Kafka.
func startInstance(t *testing.T, k *e2eKafka, n *e2eNATS, ccfg consumer.Config, cfg Config, snap *Snapshot, frozen bool) *instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := producer.New(ctx, n.producerConfig())
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	cons, err := consumer.New(ccfg)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	var src Source = cons
	if frozen {
		src = frozenSource{cons}
	}
	pipe, err := New(cfg, src, pub, snap)
	if err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	in := &instance{cons: cons, pub: pub, pipe: pipe, cancel: rcancel, errc: make(chan error, 1)}
	go func() { in.errc <- pipe.Run(rctx) }()
	t.Cleanup(func() {
		if !in.closed {
			_ = in.stop(t)
		}
	})
	return in
}

// stop shuts the instance down.
func (in *instance) stop(t *testing.T) error {
	t.Helper()
	in.closed = true
	in.cancel()
	var runErr error
	select {
	case runErr = <-in.errc:
	case <-time.After(60 * time.Second):
		t.Fatal("pipeline did not stop within 60s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := in.cons.Close(ctx); err != nil {
		t.Errorf("close consumer: %v", err)
	}
	if err := in.pub.Close(ctx); err != nil {
		t.Errorf("close publisher: %v", err)
	}
	return runErr
}
