package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/internal/redact"
)

// Publisher publishes Items to NATS and reports one Ack per accepted Item
// on Acks. See the package documentation for the lifecycle.
//
// PublishBatch may be called from several goroutines; Acks, Connected and
// Close are safe from any goroutine.
type Publisher struct {
	cfg Config
	log *slog.Logger
	nc  *nats.Conn
	js  jetstream.JetStream // nil in core mode

	// slots holds one token per accepted Item whose Ack the caller has not
	// yet received; its capacity is MaxPendingAcks.
	slots    chan struct{}
	acks     chan event.Ack // unbuffered, closed by the dispatcher
	wake     chan struct{}  // cap 1: the queue grew or stopping was set
	hardStop chan struct{}  // closed when Close gives up delivering acks
	closing  chan struct{}  // closed when Close starts
	connDone chan struct{}  // closed by nats' ClosedHandler
	wg       sync.WaitGroup

	mu       sync.Mutex        // guards the fields below
	closed   bool              // Close started
	active   int               // PublishBatch calls in progress
	inactive chan struct{}     // closed when active drops to 0 after Close started
	pending  map[*nats.Msg]any // jetstream: published, awaiting PubAck → Token
	idle     chan struct{}     // closed when pending becomes empty
	queue    []event.Ack       // settled, not yet handed to the dispatcher
	stopping bool              // no more Acks will be queued

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg, connects to NATS (waiting for the first connection
// until ctx ends; later disconnects are retried forever) and, in jetstream
// mode, creates or checks the stream. The Publisher owns its connection and
// one goroutine, the ack dispatcher, until Close.
func New(ctx context.Context, cfg Config, opts ...Option) (*Publisher, error) {
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
	p := &Publisher{
		cfg:      cfg,
		log:      o.logger,
		slots:    make(chan struct{}, cfg.MaxPendingAcks),
		acks:     make(chan event.Ack),
		wake:     make(chan struct{}, 1),
		hardStop: make(chan struct{}),
		closing:  make(chan struct{}),
		connDone: make(chan struct{}),
		pending:  make(map[*nats.Msg]any),
	}
	nopts, err := natsOptions(cfg, p.log, p.connDone, nil)
	if err != nil {
		return nil, err
	}
	url := redact.URLs(cfg.URL)
	nc, err := nats.Connect(cfg.URL, nopts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	p.nc = nc
	fail := func(err error) (*Publisher, error) {
		nc.Close()
		select { // the ClosedHandler runs on nats' callback goroutine
		case <-p.connDone:
		case <-ctx.Done():
		}
		return nil, err
	}
	if err := waitConnected(ctx, nc); err != nil {
		return fail(fmt.Errorf("connect to nats %s: %w", describeConn(cfg), err))
	}
	if cfg.Mode == ModeJetStream {
		p.js, err = jetstream.New(nc,
			jetstream.WithPublishAsyncMaxPending(cfg.MaxPendingAcks),
			jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
			jetstream.WithPublishAsyncAckHandler(p.onPubAck),
			jetstream.WithPublishAsyncErrHandler(p.onPubErr),
		)
		if err != nil {
			return fail(fmt.Errorf("jetstream on %s: %w", url, err))
		}
		if err := ensureStream(ctx, p.js, cfg, p.log); err != nil {
			return fail(err)
		}
	}
	p.wg.Add(1)
	go p.dispatch()
	return p, nil
}

// Acks returns the channel on which every Item accepted by PublishBatch
// gets exactly one Ack, in no particular order. It is closed when Close
// returns. The caller must receive from it concurrently with PublishBatch:
// an Ack holds one of MaxPendingAcks slots until it is received, so a
// caller that stops reading eventually blocks PublishBatch.
func (p *Publisher) Acks() <-chan event.Ack { return p.acks }

// Connected reports whether the connection to NATS is up (for /readyz).
// While it is false, publishes are buffered by the client and their Acks
// come after the reconnect, or as errors.
func (p *Publisher) Connected() bool { return p.nc.IsConnected() }

// PublishBatch publishes items in order and returns the number accepted.
// Each accepted item gets exactly one Ack on Acks; a failed publish or an
// invalid item is reported there, never here. Before accepting an item,
// PublishBatch waits while MaxPendingAcks Acks are outstanding. It returns
// early with ctx's error, or ErrClosed once Close has started; items[n:]
// were then not published and get no Ack.
//
// In core mode the accepted items are flushed before PublishBatch returns
// (and before it waits for a slot), and acknowledged by that Flush.
// PublishBatch does not retain items or what they point to.
func (p *Publisher) PublishBatch(ctx context.Context, items []event.Item) (n int, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, ErrClosed
	}
	p.active++
	p.mu.Unlock()
	defer p.leave()

	var unflushed []event.Ack // core mode: published since the last flush
	for i := range items {
		it := &items[i]
		if err := p.acquire(ctx, &unflushed); err != nil {
			if len(unflushed) > 0 { // published: give them their chance even though ctx ended
				p.flush(context.WithoutCancel(ctx), unflushed)
			}
			return i, err
		}
		enc, err := p.encode(it)
		if err != nil {
			p.settle(nil, event.Ack{Token: it.Token, Err: err})
			continue
		}
		m := nats.NewMsg(enc.subject)
		m.Data = enc.data
		m.Header.Set(jetstream.MsgIDHeader, enc.msgID)
		if p.js == nil {
			if err := p.nc.PublishMsg(m); err != nil {
				p.settle(nil, event.Ack{Token: it.Token, Err: pubErr(enc, err)})
				continue
			}
			unflushed = append(unflushed, event.Ack{Token: it.Token})
			continue
		}
		p.mu.Lock()
		p.pending[m] = it.Token // before publishing: the PubAck may beat PublishMsgAsync's return
		p.mu.Unlock()
		if _, err := p.js.PublishMsgAsync(m); err != nil {
			p.settle(m, event.Ack{Err: pubErr(enc, err)})
		}
	}
	if len(unflushed) > 0 {
		p.flush(ctx, unflushed)
	}
	return len(items), nil
}

// leave ends one PublishBatch call.
func (p *Publisher) leave() {
	p.mu.Lock()
	p.active--
	if p.active == 0 && p.inactive != nil {
		close(p.inactive)
		p.inactive = nil
	}
	p.mu.Unlock()
}

// acquire takes one slot, waiting for ctx or Close. In core mode it first
// flushes what was published, since their Acks free slots.
func (p *Publisher) acquire(ctx context.Context, unflushed *[]event.Ack) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if len(*unflushed) > 0 {
		p.flush(ctx, *unflushed)
		*unflushed = (*unflushed)[:0]
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.closing:
		return ErrClosed
	}
}

// flush acknowledges core-mode publishes with one Flush bounded by ctx and
// AckTimeout.
func (p *Publisher) flush(ctx context.Context, acks []event.Ack) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.AckTimeout)
	err := p.nc.FlushWithContext(ctx)
	cancel()
	if err != nil {
		err = fmt.Errorf("flush %d core publishes to %s: %w", len(acks), redact.URLs(p.cfg.URL), err)
	}
	p.mu.Lock()
	for _, a := range acks {
		a.Err = err
		p.queue = append(p.queue, a)
	}
	p.mu.Unlock()
	p.signal()
}

func pubErr(enc encoded, err error) error {
	return fmt.Errorf("publish %s msg id %s: %w", enc.subject, enc.msgID, err)
}

// onPubAck is the jetstream ack handler; it runs on nats' reply goroutine
// and never blocks.
func (p *Publisher) onPubAck(_ jetstream.JetStream, m *nats.Msg, pa *jetstream.PubAck) {
	p.settle(m, event.Ack{Duplicate: pa.Duplicate, Sequence: pa.Sequence})
}

// onPubErr is the jetstream error handler (error PubAck, ack timeout,
// disconnect). nats may call it with its own lock held: it never blocks
// and never calls into nats.
func (p *Publisher) onPubErr(_ jetstream.JetStream, m *nats.Msg, err error) {
	p.settle(m, event.Ack{Err: fmt.Errorf("publish %s msg id %s: %w", m.Subject, m.Header.Get(jetstream.MsgIDHeader), err)})
}

// settle queues a. With m non-nil, a is the outcome of the pending publish
// m: its Token is filled in, and a second outcome for m is ignored.
func (p *Publisher) settle(m *nats.Msg, a event.Ack) {
	p.mu.Lock()
	if m != nil {
		tok, ok := p.pending[m]
		if !ok {
			p.mu.Unlock()
			return
		}
		delete(p.pending, m)
		a.Token = tok
		if len(p.pending) == 0 && p.idle != nil {
			close(p.idle)
			p.idle = nil
		}
	}
	if p.stopping { // cannot happen: Close settles everything before stopping
		p.mu.Unlock()
		return
	}
	p.queue = append(p.queue, a)
	p.mu.Unlock()
	p.signal()
}

func (p *Publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// dispatch hands queued Acks to the caller one at a time, freeing a slot
// for each, until Close stops it; it then closes acks.
func (p *Publisher) dispatch() {
	defer p.wg.Done()
	defer close(p.acks)
	var batch []event.Ack
	for {
		p.mu.Lock()
		batch, p.queue = p.queue, batch[:0]
		stop := p.stopping
		p.mu.Unlock()
		for _, a := range batch {
			select {
			case p.acks <- a:
				<-p.slots
			case <-p.hardStop: // Close gave up: drop the rest
				return
			}
		}
		clear(batch) // drop Token references
		if stop && len(batch) == 0 {
			return
		}
		if len(batch) == 0 {
			select {
			case <-p.wake:
			case <-p.hardStop:
				return
			}
		}
	}
}

// Close stops accepting items, waits for outstanding PubAcks, drains the
// connection and hands the remaining Acks to the caller, then closes Acks.
// Everything is bounded by ctx: when it ends, items still awaiting a PubAck
// get an Ack wrapping ErrClosed if the caller is still receiving, the
// connection is closed, and Acks not yet received are dropped (their
// offsets are simply not committed). Close is safe to call more than once
// and concurrently; later calls return the first call's result.
func (p *Publisher) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { p.closeErr = p.close(ctx) })
	return p.closeErr
}

func (p *Publisher) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	var inactive chan struct{}
	if p.active > 0 {
		inactive = make(chan struct{})
		p.inactive = inactive
	}
	p.mu.Unlock()
	close(p.closing) // wakes PublishBatch calls waiting for a slot

	var errs []error
	if inactive != nil {
		select {
		case <-inactive:
		case <-ctx.Done():
			// A PublishBatch is stuck in a write or a core Flush: closing
			// the connection makes it fail fast, then it settles its items.
			p.nc.Close()
			<-inactive
			errs = append(errs, fmt.Errorf("wait for publish batches: %w", ctx.Err()))
		}
	}
	// Soft phase: outstanding PubAcks, then drain (flushes buffered
	// publishes, then closes the connection).
	if err := p.waitIdle(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := p.nc.Drain(); err != nil {
		p.nc.Close()
	}
	select {
	case <-p.connDone:
	case <-ctx.Done():
		p.nc.Close()
		errs = append(errs, fmt.Errorf("drain nats connection: %w", ctx.Err()))
	}
	p.mu.Lock()
	for m, tok := range p.pending {
		delete(p.pending, m)
		p.queue = append(p.queue, event.Ack{Token: tok, Err: fmt.Errorf("publish %s msg id %s: %w before its pub ack",
			m.Subject, m.Header.Get(jetstream.MsgIDHeader), ErrClosed)})
	}
	p.stopping = true
	p.mu.Unlock()
	p.signal()

	// Hand over the rest; hard stop when ctx ends.
	done := make(chan struct{})
	go func() { // owned by close: joined through done before return
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		close(p.hardStop)
		<-done
		errs = append(errs, fmt.Errorf("deliver acks: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// waitIdle waits until no publish awaits its PubAck, or ctx ends.
func (p *Publisher) waitIdle(ctx context.Context) error {
	p.mu.Lock()
	n := len(p.pending)
	if n == 0 {
		p.mu.Unlock()
		return nil
	}
	if p.idle == nil {
		p.idle = make(chan struct{})
	}
	idle := p.idle
	p.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for %d pub acks: %w", n, ctx.Err())
	}
}
