package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/test"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/internal/testutil"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/producer"
)

// Real brokers to run these tests against instead of kfake and an
// in-process nats-server (franz-go's KGO_SEEDS pattern).
const (
	toolsKafkaEnv = "TAGSTREAM_KAFKA_BROKERS"
	toolsNATSEnv  = "TAGSTREAM_NATS_URL"
)

var toolSeq atomic.Int64

// uniqueName returns a topic or subject token unique to this test run.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d_%d", prefix, time.Now().UnixNano()%1e9, toolSeq.Add(1))
}

// syncBuffer is the goroutine-safe buffer of a command's output.
type syncBuffer = testutil.SyncBuffer

// toolRun is a command running on its own goroutine.
type toolRun struct {
	stdout, stderr syncBuffer
	cancel         context.CancelFunc
	done           chan struct{}
	err            error // set before done is closed
}

// startTool runs the CLI with args and stdin on a goroutine. Cleanup
// cancels it and waits for it to return.
func startTool(t *testing.T, stdin io.Reader, args ...string) *toolRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &toolRun{cancel: cancel, done: make(chan struct{})}
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(&r.stdout)
	cmd.SetErr(&r.stderr)
	go func() {
		defer close(r.done)
		r.err = cmd.ExecuteContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		r.wait(t, 30*time.Second)
	})
	return r
}

// wait returns the command's error once it has returned.
func (r *toolRun) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(timeout):
		t.Fatalf("command still running after %v; stderr:\n%s", timeout, r.stderr.String())
		return nil
	}
}

// runTool runs the CLI to completion and returns its stdout and stderr.
func runTool(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	r := startTool(t, strings.NewReader(stdin), args...)
	err = r.wait(t, 60*time.Second)
	return r.stdout.String(), r.stderr.String(), err
}

// pollUntil polls check until it returns nil or timeout passes.
func pollUntil(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	pollEvery(t, 10*time.Millisecond, timeout, check)
}

// pollEvery polls check every interval until it returns nil, failing the
// test with check's last error after timeout.
func pollEvery(t *testing.T, interval, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(interval)
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

// toolKafka is one test's Kafka: a fresh single-broker kfake cluster, or
// the real brokers of TAGSTREAM_KAFKA_BROKERS.
type toolKafka struct {
	brokers   string
	transport *kafka.Transport
}

// newToolKafka returns a Kafka holding the given topics, each with
// partitions partitions. Only this constructor differs between kfake and
// real brokers.
func newToolKafka(t *testing.T, partitions int, topics ...string) *toolKafka {
	t.Helper()
	k := &toolKafka{transport: &kafka.Transport{}}
	t.Cleanup(k.transport.CloseIdleConnections)
	if env := os.Getenv(toolsKafkaEnv); env != "" {
		k.brokers = env
		if len(topics) == 0 {
			return k
		}
		req := &kafka.CreateTopicsRequest{}
		for _, tp := range topics {
			req.Topics = append(req.Topics, kafka.TopicConfig{Topic: tp, NumPartitions: partitions, ReplicationFactor: 1})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := k.client().CreateTopics(ctx, req)
		if err != nil {
			t.Fatalf("create topics %v: %v", topics, err)
		}
		for tp, err := range resp.Errors {
			if err != nil {
				t.Fatalf("create topic %s: %v", tp, err)
			}
		}
		return k
	}
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(partitions), topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	k.brokers = strings.Join(c.ListenAddrs(), ",")
	return k
}

func (k *toolKafka) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(strings.Split(k.brokers, ",")...), Transport: k.transport, Timeout: 10 * time.Second}
}

// partitions returns the partition count of topic (an error if it does
// not exist), read with a fresh transport so no metadata cache hides it.
func (k *toolKafka) partitions(t *testing.T, topic string) (int, error) {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(strings.Split(k.brokers, ",")...), Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, err
	}
	for _, tp := range md.Topics {
		if tp.Name == topic {
			return len(tp.Partitions), tp.Error
		}
	}
	return 0, fmt.Errorf("topic %s not in metadata", topic)
}

// readTopic returns the values of every message in topic, partition by
// partition in offset order, reading each partition with a kafka-go Reader
// up to its end offset.
func (k *toolKafka) readTopic(t *testing.T, topic string) []string {
	t.Helper()
	n, err := k.partitions(t, topic)
	if err != nil {
		t.Fatalf("metadata of %s: %v", topic, err)
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for p := range n {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := k.client().ListOffsets(ctx, req)
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	ends := make([]int64, n)
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			t.Fatalf("list offsets of %s[%d]: %v", topic, po.Partition, po.Error)
		}
		ends[po.Partition] = po.LastOffset
	}
	var values []string
	for p, end := range ends {
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers:   strings.Split(k.brokers, ","),
			Topic:     topic,
			Partition: p,
			MinBytes:  1,
			MaxBytes:  10 << 20,
			MaxWait:   100 * time.Millisecond,
		})
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				_ = r.Close()
				t.Fatalf("read %s[%d] up to offset %d: %v", topic, p, end, err)
			}
			values = append(values, string(m.Value))
			if m.Offset >= end-1 {
				break
			}
		}
		if err := r.Close(); err != nil {
			t.Fatalf("close reader of %s[%d]: %v", topic, p, err)
		}
	}
	return values
}

// toolNATS is one test's NATS: a fresh in-process server with JetStream,
// or the real server of TAGSTREAM_NATS_URL. Subjects and the stream name
// are unique to the test either way.
type toolNATS struct {
	url         string
	prefix, dlq string
	stream      string
}

func newToolNATS(t *testing.T) *toolNATS {
	t.Helper()
	u := uniqueName("t")
	tn := &toolNATS{prefix: u + ".results", dlq: u + ".dlq", stream: "TS_" + u}
	if env := os.Getenv(toolsNATSEnv); env != "" {
		tn.url = env
		return tn
	}
	opts := natsserver.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	srv := natsserver.RunServer(&opts)
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	tn.url = srv.ClientURL()
	return tn
}

// publish sends items through a producer.Publisher in jetstream mode (as
// the pipeline does) and waits for every Ack.
func (tn *toolNATS) publish(t *testing.T, items []event.Item) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := producer.New(ctx, producer.Config{
		URL: tn.url, Mode: producer.ModeJetStream, Stream: tn.stream,
		SubjectPrefix: tn.prefix, DLQSubject: tn.dlq, IncludeText: true,
	})
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	acks := make(chan error, len(items))
	go func() {
		for a := range p.Acks() {
			acks <- a.Err
		}
		close(acks)
	}()
	if n, err := p.PublishBatch(ctx, items); err != nil || n != len(items) {
		t.Fatalf("publish: %d of %d: %v", n, len(items), err)
	}
	for range items {
		select {
		case err := <-acks:
			if err != nil {
				t.Fatalf("ack: %v", err)
			}
		case <-ctx.Done():
			t.Fatalf("acks: %v", ctx.Err())
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("close publisher: %v", err)
	}
	for range acks { // closed by Close: the ack goroutine has ended
	}
}

func tailResult(offset int64, label, lang, text string, ents ...event.Entity) *event.Result {
	return &event.Result{
		ID: fmt.Sprintf("ev-%d", offset), Label: label, Lang: lang, Text: text, Entities: ents,
		Scores:       map[string]float64{label: 0.9},
		ModelVersion: event.ModelVersion{Classifier: "cls-1", NER: "ner-1"},
		Source:       event.Source{Topic: "events", Partition: 0, Offset: offset},
		EventTime:    time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		ProcessedAt:  time.Date(2025, 3, 1, 12, 0, 1, 0, time.UTC),
	}
}

// loggedAddrs waits (up to a minute: start-up loads the models) for a
// run or trainer started with embedded servers to log its Kafka and HTTP
// addresses, and returns them.
func loggedAddrs(t *testing.T, r *toolRun) (kafkaAddr, httpAddr string) {
	t.Helper()
	pollUntil(t, 60*time.Second, func() error {
		logs := r.stderr.String()
		k := regexp.MustCompile(`kafka=\[(127\.0\.0\.1:\d+)\]`).FindStringSubmatch(logs)
		h := regexp.MustCompile(`"http listening" addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(logs)
		if k == nil || h == nil {
			return fmt.Errorf("addresses not logged yet:\n%s", logs)
		}
		kafkaAddr, httpAddr = k[1], h[1]
		return nil
	})
	return kafkaAddr, httpAddr
}

// builtinModel returns the bytes of a built-in model file.
func builtinModel(t *testing.T, name string) []byte {
	t.Helper()
	f, err := models.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
