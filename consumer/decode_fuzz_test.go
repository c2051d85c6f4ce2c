package consumer

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics, that every failure is a
// *DecodeError with a known reason, and that a decoded Event re-encodes to
// JSON that decodes to the same Event.
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
	reasons := map[Reason]bool{
		ReasonTooLarge: true, ReasonInvalidUTF8: true, ReasonInvalidJSON: true, ReasonWrongType: true,
		ReasonMissingText: true, ReasonEmptyText: true, ReasonBadLang: true,
	}
	src := Source{Topic: "t", Partition: 1, Offset: 2}
	f.Fuzz(func(t *testing.T, value []byte, text bool) {
		opt := DecodeOptions{MaxBytes: 4096}
		if text {
			opt.Format = FormatText
		}
		ev, err := Decode(src, value, opt)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !reasons[de.Reason] {
				t.Fatalf("Decode(%q) error %v: not a *DecodeError with a known reason", value, err)
			}
			return
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
