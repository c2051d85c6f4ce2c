package producer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Result is the labelled form of one event, published as JSON on
// "<SubjectPrefix>.<SubjectToken(Label)>". Times are marshaled as RFC 3339
// with nanoseconds (time.Time's MarshalJSON). The Publisher does not modify
// or retain a Result after PublishBatch returns.
type Result struct {
	// ID is the event id.
	ID string
	// Label is the classifier's label; it also names the subject.
	Label string
	// Scores maps each label to its probability. nil is published as {}.
	Scores map[string]float64
	// Entities are the NER spans. nil is published as [].
	Entities []Entity
	// Lang is the event language, "en" or "zh".
	Lang string
	// Text is the event text, published only when Config.IncludeText.
	Text string
	// Truncated reports that the models saw only the first tokens of the
	// text (input.max_tokens or a model's own limit); false publishes no
	// "truncated" key.
	Truncated bool
	// Meta is the event's "meta" object, compact JSON, passed through
	// untouched; nil publishes no "meta" key.
	Meta json.RawMessage
	// ModelVersion names the models that produced the result.
	ModelVersion ModelVersion
	// Source is where the event was read; it is also the de-duplication id.
	Source Source
	// EventTime is the event's own time.
	EventTime time.Time
	// ProcessedAt is when the result was computed.
	ProcessedAt time.Time
}

// Entity is one named-entity span. Start and End are offsets into the text
// (End exclusive), in the unit the tagger reports.
type Entity struct {
	Text    string `json:"text"`
	Type    string `json:"type"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Nominal *bool  `json:"nominal,omitempty"`
}

// ModelVersion names the classifier and NER models of a Result.
type ModelVersion struct {
	Classifier string `json:"classifier"`
	NER        string `json:"ner"`
}

// Source is the Kafka coordinates of an event.
type Source struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
}

// String returns "topic/partition/offset", the Nats-Msg-Id of a result.
func (s Source) String() string {
	return s.Topic + "/" + strconv.Itoa(s.Partition) + "/" + strconv.FormatInt(s.Offset, 10)
}

// DeadLetter is an event that could not be processed, published as JSON
// {"reason","error","source","raw_base64"} on Config.DLQSubject with
// Nats-Msg-Id "dlq/<topic>/<partition>/<offset>". The Publisher does not
// modify or retain it after PublishBatch returns.
type DeadLetter struct {
	// Reason is a stable machine-readable cause, e.g. a consumer.Reason.
	Reason string
	// Err is the detailed cause; its message is published, nil as "".
	Err error
	// Source is where the event was read.
	Source Source
	// Raw is the original record value, published in standard base64.
	Raw []byte
}

// Item is one thing to publish: exactly one of Result and DeadLetter is
// set. Token is opaque to the Publisher and comes back in the item's Ack.
type Item struct {
	Result     *Result
	DeadLetter *DeadLetter
	Token      any
}

// Ack reports the outcome of one Item accepted by PublishBatch. Err nil
// means the item is safely out: stored by the stream (jetstream) or flushed
// to the server (core); only then may its Kafka offset be committed.
type Ack struct {
	// Token is the Item's Token.
	Token any
	// Err is nil on success. Otherwise the item may or may not have been
	// stored; publishing it again is safe in jetstream mode because the
	// stream de-duplicates on its coordinates.
	Err error
	// Duplicate reports that the stream already held a message with this
	// item's Nats-Msg-Id (jetstream only); it is still a success.
	Duplicate bool
	// Sequence is the stream sequence of the message (jetstream only).
	Sequence uint64
}

// SubjectToken turns a label into one valid subject token: lower case,
// every character outside [a-z0-9_-] replaced by "_" (one per rune), and ""
// becomes "none". Distinct labels may map to the same token.
func SubjectToken(label string) string {
	if label == "" {
		return "none"
	}
	var b strings.Builder
	b.Grow(len(label))
	for _, r := range strings.ToLower(label) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// resultWire is the published form of a Result.
type resultWire struct {
	ID           string             `json:"id"`
	Label        string             `json:"label"`
	Scores       map[string]float64 `json:"scores"`
	Entities     []Entity           `json:"entities"`
	Lang         string             `json:"lang"`
	Text         *string            `json:"text,omitempty"`
	Truncated    bool               `json:"truncated,omitempty"`
	Meta         json.RawMessage    `json:"meta,omitempty"`
	ModelVersion ModelVersion       `json:"model_version"`
	Source       Source             `json:"source"`
	EventTime    time.Time          `json:"event_time"`
	ProcessedAt  time.Time          `json:"processed_at"`
}

// deadLetterWire is the published form of a DeadLetter. RawBytes is the
// length of the original value; RawTruncated says raw_base64 holds only its
// first bytes, because the whole would not fit in one NATS message.
type deadLetterWire struct {
	Reason       string `json:"reason"`
	Error        string `json:"error"`
	Source       Source `json:"source"`
	RawBase64    string `json:"raw_base64"`
	RawBytes     int    `json:"raw_bytes"`
	RawTruncated bool   `json:"raw_truncated,omitempty"`
}

// encoded is an Item ready to publish.
type encoded struct {
	subject, msgID string
	data           []byte
}

// encode returns the subject, Nats-Msg-Id and payload of it. Errors wrap
// ErrInvalidItem.
func (p *Publisher) encode(it *Item) (encoded, error) {
	switch {
	case it.Result != nil && it.DeadLetter != nil:
		return encoded{}, fmt.Errorf("%w: both result and dead letter set", ErrInvalidItem)
	case it.Result != nil:
		r := it.Result
		w := resultWire{
			ID: r.ID, Label: r.Label, Scores: r.Scores, Entities: r.Entities, Lang: r.Lang, Truncated: r.Truncated, Meta: r.Meta,
			ModelVersion: r.ModelVersion, Source: r.Source, EventTime: r.EventTime, ProcessedAt: r.ProcessedAt,
		}
		if w.Scores == nil {
			w.Scores = map[string]float64{}
		}
		if w.Entities == nil {
			w.Entities = []Entity{}
		}
		if p.cfg.IncludeText {
			w.Text = &r.Text
		}
		data, err := appendResult(make([]byte, 0, 256+len(w.Entities)*64+len(r.Text)+len(r.Meta)), &w)
		if err != nil {
			return encoded{}, fmt.Errorf("%w: encode result %s: %w", ErrInvalidItem, r.Source, err)
		}
		if limit := p.maxPayload(); int64(len(data)) > limit {
			return encoded{}, fmt.Errorf("%w: result %s is %d bytes, over the server's max payload %d", ErrInvalidItem, r.Source, len(data), limit)
		}
		return encoded{subject: p.cfg.SubjectPrefix + "." + SubjectToken(r.Label), msgID: r.Source.String(), data: data}, nil
	case it.DeadLetter != nil:
		d := it.DeadLetter
		w := deadLetterWire{Reason: d.Reason, Source: d.Source, RawBytes: len(d.Raw)}
		if d.Err != nil {
			w.Error = truncate(d.Err.Error(), 4096)
		}
		limit := p.maxPayload()
		raw := d.Raw
		if n := base64.StdEncoding.EncodedLen(len(raw)); int64(n)+1024+int64(len(w.Error))*6 > limit {
			// Keep the head of the value: what fits with room for the
			// other fields (an error may grow 6x when JSON-escaped).
			keep := max(0, (limit-1024-int64(len(w.Error))*6)/4*3)
			raw, w.RawTruncated = raw[:min(int64(len(raw)), keep)], true
		}
		w.RawBase64 = base64.StdEncoding.EncodeToString(raw)
		data, err := json.Marshal(w)
		if err != nil {
			return encoded{}, fmt.Errorf("%w: encode dead letter %s: %w", ErrInvalidItem, d.Source, err)
		}
		return encoded{subject: p.cfg.DLQSubject, msgID: "dlq/" + d.Source.String(), data: data}, nil
	default:
		return encoded{}, fmt.Errorf("%w: neither result nor dead letter set", ErrInvalidItem)
	}
}

// maxPayload is the largest message the server accepts.
func (p *Publisher) maxPayload() int64 {
	if m := p.nc.MaxPayload(); m > 0 {
		return m
	}
	return 1 << 20
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
