package pipeline

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
)

// These tests run the whole path — kafka-go consumer group, pipeline,
// NATS JetStream publisher — against kfake and an in-process NATS server,
// or against real brokers when TAGSTREAM_KAFKA_BROKERS and
// TAGSTREAM_NATS_URL are set (.ci/run does both).

func TestE2EBadInputsGoToDLQ(t *testing.T) {
	t.Parallel()
	k := newE2EKafka(t, 4)
	n := newE2ENATS(t)
	type bad struct {
		value  []byte
		reason event.Reason
	}
	bads := []bad{
		{[]byte(`{"text": "unterminated`), event.ReasonInvalidJSON},
		{[]byte("{\"text\": \"caf\xe9 latin-1\"}"), event.ReasonInvalidUTF8},
		{[]byte(`{"text": ""}`), event.ReasonEmptyText},
		{[]byte(`{"text": "   "}`), event.ReasonEmptyText},
		{[]byte(`{"text": "` + strings.Repeat("big ", 512<<10) + `"}`), event.ReasonTooLarge}, // 2 MiB
		{[]byte{0x00, 0xff, 0xfe, 0x13, 0x37, 0x80, 0x81}, event.ReasonInvalidUTF8},           // binary garbage
		{[]byte(`{"text": 42}`), event.ReasonWrongType},
		{[]byte(`["a list"]`), event.ReasonWrongType},
		{[]byte(`{"id": "no text"}`), event.ReasonMissingText},
		{[]byte(`{"text": "hi", "lang": "fr"}`), event.ReasonBadLang},
	}
	var values [][]byte
	wantReason := map[string]event.Reason{} // "p/o" → reason, filled after produce
	isBad := map[int]event.Reason{}
	valid := 0
	for i := 0; i < 200; i++ {
		if i%20 == 7 && len(isBad) < len(bads) {
			b := bads[len(isBad)]
			isBad[len(values)] = b.reason
			values = append(values, b.value)
		}
		if i%2 == 0 {
			values = append(values, fmt.Appendf(nil, `{"id":"v%d","text":"valid event %d from Paris"}`, i, i))
		} else { // meta is passed through, compacted
			values = append(values, fmt.Appendf(nil, `{"id":"v%d","text":"valid event %d from Paris", "meta": { "user": "u%d", "n": [1, 2.5] } }`, i, i, i))
		}
		valid++
	}
	for len(isBad) < len(bads) {
		b := bads[len(isBad)]
		isBad[len(values)] = b.reason
		values = append(values, b.value)
	}
	msgs := k.produce(t, values)
	// Offsets per partition follow production order.
	next := map[int]int64{}
	valueAt := map[string][]byte{}
	for i, m := range msgs {
		off := next[m.Partition]
		next[m.Partition]++
		valueAt[fmt.Sprintf("%d/%d", m.Partition, off)] = values[i]
		if r, ok := isBad[i]; ok {
			wantReason[fmt.Sprintf("%d/%d", m.Partition, off)] = r
		}
	}
	group := "g-" + uniqueName(t)
	in := startInstance(t, k, n, k.consumerConfig(group), Config{BatchMaxSize: 32, BatchMaxDelay: 2 * time.Millisecond, Workers: 2, IncludeText: true}, IdentitySnapshot(), false)
	waitFor(t, 60*time.Second, func() error {
		if s := in.pipe.Stats(); s.Published+s.DeadLetters != int64(len(values)) {
			return fmt.Errorf("stats %+v, want %d out", s, len(values))
		}
		return nil
	})
	if err := in.stop(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	got := n.readStream(t)
	results, deads := 0, 0
	for _, m := range got {
		if m.subject == n.dlq {
			deads++
			key := fmt.Sprintf("%d/%d", m.dead.Source.Partition, m.dead.Source.Offset)
			want, ok := wantReason[key]
			if !ok {
				t.Errorf("unexpected dead letter %s: %s %s", key, m.dead.Reason, m.dead.Error)
				continue
			}
			if m.dead.Reason != string(want) {
				t.Errorf("dead letter %s: reason %q, want %q (%s)", key, m.dead.Reason, want, m.dead.Error)
			}
			raw, err := base64.StdEncoding.DecodeString(m.dead.RawBase64)
			if err != nil || m.dead.Error == "" || m.dead.Source.Topic != k.topic {
				t.Errorf("dead letter %s: raw %v, error %q, topic %q", key, err, m.dead.Error, m.dead.Source.Topic)
			}
			if v := valueAt[key]; m.dead.RawBytes != len(v) || !bytes.Equal(raw, v) && !(m.dead.Truncated && bytes.HasPrefix(v, raw)) {
				t.Errorf("dead letter %s: raw bytes differ from the record value", key)
			}
			delete(wantReason, key)
			continue
		}
		results++
		if !strings.HasPrefix(m.result.ID, "v") || !strings.HasPrefix(m.result.Text, "valid event") {
			t.Errorf("result %+v is not a valid event's", m.result)
		}
		var i int
		fmt.Sscanf(m.result.ID, "v%d", &i)
		if want := fmt.Sprintf(`{"user":"u%d","n":[1,2.5]}`, i); i%2 == 1 && string(m.result.Meta) != want || i%2 == 0 && m.result.Meta != nil {
			t.Errorf("result %s: meta %s, want %s only for odd ids", m.result.ID, m.result.Meta, want)
		}
	}
	if results != valid || deads != len(bads) || len(wantReason) != 0 {
		t.Errorf("%d results (want %d), %d dead letters (want %d), missing dead letters %v", results, valid, deads, len(bads), wantReason)
	}
	// Every offset committed: bad events never block a partition.
	committed := k.committed(t, group)
	for p, end := range next {
		if committed[p] != end {
			t.Errorf("partition %d committed at %d, want %d (end of partition)", p, committed[p], end)
		}
	}
}

// TestE2ECrashRestartDeduplicates crashes an instance mid-stream after it
// published results whose offsets it never committed, then starts another
// instance in the same group: it reprocesses from the committed offsets,
// republishes what the first one already published, and JetStream drops
// those by Nats-Msg-Id, so the stream holds each event exactly once.
func TestE2ECrashRestartDeduplicates(t *testing.T) {
	t.Parallel()
	const total = 3000
	k := newE2EKafka(t, 4)
	n := newE2ENATS(t)
	values := make([][]byte, total)
	for i := range values {
		values[i] = fmt.Appendf(nil, `{"id":"e%d","text":"event number %d"}`, i, i)
	}
	k.produce(t, values[:total/2])
	group := "g-" + uniqueName(t)
	cfg := Config{BatchMaxSize: 16, BatchMaxDelay: time.Millisecond, Workers: 2, ShutdownTimeout: time.Second}

	// Instance 1 publishes but dies before any commit reaches Kafka.
	in1 := startInstance(t, k, n, k.consumerConfig(group), cfg, IdentitySnapshot(), true)
	waitFor(t, 60*time.Second, func() error {
		if s := in1.pipe.Stats(); s.Published < total/2 {
			return fmt.Errorf("instance 1 published %d", s.Published)
		}
		return nil
	})
	// More events arrive and the instance crashes while they stream in.
	k.produce(t, values[total/2:])
	_ = in1.stop(t) // reports the records it gave up on: that is the crash
	published1 := in1.pipe.Stats().Published
	for p, off := range k.committed(t, group) {
		if off > 0 {
			t.Fatalf("partition %d committed at %d after the crash, want nothing committed", p, off)
		}
	}

	in2 := startInstance(t, k, n, k.consumerConfig(group), cfg, IdentitySnapshot(), false)
	waitFor(t, 60*time.Second, func() error {
		if s := in2.pipe.Stats(); s.Published != total {
			return fmt.Errorf("instance 2 published %d of %d", s.Published, total)
		}
		return nil
	})
	if err := in2.stop(t); err != nil {
		t.Fatalf("instance 2: %v", err)
	}
	t.Logf("instance 1 published %d before the crash; instance 2 republished all %d", published1, total)

	ids := map[string]int{}
	for _, m := range n.readStream(t) {
		ids[m.result.ID]++
	}
	if len(ids) != total {
		t.Errorf("stream holds %d distinct ids, want %d", len(ids), total)
	}
	for i := 0; i < total; i++ {
		if c := ids[fmt.Sprintf("e%d", i)]; c != 1 {
			t.Errorf("id e%d stored %d times, want 1", i, c)
		}
	}
	committed := k.committed(t, group)
	sum := int64(0)
	for _, off := range committed {
		sum += off
	}
	if sum != total {
		t.Errorf("committed offsets %v sum to %d, want %d", committed, sum, total)
	}
}

// TestE2EShutdownCommitsOnlyDelivered stops an instance while events are
// still arriving and checks the delivery invariant: every committed offset
// has its result in the stream, and everything published is committed after
// the clean drain.
func TestE2EShutdownCommitsOnlyDelivered(t *testing.T) {
	t.Parallel()
	const total = 2000
	k := newE2EKafka(t, 3)
	n := newE2ENATS(t)
	values := make([][]byte, total)
	for i := range values {
		values[i] = fmt.Appendf(nil, `{"id":"e%d","text":"event number %d"}`, i, i)
	}
	k.produce(t, values)
	group := "g-" + uniqueName(t)
	in := startInstance(t, k, n, k.consumerConfig(group), Config{BatchMaxSize: 8, Workers: 2, ShutdownTimeout: 20 * time.Second}, IdentitySnapshot(), false)
	waitFor(t, 60*time.Second, func() error {
		if s := in.pipe.Stats(); s.Published < total/4 {
			return fmt.Errorf("published %d", s.Published)
		}
		return nil
	})
	if err := in.stop(t); err != nil {
		t.Fatalf("drain: %v", err)
	}
	s := in.pipe.Stats()
	if s.InFlight != 0 || s.Consumed != s.Published {
		t.Fatalf("after a clean drain: %+v, want nothing in flight and every fetched record published", s)
	}
	have := map[[2]int64]bool{}
	for _, m := range n.readStream(t) {
		have[[2]int64{int64(m.result.Source.Partition), m.result.Source.Offset}] = true
	}
	committedSum := int64(0)
	for p, off := range k.committed(t, group) {
		for o := int64(0); o < off; o++ {
			if !have[[2]int64{int64(p), o}] {
				t.Fatalf("partition %d offset %d committed (at %d) without a result in the stream", p, o, off)
			}
		}
		committedSum += max(off, 0)
	}
	if committedSum != s.Published {
		t.Errorf("committed %d offsets, published %d: the drain must commit everything delivered", committedSum, s.Published)
	}
}

// TestE2ETwoInstancesShareTheGroup scales out mid-stream: a second instance
// joins the group while the first is consuming, the partitions are split
// between them (a rebalance with redelivery), and every event still ends up
// in the stream exactly once with every offset committed.
func TestE2ETwoInstancesShareTheGroup(t *testing.T) {
	t.Parallel()
	const total = 4000
	k := newE2EKafka(t, 4)
	n := newE2ENATS(t)
	values := make([][]byte, total)
	for i := range values {
		values[i] = fmt.Appendf(nil, `{"id":"e%d","text":"event number %d"}`, i, i)
	}
	group := "g-" + uniqueName(t)
	cfg := Config{BatchMaxSize: 16, BatchMaxDelay: time.Millisecond, Workers: 2}
	k.produce(t, values[:total/2])
	a := startInstance(t, k, n, k.consumerConfig(group), cfg, IdentitySnapshot(), false)
	waitFor(t, 60*time.Second, func() error {
		if s := a.pipe.Stats(); s.Published == 0 {
			return fmt.Errorf("instance a published nothing yet")
		}
		return nil
	})
	b := startInstance(t, k, n, k.consumerConfig(group), cfg, IdentitySnapshot(), false)
	// Produce the rest once the rebalance gave b partitions (a real broker
	// takes longer to rebalance than a consumes the first half).
	waitFor(t, 60*time.Second, func() error {
		if len(b.cons.Stats().Partitions) == 0 {
			return fmt.Errorf("instance b has no partitions yet")
		}
		return nil
	})
	k.produce(t, values[total/2:])
	waitFor(t, 90*time.Second, func() error {
		sum := int64(0)
		for _, off := range k.committed(t, group) {
			sum += max(off, 0)
		}
		if sum != total {
			return fmt.Errorf("committed %d of %d (a %+v, b %+v)", sum, total, a.pipe.Stats(), b.pipe.Stats())
		}
		return nil
	})
	sa, sb := a.pipe.Stats(), b.pipe.Stats()
	if err := a.stop(t); err != nil {
		t.Errorf("instance a: %v", err)
	}
	if err := b.stop(t); err != nil {
		t.Errorf("instance b: %v", err)
	}
	t.Logf("instance a published %d, instance b %d (their sum minus %d are redeliveries)", sa.Published, sb.Published, total)
	if sb.Published == 0 {
		t.Errorf("instance b got no partitions")
	}
	ids := map[string]int{}
	msgs := n.readStream(t)
	for _, m := range msgs {
		ids[m.result.ID]++
	}
	if len(msgs) != total || len(ids) != total {
		t.Errorf("stream holds %d messages with %d distinct ids, want %d and %d", len(msgs), len(ids), total, total)
	}
}
