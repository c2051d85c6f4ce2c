package consumer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tagstream/tagstream/event"
)

func TestConsumeAllPartitions(t *testing.T) {
	t.Parallel()
	const parts, per = 4, 25
	k := newTestKafka(t, parts, 1)
	topic := k.topics[0]
	k.produce(t, jsonMsgs(topic, parts, per)...)
	c := newTestConsumer(t, k.config("all-"+topic))

	recs := fetchN(t, c, parts*per, 20*time.Second)
	seen := coords(recs)
	if len(seen) != parts*per {
		t.Fatalf("got %d distinct records, want %d", len(seen), parts*per)
	}
	for _, r := range recs {
		if r.Err != nil {
			t.Fatalf("record %s[%d]@%d: %v", r.Topic, r.Partition, r.Offset, r.Err)
		}
		if want := fmt.Sprintf("%s-%d-%d", topic, r.Partition, r.Offset); r.Event.ID != want || r.Event.Lang != "en" {
			t.Fatalf("record %s[%d]@%d: event %+v, want id %s", r.Topic, r.Partition, r.Offset, r.Event, want)
		}
	}
	c.Done(recs...)
	k.waitCommitted(t, "all-"+topic, topic, map[int]int64{0: per, 1: per, 2: per, 3: per})

	// The broker shows a commit before the consumer has read the commit's
	// response and updated its stats (a real broker's round trip leaves a
	// visible gap), so the stats are waited for too.
	waitFor(t, 5*time.Second, func() error {
		st := c.Stats()
		if st.Fetched != parts*per || st.Generations < 1 || len(st.Partitions) != parts {
			return fmt.Errorf("stats %+v", st)
		}
		for _, p := range st.Partitions {
			if p.Committed != per || p.InFlight != 0 {
				return fmt.Errorf("partition stats %+v, want committed %d, nothing in flight", p, per)
			}
		}
		return nil
	})
}

// TestOutOfOrderCommit completes records in reverse with one hole per
// partition and checks the committed offsets stop at the hole.
func TestOutOfOrderCommit(t *testing.T) {
	t.Parallel()
	const parts, per = 4, 10
	k := newTestKafka(t, parts, 1)
	topic := k.topics[0]
	group := "ooo-" + topic
	k.produce(t, jsonMsgs(topic, parts, per)...)
	c := newTestConsumer(t, k.config(group))

	recs := fetchN(t, c, parts*per, 20*time.Second)
	hole := map[int]int64{0: 0, 1: 3, 2: 9, 3: per} // 3: no hole
	var held []event.Record
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Offset == hole[r.Partition] {
			held = append(held, r)
			continue
		}
		c.Done(r)
	}
	k.waitCommitted(t, group, topic, map[int]int64{0: 0, 1: 3, 2: 9, 3: per})
	c.Done(held...)
	k.waitCommitted(t, group, topic, map[int]int64{0: per, 1: per, 2: per, 3: per})
}

// TestRestartResumes closes a consumer with undone records and checks that
// a new one in the same group gets exactly the records from each
// partition's committed offset on: nothing lost, only undone ones again.
func TestRestartResumes(t *testing.T) {
	t.Parallel()
	const parts, per = 4, 10
	k := newTestKafka(t, parts, 1)
	topic := k.topics[0]
	group := "restart-" + topic
	k.produce(t, jsonMsgs(topic, parts, per)...)

	// undoneFrom[p]: first offset left undone in partition p. Partition 1
	// also leaves offset 2 undone, so 3..6 are done but above the hole.
	undoneFrom := map[int]int64{0: 7, 1: 7, 2: per, 3: 0}
	c1, err := New(k.config(group))
	if err != nil {
		t.Fatal(err)
	}
	recs := fetchN(t, c1, parts*per, 20*time.Second)
	for _, r := range recs {
		if r.Offset < undoneFrom[r.Partition] && !(r.Partition == 1 && r.Offset == 2) {
			c1.Done(r)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c1.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	committed := map[int]int64{0: 7, 1: 2, 2: per, 3: 0}
	k.waitCommitted(t, group, topic, committed)

	k.produce(t, jsonMsgs(topic, parts, 1)...) // one new record per partition
	want := make(map[coord]bool)
	for p := 0; p < parts; p++ {
		for o := committed[p]; o <= per; o++ {
			want[coord{p, o}] = true
		}
	}
	c2 := newTestConsumer(t, k.config(group))
	got := coords(fetchN(t, c2, len(want), 20*time.Second))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after restart got %v, want %v", keys(got), keys(want))
	}
}

func keys(m map[coord]bool) []coord {
	out := make([]coord, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b coord) int {
		if a.p != b.p {
			return a.p - b.p
		}
		return int(a.o - b.o)
	})
	return out
}

// TestBadEventsDoNotBlock sends poison values between good ones: they come
// back with their reason, and marking them done moves the commit past them.
func TestBadEventsDoNotBlock(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 1, 1)
	topic := k.topics[0]
	group := "bad-" + topic
	values := []struct {
		v      string
		reason event.Reason
	}{
		{`{"text":"ok"}`, ""},
		{`{"text":`, event.ReasonInvalidJSON},
		{"\xff\x00\xfe", event.ReasonInvalidUTF8},
		{`{"text":"x","lang":"de"}`, event.ReasonBadLang},
		{`{"text":"` + strings.Repeat("a", 100<<10) + `"}`, event.ReasonTooLarge},
		{`{"text":"ok again"}`, ""},
	}
	var msgs []kafka.Message
	for _, v := range values {
		msgs = append(msgs, kafka.Message{Topic: topic, Value: []byte(v.v)})
	}
	k.produce(t, msgs...)
	cfg := k.config(group)
	cfg.MaxBytes = 64 << 10 // below the broker's 1 MB message limit
	c := newTestConsumer(t, cfg)
	recs := fetchN(t, c, len(values), 20*time.Second)
	for i, r := range recs {
		var got event.Reason
		if r.Err != nil {
			got = r.Err.Reason
			if r.Err.Offset != r.Offset || r.Err.Topic != topic {
				t.Errorf("record %d: error coordinates %v", i, r.Err)
			}
		}
		if got != values[r.Offset].reason {
			t.Errorf("offset %d: reason %q, want %q", r.Offset, got, values[r.Offset].reason)
		}
	}
	if st := c.Stats(); st.BadEvents != 4 {
		t.Errorf("BadEvents = %d, want 4", st.BadEvents)
	}
	c.Done(recs...)
	k.waitCommitted(t, group, topic, map[int]int64{0: int64(len(values))})
}

// TestMultipleTopics consumes two topics in one group.
func TestMultipleTopics(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 2, 2)
	for _, tp := range k.topics {
		k.produce(t, jsonMsgs(tp, 2, 3)...)
	}
	c := newTestConsumer(t, k.config("multi-"+k.topics[0]))
	recs := fetchN(t, c, 12, 20*time.Second)
	byTopic := map[string]int{}
	for _, r := range recs {
		byTopic[r.Topic]++
	}
	if byTopic[k.topics[0]] != 6 || byTopic[k.topics[1]] != 6 {
		t.Fatalf("records per topic %v, want 6 each", byTopic)
	}
}

// TestStartOffsetLatest skips what was produced before the group existed.
func TestStartOffsetLatest(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 1, 1)
	topic := k.topics[0]
	k.produce(t, jsonMsgs(topic, 1, 5)...)
	cfg := k.config("latest-" + topic)
	cfg.StartOffset = "latest"
	c := newTestConsumer(t, cfg)
	// Wait until the group has its assignment before producing more.
	waitFor(t, 15*time.Second, func() error {
		if c.Stats().Generations == 0 {
			return fmt.Errorf("no assignment yet")
		}
		return nil
	})
	// The partition reader resolves "latest" asynchronously after the
	// assignment: produce until a record arrives, then check it is new.
	waitFor(t, 15*time.Second, func() error {
		k.produce(t, kafka.Message{Topic: topic, Value: []byte(`{"text":"new"}`)})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		recs, err := c.Fetch(ctx, 1)
		if err != nil {
			return err
		}
		if recs[0].Offset < 5 || recs[0].Event.Text != "new" {
			t.Fatalf("first record %s[%d]@%d %q, want offset >= 5 text new", recs[0].Topic, recs[0].Partition, recs[0].Offset, recs[0].Event.Text)
		}
		return nil
	})
}

// TestTopicCreatedAfterStart: a consumer started before one of its topics
// exists waits for it, then joins the group and consumes every topic
// (kafka-go alone would join without the topic and never pick it up).
func TestTopicCreatedAfterStart(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 2, 1)
	late := "late-" + k.topics[0]
	cfg := k.config("late-" + k.topics[0])
	cfg.Topics = []string{k.topics[0], late}
	c := newTestConsumer(t, cfg)
	k.produce(t, jsonMsgs(k.topics[0], 2, 2)...)
	time.Sleep(time.Second)
	if s := c.Stats(); s.Generations != 0 || s.Fetched != 0 {
		t.Fatalf("stats %+v before the topic exists: want no generation, nothing fetched", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := k.client().CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: late, NumPartitions: 2, ReplicationFactor: 1}}})
	if err != nil || resp.Errors[late] != nil {
		t.Fatalf("create topic %s: %v %v", late, err, resp)
	}
	k.produce(t, jsonMsgs(late, 2, 3)...)
	recs := fetchN(t, c, 10, 30*time.Second)
	byTopic := map[string]int{}
	for _, r := range recs {
		byTopic[r.Topic]++
	}
	if byTopic[k.topics[0]] != 4 || byTopic[late] != 6 {
		t.Fatalf("records per topic %v, want 4 from %s and 6 from %s", byTopic, k.topics[0], late)
	}
}

// TestCloseWhileWaitingForTopic: Close returns promptly, with nothing to
// commit, while the consumer still waits for a topic.
func TestCloseWhileWaitingForTopic(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 1, 1)
	cfg := k.config("wait-" + k.topics[0])
	cfg.Topics = []string{"never-" + k.topics[0]}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fetched := make(chan error, 1)
	go func() { _, err := c.Fetch(context.Background(), 10); fetched <- err }()
	time.Sleep(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := <-fetched; !errors.Is(err, ErrClosed) {
		t.Fatalf("fetch: %v, want ErrClosed", err)
	}
}

// TestReachable: Reachable follows the broker, which the group's generation
// count cannot (it stays up while the broker is away). The "outage" is
// kfake refusing metadata requests by closing the connection.
func TestReachable(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 1, 1)
	if k.cluster == nil {
		t.Skip("needs a broker the test can control (kfake)")
	}
	var down atomic.Bool
	k.cluster.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		k.cluster.KeepControl()
		if down.Load() {
			return nil, errors.New("outage"), true
		}
		return nil, nil, false
	})
	c := newTestConsumer(t, k.config("reach-"+k.topics[0]))
	waitFor(t, 20*time.Second, func() error {
		if c.Stats().Generations == 0 {
			return errors.New("group not joined")
		}
		return c.Reachable(context.Background())
	})
	down.Store(true)
	waitFor(t, 10*time.Second, func() error {
		err := c.Reachable(context.Background())
		if err == nil {
			return errors.New("Reachable still nil during the outage")
		}
		if !strings.Contains(err.Error(), k.brokers[0]) {
			t.Fatalf("error %q does not name the broker %s", err, k.brokers[0])
		}
		return nil
	})
	if s := c.Stats(); s.Generations == 0 {
		t.Fatalf("stats %+v: the group was joined", s)
	}
	down.Store(false)
	waitFor(t, 10*time.Second, func() error { return c.Reachable(context.Background()) })
}
