package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that Decode never panics on any bytes; that every
// failure is a *DecodeError matching ErrBadEvent with a known reason and the
// record's coordinates, and the reason the documented check order gives
// (too_large, then invalid_utf8); that an accepted Event keeps the contract
// of its fields (valid UTF-8 text that is not blank, lang "", "en" or "zh",
// meta a compact JSON object); and that it re-encodes to JSON that decodes
// to the same Event. Seeds in testdata/fuzz/FuzzDecode add nasty inputs
// (deep nesting, huge numbers, surrogate escapes, BOMs, RTL and zero-width
// marks).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"text":"hello"}`,
		`{"id":"e1","text":"你好 world","lang":"zh","meta":{"a":[1,2.5e3,"<x>"],"b":{"c":null}}}`,
		`{"id":null,"text":"hi","lang":"en","meta":{}}`,
		`{"text":"a\u2028b\ud800"}`,
		`{"text":""}`, `{"text":1}`, `{"lang":"fr","text":"x"}`, `[1]`, `"s"`, `{`, "\xff\xfe", "\x00",
		`{"text":"x","meta":[]}`, `{"text":"x","text":"y"}`, ` {"text" : "x" } `,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("plain text"), true)
	f.Add([]byte(" \t\u00a0\u3000"), true)
	reasons := map[Reason]bool{
		ReasonTooLarge: true, ReasonInvalidUTF8: true, ReasonInvalidJSON: true, ReasonWrongType: true,
		ReasonMissingText: true, ReasonEmptyText: true, ReasonBadLang: true,
	}
	src := Source{Topic: "t", Partition: 1, Offset: 2}
	const maxBytes = 4096
	f.Fuzz(func(t *testing.T, value []byte, text bool) {
		opt := DecodeOptions{MaxBytes: maxBytes}
		if text {
			opt.Format = FormatText
		}
		orig := bytes.Clone(value)
		ev, err := Decode(src, value, opt)
		if !bytes.Equal(value, orig) {
			t.Fatalf("Decode modified its input %q to %q", orig, value)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !reasons[de.Reason] || !errors.Is(err, ErrBadEvent) {
				t.Fatalf("Decode(%q) error %v: not a *DecodeError with a known reason", value, err)
			}
			if de.Topic != src.Topic || de.Partition != src.Partition || de.Offset != src.Offset || de.Msg == "" {
				t.Fatalf("Decode(%q) error %+v: coordinates or message missing", value, de)
			}
			switch {
			case len(value) > maxBytes:
				if de.Reason != ReasonTooLarge {
					t.Fatalf("Decode of %d bytes: reason %s, want %s", len(value), de.Reason, ReasonTooLarge)
				}
			case !utf8.Valid(value):
				if de.Reason != ReasonInvalidUTF8 {
					t.Fatalf("Decode(%q): reason %s, want %s", value, de.Reason, ReasonInvalidUTF8)
				}
			case de.Reason == ReasonTooLarge || de.Reason == ReasonInvalidUTF8:
				t.Fatalf("Decode(%q) of %d valid bytes: reason %s", value, len(value), de.Reason)
			}
			return
		}
		if len(value) > maxBytes || !utf8.Valid(value) {
			t.Fatalf("Decode accepted %q (%d bytes, valid utf-8 %v)", value, len(value), utf8.Valid(value))
		}
		if !utf8.ValidString(ev.Text) || strings.TrimSpace(ev.Text) == "" || !utf8.ValidString(ev.ID) || ev.ID == "" {
			t.Fatalf("Decode(%q) = %+v: text or id empty or not valid utf-8", value, ev)
		}
		if ev.Lang != "" && ev.Lang != "en" && ev.Lang != "zh" {
			t.Fatalf("Decode(%q): lang %q", value, ev.Lang)
		}
		if text {
			if ev.Text != string(value) || ev.Lang != "" || ev.Meta != nil {
				t.Fatalf("Decode(%q, text) = %+v, want the value as text", value, ev)
			}
			return
		}
		if !json.Valid(value) {
			t.Fatalf("Decode accepted invalid json %q", value)
		}
		if ev.Meta != nil {
			var c bytes.Buffer
			if err := json.Compact(&c, ev.Meta); err != nil || !bytes.Equal(c.Bytes(), ev.Meta) || ev.Meta[0] != '{' {
				t.Fatalf("Decode(%q): meta %s is not a compact json object (%v)", value, ev.Meta, err)
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ev); err != nil {
			t.Fatalf("encode %+v: %v", ev, err)
		}
		back, err := Decode(src, bytes.TrimSpace(buf.Bytes()), DecodeOptions{MaxBytes: 1 << 20})
		if err != nil {
			t.Fatalf("Decode(re-encoded %s) of %q: %v", buf.Bytes(), value, err)
		}
		if back.ID != ev.ID || back.Text != ev.Text || back.Lang != ev.Lang || !sameJSON(t, back.Meta, ev.Meta) {
			t.Fatalf("round trip of %q: %+v, want %+v", value, back, ev)
		}
	})
}

// sameJSON compares two JSON values semantically (numbers as literals).
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	decode := func(r json.RawMessage) any {
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("meta %s: %v", r, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}
