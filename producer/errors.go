package producer

import (
	"errors"
	"fmt"

	"github.com/tagstream/tagstream/event"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrInvalidConfig is wrapped by every error Config.Validate returns.
	ErrInvalidConfig = errors.New("producer: invalid config")
	// ErrInvalidOption is wrapped by New when an Option has an invalid value.
	ErrInvalidOption = errors.New("producer: invalid option")
	// ErrClosed is returned by PublishBatch once Close has started, and is
	// wrapped by the Ack.Err of every item still awaiting its PubAck when
	// Close gave up waiting.
	ErrClosed = fmt.Errorf("producer: %w", event.ErrClosed)
	// ErrInvalidItem is wrapped by the Ack.Err of an Item that carries
	// neither or both of Result and DeadLetter, or that does not encode
	// (for example a NaN score). Such an item was not published; retrying
	// it cannot succeed, so the caller sends it to the DLQ or drops it.
	// It matches event.ErrInvalidItem.
	ErrInvalidItem = fmt.Errorf("producer: %w", event.ErrInvalidItem)
	// ErrStreamMismatch is returned by New in jetstream mode when the
	// configured stream exists but does not capture the result or DLQ
	// subjects. The stream is never modified.
	ErrStreamMismatch = errors.New("producer: stream does not capture subjects")
)
