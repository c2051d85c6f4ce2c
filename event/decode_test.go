package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	src := Source{Topic: "events", Partition: 3, Offset: 1841}
	big := `{"text":"` + strings.Repeat("a", 2<<20) + `"}` // 2 MB over the 1 MiB default
	tests := []struct {
		name   string
		value  string
		format Format
		want   Event
		reason Reason // "" means success
	}{
		{name: "minimal", value: `{"text":"hello"}`, want: Event{ID: "events/3/1841", Text: "hello"}},
		{name: "all fields", value: `{"id":"e1","text":"你好","lang":"zh","meta":{"a": [1, 2.50, "x"]}}`,
			want: Event{ID: "e1", Text: "你好", Lang: "zh", Meta: json.RawMessage(`{"a":[1,2.50,"x"]}`)}},
		{name: "null optional fields", value: `{"id":null,"text":"hi","lang":null,"meta":null}`, want: Event{ID: "events/3/1841", Text: "hi"}},
		{name: "empty id defaults", value: `{"id":"","text":"hi","lang":"en"}`, want: Event{ID: "events/3/1841", Text: "hi", Lang: "en"}},
		{name: "unknown fields ignored", value: ` {"text":"hi","extra":[1]} `, want: Event{ID: "events/3/1841", Text: "hi"}},
		{name: "escaped text", value: `{"text":"a\u00e9\n"}`, want: Event{ID: "events/3/1841", Text: "aé\n"}},
		{name: "text format", value: "plain 文本", format: FormatText, want: Event{ID: "events/3/1841", Text: "plain 文本"}},
		{name: "text format keeps json as text", value: `{"x":1}`, format: FormatText, want: Event{ID: "events/3/1841", Text: `{"x":1}`}},

		{name: "invalid json", value: `{"text":"hi"`, reason: ReasonInvalidJSON},
		{name: "trailing garbage", value: `{"text":"hi"} x`, reason: ReasonInvalidJSON},
		{name: "empty value", value: ``, reason: ReasonInvalidJSON},
		{name: "invalid utf8", value: "{\"text\":\"\xff\xfe\"}", reason: ReasonInvalidUTF8},
		{name: "binary garbage", value: "\x00\x9f\x92\x96\xc3\x28garbage", reason: ReasonInvalidUTF8},
		{name: "valid utf8 garbage", value: "\x00\x01\x02", reason: ReasonInvalidJSON},
		{name: "missing text", value: `{"id":"x"}`, reason: ReasonMissingText},
		{name: "null text", value: `{"text":null}`, reason: ReasonMissingText},
		{name: "empty text", value: `{"text":""}`, reason: ReasonEmptyText},
		{name: "blank text", value: `{"text":" \t\n"}`, reason: ReasonEmptyText},
		{name: "text not a string", value: `{"text":42}`, reason: ReasonWrongType},
		{name: "text an object", value: `{"text":{"a":1}}`, reason: ReasonWrongType},
		{name: "id not a string", value: `{"id":7,"text":"hi"}`, reason: ReasonWrongType},
		{name: "lang not a string", value: `{"text":"hi","lang":1}`, reason: ReasonWrongType},
		{name: "meta not an object", value: `{"text":"hi","meta":[1]}`, reason: ReasonWrongType},
		{name: "top level array", value: `[{"text":"hi"}]`, reason: ReasonWrongType},
		{name: "top level string", value: `"hi"`, reason: ReasonWrongType},
		{name: "bad lang", value: `{"text":"hi","lang":"fr"}`, reason: ReasonBadLang},
		{name: "upper case lang", value: `{"text":"hi","lang":"EN"}`, reason: ReasonBadLang},
		{name: "too large", value: big, reason: ReasonTooLarge},
		{name: "text format too large", value: strings.Repeat("a", 2<<20), format: FormatText, reason: ReasonTooLarge},
		{name: "text format invalid utf8", value: "\xff", format: FormatText, reason: ReasonInvalidUTF8},
		{name: "text format empty", value: "  ", format: FormatText, reason: ReasonEmptyText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Decode(src, []byte(tc.value), DecodeOptions{Format: tc.format})
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if ev.ID != tc.want.ID || ev.Text != tc.want.Text || ev.Lang != tc.want.Lang || !bytes.Equal(ev.Meta, tc.want.Meta) {
					t.Fatalf("Decode = %+v, want %+v", ev, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode = %+v, want reason %s", ev, tc.reason)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if !errors.Is(err, ErrBadEvent) {
				t.Errorf("errors.Is(%v, ErrBadEvent) = false", err)
			}
			if de.Reason != tc.reason {
				t.Errorf("reason %s (%v), want %s", de.Reason, err, tc.reason)
			}
			if de.Topic != src.Topic || de.Partition != src.Partition || de.Offset != src.Offset {
				t.Errorf("coordinates %s[%d]@%d, want %s", de.Topic, de.Partition, de.Offset, src)
			}
			if !strings.HasPrefix(err.Error(), "decode events[3]@1841: "+string(tc.reason)+": ") || len(err.Error()) > 300 {
				t.Errorf("message %q", err.Error())
			}
		})
	}
}

func TestDecodeMaxBytes(t *testing.T) {
	t.Parallel()
	v := []byte(`{"text":"hello"}`) // 16 bytes
	for _, tc := range []struct {
		name string
		max  int64
		ok   bool
	}{
		{"exact", 16, true},
		{"one below", 15, false},
		{"default", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(Source{}, v, DecodeOptions{MaxBytes: tc.max})
			if (err == nil) != tc.ok {
				t.Fatalf("max %d: err %v, want ok %v", tc.max, err, tc.ok)
			}
		})
	}
}
