package consumer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/event"
)

// TestScan reads a topic of three partitions (one empty) holding valid and
// malformed events from the earliest offsets to their ends, without a
// consumer group, and stops at MaxEvents.
func TestScan(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 3, 1)
	topic := k.topics[0]
	var msgs []kafka.Message
	want := map[string]bool{}
	for i := 0; i < 40; i++ {
		text := fmt.Sprintf("event number %d", i)
		want[text] = true
		msgs = append(msgs, kafka.Message{Topic: topic, Partition: i % 2, Value: fmt.Appendf(nil, `{"id":"e%d","text":%q}`, i, text)})
	}
	bad := []string{`not json`, `{"text":""}`, `{"id":"x"}`, `[1,2]`, "\xff\xfe"}
	for i, v := range bad {
		msgs = append(msgs, kafka.Message{Topic: topic, Partition: i % 2, Value: []byte(v)})
	}
	// The last record of partition 1 is valid: the scan must reach it.
	msgs = append(msgs, kafka.Message{Topic: topic, Partition: 1, Value: []byte(`{"text":"the last one"}`)})
	want["the last one"] = true
	k.produce(t, msgs...)

	cfg := ScanConfig{Brokers: k.brokers, Topic: topic}
	tests := []struct {
		name       string
		maxEvents  int
		wantEvents int
	}{
		{"whole topic", 0, 41},
		{"max events", 7, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := cfg
			c.MaxEvents = tc.maxEvents
			got := map[string]bool{}
			start := time.Now()
			st, err := Scan(ctx, c, func(ev event.Event) error {
				if got[ev.Text] || !want[ev.Text] {
					return fmt.Errorf("unexpected or repeated event %q", ev.Text)
				}
				got[ev.Text] = true
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Events != tc.wantEvents || len(got) != tc.wantEvents {
				t.Fatalf("stats %+v, %d distinct texts; want %d events", st, len(got), tc.wantEvents)
			}
			if st.Partitions != 3 {
				t.Fatalf("partitions %d, want 3", st.Partitions)
			}
			if tc.maxEvents == 0 {
				if st.MalformedTotal() != len(bad) || st.Read != 2 || st.Stalled != 0 {
					t.Fatalf("stats %+v: want %d malformed, 2 partitions read", st, len(bad))
				}
				if st.Malformed[event.ReasonInvalidJSON] != 1 || st.Malformed[event.ReasonInvalidUTF8] != 1 || st.Malformed[event.ReasonMissingText] != 1 {
					t.Fatalf("malformed by reason %v", st.Malformed)
				}
			}
			t.Logf("%s: %+v in %v", tc.name, st, time.Since(start))
		})
	}

	// No consumer group was joined and no offset committed. A fresh kfake
	// cluster has no group at all; the real brokers of CI are shared with
	// tests running in parallel, so there no group may hold an offset of
	// this test's topic.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	groups, err := k.client().ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if k.cluster != nil && len(groups.Groups) != 0 {
		t.Fatalf("groups after scanning: %+v", groups.Groups)
	}
	for _, g := range groups.Groups {
		offs, err := k.committed(t, g.GroupID, topic, 3)
		if err != nil {
			t.Fatal(err)
		}
		for p, o := range offs {
			if o >= 0 {
				t.Fatalf("group %s committed offset %d of %s partition %d after scanning", g.GroupID, o, topic, p)
			}
		}
	}

	// An error from the callback stops the scan.
	stop := errors.New("enough")
	n := 0
	st, err := Scan(ctx, cfg, func(event.Event) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || st.Events != 3 {
		t.Fatalf("callback error: %v after %d events", err, st.Events)
	}
}

// TestScanErrors covers configurations and topics Scan refuses.
func TestScanErrors(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 1, 1)
	tests := []struct {
		name string
		cfg  ScanConfig
		want string
	}{
		{"no brokers", ScanConfig{Topic: "t"}, "brokers"},
		{"bad topic", ScanConfig{Brokers: k.brokers, Topic: "a b"}, "topics[0]"},
		{"negative max", ScanConfig{Brokers: k.brokers, Topic: "t", MaxEvents: -1}, "max events"},
		{"bad format", ScanConfig{Brokers: k.brokers, Topic: "t", Format: "xml"}, "format"},
		{"empty topic", ScanConfig{Brokers: k.brokers, Topic: k.topics[0]}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			st, err := Scan(ctx, tc.cfg, func(event.Event) error { return nil })
			if tc.want == "" {
				if err != nil || st.Events != 0 || st.Read != 0 {
					t.Fatalf("empty topic: %+v, %v", st, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrInvalidConfig naming %q", err, tc.want)
			}
		})
	}
}

// TestScanStalledPartition gives a partition up when its end offset cannot
// be reached (as with transaction markers at the end): here the end is
// put 3 offsets past the last record.
func TestScanStalledPartition(t *testing.T) {
	t.Parallel()
	k := newTestKafka(t, 1, 1)
	topic := k.topics[0]
	k.produce(t, kafka.Message{Topic: topic, Value: []byte(`{"text":"one"}`)}, kafka.Message{Topic: topic, Value: []byte(`{"text":"two"}`)})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := newDialer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	first, last, err := partitionOffsets(ctx, d, k.brokers, topic, 0)
	if err != nil || last-first != 2 {
		t.Fatalf("offsets %d..%d, %v", first, last, err)
	}
	st := ScanStats{Malformed: map[event.Reason]int{}}
	cfg := ScanConfig{Brokers: k.brokers, Topic: topic, FetchMaxBytes: DefaultFetchMaxBytes, MaxBytes: event.DefaultMaxBytes, idle: 100 * time.Millisecond}
	var texts []string
	start := time.Now()
	err = scanPartition(ctx, d, cfg, 0, first, last+3, &st, func(ev event.Event) error {
		texts = append(texts, ev.Text)
		return nil
	})
	if err != nil || st.Stalled != 1 || st.Events != 2 || len(texts) != 2 {
		t.Fatalf("err %v, stats %+v, texts %q", err, st, texts)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("gave up after %v", took)
	}
}
