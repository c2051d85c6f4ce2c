package producer

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// errNonFinite is returned for a NaN or infinite score, which JSON cannot
// carry.
var errNonFinite = errors.New("score is not a finite number")

// appendResult appends the JSON form of w (the same object encoding/json
// produces for resultWire, up to number formatting and key order of
// scores, which are sorted) to b. It is the publisher's hot path: about 4x
// cheaper than json.Marshal and with one allocation for b's growth.
func appendResult(b []byte, w *resultWire) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendString(b, w.ID)
	b = append(b, `,"label":`...)
	b = appendString(b, w.Label)
	b = append(b, `,"scores":`...)
	var keysBuf [32]string
	var err error
	if b, err = appendScores(b, w.Scores, keysBuf[:0]); err != nil {
		return b, err
	}
	b = append(b, `,"tasks":{`...)
	var namesBuf [8]string
	names := sortedKeys(namesBuf[:0], w.Tasks)
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
		t := w.Tasks[name]
		if t.MultiLabel {
			b = append(b, `:{"labels":[`...)
			for j, l := range t.Labels {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(b, l)
			}
			b = append(b, ']')
		} else {
			b = append(b, `:{"label":`...)
			b = appendString(b, t.Label)
		}
		b = append(b, `,"scores":`...)
		if b, err = appendScores(b, t.Scores, keysBuf[:0]); err != nil {
			return b, err
		}
		b = append(b, '}')
	}
	b = append(b, `},"entities":[`...)
	for i, e := range w.Entities {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"text":`...)
		b = appendString(b, e.Text)
		b = append(b, `,"type":`...)
		b = appendString(b, e.Type)
		b = append(b, `,"start":`...)
		b = strconv.AppendInt(b, int64(e.Start), 10)
		b = append(b, `,"end":`...)
		b = strconv.AppendInt(b, int64(e.End), 10)
		if e.Nominal != nil {
			b = append(b, `,"nominal":`...)
			b = strconv.AppendBool(b, *e.Nominal)
		}
		b = append(b, '}')
	}
	b = append(b, `],"lang":`...)
	b = appendString(b, w.Lang)
	if w.Text != nil {
		b = append(b, `,"text":`...)
		b = appendString(b, *w.Text)
	}
	if w.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if len(w.Meta) > 0 {
		if !json.Valid(w.Meta) || w.Meta[0] != '{' {
			return b, errors.New("meta is not a JSON object")
		}
		b = append(b, `,"meta":`...)
		b = append(b, w.Meta...)
	}
	b = append(b, `,"model_version":{"classifier":`...)
	b = appendString(b, w.ModelVersion.Classifier)
	b = append(b, `,"ner":`...)
	b = appendString(b, w.ModelVersion.NER)
	b = append(b, `,"tasks":{`...)
	names = sortedKeys(names[:0], w.ModelVersion.Tasks)
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
		b = append(b, ':')
		b = appendString(b, w.ModelVersion.Tasks[name])
	}
	b = append(b, `}},"source":{"topic":`...)
	b = appendString(b, w.Source.Topic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(w.Source.Partition), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, w.Source.Offset, 10)
	b = append(b, `},"event_time":`...)
	if b, err = appendTime(b, w.EventTime); err != nil {
		return b, err
	}
	b = append(b, `,"processed_at":`...)
	if b, err = appendTime(b, w.ProcessedAt); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendScores appends the JSON object of scores, keys sorted (keys is
// scratch for them).
func appendScores(b []byte, scores map[string]float64, keys []string) ([]byte, error) {
	b = append(b, '{')
	keys = sortedKeys(keys, scores)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		v := scores[k]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return b, errNonFinite
		}
		b = appendFloat(b, v)
	}
	return append(b, '}'), nil
}

// sortedKeys appends the keys of m to dst (scratch the caller reuses, so
// the hot path does not allocate for a few keys) and sorts them.
func sortedKeys[V any](dst []string, m map[string]V) []string {
	for k := range m {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}

// appendTime appends t as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds), refusing years outside [0, 9999] like it.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, errors.New("time year outside of range [0,9999]")
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendFloat appends v like encoding/json: shortest representation, 'f'
// format unless the exponent is very small or large.
func appendFloat(b []byte, v float64) []byte {
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string: ", \ and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped
// (as encoding/json does, without its HTML escaping).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
