package event

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by the transports and the pipeline. The consumer's
// and producer's own errors wrap them, so a caller that knows only this
// package can branch on them with errors.Is.
var (
	// ErrBadEvent matches every *DecodeError: errors.Is(err, ErrBadEvent)
	// tells a poison message (send it to the DLQ and mark it done) apart
	// from a transport error.
	ErrBadEvent = errors.New("bad event")
	// ErrClosed is matched by the error a source returns from Fetch, or a
	// sink from PublishBatch, once it is closed.
	ErrClosed = errors.New("closed")
	// ErrInvalidItem is matched by the Ack.Err of an Item that carries
	// neither or both of Result and DeadLetter, or that does not encode
	// (for example a NaN score). Such an item was not published; retrying
	// it cannot succeed, so the caller sends it to the DLQ or drops it.
	ErrInvalidItem = errors.New("invalid item")
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
