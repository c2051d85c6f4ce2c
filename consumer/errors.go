package consumer

import (
	"errors"
	"fmt"

	"github.com/tagstream/tagstream/event"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrInvalidConfig is wrapped by every error Config.Validate returns.
	ErrInvalidConfig = errors.New("consumer: invalid config")
	// ErrInvalidOption is wrapped by New when an Option has an invalid value.
	ErrInvalidOption = errors.New("consumer: invalid option")
	// ErrClosed is returned by Fetch after Close has started. It matches
	// event.ErrClosed.
	ErrClosed = fmt.Errorf("consumer: %w", event.ErrClosed)
	// ErrRebalancing is wrapped by Close's error when done offsets were
	// not committed because the group was rebalancing: committing then
	// could rewind a partition's new owner. Those records are redelivered.
	ErrRebalancing = errors.New("consumer: group rebalancing, done offsets not committed")
	// ErrPermanent matches the errors of CheckAccess and Fetch that
	// retrying with the same configuration cannot mend: a broker rejected
	// the SASL credentials or mechanism, its certificate is not trusted, or
	// the principal lacks authorization. Their messages name the broker.
	ErrPermanent = errors.New("consumer: permanent broker error")
)
