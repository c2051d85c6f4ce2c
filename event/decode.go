package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Format is the encoding of Kafka record values.
type Format string

// Supported value formats.
const (
	// FormatJSON values are one JSON object:
	// {"id"?: string, "text": string, "lang"?: "en"|"zh", "meta"?: object}.
	FormatJSON Format = "json"
	// FormatText values are raw UTF-8 text; the whole value is Event.Text.
	FormatText Format = "text"
)

// DefaultMaxBytes is the default limit on the size of one record value.
const DefaultMaxBytes int64 = 1 << 20 // 1 MiB

// Event is one decoded text event. The JSON encoding of an Event is a valid
// FormatJSON value that decodes back to the same Event.
type Event struct {
	// ID is the event's id, or "topic/partition/offset" when the value has
	// none (or an empty one).
	ID string `json:"id"`
	// Text is the text to label; valid UTF-8, never empty or only spaces.
	Text string `json:"text"`
	// Lang is "en", "zh" or "" (unknown: detect it).
	Lang string `json:"lang,omitempty"`
	// Meta is the compacted JSON object passed through untouched, or nil.
	Meta json.RawMessage `json:"meta,omitempty"`
}

// DecodeOptions controls Decode. The zero value decodes JSON with a 1 MiB
// limit.
type DecodeOptions struct {
	Format   Format // "" means FormatJSON
	MaxBytes int64  // <= 0 means DefaultMaxBytes
}

// Decode turns one record value into an Event. It is a pure function, safe
// for concurrent use, and does not retain value. A rejected value returns a
// *DecodeError (which matches ErrBadEvent) carrying src and a Reason; checks
// run in this order: too_large, invalid_utf8, then the format's own checks.
func Decode(src Source, value []byte, opt DecodeOptions) (Event, error) {
	maxBytes := opt.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	fail := func(r Reason, err error, format string, args ...any) (Event, error) {
		return Event{}, &DecodeError{
			Topic: src.Topic, Partition: src.Partition, Offset: src.Offset,
			Reason: r, Msg: fmt.Sprintf(format, args...), Err: err,
		}
	}
	if int64(len(value)) > maxBytes {
		return fail(ReasonTooLarge, nil, "value is %d bytes, limit %d", len(value), maxBytes)
	}
	if !utf8.Valid(value) {
		return fail(ReasonInvalidUTF8, nil, "value is not valid utf-8")
	}
	switch opt.Format {
	case FormatText:
		if strings.TrimSpace(string(value)) == "" {
			return fail(ReasonEmptyText, nil, "text is empty")
		}
		return Event{ID: src.String(), Text: string(value)}, nil
	case FormatJSON, "":
	default:
		return fail(ReasonWrongType, nil, "unknown format %q", opt.Format)
	}

	trimmed := bytes.TrimLeft(value, " \t\r\n")
	if len(trimmed) == 0 {
		return fail(ReasonInvalidJSON, nil, "value is empty")
	}
	// One scan on the hot path: Unmarshal validates. The separate
	// validity check runs only to classify a value that is not an object.
	if trimmed[0] != '{' {
		if !json.Valid(value) {
			var v any
			err := json.Unmarshal(value, &v) // for the offset and message of the syntax error
			return fail(ReasonInvalidJSON, err, "value is not json: %v", err)
		}
		return fail(ReasonWrongType, nil, "value is a json %s, want object", jsonKind(trimmed))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(value, &fields); err != nil {
		return fail(ReasonInvalidJSON, err, "value is not json: %v", err)
	}

	ev := Event{ID: src.String()}
	if raw, ok := fields["id"]; ok && !isNull(raw) {
		if raw[0] != '"' {
			return fail(ReasonWrongType, nil, "id is a json %s, want string", jsonKind(raw))
		}
		id, err := jsonStringValue(raw)
		if err != nil {
			return fail(ReasonWrongType, err, "id: %v", err)
		}
		if id != "" {
			ev.ID = id
		}
	}

	raw, ok := fields["text"]
	if !ok || isNull(raw) {
		return fail(ReasonMissingText, nil, "text is missing")
	}
	if raw[0] != '"' {
		return fail(ReasonWrongType, nil, "text is a json %s, want string", jsonKind(raw))
	}
	text, err := jsonStringValue(raw)
	if err != nil {
		return fail(ReasonWrongType, err, "text: %v", err)
	}
	ev.Text = text
	if strings.TrimSpace(ev.Text) == "" {
		return fail(ReasonEmptyText, nil, "text is empty")
	}

	if raw, ok := fields["lang"]; ok && !isNull(raw) {
		if raw[0] != '"' {
			return fail(ReasonWrongType, nil, "lang is a json %s, want string", jsonKind(raw))
		}
		lang, err := jsonStringValue(raw)
		if err != nil {
			return fail(ReasonWrongType, err, "lang: %v", err)
		}
		if lang != "en" && lang != "zh" {
			return fail(ReasonBadLang, nil, "lang %q, want \"en\" or \"zh\"", Truncate(lang, 32))
		}
		ev.Lang = lang
	}

	if raw, ok := fields["meta"]; ok && !isNull(raw) {
		if raw[0] != '{' {
			return fail(ReasonWrongType, nil, "meta is a json %s, want object", jsonKind(raw))
		}
		var buf bytes.Buffer
		buf.Grow(len(raw))
		if err := json.Compact(&buf, raw); err != nil {
			return fail(ReasonInvalidJSON, err, "meta: %v", err)
		}
		ev.Meta = buf.Bytes()
	}
	return ev, nil
}

// jsonStringValue decodes a valid JSON string literal; one without escapes
// is copied directly (the common case), others go through encoding/json.
func jsonStringValue(raw json.RawMessage) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// isNull reports whether raw (a valid, trimmed JSON value) is null.
func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// jsonKind names the JSON type of a valid, left-trimmed JSON value.
func jsonKind(raw []byte) string {
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// Truncate shortens s to at most n bytes on a rune boundary and marks the
// cut with "…": how decode errors and dead letters quote a long value.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
