package producer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tagstream/tagstream/event"
)

func TestSubjectToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, label, want string
	}{
		{"empty", "", "none"},
		{"lower", "positive", "positive"},
		{"upper", "Positive", "positive"},
		{"dot", "neg.ative", "neg_ative"},
		{"wildcards", "a*>", "a__"},
		{"space and tab", "very good\t", "very_good_"},
		{"kept punctuation", "x-y_z9", "x-y_z9"},
		{"cjk one per rune", "正面", "__"},
		{"non-ascii letter", "Ärger", "_rger"},
		{"slash", "a/b", "a_b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := event.SubjectToken(tc.label); got != tc.want {
				t.Errorf("SubjectToken(%q) = %q, want %q", tc.label, got, tc.want)
			}
		})
	}
}

// wireResult decodes a published result.
type wireResult struct {
	ID           string              `json:"id"`
	Label        string              `json:"label"`
	Scores       map[string]float64  `json:"scores"`
	Tasks        map[string]wireTask `json:"tasks"`
	Entities     []event.Entity      `json:"entities"`
	Lang         string              `json:"lang"`
	Text         *string             `json:"text"`
	ModelVersion event.ModelVersion  `json:"model_version"`
	Source       event.Source        `json:"source"`
	EventTime    string              `json:"event_time"`
	ProcessedAt  string              `json:"processed_at"`
}

// wireTask is the published form of one task's output: label for a
// single-label task, labels for a multi-label one, never both.
type wireTask struct {
	Label  *string            `json:"label"`
	Labels *[]string          `json:"labels"`
	Scores map[string]float64 `json:"scores"`
}

// checkResult compares a published payload with r.
func checkResult(t *testing.T, data []byte, r *event.Result, withText bool) {
	t.Helper()
	var got wireResult
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	want := wireResult{
		ID: r.ID, Label: r.Label, Scores: r.Scores, Entities: r.Entities, Lang: r.Lang,
		ModelVersion: r.ModelVersion, Source: r.Source,
		EventTime: r.EventTime.Format(time.RFC3339Nano), ProcessedAt: r.ProcessedAt.Format(time.RFC3339Nano),
	}
	if withText {
		want.Text = &r.Text
	}
	want.Tasks = map[string]wireTask{}
	for name, tr := range r.Tasks {
		w := wireTask{Scores: tr.Scores}
		if tr.MultiLabel {
			w.Labels = &tr.Labels
		} else {
			w.Label = &tr.Label
		}
		want.Tasks[name] = w
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("payload\n got %+v\nwant %+v\n raw %s", got, want, data)
	}
}

func TestPublishJetStream(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	p := newPublisher(t, tn.config(""))
	log := collectAcks(t, p)

	yes := true
	labels := []string{"Positive", "neg.ative", ""}
	var batch []event.Item
	for i, l := range labels {
		r := result("events", int64(10+i), l)
		if i == 1 {
			r.Entities = append(r.Entities, event.Entity{Text: "it", Type: "PER", Start: 0, End: 2, Nominal: &yes})
		}
		batch = append(batch, event.Item{Result: r, Token: i})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := p.PublishBatch(ctx, batch); n != len(batch) || err != nil {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	acks := log.wait(t, len(batch), 10*time.Second)
	if err := ackErrs(acks); err != nil {
		t.Fatal(err)
	}
	tokens := map[any]bool{}
	for _, a := range acks {
		tokens[a.Token] = true
		if a.Duplicate || a.Sequence == 0 {
			t.Errorf("ack %+v: want a fresh stream sequence", a)
		}
	}
	if len(tokens) != len(batch) {
		t.Errorf("ack tokens %v, want one per item", tokens)
	}

	s := tn.streamHandle(t)
	if n := tn.msgCount(t, s); n != uint64(len(batch)) {
		t.Errorf("stream holds %d messages, want %d", n, len(batch))
	}
	for i, want := range []string{"positive", "neg_ative", "none"} {
		subj := tn.prefix + "." + want
		m, err := s.GetLastMsgForSubject(ctx, subj)
		if err != nil {
			t.Fatalf("last message on %s: %v", subj, err)
		}
		checkResult(t, m.Data, batch[i].Result, false)
		if id, want := m.Header.Get(jetstream.MsgIDHeader), batch[i].Result.Source.String(); id != want {
			t.Errorf("Nats-Msg-Id %q, want %q", id, want)
		}
	}
}

func TestPublishDuplicate(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	p := newPublisher(t, tn.config(ModeJetStream))
	log := collectAcks(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r := result("events", 42, "positive")
	for i := range 2 { // one at a time: the first ack comes before the redelivery
		if _, err := p.PublishBatch(ctx, []event.Item{{Result: r, Token: i}}); err != nil {
			t.Fatal(err)
		}
		log.wait(t, i+1, 10*time.Second)
	}
	acks := log.snapshot()
	if err := ackErrs(acks); err != nil {
		t.Fatal(err)
	}
	if acks[0].Duplicate || !acks[1].Duplicate {
		t.Errorf("acks %+v: want only the second marked Duplicate", acks)
	}
	if acks[0].Sequence != acks[1].Sequence {
		t.Errorf("sequences %d, %d: a duplicate reports the stored message", acks[0].Sequence, acks[1].Sequence)
	}
	if n := tn.msgCount(t, tn.streamHandle(t)); n != 1 {
		t.Errorf("stream holds %d messages, want 1", n)
	}
}

func TestPublishDeadLetter(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	p := newPublisher(t, tn.config(ModeJetStream))
	log := collectAcks(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	raw := []byte{0xff, 0x00, 'a', '"', '\n'}
	dl := &event.DeadLetter{Reason: "invalid_utf8", Err: errors.New("decode events[3]@7: invalid utf-8"), Source: event.Source{Topic: "events", Partition: 3, Offset: 7}, Raw: raw}
	batch := []event.Item{
		{DeadLetter: dl, Token: "dl"},
		{Result: result("events", 7, "x"), Token: "result"}, // same coordinates, other id space
	}
	if _, err := p.PublishBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	acks := log.wait(t, 2, 10*time.Second)
	if err := ackErrs(acks); err != nil {
		t.Fatal(err)
	}
	for _, a := range acks {
		if a.Duplicate {
			t.Errorf("ack %v: Duplicate; dead letters and results must not share ids", a.Token)
		}
	}
	m, err := tn.streamHandle(t).GetLastMsgForSubject(ctx, tn.dlq)
	if err != nil {
		t.Fatalf("last message on %s: %v", tn.dlq, err)
	}
	if id := m.Header.Get(jetstream.MsgIDHeader); id != "dlq/events/3/7" {
		t.Errorf("Nats-Msg-Id %q, want dlq/events/3/7", id)
	}
	var got struct {
		Reason    string       `json:"reason"`
		Error     string       `json:"error"`
		Source    event.Source `json:"source"`
		RawBase64 string       `json:"raw_base64"`
	}
	if err := json.Unmarshal(m.Data, &got); err != nil {
		t.Fatalf("decode %s: %v", m.Data, err)
	}
	if got.Reason != dl.Reason || got.Error != dl.Err.Error() || got.Source != dl.Source {
		t.Errorf("dead letter %+v, want reason %q error %q source %+v", got, dl.Reason, dl.Err, dl.Source)
	}
	if b, err := base64.StdEncoding.DecodeString(got.RawBase64); err != nil || !bytes.Equal(b, raw) {
		t.Errorf("raw_base64 %q decodes to %q, %v; want %q", got.RawBase64, b, err, raw)
	}
}

func TestPublishCore(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	cfg := tn.config(ModeCore)
	cfg.IncludeText = true
	cfg.MaxPendingAcks = 2 // a batch of 5 flushes before waiting for slots
	p := newPublisher(t, cfg)
	log := collectAcks(t, p)

	// The subscription is registered once its connection's Flush returns.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc := tn.conn(t)
	sub, err := nc.SubscribeSync(tn.prefix + ".positive")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}

	batch := items("events", 0, 5, "Positive")
	if n, err := p.PublishBatch(ctx, batch); n != 5 || err != nil {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	if err := ackErrs(log.wait(t, 5, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Subject != tn.prefix+".positive" {
			t.Errorf("subject %q, want %s.positive", m.Subject, tn.prefix)
		}
		checkResult(t, m.Data, batch[i].Result, true) // one connection: in order
	}
}

func TestPublishInvalidItem(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	p := newPublisher(t, tn.config(ModeJetStream))
	log := collectAcks(t, p)
	nan := result("events", 1, "x")
	nan.Scores["x"] = math.NaN()
	batch := []event.Item{
		{Token: "neither"},
		{Result: result("events", 2, "x"), DeadLetter: &event.DeadLetter{}, Token: "both"},
		{Result: nan, Token: "nan"},
		{Result: result("events", 3, "x"), Token: "ok"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := p.PublishBatch(ctx, batch); n != 4 || err != nil {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	for _, a := range log.wait(t, 4, 10*time.Second) {
		if wantErr := a.Token != "ok"; wantErr != errors.Is(a.Err, ErrInvalidItem) {
			t.Errorf("ack %v: err %v", a.Token, a.Err)
		}
	}
}

// TestPublishRejected: a stream that refuses a message (discard-new at
// MaxMsgs) yields an error Ack for that item only.
func TestPublishRejected(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	js, err := jetstream.New(tn.conn(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: tn.stream, Subjects: []string{tn.prefix + ".>", tn.dlq},
		MaxMsgs: 2, Discard: jetstream.DiscardNew,
	}); err != nil {
		t.Fatal(err)
	}
	p := newPublisher(t, tn.config(ModeJetStream))
	log := collectAcks(t, p)
	for i := range int64(3) { // one at a time, so the third is the one refused
		if _, err := p.PublishBatch(ctx, items("events", i, 1, "x")); err != nil {
			t.Fatal(err)
		}
		log.wait(t, int(i)+1, 10*time.Second)
	}
	acks := log.snapshot()
	if err := ackErrs(acks[:2]); err != nil {
		t.Fatal(err)
	}
	var apiErr *jetstream.APIError
	if a := acks[2]; a.Token != int64(2) || !errors.As(a.Err, &apiErr) || !strings.Contains(a.Err.Error(), tn.prefix+".x msg id events/0/2") {
		t.Errorf("third ack %v: err %v, want a jetstream API error naming the subject and msg id", a.Token, a.Err)
	}
}
