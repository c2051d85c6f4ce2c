package consumer

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrInvalidConfig is wrapped by every error Config.Validate returns.
	ErrInvalidConfig = errors.New("consumer: invalid config")
	// ErrInvalidOption is wrapped by New when an Option has an invalid value.
	ErrInvalidOption = errors.New("consumer: invalid option")
	// ErrClosed is returned by Fetch after Close has started.
	ErrClosed = errors.New("consumer: closed")
	// ErrRebalancing is wrapped by Close's error when done offsets were
	// not committed because the group was rebalancing: committing then
	// could rewind a partition's new owner. Those records are redelivered.
	ErrRebalancing = errors.New("consumer: group rebalancing, done offsets not committed")
	// ErrPermanent matches the errors of CheckAccess and Fetch that
	// retrying with the same configuration cannot mend: a broker rejected
	// the SASL credentials or mechanism, its certificate is not trusted, or
	// the principal lacks authorization. Their messages name the broker.
	ErrPermanent = errors.New("consumer: permanent broker error")
	// ErrBadEvent matches every *DecodeError: errors.Is(err, ErrBadEvent)
	// tells a poison message (send it to the DLQ and mark it done) apart
	// from a transport error.
	ErrBadEvent = errors.New("consumer: bad event")
)

// Reason is the machine-readable cause of a DecodeError. It is stable and
// meant to be used as a DLQ header and a metric label.
type Reason string

// Reasons a Kafka value is rejected by Decode.
const (
	ReasonTooLarge    Reason = "too_large"    // value longer than MaxBytes
	ReasonInvalidUTF8 Reason = "invalid_utf8" // value is not valid UTF-8 (binary garbage included)
	ReasonInvalidJSON Reason = "invalid_json" // value is not one JSON document
	ReasonWrongType   Reason = "wrong_type"   // not an object, or a field of the wrong JSON type
	ReasonMissingText Reason = "missing_text" // no "text" field, or "text": null
	ReasonEmptyText   Reason = "empty_text"   // text is empty or only white space
	ReasonBadLang     Reason = "bad_lang"     // lang is a string other than "en" or "zh"
)

// DecodeError is a bad ("poison") event tied to its source coordinates. The
// caller sends Raw to the DLQ with Reason and the coordinates, then marks the
// offset done so one bad event never blocks its partition.
type DecodeError struct {
	Topic     string
	Partition int
	Offset    int64
	Reason    Reason
	Msg       string // human-readable detail, lower case
	Err       error  // underlying cause (for example a *json.SyntaxError), may be nil
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("decode %s[%d]@%d: %s: %s", e.Topic, e.Partition, e.Offset, e.Reason, e.Msg)
}

// Unwrap returns the underlying cause, if any.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports whether target is ErrBadEvent.
func (e *DecodeError) Is(target error) bool { return target == ErrBadEvent }
