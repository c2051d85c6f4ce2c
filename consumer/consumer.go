package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/event"
)

// Stats is a snapshot of a Consumer's counters, for metrics. Counters are
// totals since New.
type Stats struct {
	Fetched      int64 // records returned by Fetch
	BadEvents    int64 // records returned with a DecodeError
	Commits      int64 // successful commit requests
	CommitErrors int64 // failed commit requests
	Generations  int64 // group generations (assignments) seen
	Partitions   []event.PartitionStats
}

// Consumer consumes the configured topics in a consumer group with kafka-go,
// decodes each value into an Event, and commits an offset only once every
// record up to it is done (see Tracker).
//
// Lifecycle: New joins the group in the background and starts the committer;
// the caller loops Fetch, processes records and calls Done; Close commits
// what is done, leaves the group and stops every goroutine. Fetch is meant
// for one goroutine (concurrent calls are serialized); Done, MarkDone and
// Stats are safe from any goroutine.
type Consumer struct {
	cfg     Config
	log     *slog.Logger
	tracker *Tracker
	decode  event.DecodeOptions

	// reader is set once every topic exists (see awaitTopics), just before
	// ready is closed; it stays nil if Close comes first. startErr, set
	// before ready is closed, is a permanent startup failure (for example
	// rejected credentials) that Fetch returns.
	reader   *kafka.Reader
	ready    chan struct{}
	startErr error

	dialer *kafka.Dialer // for Reachable
	reach  reachCache

	fetchMu  sync.Mutex // serializes Fetch so offsets reach the Tracker in order
	commitMu sync.Mutex // serializes commits (committer and Close)

	runCtx    context.Context // cancelled when Close starts; never a caller's ctx
	cancelRun context.CancelFunc
	wg        sync.WaitGroup // the committer

	closed     atomic.Bool
	closeOnce  sync.Once
	commitErr  error         // final commit of Close, set inside closeOnce
	readerDone chan struct{} // closed when kafka-go's Reader.Close returned
	readerErr  error         // set before readerDone is closed

	fetched, badEvents, commits, commitErrors, generations atomic.Int64
}

// New validates cfg and returns a Consumer that joins cfg.Group in the
// background. Connection and group errors surface from Fetch.
func New(cfg Config, opts ...Option) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	dialer := o.dialer
	if dialer == nil {
		d, err := newDialer(cfg)
		if err != nil {
			return nil, fmt.Errorf("consumer for group %s: %w", cfg.Group, err)
		}
		dialer = d
	}
	start := kafka.FirstOffset
	if cfg.StartOffset == "latest" {
		start = kafka.LastOffset
	}
	c := &Consumer{
		cfg:        cfg,
		log:        o.logger,
		tracker:    NewTracker(),
		decode:     event.DecodeOptions{Format: cfg.Format, MaxBytes: cfg.MaxBytes},
		readerDone: make(chan struct{}),
		ready:      make(chan struct{}),
	}
	rc := kafka.ReaderConfig{
		Brokers:     cfg.Brokers,
		GroupID:     cfg.Group,
		GroupTopics: cfg.Topics,
		Dialer:      dialer,
		MinBytes:    1,
		MaxBytes:    int(cfg.FetchMaxBytes),
		MaxWait:     cfg.FetchMaxWait,
		// 0: CommitMessages is synchronous; the committer does the batching.
		CommitInterval:        0,
		StartOffset:           start,
		HeartbeatInterval:     cfg.HeartbeatInterval,
		SessionTimeout:        cfg.SessionTimeout,
		RebalanceTimeout:      cfg.RebalanceTimeout,
		WatchPartitionChanges: true,
		IsolationLevel:        kafka.ReadCommitted,
		Logger:                groupLogger{log: o.logger, onJoin: c.tracker.BeginRebalance, onAssign: c.onAssign},
		ErrorLogger:           errorLogger{log: o.logger},
	}
	if err := rc.Validate(); err != nil { // kafka.NewReader panics on what Validate rejects
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	c.dialer = dialer
	c.runCtx, c.cancelRun = context.WithCancel(context.Background())
	c.wg.Add(2)
	go c.runCommitter()
	go c.start(rc, dialer)
	return c, nil
}

// start creates the kafka-go Reader once every topic exists, or records a
// permanent failure, then closes ready. kafka-go's group never picks up a
// topic that was missing when the group was joined (its partition watcher
// gives up at startup), so joining earlier would leave the consumer with no
// partitions for good.
func (c *Consumer) start(rc kafka.ReaderConfig, d *kafka.Dialer) {
	defer c.wg.Done()
	defer close(c.ready)
	if err := awaitTopics(c.runCtx, d, c.cfg.Brokers, c.cfg.Topics, c.log); err != nil {
		if c.runCtx.Err() == nil {
			c.startErr = fmt.Errorf("consumer for group %s: %w", c.cfg.Group, err)
		}
		return
	}
	c.reader = kafka.NewReader(rc)
}

// onAssign is called by kafka-go's group goroutine when a generation starts.
func (c *Consumer) onAssign(a map[TopicPartition]int64) {
	c.generations.Add(1)
	c.tracker.Assign(a)
	c.log.Info("consumer group assignment", "group", c.cfg.Group, "partitions", len(a))
}

// Fetch returns between 1 and max records, blocking until the first one
// arrives or ctx ends, then waiting at most Config.FetchLinger for more.
// Every returned record is in flight until Done is called for it. A value
// that does not decode is returned with Record.Err set, not as an error.
// After Close has started Fetch returns ErrClosed.
func (c *Consumer) Fetch(ctx context.Context, max int) ([]event.Record, error) {
	if max <= 0 {
		return nil, fmt.Errorf("fetch from group %s: max %d: must be positive", c.cfg.Group, max)
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	if c.closed.Load() {
		return nil, ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.runCtx, cancel)() // Close aborts a blocked Fetch

	select {
	case <-c.ready:
	case <-ctx.Done():
		if c.closed.Load() {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("fetch from group %s: %w", c.cfg.Group, ctx.Err())
	}
	if c.startErr != nil {
		return nil, c.startErr
	}
	if c.reader == nil {
		return nil, ErrClosed
	}
	m, err := c.reader.FetchMessage(ctx)
	if err != nil {
		if c.closed.Load() || errors.Is(err, io.EOF) {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("fetch from group %s: %w", c.cfg.Group, err)
	}
	recs := make([]event.Record, 0, min(max, 64))
	recs = append(recs, c.record(m))
	if max > 1 {
		lctx, lcancel := context.WithTimeout(ctx, c.cfg.FetchLinger)
		for len(recs) < max {
			m, err := c.reader.FetchMessage(lctx)
			if err != nil {
				// The linger ended, or an error the next Fetch reports.
				break
			}
			recs = append(recs, c.record(m))
		}
		lcancel()
	}
	return recs, nil
}

// record marks m in flight and decodes it.
func (c *Consumer) record(m kafka.Message) event.Record {
	c.tracker.Fetched(m.Topic, m.Partition, m.Offset)
	c.fetched.Add(1)
	r := event.Record{
		Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
		Key: m.Key, Value: m.Value, Time: m.Time,
	}
	if len(m.Headers) > 0 {
		r.Headers = make([]event.Header, len(m.Headers))
		for i, h := range m.Headers {
			r.Headers[i] = event.Header{Key: h.Key, Value: h.Value}
		}
	}
	ev, err := event.Decode(event.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}, m.Value, c.decode)
	if err != nil {
		r.Err = err.(*event.DecodeError)
		c.badEvents.Add(1)
	} else {
		r.Event = ev
	}
	return r
}

// Done marks records done: their results were acknowledged downstream or
// they went to the DLQ. Order does not matter; the committer commits each
// partition's contiguous done prefix. Marking a record twice, or one the
// group has since revoked, is a no-op.
func (c *Consumer) Done(recs ...event.Record) {
	for _, r := range recs {
		c.tracker.Done(r.Topic, r.Partition, r.Offset)
	}
}

// MarkDone is Done by coordinates.
func (c *Consumer) MarkDone(topic string, partition int, offset int64) {
	c.tracker.Done(topic, partition, offset)
}

// Stats returns a snapshot of the counters and of every owned partition.
func (c *Consumer) Stats() Stats {
	return Stats{
		Fetched:      c.fetched.Load(),
		BadEvents:    c.badEvents.Load(),
		Commits:      c.commits.Load(),
		CommitErrors: c.commitErrors.Load(),
		Generations:  c.generations.Load(),
		Partitions:   c.tracker.Stats(),
	}
}

// PartitionStats returns the per-partition offsets of the records this
// member tracks (Stats().Partitions alone).
func (c *Consumer) PartitionStats() []event.PartitionStats { return c.tracker.Stats() }

// Commit commits the watermark of every partition whose done prefix moved.
// The committer calls it every Config.CommitInterval and Close calls it once
// more; calling it directly is only needed to commit sooner.
func (c *Consumer) Commit(ctx context.Context) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	offs := c.tracker.Committable()
	if len(offs) == 0 {
		return nil
	}
	// Records were fetched, so start has set the reader.
	msgs := make([]kafka.Message, len(offs))
	for i, o := range offs {
		// kafka-go commits Message.Offset+1.
		msgs[i] = kafka.Message{Topic: o.Topic, Partition: o.Partition, Offset: o.Offset - 1}
	}
	c.log.Debug("commit", "offsets", describeOffsets(offs))
	if err := c.reader.CommitMessages(ctx, msgs...); err != nil {
		c.commitErrors.Add(1)
		return fmt.Errorf("commit %s for group %s: %w", describeOffsets(offs), c.cfg.Group, err)
	}
	c.tracker.Committed(offs)
	c.commits.Add(1)
	return nil
}

// runCommitter commits periodically until Close cancels runCtx.
func (c *Consumer) runCommitter() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-c.runCtx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(c.runCtx, c.cfg.CommitTimeout)
			err := c.Commit(ctx)
			cancel()
			if err != nil && c.runCtx.Err() == nil {
				// Nobody to return it to; the next tick retries.
				c.log.Warn("periodic commit", "err", err)
			}
		}
	}
}

// Close stops Fetch and the committer, commits every done offset (unless a
// rebalance is in progress: then it returns an error wrapping
// ErrRebalancing naming what it could not commit), then
// closes the kafka-go Reader, which leaves the group. Everything is bounded
// by ctx: if ctx ends first Close returns an error wrapping ctx.Err() while
// the Reader finishes closing in the background (kafka-go's Close can hang,
// kafka-go issues #1248 and #1353); a later Close waits for it again.
// Close is safe to call more than once and from several goroutines; every
// call returns the first call's commit error joined with the Reader's.
func (c *Consumer) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.cancelRun()
		c.wg.Wait()
		c.commitErr = c.Commit(ctx)
		if w := c.tracker.Withheld(); c.commitErr == nil && len(w) > 0 {
			c.commitErr = fmt.Errorf("close group %s: %w: %s", c.cfg.Group, ErrRebalancing, describeOffsets(w))
		}
		go func() { // owned by c: readerDone says when it ended
			defer close(c.readerDone)
			if c.reader == nil { // no topic to wait for any more; the group was never joined
				return
			}
			if err := c.reader.Close(); err != nil {
				c.readerErr = fmt.Errorf("close reader for group %s: %w", c.cfg.Group, err)
			}
		}()
	})
	select {
	case <-c.readerDone:
		return errors.Join(c.commitErr, c.readerErr)
	case <-ctx.Done():
		return errors.Join(c.commitErr, fmt.Errorf("close reader for group %s: %w", c.cfg.Group, ctx.Err()))
	}
}

// describeOffsets formats offsets as "t[p]@o, ..." for error messages,
// listing at most four.
func describeOffsets(offs []Offset) string {
	var b strings.Builder
	for i, o := range offs {
		if i == 4 {
			fmt.Fprintf(&b, " and %d more", len(offs)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s[%d]@%d", o.Topic, o.Partition, o.Offset)
	}
	return b.String()
}
