package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model/dataset"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/server"
)

func newBenchCmd() *cobra.Command {
	bench := &cobra.Command{Use: "bench", Short: "Measure the running system"}
	bench.AddCommand(newBenchE2ECmd(), newBenchCurveCmd(), newBenchDriftCmd())
	return bench
}

// benchReport is the --json output of bench e2e.
type benchReport struct {
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
	Swaps          int     `json:"swaps,omitempty"`
	NoVersion      int     `json:"results_without_version"`
	StaleAfterSwap int     `json:"stale_after_swap"`
	Versions       int     `json:"versions_seen"`
	Model          string  `json:"model"`
	Workers        int     `json:"workers"`
	BatchSize      int     `json:"batch_max_size"`
	BatchDelayMS   float64 `json:"batch_max_delay_ms"`
	Partitions     int     `json:"partitions"`
	Rate           float64 `json:"rate"`
	Mode           string  `json:"nats_mode"`
	Brokers        string  `json:"brokers"`
}

type benchOptions struct {
	embedded    bool
	brokers     string
	natsURL     string
	events      int
	rate        float64
	modelName   string
	input       string
	partitions  int
	jsonOut     bool
	idleTimeout time.Duration
	cpuProfile  string
	memProfile  string
	swapEvery   time.Duration
}

func newBenchE2ECmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "e2e [--embedded | --brokers B --nats URL] --events N [--rate R] [--model none] [--json]",
		Short: "Produce N timestamped events, run the pipeline, collect the results from NATS",
		Long: `Runs the pipeline in this process against the embedded brokers (--embedded) or real ones
(--brokers, --nats) on a fresh topic, consumer group and JetStream stream, produces N events
(texts from --input, JSONL {"text"} or plain lines; default a built-in mixed English/Chinese
sample) as fast as possible or at --rate events/s, subscribes to the results, and reports
events, results, lost, duplicates, events/s (first event produced to last result received) and
end-to-end latency percentiles (Kafka record timestamp to result received). --model none runs
the identity analyzer to measure the plumbing alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			rep, err := benchE2E(cmd.Context(), cfg, o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if o.jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				return enc.Encode(rep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "events %d, results %d, dead letters %d, lost %d, duplicates %d\n%.0f events/s, latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
				rep.Events, rep.Results, rep.DeadLetters, rep.Lost, rep.Duplicates, rep.EventsPerSec, rep.LatencyMS.P50, rep.LatencyMS.P95, rep.LatencyMS.P99, rep.LatencyMS.Max)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.embedded, "embedded", false, "start in-process Kafka and NATS (on free ports)")
	f.StringVar(&o.brokers, "brokers", "", "Kafka brokers (without --embedded), comma-separated")
	f.StringVar(&o.natsURL, "nats", "", "NATS URL (without --embedded)")
	f.IntVar(&o.events, "events", 100000, "events to produce")
	f.Float64Var(&o.rate, "rate", 0, "events per second (0: as fast as possible)")
	f.StringVar(&o.modelName, "model", "default", `"default" (built-in or configured models) or "none" (identity analyzer)`)
	f.StringVar(&o.input, "input", "", "texts to send: JSONL with a text field, or plain lines (default: built-in sample)")
	f.IntVar(&o.partitions, "partitions", 8, "partitions of the benchmark topic")
	f.BoolVar(&o.jsonOut, "json", false, "print one JSON object")
	f.DurationVar(&o.idleTimeout, "idle-timeout", 20*time.Second, "give up when no result arrived for this long")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured part to this file")
	f.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile (allocs since start, model loading included) to this file when the results are in")
	f.DurationVar(&o.swapEvery, "swap-every", 0, "promote a new English classifier version through the model bucket this often during the run (hot-swap load; 0: none)")
	addConfigFlags(cmd)
	return cmd
}

// benchTexts reads the texts to send.
func benchTexts(path string) ([]string, error) {
	if path == "" {
		return demoSamples, nil
	}
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

func benchE2E(ctx context.Context, cfg config.Config, o benchOptions, logw io.Writer) (*benchReport, error) {
	if o.events < 1 {
		return nil, fmt.Errorf("bench e2e: --events = %d, want >= 1", o.events)
	}
	if o.modelName != "default" && o.modelName != "none" {
		return nil, fmt.Errorf(`bench e2e: --model = %q, want "default" or "none"`, o.modelName)
	}
	if o.partitions < 1 || o.partitions > 1024 {
		return nil, fmt.Errorf("bench e2e: --partitions = %d, want 1..1024", o.partitions)
	}
	if !o.embedded && (o.brokers == "" || o.natsURL == "") {
		return nil, errors.New("bench e2e: give --embedded, or both --brokers and --nats")
	}
	texts, err := benchTexts(o.input)
	if err != nil {
		return nil, fmt.Errorf("bench e2e: --input: %w", err)
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
	if o.swapEvery > 0 {
		cfg.Models.Bucket = "tagstream_bench_" + id
	}
	if o.embedded {
		cfg.Embedded.Enabled = true
		cfg.Embedded.KafkaAddr, cfg.Embedded.NATSAddr = "127.0.0.1:0", "127.0.0.1:0"
	} else {
		cfg.Embedded.Enabled = false
		cfg.Kafka.Brokers = strings.Split(o.brokers, ",")
		cfg.NATS.URL = o.natsURL
		if err := createTopic(ctx, io.Discard, nil, cfg.Kafka.Brokers, produceOptions{topic: topic, partitions: o.partitions, replication: 1}); err != nil {
			return nil, err
		}
	}
	partitions := o.partitions
	if o.embedded {
		partitions = 8 // embedded.Start's default
	}

	s, err := server.New(ctx, cfg, log, server.Options{Identity: o.modelName == "none", NoHTTP: true})
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

	nc, err := nats.Connect(s.Config().NATS.URL)
	if err != nil {
		return nil, fmt.Errorf("bench e2e: connect to nats: %w", err)
	}
	defer nc.Close()
	col := &collector{seen: make([]uint8, o.events), changed: make(chan struct{}, 1), latencies: make([]float64, 0, o.events), versions: map[string]bool{}}
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
		o.events, topic, partitions, strings.Join(s.Config().Kafka.Brokers, ","), s.Config().NATS.URL, o.modelName, s.Config().Workers, s.Config().Batch.MaxSize)

	if o.cpuProfile != "" {
		pf, err := os.Create(o.cpuProfile)
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
	if o.swapEvery > 0 && s.ModelBucket() != nil {
		f, err := models.Open(models.SentimentEN)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		_, en := s.Models().For("en")
		hash := en.ClassifierVersion[strings.IndexByte(en.ClassifierVersion, '@')+1:]
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		var mu sync.Mutex
		go func() { // owned here: stopped and joined by stopSwaps
			defer close(done)
			t := time.NewTicker(o.swapEvery)
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
				if _, err := s.ModelBucket().Put(sctx, event.ModelObject{Lang: "en", Kind: "classifier", Seq: k, Version: ver, Metrics: "bench swap"}, data); err != nil && sctx.Err() == nil {
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
	if err := produceBench(ctx, s.Config().Kafka.Brokers, topic, partitions, texts, o.events, o.rate); err != nil {
		return nil, err
	}
	produced := time.Since(start)
	fmt.Fprintf(logw, "bench e2e: produced %d events in %v\n", o.events, produced.Round(time.Millisecond))
	for {
		n, last := col.count()
		if n >= o.events {
			break
		}
		if last.IsZero() {
			last = start.Add(produced)
		}
		if time.Since(last) > o.idleTimeout {
			fmt.Fprintf(logw, "bench e2e: no result for %v; %d of %d arrived\n", o.idleTimeout, n, o.events)
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
	if o.memProfile != "" {
		if err := writeAllocsProfile(o.memProfile); err != nil {
			return nil, err
		}
	}
	if err := stop(); err != nil {
		fmt.Fprintf(logw, "bench e2e: shutdown: %v\n", err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	rep := &benchReport{
		Events: o.events, Results: col.results, DeadLetters: col.dead, Duplicates: col.dups,
		Model: o.modelName, Workers: s.Config().Workers, BatchSize: s.Config().Batch.MaxSize, Partitions: partitions,
		Rate: o.rate, Mode: s.Config().NATS.Mode, Brokers: strings.Join(s.Config().Kafka.Brokers, ","),
	}
	rep.Lost = o.events - col.results - col.dead
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
func produceBench(ctx context.Context, brokers []string, topic string, partitions int, texts []string, n int, rate float64) error {
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

// timeNow is time.Now (one place to stub it if ever needed).
func timeNow() time.Time { return time.Now() }

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
