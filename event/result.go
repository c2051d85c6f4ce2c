package event

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Result is the labelled form of one event, published as JSON on
// "<SubjectPrefix>.<SubjectToken(Label)>". Times are marshaled as RFC 3339
// with nanoseconds (time.Time's MarshalJSON). The Publisher does not modify
// or retain a Result after PublishBatch returns.
type Result struct {
	// ID is the event id.
	ID string
	// Label is the route task's label; it also names the subject.
	Label string
	// Scores maps each label of the route task to its probability. nil is
	// published as {}.
	Scores map[string]float64
	// Tasks is every task's output by task name (the route task's too); a
	// task without a model for the result's language is absent. nil is
	// published as {}.
	Tasks map[string]TaskResult
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

// TaskResult is one task's output for one event: Label for a single-label
// task, Labels (every label over its threshold, possibly none) for a
// multi-label one, and Scores, each label's probability (softmax for a
// single-label task, an independent sigmoid per label for a multi-label
// one). It is published as {"label","scores"} or {"labels","scores"}.
type TaskResult struct {
	Label      string
	Labels     []string
	MultiLabel bool
	Scores     map[string]float64
}

// MarshalJSON encodes r as published.
func (r TaskResult) MarshalJSON() ([]byte, error) {
	var w struct {
		Label  *string            `json:"label,omitempty"`
		Labels *[]string          `json:"labels,omitempty"`
		Scores map[string]float64 `json:"scores"`
	}
	if r.MultiLabel {
		labels := r.Labels
		if labels == nil {
			labels = []string{}
		}
		w.Labels = &labels
	} else {
		w.Label = &r.Label
	}
	w.Scores = r.Scores
	if w.Scores == nil {
		w.Scores = map[string]float64{}
	}
	return json.Marshal(w)
}

// ModelVersion names the models of a Result: Classifier the route task's
// classifier (what a one-task consumer reads), NER the tagger, Tasks every
// task's classifier by task name (nil is published as {}).
type ModelVersion struct {
	Classifier string            `json:"classifier"`
	NER        string            `json:"ner"`
	Tasks      map[string]string `json:"tasks"`
}

// Source is the Kafka coordinates of an event: where a value was read (in a
// DecodeError and the default Event.ID) and the de-duplication id of its
// result.
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
	// Reason is a stable machine-readable cause, e.g. a decode Reason.
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
