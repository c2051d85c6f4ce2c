package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/tagstream/tagstream/event"
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

func (p *Pipeline) ack(a event.Ack) {
	pd, ok := a.Token.(*pending)
	if !ok {
		p.log.Error("ack with a foreign token", "token", a.Token)
		return
	}
	if a.Err != nil {
		if errors.Is(a.Err, event.ErrInvalidItem) {
			p.unpublishable(pd, a.Err)
			return
		}
		p.retry(pd, a.Err)
		return
	}
	p.src.MarkDone(pd.topic, pd.part, pd.offset)
	if pd.dead {
		p.deadLetters.Add(1)
		p.m.deadLetters.WithLabelValues(pd.label).Inc()
	} else {
		p.published.Add(1)
		lang := ""
		if r := pd.item.Result; r != nil {
			lang = r.Lang
			for i := range r.Entities {
				p.m.entities.WithLabelValues(lang, r.Entities[i].Type).Inc()
			}
			for task, tr := range r.Tasks {
				switch {
				case !tr.MultiLabel:
					p.m.taskLabels.WithLabelValues(task, lang, tr.Label).Inc()
				case len(tr.Labels) == 0:
					p.m.taskLabels.WithLabelValues(task, lang, IdentityLabel).Inc()
				default:
					for _, l := range tr.Labels {
						p.m.taskLabels.WithLabelValues(task, lang, l).Inc()
					}
				}
			}
		}
		p.m.published.WithLabelValues(lang, pd.label).Inc()
		if !pd.start.IsZero() {
			p.m.latency.Observe(p.now().Sub(pd.start).Seconds())
		}
	}
	p.done(1, pd.size)
}

// ReasonUnpublishable is the dead-letter reason of an event whose result
// the sink refused as invalid (for example larger than the NATS max
// payload): retrying cannot help, so the event goes to the DLQ instead.
const ReasonUnpublishable = "unpublishable_result"

// unpublishable turns a refused result into a dead letter and publishes
// that. A refused dead letter is logged and dropped: nothing smaller is
// left to publish.
func (p *Pipeline) unpublishable(pd *pending, err error) {
	if pd.dead {
		p.log.Error("dead letter refused by the sink; dropping it", "topic", pd.topic, "partition", pd.part, "offset", pd.offset, "err", err)
		p.m.dropped.Inc()
		p.src.MarkDone(pd.topic, pd.part, pd.offset)
		p.done(1, pd.size)
		return
	}
	pd.dead, pd.label = true, ReasonUnpublishable
	pd.item = event.Item{Token: pd, DeadLetter: &event.DeadLetter{
		Reason: ReasonUnpublishable,
		Err:    err,
		Source: event.Source{Topic: pd.topic, Partition: pd.part, Offset: pd.offset},
		Raw:    pd.raw,
	}}
	pd.raw = nil
	p.log.Warn("result refused by the sink; sending the event to the DLQ", "topic", pd.topic, "partition", pd.part, "offset", pd.offset, "err", err)
	p.retryMu.Lock()
	p.retries = append(p.retries, pd)
	p.retryMu.Unlock()
	select {
	case p.retryC <- struct{}{}:
	default:
	}
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
	var items []event.Item
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
	dropped := p.retries
	p.retries = nil
	p.retryMu.Unlock()
	if len(dropped) > 0 {
		var bytes int64
		for _, pd := range dropped {
			bytes += pd.size
		}
		p.done(int64(len(dropped)), bytes)
	}
}
