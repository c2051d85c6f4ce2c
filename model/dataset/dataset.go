package dataset

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is an input format. The zero value is FormatAuto.
type Format string

// Input formats.
const (
	FormatAuto  Format = ""
	FormatJSONL Format = "jsonl"
	FormatCSV   Format = "csv"
	FormatCoNLL Format = "conll"
)

// DefaultMaxLineBytes is the line length limit used when
// Options.MaxLineBytes is zero (16 MiB).
const DefaultMaxLineBytes = 16 << 20

// MaxReportedErrors is how many LineErrors a Report keeps.
const MaxReportedErrors = 20

// Options control a read. The zero value reads any supported format and
// skips bad records.
type Options struct {
	// Strict makes the first bad record fail the read instead of being
	// skipped. Default false.
	Strict bool
	// Format selects the input format; FormatAuto (default) detects it.
	Format Format
	// MaxLineBytes is the longest accepted line of JSON Lines or CoNLL
	// input, in bytes; longer lines are bad records. 0 means
	// DefaultMaxLineBytes. CSV records are not limited.
	MaxLineBytes int64
}

// Example is one labelled text.
type Example struct {
	Text  string
	Label string
	// Line is the 1-based line where the record starts.
	Line int
	// Labels holds the labels of a multi-label record (JSONL "labels": a
	// non-empty array of distinct non-blank strings); Label is then empty.
	Labels []string
}

// NERExample is one tagged sentence; len(Tokens) == len(Tags) > 0.
type NERExample struct {
	Tokens []string
	Tags   []string
	// Line is the 1-based line where the record (or first token) is.
	Line int
}

// Report summarises a read.
type Report struct {
	// Format is the format the input was read as.
	Format Format
	// Read is the number of examples returned.
	Read int
	// Skipped is the number of bad records skipped.
	Skipped int
	// Errors holds the first MaxReportedErrors skipped records' errors.
	Errors []LineError
}

// add records a bad record. It returns the error to stop with in strict
// mode, nil otherwise.
func (r *Report) add(name string, strict bool, line int, err error) error {
	le := LineError{Line: line, Err: err}
	if strict {
		return fmt.Errorf("read %s: %w", name, &le)
	}
	r.Skipped++
	if len(r.Errors) < MaxReportedErrors {
		r.Errors = append(r.Errors, le)
	}
	return nil
}

var bom = []byte{0xef, 0xbb, 0xbf}

// prepare wraps r in a buffered reader with any byte order mark removed,
// and resolves FormatAuto: by the extension of name (exts maps extensions
// to formats), else '{' as the first non-space byte means JSON Lines, else
// fallback. Input that is empty or all white space is JSON Lines (it
// yields no examples).
func prepare(r io.Reader, name string, f Format, exts map[string]Format, fallback Format) (*bufio.Reader, Format, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, bom) {
		_, _ = br.Discard(3)
	}
	if f != FormatAuto {
		return br, f, nil
	}
	if f, ok := exts[strings.ToLower(filepath.Ext(name))]; ok {
		return br, f, nil
	}
	for n := 1; ; n *= 2 {
		b, err := br.Peek(min(n, br.Size()))
		if i := bytes.IndexFunc(b, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i >= 0 {
			if b[i] == '{' {
				return br, FormatJSONL, nil
			}
			return br, fallback, nil
		}
		if err != nil || n >= br.Size() {
			return br, FormatJSONL, nil
		}
	}
}

// lineReader reads lines of bounded length, without the line terminator.
type lineReader struct {
	br   *bufio.Reader
	max  int64
	line int // number of the line last returned
	buf  []byte
}

// next returns the next line and whether it was too long (then the line is
// empty and the rest was discarded). It returns io.EOF after the last line.
func (lr *lineReader) next() ([]byte, bool, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong {
			if int64(len(lr.buf))+int64(len(chunk)) > lr.max+2 { // +2 for "\r\n"
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
		case io.EOF:
			if len(chunk) == 0 && len(lr.buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
		default:
			return nil, false, err
		}
		lr.line++
		line := bytes.TrimSuffix(lr.buf, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if int64(len(line)) > lr.max {
			tooLong = true
		}
		if tooLong {
			return nil, true, nil
		}
		return line, false, nil
	}
}

func newLineReader(br *bufio.Reader, max int64) *lineReader {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	return &lineReader{br: br, max: max}
}

// isBlank reports whether b holds only white space.
func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }
