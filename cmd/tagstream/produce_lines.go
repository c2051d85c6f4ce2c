package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/event"
)

// inputLine is one line of input: its 1-based number and its bytes without
// the line ending, or the error that ended the input.
type inputLine struct {
	no   int
	data []byte
	err  error
}

// readLines sends the lines of r on out and closes it at EOF, after a read
// error (sent as the last inputLine) or once stop is closed.
func readLines(r io.Reader, out chan<- inputLine, stop <-chan struct{}) {
	defer close(out)
	br := bufio.NewReaderSize(r, 1<<16)
	for no := 1; ; no++ {
		data, err := readLine(br)
		if err == io.EOF && len(data) == 0 {
			return
		}
		l := inputLine{no: no, data: data}
		if err != nil && err != io.EOF {
			l = inputLine{no: no, err: fmt.Errorf("produce: read line %d: %w", no, err)}
		}
		select {
		case out <- l:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// errLineTooLong reports a line over maxLineBytes.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLineBytes)

// readLine returns the next line of br in a fresh slice, without "\n" or
// "\r\n"; at the end of the input it returns the last, unterminated line
// (maybe empty) with io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > maxLineBytes+2 { // room for "\r\n"
			return nil, errLineTooLong
		}
		line = append(line, frag...)
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
		}
		if len(line) > maxLineBytes {
			return nil, errLineTooLong
		}
		return line, err
	}
}

// lineWriter turns input lines into messages and writes them in chunks.
type lineWriter struct {
	w        *kafka.Writer
	o        produceOptions
	produced *int

	chunk      []kafka.Message
	chunkBytes int
	first      int // line number of chunk[0]
	last       int // line number of the last line read
}

// run reads lines until the input ends, a line is invalid, a write fails or
// ctx is cancelled. The lines before an invalid one, and those read before
// ctx was cancelled, are written before it returns.
func (p *lineWriter) run(ctx context.Context, lines <-chan inputLine) error {
	linger := time.NewTimer(produceLinger)
	defer linger.Stop()
	for {
		var (
			l     inputLine
			ok    bool
			flush <-chan time.Time
		)
		if len(p.chunk) > 0 {
			flush = linger.C
		}
		select {
		case <-ctx.Done():
			if err := p.flush(); err != nil {
				return err
			}
			return fmt.Errorf("produce: interrupted after %d lines of input: %w", p.last, ctx.Err())
		case <-flush:
			if err := p.flush(); err != nil {
				return err
			}
			continue
		case l, ok = <-lines:
		}
		if !ok {
			return p.flush()
		}
		if l.err != nil {
			return errors.Join(l.err, p.flush())
		}
		p.last = l.no
		value, err := p.value(l)
		if err != nil {
			return errors.Join(err, p.flush())
		}
		if value == nil {
			continue
		}
		if len(p.chunk) == 0 {
			p.first = l.no
			linger.Reset(produceLinger)
		}
		p.chunk = append(p.chunk, kafka.Message{Value: value})
		p.chunkBytes += len(value)
		if len(p.chunk) >= produceChunk || p.chunkBytes >= produceChunkBytes {
			if err := p.flush(); err != nil {
				return err
			}
		}
	}
}

// value checks one line as the pipeline will decode it (event.Decode, with
// --format and --max-bytes) and returns the message value to send, or nil
// for a blank line. A JSON line is sent without its surrounding spaces.
func (p *lineWriter) value(l inputLine) ([]byte, error) {
	if len(bytes.TrimSpace(l.data)) == 0 {
		return nil, nil
	}
	v := l.data
	if p.o.format == "json" {
		v = bytes.TrimSpace(v)
	}
	src := event.Source{Topic: p.o.topic, Partition: -1, Offset: int64(l.no)}
	if _, err := event.Decode(src, v, event.DecodeOptions{Format: event.Format(p.o.format), MaxBytes: p.o.maxBytes}); err != nil {
		var de *event.DecodeError
		if errors.As(err, &de) {
			return nil, fmt.Errorf("produce: line %d: %s: %s", l.no, de.Reason, de.Msg)
		}
		return nil, fmt.Errorf("produce: line %d: %w", l.no, err)
	}
	return v, nil
}

// flush writes the pending chunk. The write is not cancelled with the
// command's ctx, so Ctrl-C finishes the chunk in flight; the writer's own
// timeouts bound it.
func (p *lineWriter) flush() error {
	if len(p.chunk) == 0 {
		return nil
	}
	chunk := p.chunk
	p.chunk, p.chunkBytes = p.chunk[:0], 0
	err := p.w.WriteMessages(context.Background(), chunk...)
	if err == nil {
		*p.produced += len(chunk)
		return nil
	}
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		*p.produced += len(werrs) - werrs.Count()
	}
	hint := ""
	if errors.Is(err, kafka.UnknownTopicOrPartition) {
		hint = " (create it with --create-topic)"
	}
	return fmt.Errorf("produce: write lines %d..%d to %s%s: %w", p.first, p.last, p.o.topic, hint, err)
}
