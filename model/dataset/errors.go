package dataset

import (
	"errors"
	"strconv"
)

// Sentinel errors. Record-level ones arrive wrapped in a *LineError.
var (
	// ErrFormat means the input cannot be read in the requested or
	// detected format at all (unknown format, CSV header without text and
	// label columns). It is returned even when Options.Strict is false.
	ErrFormat = errors.New("dataset: unsupported format")
	// ErrSyntax means a record is not valid JSON or CSV.
	ErrSyntax = errors.New("dataset: invalid syntax")
	// ErrEncoding means a record is not valid UTF-8.
	ErrEncoding = errors.New("dataset: invalid utf-8")
	// ErrField means a record lacks a required field, has one of the wrong
	// type, or has an empty one.
	ErrField = errors.New("dataset: invalid field")
	// ErrTag means an NER tag is not "O" or "B-TYPE"/"I-TYPE", or tokens and
	// tags differ in number.
	ErrTag = errors.New("dataset: invalid tag")
	// ErrLineTooLong means a line exceeds Options.MaxLineBytes.
	ErrLineTooLong = errors.New("dataset: line too long")
)

// LineError is a problem with the record starting at Line (1-based).
type LineError struct {
	Line int
	Err  error
}

// Error returns "line N: reason".
func (e *LineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }
