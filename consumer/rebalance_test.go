package consumer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
)

// owned returns the partitions a consumer's Tracker holds.
func owned(c *Consumer) map[int]bool {
	m := map[int]bool{}
	for _, p := range c.Stats().Partitions {
		m[p.Partition] = true
	}
	return m
}

// TestRebalanceHandsOverPartitions checks the rebalance pitfalls: a second
// member takes half the partitions; the first stops tracking them, so its
// late Done calls for revoked records never commit (no rewind of the new
// owner's offsets, kafka-go #1308/#1276); records not done before the
// handover are redelivered to whoever owns them (#970/#1398), none lost.
func TestRebalanceHandsOverPartitions(t *testing.T) {
	t.Parallel()
	const parts, per = 4, 5
	k := newTestKafka(t, parts, 1)
	topic := k.topics[0]
	group := "rebalance-" + topic
	k.produce(t, jsonMsgs(topic, parts, per)...)

	c1 := newTestConsumer(t, k.config(group))
	recs := fetchN(t, c1, parts*per, 20*time.Second)
	var held []event.Record
	for _, r := range recs {
		if r.Offset < 3 {
			c1.Done(r)
		} else {
			held = append(held, r)
		}
	}
	k.waitCommitted(t, group, topic, map[int]int64{0: 3, 1: 3, 2: 3, 3: 3})

	c2 := newTestConsumer(t, k.config(group))
	// Keep c1 fetching so it keeps heartbeating through the rebalance (it
	// does anyway; fetching also drains redelivered records).
	var again1 []event.Record
	waitFor(t, 20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if rs, err := c1.Fetch(ctx, 100); err == nil {
			again1 = append(again1, rs...)
		}
		o1, o2 := owned(c1), owned(c2)
		if len(o1) != 2 || len(o2) != 2 {
			return fmt.Errorf("c1 owns %v, c2 owns %v", o1, o2)
		}
		for p := range o1 {
			if o2[p] {
				return fmt.Errorf("both own partition %d", p)
			}
		}
		return nil
	})
	o1, o2 := owned(c1), owned(c2)

	// c2 gets its partitions from the committed offset 3: the records c1
	// held are redelivered, and c2 finishes them plus 5 more per partition.
	var more []event.Record
	for _, m := range jsonMsgs(topic, parts, per) {
		if o2[m.Partition] {
			more = append(more, event.Record{}) // count only
		}
	}
	k.produce(t, jsonMsgs(topic, parts, per)...)
	recs2 := fetchN(t, c2, 2*2+len(more), 20*time.Second)
	for _, r := range recs2 {
		if !o2[r.Partition] || r.Offset < 3 {
			t.Fatalf("c2 got %s[%d]@%d, owns %v from offset 3", r.Topic, r.Partition, r.Offset, o2)
		}
	}
	c2.Done(recs2...)
	want := map[int]int64{}
	for p := range o2 {
		want[p] = 2 * per
	}
	for p := range o1 {
		want[p] = 3
	}
	k.waitCommitted(t, group, topic, want)

	// c1's late Done for records of revoked partitions must not commit them
	// back to 5 (the new owner is at 10). For the partitions c1 kept, the
	// same offsets were redelivered and are in flight again, so the late Done
	// counts: their results were delivered.
	c1.Done(held...)
	for p := range o1 {
		want[p] = per
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c1.Commit(ctx); err != nil {
		t.Fatalf("c1 commit: %v", err)
	}
	k.waitCommitted(t, group, topic, want)

	// c1 finishes its own partitions from the redelivered offset 3 on.
	need := 2 * (2*per - 3)
	have := coords(again1)
	for len(have) < need {
		for _, r := range fetchN(t, c1, 1, 20*time.Second) {
			have[coord{r.Partition, r.Offset}] = true
			again1 = append(again1, r)
		}
	}
	for c := range have {
		if !o1[c.p] || c.o < 3 {
			t.Fatalf("c1 got partition %d offset %d after the handover, owns %v from offset 3", c.p, c.o, o1)
		}
	}
	c1.Done(again1...)
	for p := range o1 {
		want[p] = 2 * per
	}
	k.waitCommitted(t, group, topic, want)
}
