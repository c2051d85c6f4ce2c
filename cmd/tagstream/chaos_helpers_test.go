package main

// Helpers of the chaos tests (chaos_test.go): the rig of topic, group and
// stream, the `tagstream run` subprocesses, and the read-back tally.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"
)

const (
	chaosEnv     = "TAGSTREAM_CHAOS"
	chaosSeedEnv = "TAGSTREAM_CHAOS_SEED"

	// chaosMaxInFlight is queue_size + nats.max_pending_acks at their
	// defaults (4096 each): the records one instance holds unacknowledged
	// before it stops fetching (service.go server.PipelineConfig).
	chaosMaxInFlight = 4096 + 4096
)

var chaosSeq atomic.Int64

// chaosRig is one chaos test's world: the real brokers, the tagstream
// binary, and names (topic, group, stream, subjects, model bucket) unique
// to the test.
type chaosRig struct {
	brokers, natsURL string
	bin, dir, repo   string

	topic, group, stream, prefix, dlq, bucket string
	partitions                                int

	transport *kafka.Transport
	nc        *nats.Conn
	js        jetstream.JetStream
}

// newChaosRig skips the test unless the chaos environment is set, builds
// the binary, creates the topic with the given partitions, and connects to
// NATS. Cleanup deletes the topic, the stream and the model bucket.
func newChaosRig(t *testing.T, partitions int) *chaosRig {
	t.Helper()
	r := &chaosRig{brokers: os.Getenv("TAGSTREAM_KAFKA_BROKERS"), natsURL: os.Getenv("TAGSTREAM_NATS_URL"), partitions: partitions}
	if os.Getenv(chaosEnv) != "1" || r.brokers == "" || r.natsURL == "" {
		t.Skipf("chaos test against real brokers: set %s=1, TAGSTREAM_KAFKA_BROKERS and TAGSTREAM_NATS_URL "+
			"(it kills subprocesses and restarts the brokers of deploy/local; .ci/run starts them)", chaosEnv)
	}
	r.dir = t.TempDir()
	var err error
	if r.repo, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		t.Fatal(err)
	}
	r.bin = filepath.Join(r.dir, "tagstream")
	t0 := time.Now()
	if out, err := exec.Command("go", "build", "-o", r.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", r.bin, time.Since(t0).Round(time.Millisecond))

	u := fmt.Sprintf("chaos%d_%d", time.Now().UnixNano()%1e9, chaosSeq.Add(1))
	r.topic, r.group, r.stream = "tagstream."+u, u, "CHAOS_"+u
	r.prefix, r.dlq, r.bucket = u+".results", u+".dlq", u+"_models"

	r.transport = &kafka.Transport{ClientID: "tagstream-chaos-test"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := r.client().CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: r.topic, NumPartitions: partitions, ReplicationFactor: 1,
	}}})
	if err == nil {
		err = resp.Errors[r.topic]
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", r.topic, err)
	}
	r.nc, err = nats.Connect(r.natsURL, nats.Name("tagstream-chaos-test"), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.ReconnectBufSize(-1))
	if err != nil {
		t.Fatalf("connect to %s: %v", r.natsURL, err)
	}
	if r.js, err = jetstream.New(r.nc); err != nil {
		t.Fatal(err)
	}
	// Registered before any subprocess starts, so it runs after they are
	// all gone.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for name, err := range map[string]error{
			"stream " + r.stream:       r.js.DeleteStream(ctx, r.stream),
			"object store " + r.bucket: r.js.DeleteObjectStore(ctx, r.bucket),
			"topic " + r.topic:         r.deleteTopic(ctx),
		} {
			if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrBucketNotFound) {
				t.Logf("cleanup: delete %s: %v", name, err)
			}
		}
		r.nc.Close()
		r.transport.CloseIdleConnections()
	})
	return r
}

func (r *chaosRig) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(strings.Split(r.brokers, ",")...), Transport: r.transport, Timeout: 10 * time.Second}
}

func (r *chaosRig) deleteTopic(ctx context.Context) error {
	resp, err := r.client().DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{r.topic}})
	if err != nil {
		return err
	}
	return resp.Errors[r.topic]
}

// env is the environment of a tagstream subprocess: the test's own without
// any TAGSTREAM_* variable, then this rig's configuration, then extra.
func (r *chaosRig) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TAGSTREAM_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"TAGSTREAM_KAFKA_BROKERS="+r.brokers,
		"TAGSTREAM_NATS_URL="+r.natsURL,
		"TAGSTREAM_KAFKA_TOPICS="+r.topic,
		"TAGSTREAM_KAFKA_GROUP="+r.group,
		"TAGSTREAM_NATS_STREAM="+r.stream,
		"TAGSTREAM_OUTPUT_SUBJECT_PREFIX="+r.prefix,
		"TAGSTREAM_OUTPUT_DLQ_SUBJECT="+r.dlq,
		"TAGSTREAM_MODELS_BUCKET="+r.bucket,
	)
	return append(env, extra...)
}

// produce writes n built-in demo events to the topic with `tagstream
// produce --demo` (round robin over the partitions).
func (r *chaosRig) produce(t *testing.T, n int) {
	t.Helper()
	cmd := exec.Command(r.bin, "produce", "--brokers", r.brokers, "--topic", r.topic, "--demo", strconv.Itoa(n))
	cmd.Env = r.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("produce %d events: %v\n%s", n, err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// endOffsets returns the end offset of every partition.
func (r *chaosRig) endOffsets(ctx context.Context) ([]int64, error) {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for p := range r.partitions {
		req.Topics[r.topic] = append(req.Topics[r.topic], kafka.LastOffsetOf(p))
	}
	resp, err := r.client().ListOffsets(ctx, req)
	if err != nil {
		return nil, err
	}
	ends := make([]int64, r.partitions)
	for _, po := range resp.Topics[r.topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("list offsets %s[%d]: %w", r.topic, po.Partition, po.Error)
		}
		ends[po.Partition] = po.LastOffset
	}
	return ends, nil
}

// committed returns the group's committed offset of every partition (-1:
// none yet).
func (r *chaosRig) committed(ctx context.Context) ([]int64, error) {
	parts := make([]int, r.partitions)
	for i := range parts {
		parts[i] = i
	}
	resp, err := r.client().OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: r.group, Topics: map[string][]int{r.topic: parts}})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	out := make([]int64, r.partitions)
	for _, p := range resp.Topics[r.topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("offset fetch %s[%d]: %w", r.topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

// lag is the sum over partitions of end minus committed offset.
func (r *chaosRig) lag() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := r.endOffsets(ctx)
	if err != nil {
		return 0, err
	}
	com, err := r.committed(ctx)
	if err != nil {
		return 0, err
	}
	var lag int64
	for p := range ends {
		lag += ends[p] - max(com[p], 0)
	}
	return lag, nil
}

// waitCommitted waits until the group has committed every partition to its
// end, which happens only once every record's result was acknowledged.
func (r *chaosRig) waitCommitted(t *testing.T, timeout time.Duration) {
	t.Helper()
	pollEvery(t, 100*time.Millisecond, timeout, func() error {
		lag, err := r.lag()
		if err == nil && lag != 0 {
			err = fmt.Errorf("group %s: %d records not committed", r.group, lag)
		}
		return err
	})
}

// streamMsgs returns the number of messages in the stream.
func (r *chaosRig) streamMsgs() (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := r.js.Stream(ctx, r.stream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// chaosTally is what the stream holds for the topic.
type chaosTally struct {
	events     int64 // records in the topic (sum of end offsets)
	results    int   // messages in the stream (results and dead letters)
	deadLetter int
	lost       int64 // records with no message in the stream
	duplicates int   // messages beyond the first for one record
}

// tally reads the whole stream with an ordered consumer and counts the
// messages of every record by their Nats-Msg-Id (topic/partition/offset,
// "dlq/" first for dead letters). Every subprocess must have stopped.
func (r *chaosRig) tally(t *testing.T) chaosTally {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ends, err := r.endOffsets(ctx)
	if err != nil {
		t.Fatalf("end offsets: %v", err)
	}
	s, err := r.js.Stream(ctx, r.stream)
	if err != nil {
		t.Fatalf("stream %s: %v", r.stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", r.stream, err)
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("ordered consumer on %s: %v", r.stream, err)
	}
	var tl chaosTally
	seen := make(map[string]int, info.State.Msgs)
	for uint64(tl.results) < info.State.Msgs {
		batch, err := c.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("read %s after %d of %d messages: %v", r.stream, tl.results, info.State.Msgs, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			tl.results++
			id := m.Headers().Get(jetstream.MsgIDHeader)
			if rest, ok := strings.CutPrefix(id, "dlq/"); ok {
				tl.deadLetter++
				id = rest
			}
			seen[id]++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("read %s after %d of %d messages: %v", r.stream, tl.results, info.State.Msgs, err)
		}
		if n == 0 {
			t.Fatalf("read %s: nothing more after %d of %d messages", r.stream, tl.results, info.State.Msgs)
		}
	}
	known := 0
	for p, end := range ends {
		tl.events += end
		for o := range end {
			if cnt := seen[r.topic+"/"+strconv.Itoa(p)+"/"+strconv.FormatInt(o, 10)]; cnt == 0 {
				tl.lost++
			} else {
				known += cnt
				tl.duplicates += cnt - 1
			}
		}
	}
	if known != tl.results {
		t.Errorf("stream %s: %d of %d messages name no record of %s (ends %v)", r.stream, tl.results-known, tl.results, r.topic, ends)
	}
	return tl
}

// check fails the test unless every record is in the stream exactly once
// and the topic holds want records.
func (tl chaosTally) check(t *testing.T, want int64) {
	t.Helper()
	if tl.events != want || tl.lost != 0 || tl.duplicates != 0 {
		t.Errorf("events %d (want %d), lost %d, duplicates in the stream %d (want 0 and 0)", tl.events, want, tl.lost, tl.duplicates)
	}
}

// chaosPublishes counts, with a core NATS subscriber, every publish of a
// result or dead letter that reached the server, including those the
// stream then refused as duplicates of a Nats-Msg-Id. Publishes minus
// unique ids is the number of redeliveries the stream absorbed (a lower
// bound while this connection was itself away).
type chaosPublishes struct {
	mu    sync.Mutex
	ids   map[string]int
	total int
}

func (r *chaosRig) countPublishes(t *testing.T) *chaosPublishes {
	t.Helper()
	c := &chaosPublishes{ids: map[string]int{}}
	h := func(m *nats.Msg) {
		id := m.Header.Get(jetstream.MsgIDHeader)
		c.mu.Lock()
		c.ids[id]++
		c.total++
		c.mu.Unlock()
	}
	for _, subj := range []string{r.prefix + ".>", r.dlq} {
		sub, err := r.nc.Subscribe(subj, h)
		if err != nil {
			t.Fatalf("subscribe %s: %v", subj, err)
		}
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	if err := r.nc.Flush(); err != nil {
		t.Fatalf("flush subscriptions: %v", err)
	}
	return c
}

// counts returns the publishes seen and the distinct ids among them.
func (c *chaosPublishes) counts() (total, unique int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, len(c.ids)
}

// chaosProc is one `tagstream run` subprocess; its output goes to
// <dir>/<name>.log.
type chaosProc struct {
	name, addr, log string
	cmd             *exec.Cmd
	http            *http.Client // its own connections, closed by Cleanup
	start           time.Time
	done            chan struct{}
	err             error // Wait's result, set before done is closed
}

// chaosTasks is the configuration file of every instance the rig starts.
const chaosTasks = `tasks:
  - name: sentiment
    models: {en: builtin:sentiment-en, zh: builtin:sentiment-zh}
  - name: emotion
    models: {en: builtin:emotion-en}
`

// startRun starts `tagstream run` with the rig's configuration, HTTP on a
// free port and extra environment. Cleanup kills it if it still runs and,
// when the test failed, logs the end of its output.
func (r *chaosRig) startRun(t *testing.T, name string, extra ...string) *chaosProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &chaosProc{
		name: name, addr: addr, log: filepath.Join(r.dir, name+".log"), done: make(chan struct{}),
		http: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}},
	}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // the child has its own descriptor
	// Two tasks, as a team tagging a stream runs them: the route task
	// sentiment (en, zh) and the multi-label emotions (en).
	cfgPath := filepath.Join(r.dir, "tasks.yaml")
	if err := os.WriteFile(cfgPath, []byte(chaosTasks), 0o644); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(r.bin, "run", "--config", cfgPath)
	p.cmd.Env = r.env(append([]string{"TAGSTREAM_HTTP_ADDR=" + addr}, extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { // owned by p: done says it ended; Cleanup waits for it
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		p.http.CloseIdleConnections()
		if t.Failed() {
			t.Logf("%s (pid %d, exit %v), last lines of its log:\n%s", p.name, p.cmd.Process.Pid, p.err, chaosTail(p.log, 25))
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *chaosProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL unless the process has ended, and waits for it.
func (p *chaosProc) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// stop sends SIGTERM and waits up to timeout for a clean exit (status 0):
// drain, commit, leave the group.
func (p *chaosProc) stop(t *testing.T, timeout time.Duration) time.Duration {
	t.Helper()
	if hwm, err := p.status("VmHWM:"); err == nil {
		t.Logf("chaos %s: peak RSS %.0f MiB (VmHWM) before SIGTERM", p.name, float64(hwm)/(1<<20))
	}
	t0 := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s still running %v after SIGTERM", p.name, timeout)
	}
	if p.err != nil {
		t.Errorf("%s after SIGTERM: %v (want a clean exit)", p.name, p.err)
	}
	return time.Since(t0)
}

// ready reports whether /readyz answers 200; the error says why not.
func (p *chaosProc) ready() error {
	if p.exited() {
		return fmt.Errorf("%s exited: %v", p.name, p.err)
	}
	resp, err := p.http.Get("http://" + p.addr + "/readyz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s /readyz %d: %s", p.name, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

// metrics returns the sum over all label sets of each named metric.
func (p *chaosProc) metrics(names ...string) (map[string]float64, error) {
	resp, err := p.http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s /metrics: %s", p.name, resp.Status)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name := line[:strings.IndexAny(line+" ", "{ ")]
		if !want[name] {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return nil, fmt.Errorf("%s /metrics line %q: %w", p.name, line, err)
		}
		out[name] += v
	}
	return out, sc.Err()
}

// rss reads VmRSS from /proc, in bytes.
func (p *chaosProc) rss() (int64, error) { return p.status("VmRSS:") }

// status reads a memory field ("VmRSS:", "VmHWM:") of the process's
// /proc status, in bytes.
func (p *chaosProc) status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest) // "123456 kB"
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, p.cmd.Process.Pid)
}

// chaosReadyz polls a process's /readyz every 100 ms on its own goroutine
// and keeps every sample.
type chaosReadyz struct {
	mu      sync.Mutex
	samples []chaosSample
}

type chaosSample struct {
	at    time.Time
	ready bool
	why   string
}

func (p *chaosProc) watchReadyz(t *testing.T) *chaosReadyz {
	w := &chaosReadyz{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { // owned by the test: Cleanup cancels and waits
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			err := p.ready()
			s := chaosSample{at: time.Now(), ready: err == nil}
			if err != nil {
				s.why = err.Error()
			}
			w.mu.Lock()
			w.samples = append(w.samples, s)
			w.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// first returns the first sample at or after from with the given readiness.
func (w *chaosReadyz) first(from time.Time, ready bool) (chaosSample, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.samples {
		if !s.at.Before(from) && s.ready == ready {
			return s, true
		}
	}
	return chaosSample{}, false
}

// wait waits until a sample at or after from has the given readiness and
// returns the first such sample.
func (w *chaosReadyz) wait(t *testing.T, from time.Time, ready bool, timeout time.Duration) chaosSample {
	t.Helper()
	var s chaosSample
	pollEvery(t, 100*time.Millisecond, timeout, func() error {
		var ok bool
		if s, ok = w.first(from, ready); !ok {
			return fmt.Errorf("/readyz not yet ready=%v since %v", ready, from.Format(time.TimeOnly))
		}
		return nil
	})
	return s
}

// count returns the samples taken between from and to, and how many were
// ready.
func (w *chaosReadyz) count(from, to time.Time) (n, ready int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.samples {
		if !s.at.Before(from) && s.at.Before(to) {
			n++
			if s.ready {
				ready++
			}
		}
	}
	return n, ready
}

// waitPublishes waits until the core subscriber has seen n more publishes
// than base: events are flowing.
func (c *chaosPublishes) waitPublishes(t *testing.T, base, n int, timeout time.Duration) {
	t.Helper()
	pollEvery(t, 100*time.Millisecond, timeout, func() error {
		if total, _ := c.counts(); total < base+n {
			return fmt.Errorf("%d publishes, waiting for %d", total-base, n)
		}
		return nil
	})
}

// chaosSeed is TAGSTREAM_CHAOS_SEED, or a fresh seed.
func chaosSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv(chaosSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", chaosSeedEnv, s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// chaosGrep returns the first line of the file at path that contains sub.
func chaosGrep(path, sub string) string {
	b, _ := os.ReadFile(path)
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return "(none)"
}

// chaosTail returns the last n lines of the file at path.
func chaosTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestChaosCrashRestart SIGKILLs the only instance at random moments while
// it processes a backlog, restarting it each time; the stream must hold
// every event exactly once and the group must commit every partition to
// its end.

func (r *chaosRig) script(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join("deploy", "local", name), args...)
	cmd.Dir = r.repo
	out, err := cmd.CombinedOutput()
	return string(bytes.TrimSpace(out)), err
}

// requireScriptOwns skips the test unless deploy/local/<name> status says
// its broker runs and serves addr: the test restarts it. The exit status
// is not used: it also reflects the secure servers the scripts may run.
func (r *chaosRig) requireScriptOwns(t *testing.T, name, addr string) {
	t.Helper()
	out, err := r.script(t, name, "status")
	if !strings.Contains(out, "running (pid") || !strings.Contains(out+"\n", addr+",") && !strings.Contains(out+"\n", addr+" ") {
		t.Skipf("deploy/local/%s status (TAGSTREAM_LOCAL_DIR=%q) does not report a broker on %s, so this test "+
			"cannot restart it: %v: %s", name, os.Getenv("TAGSTREAM_LOCAL_DIR"), addr, err, out)
	}
}

// TestChaosBrokerRestart restarts the Kafka broker, then the NATS server,
// while one instance processes a backlog, and watches /readyz throughout.
