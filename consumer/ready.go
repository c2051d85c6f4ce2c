package consumer

import (
	"context"
	"sync"
	"time"
)

// reachableTTL is how long Reachable reuses an answer, so that frequent
// readiness probes cost one metadata request per TTL.
const reachableTTL = time.Second

// reachTimeout bounds one Reachable probe.
const reachTimeout = 2 * time.Second

type reachCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// Reachable returns nil if a broker answers a metadata request for the
// topics with the consumer's TLS and SASL settings, and otherwise the error
// of each broker tried. The group generation alone cannot tell: kafka-go
// keeps its assignment while the brokers are away, so a service's readiness
// asks this too. Answers are reused for reachableTTL.
func (c *Consumer) Reachable(ctx context.Context) error {
	c.reach.mu.Lock()
	defer c.reach.mu.Unlock()
	if !c.reach.at.IsZero() && time.Since(c.reach.at) < reachableTTL {
		return c.reach.err
	}
	ctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	_, err := missingTopics(ctx, c.dialer, c.cfg.Brokers, c.cfg.Topics)
	c.reach.at, c.reach.err = time.Now(), err
	return err
}
