package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model/dataset"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/server"
)

// Report is the outcome of one E2E run (bench e2e --json).
type Report struct {
	Events       int     `json:"events"`
	Results      int     `json:"results"`
	DeadLetters  int     `json:"dead_letters"`
	Lost         int     `json:"lost"`
	Duplicates   int     `json:"duplicates"`
	EventsPerSec float64 `json:"events_per_sec"`
	LatencyMS    struct {
		P50 float64 `json:"p50"`
		P95 float64 `json:"p95"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	Swaps int `json:"swaps,omitempty"`
	// Tasks are the tasks served; TaskGaps counts results that lack a task
	// their language has a model for (should be 0).
	Tasks          []string `json:"tasks"`
	TaskGaps       int      `json:"task_gaps"`
	NoVersion      int      `json:"results_without_version"`
	StaleAfterSwap int      `json:"stale_after_swap"`
	Versions       int      `json:"versions_seen"`
	Model          string   `json:"model"`
	Workers        int      `json:"workers"`
	BatchSize      int      `json:"batch_max_size"`
	BatchDelayMS   float64  `json:"batch_max_delay_ms"`
	Partitions     int      `json:"partitions"`
	Rate           float64  `json:"rate"`
	Mode           string   `json:"nats_mode"`
	Brokers        string   `json:"brokers"`
	// PeakRSSMB is the peak resident set size of the benchmark process
	// (brokers included when embedded; the producer and collector always),
	// MiB, 0 where /proc is missing.
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// Options configure one E2E run.
type Options struct {
	// Embedded starts in-process Kafka and NATS on free ports; otherwise
	// Brokers (comma-separated) and NATSURL name real ones.
	Embedded         bool
	Brokers, NATSURL string
	// Events is the number of events produced, at Rate events/s (0: as
	// fast as possible), cycling through Texts.
	Events int
	Rate   float64
	Texts  []string
	// Model is "default" (the configured models) or "none" (the identity
	// analyzer: the plumbing alone).
	Model string
	// Partitions of the benchmark topic.
	Partitions int
	// IdleTimeout gives up when no result arrived for this long.
	IdleTimeout time.Duration
	// CPUProfile and MemProfile, when set, are written to these files.
	CPUProfile, MemProfile string
	// SwapEvery promotes a new English classifier version through the
	// model bucket this often during the run (0: none).
	SwapEvery time.Duration
	// Console serves the web console (on http.addr, texts included in
	// results) and keeps one client on its event stream for the whole run,
	// as an open browser tab does.
	Console bool
}

// ReadTexts reads the texts of a run: JSONL with a text field (.jsonl,
// .json) or plain lines.
func ReadTexts(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".json") {
		exs, _, err := dataset.ReadClassification(f, path, dataset.Options{})
		if err != nil {
			return nil, err
		}
		out := make([]string, len(exs))
		for i, e := range exs {
			out[i] = e.Text
		}
		return out, nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no texts", path)
	}
	return out, nil
}

// collector counts the results of bench events by id ("b<index>").
type collector struct {
	mu        sync.Mutex
	seen      []uint8
	results   int
	dead      int
	dups      int
	foreign   int
	latencies []float64 // ms
	last      time.Time
	noVersion int
	versions  map[string]bool
	expect    map[string][][]byte // by language: `"<task>":{"label` of each task it serves
	taskGaps  int
	swapSeen  []swapObs     // (processed_at, swap number) of English results
	changed   chan struct{} // cap 1
}

// handle records one result or dead letter. It picks the two fields it
// needs out of the JSON by hand: the collector shares the CPUs with the
// system it measures, so it should cost little.
func (c *collector) handle(m *nats.Msg) {
	now := time.Now()
	id, okID := jsonString(m.Data, `"id":"`)
	et, okT := jsonString(m.Data, `"event_time":"`)
	reason, isDead := jsonString(m.Data, `"reason":"`)
	ver, _ := jsonString(m.Data, `"classifier":"`)
	pa, _ := jsonString(m.Data, `"processed_at":"`)
	lang, _ := jsonString(m.Data, `"lang":"`)
	gap := false
	for _, key := range c.expect[lang] { // written before the subscription
		gap = gap || !bytes.Contains(m.Data, key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = now
	defer func() {
		select {
		case c.changed <- struct{}{}:
		default:
		}
	}()
	if isDead && reason != "" {
		c.dead++
		return
	}
	if !okID || !okT || !strings.HasPrefix(id, "b") {
		c.foreign++
		return
	}
	i, err := strconv.Atoi(id[1:])
	if err != nil || i < 0 || i >= len(c.seen) {
		c.foreign++
		return
	}
	c.seen[i]++
	if c.seen[i] > 1 {
		c.dups++
		return
	}
	c.results++
	if gap {
		c.taskGaps++
	}
	if ver == "" {
		c.noVersion++
	} else {
		c.versions[ver] = true
		if t, err := time.Parse(time.RFC3339Nano, pa); err == nil {
			c.swapSeen = append(c.swapSeen, swapObs{at: t, n: swapNumber(ver)})
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, et); err == nil {
		c.latencies = append(c.latencies, float64(now.Sub(t).Microseconds())/1000)
	}
}

type swapObs struct {
	at time.Time
	n  int
}

// swapNumber is K of a version "<name>.swapK@<hash>", 0 for others.
func swapNumber(v string) int {
	i := strings.Index(v, ".swap")
	if i < 0 {
		return 0
	}
	rest := v[i+5:]
	if j := strings.IndexByte(rest, '@'); j >= 0 {
		rest = rest[:j]
	}
	n, _ := strconv.Atoi(rest)
	return n
}

// jsonString returns the string value following key (which ends with the
// opening quote) in data, for values without escapes.
func jsonString(data []byte, key string) (string, bool) {
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := data[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return string(rest[:j]), true
}

func (c *collector) count() (int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.results + c.dead, c.last
}

func E2E(ctx context.Context, cfg config.Config, o Options, logw io.Writer) (*Report, error) {
	if o.Events < 1 {
		return nil, fmt.Errorf("bench e2e: --events = %d, want >= 1", o.Events)
	}
	if o.Model != "default" && o.Model != "none" {
		return nil, fmt.Errorf(`bench e2e: --model = %q, want "default" or "none"`, o.Model)
	}
	if o.Partitions < 1 || o.Partitions > 1024 {
		return nil, fmt.Errorf("bench e2e: --partitions = %d, want 1..1024", o.Partitions)
	}
	if !o.Embedded && (o.Brokers == "" || o.NATSURL == "") {
		return nil, errors.New("bench e2e: give --embedded, or both --brokers and --nats")
	}
	texts := o.Texts
	if len(texts) == 0 {
		return nil, errors.New("bench e2e: no texts to send")
	}
	log := server.NewLogger(cfg.Log, logw)
	if cfg.Log.Level == "info" {
		log = slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	topic := "tagstream.bench." + id
	cfg.Kafka.Topics = []string{topic}
	cfg.Kafka.Group = "tagstream-bench-" + id
	cfg.Kafka.FeedbackTopic = ""
	cfg.Kafka.StartOffset = "earliest"
	cfg.NATS.Stream = "TAGSTREAM_BENCH_" + strings.ToUpper(id)
	cfg.Output.SubjectPrefix = "tagstream.bench." + id + ".results"
	cfg.Output.DLQSubject = "tagstream.bench." + id + ".dlq"
	cfg.Models.Bucket = ""
	if o.SwapEvery > 0 {
		cfg.Models.Bucket = "tagstream_bench_" + id
	}
	if o.Embedded {
		cfg.Embedded.Enabled = true
		cfg.Embedded.KafkaAddr, cfg.Embedded.NATSAddr = "127.0.0.1:0", "127.0.0.1:0"
	} else {
		cfg.Embedded.Enabled = false
		cfg.Kafka.Brokers = strings.Split(o.Brokers, ",")
		cfg.NATS.URL = o.NATSURL
		if _, err := consumer.CreateTopic(ctx, cfg.Kafka.Brokers, nil, topic, o.Partitions, 1); err != nil {
			return nil, fmt.Errorf("bench e2e: %w", err)
		}
	}
	partitions := o.Partitions
	if o.Embedded {
		partitions = 8 // embedded.Start's default
	}

	if o.Console {
		cfg.HTTP.Console, cfg.Output.IncludeText = true, true
	}
	s, err := server.New(ctx, cfg, log, server.Options{Identity: o.Model == "none", NoHTTP: !o.Console})
	if err != nil {
		return nil, err
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(runCtx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stopRun()
		return <-runErr
	}
	defer stop()
	if o.Console { // after Run started: it serves HTTP
		stopViewer, err := watchConsole(ctx, s.HTTPAddr())
		if err != nil {
			return nil, err
		}
		defer stopViewer()
	}

	nc, err := nats.Connect(s.Config().NATS.URL)
	if err != nil {
		return nil, fmt.Errorf("bench e2e: connect to nats: %w", err)
	}
	defer nc.Close()
	col := &collector{seen: make([]uint8, o.Events), changed: make(chan struct{}, 1), latencies: make([]float64, 0, o.Events), versions: map[string]bool{}, expect: map[string][][]byte{}}
	snap := s.Models()
	for _, lang := range snap.Langs() {
		_, lm := snap.For(lang)
		for _, t := range lm.Tasks {
			col.expect[lang] = append(col.expect[lang], []byte(`"`+t.Task+`":{"label`))
		}
	}
	for _, subj := range []string{cfg.Output.SubjectPrefix + ".>", cfg.Output.DLQSubject} {
		sub, err := nc.Subscribe(subj, col.handle)
		if err != nil {
			return nil, fmt.Errorf("bench e2e: subscribe %s: %w", subj, err)
		}
		_ = sub.SetPendingLimits(-1, -1)
	}
	if err := nc.Flush(); err != nil {
		return nil, fmt.Errorf("bench e2e: nats flush: %w", err)
	}
	// Wait for the group to join so the join is not measured.
	deadline := time.Now().Add(60 * time.Second)
	for !s.Joined() {
		if time.Now().After(deadline) {
			return nil, errors.New("bench e2e: consumer group did not join within 60s")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	fmt.Fprintf(logw, "bench e2e: %d events to %s (%d partitions) via %s, results from %s, model %s, %d workers, batch %d\n",
		o.Events, topic, partitions, strings.Join(s.Config().Kafka.Brokers, ","), s.Config().NATS.URL, o.Model, s.Config().Workers, s.Config().Batch.MaxSize)

	if o.CPUProfile != "" {
		pf, err := os.Create(o.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var swapTimes []time.Time // when swap k+1 was stored
	stopSwaps := func() {}
	if o.SwapEvery > 0 && s.ModelBucket() != nil {
		f, err := models.Open(models.SentimentEN)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		route := s.Models().Route()
		_, en := s.Models().For("en")
		hash := en.Versions[route][strings.IndexByte(en.Versions[route], '@')+1:]
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		var mu sync.Mutex
		go func() { // owned here: stopped and joined by stopSwaps
			defer close(done)
			t := time.NewTicker(o.SwapEvery)
			defer t.Stop()
			for k := 1; ; k++ {
				select {
				case <-sctx.Done():
					return
				case <-t.C:
				}
				ver := fmt.Sprintf("sentiment-en.swap%d@%s", k, hash)
				mu.Lock()
				swapTimes = append(swapTimes, time.Now())
				mu.Unlock()
				if _, err := s.ModelBucket().Put(sctx, event.ModelObject{Lang: "en", Kind: "classifier", Task: route, Seq: k, Version: ver, Metrics: "bench swap"}, data); err != nil && sctx.Err() == nil {
					fmt.Fprintf(logw, "bench e2e: swap %d: %v\n", k, err)
				}
			}
		}()
		stopSwaps = func() {
			cancel()
			<-done
			mu.Lock()
			defer mu.Unlock()
		}
	}
	start := time.Now()
	if err := produce(ctx, s.Config().Kafka.Brokers, topic, partitions, texts, o.Events, o.Rate); err != nil {
		return nil, err
	}
	produced := time.Since(start)
	fmt.Fprintf(logw, "bench e2e: produced %d events in %v\n", o.Events, produced.Round(time.Millisecond))
	for {
		n, last := col.count()
		if n >= o.Events {
			break
		}
		if last.IsZero() {
			last = start.Add(produced)
		}
		if time.Since(last) > o.IdleTimeout {
			fmt.Fprintf(logw, "bench e2e: no result for %v; %d of %d arrived\n", o.IdleTimeout, n, o.Events)
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-col.changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
	stopSwaps()
	if o.MemProfile != "" {
		if err := writeAllocsProfile(o.MemProfile); err != nil {
			return nil, err
		}
	}
	if err := stop(); err != nil {
		fmt.Fprintf(logw, "bench e2e: shutdown: %v\n", err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	rep := &Report{
		Events: o.Events, Results: col.results, DeadLetters: col.dead, Duplicates: col.dups,
		Tasks: s.Models().Tasks(), TaskGaps: col.taskGaps,
		Model: o.Model, Workers: s.Config().Workers, BatchSize: s.Config().Batch.MaxSize, Partitions: partitions,
		Rate: o.Rate, Mode: s.Config().NATS.Mode, Brokers: strings.Join(s.Config().Kafka.Brokers, ","),
	}
	rep.Lost = o.Events - col.results - col.dead
	rep.PeakRSSMB = peakRSSMB()
	rep.BatchDelayMS = float64(s.Config().Batch.MaxDelay) / float64(time.Millisecond)
	rep.Swaps, rep.NoVersion, rep.Versions = len(swapTimes), col.noVersion, len(col.versions)
	// A result processed more than a second after swap k was stored must
	// carry swap k or a later one (the second covers the watch, loading
	// and verifying the file, and batches that began before the swap).
	for _, ob := range col.swapSeen {
		want := 0
		for k, at := range swapTimes {
			if ob.at.After(at.Add(time.Second)) {
				want = k + 1
			}
		}
		if ob.n < want {
			rep.StaleAfterSwap++
		}
	}
	if el := col.last.Sub(start).Seconds(); el > 0 {
		rep.EventsPerSec = float64(col.results+col.dead) / el
	}
	lat := col.latencies
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	rep.LatencyMS.P50, rep.LatencyMS.P95, rep.LatencyMS.P99 = q(0.50), q(0.95), q(0.99)
	if len(lat) > 0 {
		rep.LatencyMS.Max = lat[len(lat)-1]
	}
	return rep, nil
}

// produceBench writes n events {"id":"b<i>","text":...} cycling through
// texts, in chunks of up to 1000 that each go to one partition (so a chunk
// fills a kafka-go batch at once), paced to rate events/s when rate > 0.
// Each record's timestamp is its production time.
func produce(ctx context.Context, brokers []string, topic string, partitions int, texts []string, n int, rate float64) error {
	enc := make([][]byte, len(texts))
	for i, t := range texts {
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		enc[i] = b
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }),
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond,
		BatchSize:    1000,
		BatchBytes:   16 << 20,
	}
	defer w.Close()
	chunk := 1000
	if rate > 0 {
		chunk = max(1, min(1000, int(rate/200)))
	}
	start := time.Now()
	msgs := make([]kafka.Message, 0, chunk)
	for sent, part := 0, 0; sent < n; part = (part + 1) % partitions {
		if rate > 0 {
			due := start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
		}
		msgs = msgs[:0]
		now := time.Now()
		for k := 0; k < chunk && sent+k < n; k++ {
			i := sent + k
			v := make([]byte, 0, 24+len(enc[i%len(enc)]))
			v = append(v, `{"id":"b`...)
			v = strconv.AppendInt(v, int64(i), 10)
			v = append(v, `","text":`...)
			v = append(v, enc[i%len(enc)]...)
			v = append(v, '}')
			msgs = append(msgs, kafka.Message{Partition: part, Value: v, Time: now})
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("produce to %s: %w", topic, err)
		}
		sent += len(msgs)
	}
	return w.Close()
}

// writeAllocsProfile writes the allocation profile (every sampled
// allocation since the process started) to path.
func writeAllocsProfile(path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

// watchConsole keeps a client on the console's event stream at addr (an
// http:// URL), reading every event as a browser tab does, until stop.
func watchConsole(ctx context.Context, addr string) (stop func(), err error) {
	cctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, addr+"/api/v1/events", nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bench e2e: console event stream: %w", err)
	}
	done := make(chan struct{})
	go func() { // owned by the caller: ended and joined by stop
		defer close(done)
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
	return func() {
		cancel()
		resp.Body.Close()
		<-done
	}, nil
}
