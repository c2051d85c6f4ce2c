package producer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tagstream/tagstream/event"
)

// resultWire is the published form of a Result.
type resultWire struct {
	ID           string                      `json:"id"`
	Label        string                      `json:"label"`
	Scores       map[string]float64          `json:"scores"`
	Tasks        map[string]event.TaskResult `json:"tasks"`
	Entities     []event.Entity              `json:"entities"`
	Lang         string                      `json:"lang"`
	Text         *string                     `json:"text,omitempty"`
	Truncated    bool                        `json:"truncated,omitempty"`
	Meta         json.RawMessage             `json:"meta,omitempty"`
	ModelVersion event.ModelVersion          `json:"model_version"`
	Source       event.Source                `json:"source"`
	EventTime    time.Time                   `json:"event_time"`
	ProcessedAt  time.Time                   `json:"processed_at"`
}

// deadLetterWire is the published form of a DeadLetter. RawBytes is the
// length of the original value; RawTruncated says raw_base64 holds only its
// first bytes, because the whole would not fit in one NATS message.
type deadLetterWire struct {
	Reason       string       `json:"reason"`
	Error        string       `json:"error"`
	Source       event.Source `json:"source"`
	RawBase64    string       `json:"raw_base64"`
	RawBytes     int          `json:"raw_bytes"`
	RawTruncated bool         `json:"raw_truncated,omitempty"`
}

// encoded is an Item ready to publish.
type encoded struct {
	subject, msgID string
	data           []byte
}

// encode returns the subject, Nats-Msg-Id and payload of it. Errors wrap
// ErrInvalidItem.
func (p *Publisher) encode(it *event.Item) (encoded, error) {
	switch {
	case it.Result != nil && it.DeadLetter != nil:
		return encoded{}, fmt.Errorf("%w: both result and dead letter set", ErrInvalidItem)
	case it.Result != nil:
		r := it.Result
		w := resultWire{
			ID: r.ID, Label: r.Label, Scores: r.Scores, Tasks: r.Tasks, Entities: r.Entities, Lang: r.Lang, Truncated: r.Truncated, Meta: r.Meta,
			ModelVersion: r.ModelVersion, Source: r.Source, EventTime: r.EventTime, ProcessedAt: r.ProcessedAt,
		}
		if w.Scores == nil {
			w.Scores = map[string]float64{}
		}
		if w.Entities == nil {
			w.Entities = []event.Entity{}
		}
		if w.Tasks == nil {
			w.Tasks = map[string]event.TaskResult{}
		}
		if w.ModelVersion.Tasks == nil {
			w.ModelVersion.Tasks = map[string]string{}
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
		return encoded{subject: p.cfg.SubjectPrefix + "." + event.SubjectToken(r.Label), msgID: r.Source.String(), data: data}, nil
	case it.DeadLetter != nil:
		d := it.DeadLetter
		w := deadLetterWire{Reason: d.Reason, Source: d.Source, RawBytes: len(d.Raw)}
		if d.Err != nil {
			w.Error = event.Truncate(d.Err.Error(), 4096)
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
