package pipeline

import (
	"context"
	"time"

	"github.com/tagstream/tagstream/producer"
)

// ackLoop receives the sink's acknowledgements until stop is closed (Run
// closes it once nothing is in flight) or hard ends. A success marks the
// record done on the source; a failure queues the item for republishing.
func (p *Pipeline) ackLoop(hard context.Context, stop <-chan struct{}) {
	acks := p.sink.Acks()
	for {
		select {
		case a, ok := <-acks:
			if !ok {
				return
			}
			p.ack(a)
		case <-stop:
			return
		case <-hard.Done():
			return
		}
	}
}

func (p *Pipeline) ack(a producer.Ack) {
	pd, ok := a.Token.(*pending)
	if !ok {
		p.log.Error("ack with a foreign token", "token", a.Token)
		return
	}
	if a.Err != nil {
		p.retry(pd, a.Err)
		return
	}
	p.src.MarkDone(pd.topic, pd.part, pd.offset)
	if pd.dead {
		p.deadLetters.Add(1)
		p.m.deadLetters.WithLabelValues(pd.label).Inc()
	} else {
		p.published.Add(1)
		p.m.published.WithLabelValues(pd.label).Inc()
		if !pd.start.IsZero() {
			p.m.latency.Observe(p.now().Sub(pd.start).Seconds())
		}
	}
	p.done(1)
}

// retry queues pd for republishing after a failed publish.
func (p *Pipeline) retry(pd *pending, err error) {
	p.publishErrors.Add(1)
	p.m.publishErrors.Inc()
	pd.attempts++
	if pd.attempts == 1 || pd.attempts%10 == 0 {
		p.log.Warn("publish failed, retrying", "source", pd.topic, "partition", pd.part, "offset", pd.offset, "attempt", pd.attempts, "err", err)
	}
	p.retryMu.Lock()
	p.retries = append(p.retries, pd)
	p.retryMu.Unlock()
	select {
	case p.retryC <- struct{}{}:
	default:
	}
}

// retryLoop republishes failed items, waiting RetryBackoff (doubling to 5s
// while publishes keep failing) before each round.
func (p *Pipeline) retryLoop(hard context.Context, stop <-chan struct{}) {
	backoff := p.cfg.RetryBackoff
	var items []producer.Item
	for {
		select {
		case <-p.retryC:
		case <-stop:
			return
		case <-hard.Done():
			p.dropRetries()
			return
		}
		select {
		case <-time.After(backoff):
		case <-stop:
			return
		case <-hard.Done():
			p.dropRetries()
			return
		}
		p.retryMu.Lock()
		batch := p.retries
		p.retries = nil
		p.retryMu.Unlock()
		if len(batch) == 0 {
			continue
		}
		items = items[:0]
		for _, pd := range batch {
			items = append(items, pd.item)
		}
		n, err := p.sink.PublishBatch(hard, items)
		if err != nil {
			for _, pd := range batch[n:] {
				p.retry(pd, err)
			}
		}
		// Grow the backoff while a round sees more failures; reset it
		// when the queue stays empty.
		p.retryMu.Lock()
		failing := len(p.retries) > 0
		p.retryMu.Unlock()
		if failing {
			backoff = min(2*backoff, 5*time.Second)
		} else {
			backoff = p.cfg.RetryBackoff
		}
		clear(items)
	}
}

// dropRetries gives up on queued retries at the hard deadline.
func (p *Pipeline) dropRetries() {
	p.retryMu.Lock()
	n := len(p.retries)
	p.retries = nil
	p.retryMu.Unlock()
	if n > 0 {
		p.done(int64(n))
	}
}
