package producer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/tagstream/tagstream/internal/redact"
)

// Subscription delivers the messages of some subjects (core NATS) to a
// function until Close. It owns its connection.
type Subscription struct {
	nc *nats.Conn
}

// Subscribe connects to NATS (cfg's URL, auth and TLS) and calls fn with
// the payload of every message published on subjects (wildcards allowed),
// one at a time on nats.go's delivery goroutine; fn must not block. A
// subscriber slower than the stream loses messages (counted by nats.go as
// slow-consumer drops and logged), never the stream.
func Subscribe(ctx context.Context, cfg Config, subjects []string, fn func(subject string, data []byte), log *slog.Logger) (*Subscription, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	closed := make(chan struct{}, 1)
	nopts, err := natsOptions(cfg, log, closed, nil)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(cfg.URL, nopts...)
	if err != nil {
		return nil, fmt.Errorf("subscribe: connect to nats %s: %w", redact.URLs(cfg.URL), err)
	}
	if err := waitConnected(ctx, nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("subscribe: connect to nats %s: %w", describeConn(cfg), err)
	}
	for _, subj := range subjects {
		sub, err := nc.Subscribe(subj, func(m *nats.Msg) { fn(m.Subject, m.Data) })
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("subscribe %s: %w", subj, err)
		}
		if err := sub.SetPendingLimits(8192, 64<<20); err != nil {
			nc.Close()
			return nil, fmt.Errorf("subscribe %s: %w", subj, err)
		}
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return &Subscription{nc: nc}, nil
}

// Close ends the subscriptions and the connection.
func (s *Subscription) Close() { s.nc.Close() }
