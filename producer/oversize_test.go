package producer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
)

// A dead letter larger than the server's max payload (a too_large event)
// is still published, with the head of its value and its full length; a
// result that cannot fit is refused as an invalid item, which the caller
// turns into a dead letter instead of retrying forever.
func TestPublishOversize(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	p := newPublisher(t, tn.config(ModeJetStream))
	log := collectAcks(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	raw := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB, over the 1 MiB default
	items := []event.Item{
		{DeadLetter: &event.DeadLetter{Reason: "too_large", Err: errors.New("value of 3145728 bytes"), Source: event.Source{Topic: "events", Partition: 1, Offset: 5}, Raw: raw}, Token: "dl"},
	}
	if _, err := p.PublishBatch(ctx, items); err != nil {
		t.Fatal(err)
	}
	acks := log.wait(t, 1, 10*time.Second)
	if err := ackErrs(acks); err != nil {
		t.Fatalf("oversize dead letter: %v", err)
	}
	m, err := tn.streamHandle(t).GetLastMsgForSubject(ctx, tn.dlq)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(m.Data)) > p.maxPayload() {
		t.Fatalf("stored dead letter is %d bytes, over max payload %d", len(m.Data), p.maxPayload())
	}
	var got struct {
		RawBase64    string `json:"raw_base64"`
		RawBytes     int    `json:"raw_bytes"`
		RawTruncated bool   `json:"raw_truncated"`
	}
	if err := json.Unmarshal(m.Data, &got); err != nil {
		t.Fatal(err)
	}
	head, err := base64.StdEncoding.DecodeString(got.RawBase64)
	if err != nil || !got.RawTruncated || got.RawBytes != len(raw) || len(head) < 512<<10 || !bytes.HasPrefix(raw, head) {
		t.Fatalf("truncated=%v raw_bytes=%d head=%d bytes (prefix %v, %v); want a >=512 KiB prefix of %d bytes",
			got.RawTruncated, got.RawBytes, len(head), bytes.HasPrefix(raw, head), err, len(raw))
	}
}

func TestPublishOversizeResultIsInvalidItem(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, nil)
	cfg := tn.config(ModeJetStream)
	cfg.IncludeText = true
	p := newPublisher(t, cfg)
	log := collectAcks(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	big := result("events", 9, "x")
	big.Text = strings.Repeat("y", 2<<20)
	if _, err := p.PublishBatch(ctx, []event.Item{{Result: big, Token: "big"}}); err != nil {
		t.Fatal(err)
	}
	acks := log.wait(t, 1, 10*time.Second)
	if !errors.Is(acks[0].Err, ErrInvalidItem) || !strings.Contains(acks[0].Err.Error(), "max payload") {
		t.Fatalf("ack error %v, want ErrInvalidItem naming the max payload", acks[0].Err)
	}
}
