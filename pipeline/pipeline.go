package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagstream/tagstream/event"
)

// Source supplies records and learns which are done. *consumer.Consumer
// implements it (asserted in package consumer's tests).
type Source interface {
	// Fetch blocks until at least one record is available or ctx ends,
	// and returns at most max records. It returns an error matching
	// event.ErrClosed once the source is closed.
	Fetch(ctx context.Context, max int) ([]event.Record, error)
	// MarkDone reports that a record's result was acknowledged.
	MarkDone(topic string, partition int, offset int64)
}

// Sink publishes results and dead letters and acknowledges each accepted
// item exactly once on Acks. *producer.Publisher implements it (asserted
// in package producer's tests).
type Sink interface {
	PublishBatch(ctx context.Context, items []event.Item) (int, error)
	Acks() <-chan event.Ack
}

// Config configures a Pipeline. The zero value of every field means "use
// the default", except BatchMaxDelay, where 0 means "do not wait".
type Config struct {
	// BatchMaxSize is the largest batch, in records. Default 64, range
	// 1..4096.
	BatchMaxSize int
	// BatchMaxDelay is how long a partial batch waits for more records
	// after its first one (like Triton's max queue delay). 0 sends what is
	// queued at once. Range 0..10s.
	BatchMaxDelay time.Duration
	// BatchMaxBytes closes a batch once its record values reach this many
	// bytes (a batch always takes at least one record). Default 1 MiB, range
	// 1..1 GiB.
	BatchMaxBytes int64
	// Workers is the number of labelling workers. Default GOMAXPROCS,
	// range 1..256.
	Workers int
	// QueueSize is the capacity, in records, of the queue between the
	// fetch loop and the batcher; when it is full the pipeline stops
	// fetching. Default 4096, range 1..1048576.
	QueueSize int
	// MaxInFlight bounds the records fetched and not yet acknowledged by
	// the sink; at the bound the pipeline stops fetching (backpressure even
	// from a sink that accepts without bound). Default 2×QueueSize, range
	// BatchMaxSize..16777216.
	MaxInFlight int
	// MaxInFlightBytes bounds the record value bytes fetched and not yet
	// acknowledged; at the bound the pipeline stops fetching. Default 64
	// MiB, range 1 KiB..64 GiB.
	MaxInFlightBytes int64
	// MaxTokens, when positive, labels only the first MaxTokens tokens of a
	// text; results of cut texts (also by a model's own limit) say
	// "truncated". Range 0..8192.
	MaxTokens int
	// ShutdownTimeout bounds the soft shutdown phase. Default 30s, range
	// 1ms..10m.
	ShutdownTimeout time.Duration
	// IncludeText copies each event's text into its result. Default false.
	IncludeText bool
	// RetryBackoff is the first wait before republishing an item whose
	// publish failed; it doubles up to 5s. Default 100ms, range 1ms..5s.
	RetryBackoff time.Duration
}

// Validate checks c's ranges (after defaults) and names the field.
func (c Config) Validate() error {
	c = c.withDefaults()
	check := func(name string, v, lo, hi int64) error {
		if v < lo || v > hi {
			return fmt.Errorf("%w: %s = %d, want %d..%d", ErrInvalidConfig, name, v, lo, hi)
		}
		return nil
	}
	return errors.Join(
		check("BatchMaxSize", int64(c.BatchMaxSize), 1, 4096),
		check("BatchMaxDelay", int64(c.BatchMaxDelay), 0, int64(10*time.Second)),
		check("Workers", int64(c.Workers), 1, 256),
		check("QueueSize", int64(c.QueueSize), 1, 1<<20),
		check("MaxInFlight", int64(c.MaxInFlight), int64(c.BatchMaxSize), 1<<24),
		check("BatchMaxBytes", c.BatchMaxBytes, 1, 1<<30),
		check("MaxInFlightBytes", c.MaxInFlightBytes, 1<<10, 64<<30),
		check("MaxTokens", int64(c.MaxTokens), 0, 8192),
		check("ShutdownTimeout", int64(c.ShutdownTimeout), int64(time.Millisecond), int64(10*time.Minute)),
		check("RetryBackoff", int64(c.RetryBackoff), int64(time.Millisecond), int64(5*time.Second)),
	)
}

func (c Config) withDefaults() Config {
	if c.BatchMaxSize == 0 {
		c.BatchMaxSize = 64
	}
	if c.Workers == 0 {
		c.Workers = min(runtime.GOMAXPROCS(0), 256)
	}
	if c.QueueSize == 0 {
		c.QueueSize = 4096
	}
	if c.BatchMaxBytes == 0 {
		c.BatchMaxBytes = 1 << 20
	}
	if c.MaxInFlightBytes == 0 {
		c.MaxInFlightBytes = 64 << 20
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = max(2*c.QueueSize, c.BatchMaxSize)
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = 100 * time.Millisecond
	}
	return c
}

// Option sets a test hook or an injected dependency of New.
type Option func(*options)

type options struct {
	log       *slog.Logger
	reg       prometheus.Registerer
	now       func() time.Time
	fetchHook func([]event.Record)
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegisterer registers the pipeline's metrics on r (default: none).
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.reg = r } }

// WithClock replaces time.Now (for tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Pipeline moves records from a Source through the models to a Sink. See
// the package documentation. SetModels, Models and Stats are safe from any
// goroutine; Run is called once.
type Pipeline struct {
	cfg    Config
	src    Source
	sink   Sink
	log    *slog.Logger
	now    func() time.Time
	m      *metrics
	models atomic.Pointer[Snapshot]
	hook   func([]event.Record) // WithFetchHook, or nil

	running  atomic.Bool
	inFlight atomic.Int64  // fetched, not yet acknowledged
	inBytes  atomic.Int64  // their record value bytes
	idle     chan struct{} // cap 1: signalled when inFlight drops to 0
	freed    chan struct{} // cap 1: signalled when inFlight drops

	// Fetching paused for backpressure: finished pauses, and the start
	// (UnixNano) of the current one or 0.
	pausedNanos, pauseStart atomic.Int64

	retryMu sync.Mutex
	retries []*pending
	retryC  chan struct{} // cap 1

	consumed, published, deadLetters, publishErrors atomic.Int64
}

// New returns a Pipeline. It does not start anything.
func New(cfg Config, src Source, sink Sink, models *Snapshot, opts ...Option) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || sink == nil {
		return nil, fmt.Errorf("%w: nil source or sink", ErrInvalidConfig)
	}
	if models == nil {
		return nil, ErrNoModels
	}
	o := options{log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	p := &Pipeline{
		cfg:    cfg.withDefaults(),
		src:    src,
		sink:   sink,
		log:    o.log,
		now:    o.now,
		hook:   o.fetchHook,
		idle:   make(chan struct{}, 1),
		freed:  make(chan struct{}, 1),
		retryC: make(chan struct{}, 1),
	}
	m, err := newMetrics(o.reg, p)
	if err != nil {
		return nil, err
	}
	p.m = m
	p.SetModels(models)
	return p, nil
}

// SetModels swaps in a new model Snapshot. Batches already being labelled
// finish with the old one; every later batch uses s. It never blocks the
// workers. s must not be modified afterwards.
func (p *Pipeline) SetModels(s *Snapshot) {
	if s == nil {
		return
	}
	p.models.Store(s)
	p.m.setModels(s)
	p.log.Info("models in service", "langs", describeSnapshot(s))
}

// Models returns the Snapshot in service.
func (p *Pipeline) Models() *Snapshot { return p.models.Load() }

func describeSnapshot(s *Snapshot) string {
	out := ""
	for i, l := range s.order {
		m := s.langs[l]
		if i > 0 {
			out += ", "
		}
		out += l + ":"
		for _, t := range m.Tasks {
			out += fmt.Sprintf(" %s %s,", t.Task, t.Version)
		}
		out += " ner " + m.NERVersion
	}
	return out
}

// Stats are the pipeline's counters since New.
type Stats struct {
	Consumed      int64 // records fetched
	Published     int64 // results acknowledged by the sink
	DeadLetters   int64 // dead letters acknowledged by the sink
	PublishErrors int64 // failed publishes (each was retried)
	InFlight      int64 // fetched records not yet acknowledged
	InFlightBytes int64 // their record value bytes
}

// Stats returns a snapshot of the counters.
func (p *Pipeline) Stats() Stats {
	return Stats{
		Consumed:      p.consumed.Load(),
		Published:     p.published.Load(),
		DeadLetters:   p.deadLetters.Load(),
		PublishErrors: p.publishErrors.Load(),
		InFlight:      p.inFlight.Load(),
		InFlightBytes: p.inBytes.Load(),
	}
}

// Running reports whether Run is running and has not started to shut down.
func (p *Pipeline) Running() bool { return p.running.Load() }

// Run processes records until ctx ends, then shuts down in two phases (see
// the package documentation) and returns once every goroutine it started
// has exited. It returns nil after a clean drain, or an error saying how
// many records were still in flight when the soft phase ran out; those are
// not marked done and will be redelivered.
func (p *Pipeline) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return fmt.Errorf("pipeline: Run called twice")
	}
	// hard ends ShutdownTimeout after ctx: everything but the fetch loop
	// lives on it so in-flight work can finish.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	stopTimer := context.AfterFunc(ctx, func() {
		p.running.Store(false)
		t := time.AfterFunc(p.cfg.ShutdownTimeout, cancelHard)
		context.AfterFunc(hard, func() { t.Stop() })
	})
	defer stopTimer()

	records := make(chan event.Record, p.cfg.QueueSize)
	batches := make(chan []event.Record, p.cfg.Workers)

	var stages, background sync.WaitGroup
	stages.Add(2 + p.cfg.Workers)
	go func() { defer stages.Done(); p.fetchLoop(ctx, hard, records) }()
	go func() { defer stages.Done(); p.batcher(hard, records, batches) }()
	for i := 0; i < p.cfg.Workers; i++ {
		go func() { defer stages.Done(); newWorker(p).run(hard, batches) }()
	}
	stopAcks := make(chan struct{})
	background.Add(2)
	go func() { defer background.Done(); p.ackLoop(hard, stopAcks) }()
	go func() { defer background.Done(); p.retryLoop(hard, stopAcks) }()

	stages.Wait() // ctx ended and every fetched record was handed to the sink (or hard ended)
	err := p.waitIdle(hard)
	close(stopAcks)
	background.Wait()
	p.running.Store(false)
	if err != nil {
		n := p.inFlight.Load()
		p.log.Warn("shutdown deadline passed with records in flight", "in_flight", n, "timeout", p.cfg.ShutdownTimeout)
		return fmt.Errorf("pipeline: shutdown after %v with %d records unacknowledged (they stay uncommitted and will be redelivered)", p.cfg.ShutdownTimeout, n)
	}
	return nil
}

// waitIdle waits until nothing is in flight or hard ends.
func (p *Pipeline) waitIdle(hard context.Context) error {
	for p.inFlight.Load() > 0 {
		select {
		case <-p.idle:
		case <-hard.Done():
			return hard.Err()
		}
	}
	return nil
}

// done ends one record's flight.
func (p *Pipeline) done(n, bytes int64) {
	p.inBytes.Add(-bytes)
	if p.inFlight.Add(-n) == 0 {
		select {
		case p.idle <- struct{}{}:
		default:
		}
	}
	select {
	case p.freed <- struct{}{}:
	default:
	}
	p.m.inFlight.Sub(float64(n))
}

// fetchLoop fetches until ctx ends and queues every record; a full queue
// blocks it (backpressure). It closes records when it returns.
func (p *Pipeline) fetchLoop(ctx, hard context.Context, records chan<- event.Record) {
	defer close(records)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		room := p.cfg.MaxInFlight - int(p.inFlight.Load())
		if room <= 0 || p.inBytes.Load() >= p.cfg.MaxInFlightBytes {
			p.m.throttled.Inc()
			p.pauseStart.Store(time.Now().UnixNano())
			select {
			case <-p.freed:
			case <-ctx.Done():
			}
			p.pausedNanos.Add(time.Now().UnixNano() - p.pauseStart.Swap(0))
			continue
		}
		recs, err := p.src.Fetch(ctx, min(p.cfg.BatchMaxSize, room))
		if err != nil {
			if errors.Is(err, event.ErrClosed) || ctx.Err() != nil {
				return
			}
			p.m.fetchErrors.Inc()
			p.log.Warn("fetch", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		p.inBytes.Add(valueBytes(recs))
		p.inFlight.Add(int64(len(recs)))
		p.m.inFlight.Add(float64(len(recs)))
		p.consumed.Add(int64(len(recs)))
		p.m.consumed.Add(float64(len(recs)))
		if p.hook != nil {
			p.hook(recs)
		}
		for i, r := range recs {
			select {
			case records <- r:
			case <-hard.Done(): // fetched but never queued: they stay uncommitted
				p.done(int64(len(recs)-i), valueBytes(recs[i:]))
				return
			}
		}
	}
}

// batcher groups records into batches of at most BatchMaxSize, sending a
// partial batch BatchMaxDelay after its first record. It flushes what it
// holds and closes batches when records is closed.
func (p *Pipeline) batcher(hard context.Context, records <-chan event.Record, batches chan<- []event.Record) {
	defer close(batches)
	max := p.cfg.BatchMaxSize
	var cur []event.Record
	var curBytes int64
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var timerC <-chan time.Time
	send := func() bool {
		if len(cur) == 0 {
			return true
		}
		timer.Stop()
		timerC = nil
		select {
		case batches <- cur:
			cur, curBytes = nil, 0
			return true
		case <-hard.Done():
			p.done(int64(len(cur)), curBytes)
			return false
		}
	}
	for {
		select {
		case r, ok := <-records:
			if !ok {
				send()
				return
			}
			if cur == nil {
				cur = make([]event.Record, 0, max)
			}
			cur = append(cur, r)
			curBytes += int64(len(r.Value))
			if len(cur) >= max || curBytes >= p.cfg.BatchMaxBytes {
				if !send() {
					return
				}
				continue
			}
			if len(cur) == 1 && p.cfg.BatchMaxDelay > 0 {
				timer.Reset(p.cfg.BatchMaxDelay)
				timerC = timer.C
			}
			if p.cfg.BatchMaxDelay == 0 && len(records) == 0 {
				if !send() {
					return
				}
			}
		case <-timerC:
			timerC = nil
			if !send() {
				return
			}
		case <-hard.Done():
			p.done(int64(len(cur)), curBytes)
			// Drain what was queued so the fetch loop is not stuck sending.
			for r := range records {
				p.done(1, int64(len(r.Value)))
			}
			return
		}
	}
}

// pausedSeconds is how long fetching has been paused for backpressure,
// the current pause included.
func (p *Pipeline) pausedSeconds() float64 {
	n := p.pausedNanos.Load()
	if s := p.pauseStart.Load(); s != 0 {
		n += time.Now().UnixNano() - s
	}
	return float64(n) / 1e9
}

// valueBytes is the total size of the records' values.
func valueBytes(recs []event.Record) int64 {
	var n int64
	for i := range recs {
		n += int64(len(recs[i].Value))
	}
	return n
}
