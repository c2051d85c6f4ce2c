package consumer

import (
	"fmt"
	"log/slog"

	"github.com/segmentio/kafka-go"
)

// Option configures a Consumer in ways that are not configuration: test
// hooks and injected dependencies.
type Option func(*options) error

type options struct {
	logger *slog.Logger
	dialer *kafka.Dialer
}

// WithLogger sets the logger for commit failures, rebalances and kafka-go's
// own messages (at debug level). Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		o.logger = l
		return nil
	}
}

// WithDialer replaces the dialer built from Config.TLS and Config.SASL. The
// Consumer does not modify it.
func WithDialer(d *kafka.Dialer) Option {
	return func(o *options) error {
		if d == nil {
			return fmt.Errorf("%w: nil dialer", ErrInvalidOption)
		}
		o.dialer = d
		return nil
	}
}
