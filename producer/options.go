package producer

import (
	"fmt"
	"log/slog"
)

// Option configures a Publisher in ways that are not configuration: test
// hooks and injected dependencies.
type Option func(*options) error

type options struct {
	logger *slog.Logger
}

// WithLogger sets the logger for connection events (disconnect, reconnect,
// asynchronous NATS errors) and stream checks. Publish errors are not
// logged: they are reported in Acks. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		o.logger = l
		return nil
	}
}
