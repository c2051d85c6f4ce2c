package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/test"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tagstream/tagstream/event"
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

// syncBuffer is a bytes.Buffer safe for a command writing on one goroutine
// while the test polls it on another.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

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

func TestProduce(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("長", 40000) // 120 kB: past bufio's 64 KiB buffer
	tests := []struct {
		name   string
		format []string // extra flags
		in     string
		want   []string
	}{
		{
			name: "json",
			in:   "{\"id\":\"1\",\"text\":\"hello\"}\n\n  {\"text\":\"你好\",\"lang\":\"zh\"}  \r\n   \n{\"text\":\"" + long + "\"}\n{\"text\":\"no newline\"}",
			want: []string{`{"id":"1","text":"hello"}`, `{"text":"你好","lang":"zh"}`, `{"text":"` + long + `"}`, `{"text":"no newline"}`},
		},
		{
			name:   "text",
			format: []string{"--format", "text"},
			in:     "hello world\r\n\n 他在北京 \n{not json}\n" + long + "\n",
			want:   []string{"hello world", " 他在北京 ", "{not json}", long},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			topic := uniqueName("produce")
			k := newToolKafka(t, 1, topic)
			args := append([]string{"produce", "--brokers", k.brokers, "--topic", topic}, tc.format...)
			_, stderr, err := runTool(t, tc.in, args...)
			if err != nil {
				t.Fatalf("produce: %v; stderr:\n%s", err, stderr)
			}
			if want := fmt.Sprintf("produced %d messages to %s in ", len(tc.want), topic); !strings.Contains(stderr, want) || !strings.Contains(stderr, "msg/s)") {
				t.Fatalf("stderr %q, want a summary %q... msg/s)", stderr, want)
			}
			if got := k.readTopic(t, topic); !slices.Equal(got, tc.want) {
				t.Fatalf("topic holds %d messages %.200q, want %d %.200q", len(got), got, len(tc.want), tc.want)
			}
		})
	}
}

func TestProduceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flags   []string
		in      string
		wantErr string
		want    []string // what reached the topic
	}{
		{
			name:    "bad json line",
			in:      "{\"text\":\"a\"}\n{\"text\":\"b\"}\nnot json\n{\"text\":\"c\"}\n",
			wantErr: "line 3: invalid_json: value is not json",
			want:    []string{`{"text":"a"}`, `{"text":"b"}`},
		},
		{
			name:    "json array",
			in:      "\n[1,2]\n",
			wantErr: "line 2: wrong_type: value is a json array, want object",
		},
		{
			name:    "truncated json object",
			in:      "{\"text\":\"a\"}\n{\"text\":\n",
			wantErr: "line 2: invalid_json",
			want:    []string{`{"text":"a"}`},
		},
		{
			name:    "invalid utf-8 text",
			flags:   []string{"--format", "text"},
			in:      "fine\nbad \xff\xfe\n",
			wantErr: "line 2: invalid_utf8",
			want:    []string{"fine"},
		},
		{
			name:    "too large",
			flags:   []string{"--format", "text", "--max-bytes", "10"},
			in:      "short\n0123456789abc\n",
			wantErr: "line 2: too_large: value is 13 bytes, limit 10",
			want:    []string{"short"},
		},
		{
			name:    "event without text",
			in:      "{\"text\":\"a\"}\n{\"id\":\"x\",\"txt\":\"b\"}\n",
			wantErr: "line 2: missing_text",
			want:    []string{`{"text":"a"}`},
		},
		{
			name:    "unknown language",
			in:      "{\"text\":\"hallo\",\"lang\":\"de\"}\n",
			wantErr: `line 1: bad_lang: lang "de"`,
		},
		{
			name:    "bad format",
			flags:   []string{"--format", "csv"},
			in:      "x\n",
			wantErr: `--format "csv"`,
		},
		{
			name:    "partitions without create-topic",
			flags:   []string{"--partitions", "3"},
			in:      "{}\n",
			wantErr: "--partitions needs --create-topic",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			topic := uniqueName("errors")
			k := newToolKafka(t, 1, topic)
			args := append([]string{"produce", "--brokers", k.brokers, "--topic", topic}, tc.flags...)
			_, stderr, err := runTool(t, tc.in, args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("produce: %v, want an error containing %q", err, tc.wantErr)
			}
			if tc.want == nil {
				tc.want = []string{}
			}
			got := k.readTopic(t, topic)
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("topic holds %q, want %q", got, tc.want)
			}
			if strings.Contains(tc.wantErr, "line") {
				if want := fmt.Sprintf("produced %d messages to %s", len(tc.want), topic); !strings.Contains(stderr, want) {
					t.Fatalf("stderr %q, want %q", stderr, want)
				}
			}
		})
	}
}

func TestProduceCreateTopic(t *testing.T) {
	t.Parallel()
	k := newToolKafka(t, 1)
	topic := uniqueName("created")
	in := "{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"text\":\"c\"}\n{\"text\":\"d\"}\n{\"text\":\"e\"}\n{\"text\":\"f\"}\n"

	// Without --create-topic a missing topic is an error that says how to fix it.
	_, _, err := runTool(t, in, "produce", "--brokers", k.brokers, "--topic", topic)
	if err == nil || !strings.Contains(err.Error(), "--create-topic") {
		t.Fatalf("produce to a missing topic: %v, want an error suggesting --create-topic", err)
	}

	_, stderr, err := runTool(t, in, "produce", "--brokers", k.brokers, "--topic", topic, "--create-topic", "--partitions", "3")
	if err != nil {
		t.Fatalf("produce --create-topic: %v; stderr:\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "created topic "+topic+" with 3 partitions") {
		t.Fatalf("stderr %q, want the topic creation reported", stderr)
	}
	if n, err := k.partitions(t, topic); err != nil || n != 3 {
		t.Fatalf("topic %s has %d partitions (%v), want 3", topic, n, err)
	}

	// An existing topic is fine; the messages add up.
	_, stderr, err = runTool(t, in, "produce", "--brokers", k.brokers, "--topic", topic, "--create-topic", "--partitions", "3")
	if err != nil || !strings.Contains(stderr, "already exists") {
		t.Fatalf("produce --create-topic on an existing topic: %v; stderr:\n%s", err, stderr)
	}
	got := k.readTopic(t, topic)
	slices.Sort(got)
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(in), "\n") {
		want = append(want, l, l)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("topic holds %q, want %q", got, want)
	}
}

// TestProduceInterrupt cancels produce while it waits for more input: it
// writes what it read, reports it and returns an error wrapping
// context.Canceled.
func TestProduceInterrupt(t *testing.T) {
	t.Parallel()
	topic := uniqueName("interrupt")
	k := newToolKafka(t, 1, topic)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() }) // ends produce's stdin reader
	r := startTool(t, pr, "produce", "--brokers", k.brokers, "--topic", topic, "--format", "text")
	if _, err := io.WriteString(pw, "one\ntwo\n"); err != nil {
		t.Fatal(err)
	}
	// Interactive input goes out without waiting for a full chunk.
	pollUntil(t, 15*time.Second, func() error {
		if got := k.readTopic(t, topic); len(got) < 2 {
			return fmt.Errorf("topic holds %q, want 2 messages", got)
		}
		return nil
	})
	r.cancel()
	err := r.wait(t, 30*time.Second)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted after 2 lines") {
		t.Fatalf("produce after cancel: %v, want an interruption after line 2 wrapping context.Canceled", err)
	}
	if want := "produced 2 messages to " + topic; !strings.Contains(r.stderr.String(), want) {
		t.Fatalf("stderr %q, want %q", r.stderr.String(), want)
	}
	if got := k.readTopic(t, topic); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("topic holds %q, want [one two]", got)
	}
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

// TestTail runs tail in human, --raw and dead-letter mode against results
// a producer.Publisher stores in a JetStream stream.
func TestTail(t *testing.T) {
	t.Parallel()
	tn := newToolNATS(t)
	results := []*event.Result{
		tailResult(1, "positive", "en", "I met Ann Lee in Paris", event.Entity{Text: "Ann Lee", Type: "PER", Start: 6, End: 13}, event.Entity{Text: "Paris", Type: "LOC", Start: 17, End: 22}),
		tailResult(2, "negative", "zh", "这家外卖太难吃了"),
		tailResult(3, "neutral", "en", strings.Repeat("abcdefghij", 7)),
	}
	human := startTool(t, strings.NewReader(""), "tail", "--nats", tn.url, "--subject", tn.prefix+".>", "--count", "3")
	raw := startTool(t, strings.NewReader(""), "tail", "--nats", tn.url, "--subject", tn.prefix+".>", "--count", "3", "--raw")
	dlq := startTool(t, strings.NewReader(""), "tail", "--nats", tn.url, "--subject", tn.prefix+".>", "--subject", tn.dlq, "--count", "4")
	for _, r := range []*toolRun{human, raw, dlq} {
		pollUntil(t, 15*time.Second, func() error {
			if !strings.Contains(r.stderr.String(), "subscribed to ") {
				return fmt.Errorf("tail not subscribed yet; stderr %q", r.stderr.String())
			}
			return nil
		})
	}

	var items []event.Item
	for i, res := range results {
		items = append(items, event.Item{Result: res, Token: i})
	}
	items = append(items, event.Item{Token: 3, DeadLetter: &event.DeadLetter{
		Reason: "invalid_json", Err: errors.New("value is not json: invalid character 'o'"),
		Source: event.Source{Topic: "events", Partition: 2, Offset: 17}, Raw: []byte("oops"),
	}})
	tn.publish(t, items)

	wantHuman := []string{
		`positive en ev-1 "I met Ann Lee in Paris" PER:"Ann Lee" LOC:Paris`,
		`negative zh ev-2 "这家外卖太难吃了"`,
		`neutral en ev-3 "` + strings.Repeat("abcdefghij", 6) + `…"`,
	}
	wantDLQ := "DLQ invalid_json events/2/17: value is not json: invalid character 'o'"
	for _, c := range []struct {
		name string
		r    *toolRun
		want []string
	}{
		{"human", human, wantHuman},
		{"dlq", dlq, append(slices.Clone(wantHuman), wantDLQ)},
	} {
		if err := c.r.wait(t, 30*time.Second); err != nil {
			t.Fatalf("%s tail: %v", c.name, err)
		}
		if got := strings.Split(strings.TrimSuffix(c.r.stdout.String(), "\n"), "\n"); !slices.Equal(got, c.want) {
			t.Errorf("%s tail printed\n%s\nwant\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}

	if err := raw.wait(t, 30*time.Second); err != nil {
		t.Fatalf("raw tail: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(raw.stdout.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("raw tail printed %d lines, want 3:\n%s", len(lines), raw.stdout.String())
	}
	for i, l := range lines {
		// Raw lines are the published JSON, untouched.
		if !strings.HasPrefix(l, `{"id":"`+results[i].ID+`","label":"`+results[i].Label+`"`) || !strings.Contains(l, `"model_version":{"classifier":"cls-1","ner":"ner-1"}`) {
			t.Errorf("raw line %d = %s, want the result JSON of %s", i, l, results[i].ID)
		}
	}
}

// TestTailUntilCancel checks that without --count tail runs until its
// context ends and then exits cleanly.
func TestTailUntilCancel(t *testing.T) {
	t.Parallel()
	tn := newToolNATS(t)
	r := startTool(t, strings.NewReader(""), "tail", "--nats", tn.url, "--subject", tn.prefix+".>", "--raw")
	pollUntil(t, 15*time.Second, func() error {
		if !strings.Contains(r.stderr.String(), "subscribed to "+tn.prefix+".>") {
			return fmt.Errorf("tail not subscribed yet; stderr %q", r.stderr.String())
		}
		return nil
	})
	tn.publish(t, []event.Item{{Result: tailResult(9, "positive", "en", "x")}})
	pollUntil(t, 15*time.Second, func() error {
		if !strings.Contains(r.stdout.String(), `"id":"ev-9"`) {
			return fmt.Errorf("tail printed %q, want ev-9", r.stdout.String())
		}
		return nil
	})
	r.cancel()
	if err := r.wait(t, 30*time.Second); err != nil {
		t.Fatalf("tail after cancel: %v, want a clean exit", err)
	}
}

func TestTailErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"negative count", []string{"tail", "--count", "-1"}, "--count -1"},
		{"no server", []string{"tail", "--nats", "nats://127.0.0.1:1"}, "connect nats://127.0.0.1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := runTool(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("tail: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestTailFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
	}{
		{
			name: "result without text",
			data: `{"id":"ev-1","label":"positive","scores":{"positive":0.9},"entities":[{"text":"Paris","type":"LOC","start":3,"end":8}],"lang":"en","model_version":{"classifier":"c","ner":"n"},"source":{"topic":"t","partition":0,"offset":1}}`,
			want: `positive en ev-1 LOC:Paris`,
		},
		{
			name: "result with long chinese text",
			data: `{"id":"t/0/5","label":"negative","entities":[],"lang":"zh","text":"` + strings.Repeat("好", 61) + `"}`,
			want: `negative zh t/0/5 "` + strings.Repeat("好", 60) + `…"`,
		},
		{
			name: "text of exactly 60 characters with a newline",
			data: `{"id":"a b","label":"","lang":"","text":"` + strings.Repeat("x", 58) + `\ny"}`,
			want: `- - "a b" "` + strings.Repeat("x", 58) + `\ny"`,
		},
		{
			name: "dead letter",
			data: `{"reason":"missing_text","error":"text is missing","source":{"topic":"events","partition":3,"offset":42},"raw_base64":"e30="}`,
			want: `DLQ missing_text events/3/42: text is missing`,
		},
		{
			name: "not json",
			data: "hello there",
			want: "subj.x: hello there",
		},
		{
			name: "control characters",
			data: "a\tb\xff",
			want: `subj.x: "a\tb\xff"`,
		},
		{
			name: "json of another shape",
			data: `{"foo":1}`,
			want: `subj.x: {"foo":1}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := formatTailMsg("subj.x", []byte(tc.data)); got != tc.want {
				t.Fatalf("formatTailMsg(%s)\n got %s\nwant %s", tc.data, got, tc.want)
			}
		})
	}
}

// TestProduceDemo: produce --demo and feedback --demo write the built-in
// events and corrections (what the compose seeder and the tour send).
func TestProduceDemo(t *testing.T) {
	t.Parallel()
	events, fb := uniqueName("demo-events"), uniqueName("demo-feedback")
	k := newToolKafka(t, 1, events, fb)
	if _, stderr, err := runTool(t, "", "produce", "--brokers", k.brokers, "--topic", events, "--demo", "50"); err != nil {
		t.Fatalf("produce --demo: %v\n%s", err, stderr)
	}
	if _, stderr, err := runTool(t, "", "feedback", "--brokers", k.brokers, "--topic", fb, "--demo", "40"); err != nil {
		t.Fatalf("feedback --demo: %v\n%s", err, stderr)
	}
	got := k.readTopic(t, events)
	if len(got) != 50 {
		t.Fatalf("%d events, want 50", len(got))
	}
	for i, v := range got {
		var ev struct{ ID, Text string }
		if err := json.Unmarshal([]byte(v), &ev); err != nil || ev.ID != fmt.Sprintf("seed-%d", i) || ev.Text != demoSamples[i%len(demoSamples)] {
			t.Fatalf("event %d = %s (%v)", i, v, err)
		}
	}
	labels := map[string]int{}
	for _, v := range k.readTopic(t, fb) {
		var c struct{ Text, Label, Lang string }
		if err := json.Unmarshal([]byte(v), &c); err != nil || c.Text == "" || c.Lang != "en" {
			t.Fatalf("correction %s (%v)", v, err)
		}
		labels[c.Label]++
	}
	if labels["positive"] != 20 || labels["negative"] != 10 || labels["neutral"] != 10 {
		t.Fatalf("correction labels %v, want 20 positive, 10 negative, 10 neutral", labels)
	}
	if _, _, err := runTool(t, "", "produce", "--brokers", k.brokers, "--topic", events, "--demo", "0"); err == nil || !strings.Contains(err.Error(), "--demo = 0") {
		t.Fatalf("produce --demo 0: %v, want a range error", err)
	}
}
