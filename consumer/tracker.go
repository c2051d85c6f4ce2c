package consumer

import (
	"cmp"
	"slices"
	"sort"
	"sync"

	"github.com/tagstream/tagstream/event"
)

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int
}

// Offset is a commit position: Offset is the next offset to consume in the
// partition (Kafka's convention), so every record below it is done.
type Offset struct {
	Topic     string
	Partition int
	Offset    int64
}

// Tracker computes per-partition commit watermarks from out-of-order
// completions. A record is marked in flight with Fetched when it is fetched
// and done with Done once its result was acknowledged or it went to the DLQ.
// The watermark of a partition is the offset after the longest done prefix
// of its fetched records; gaps between fetched offsets (compaction,
// transaction markers) do not block it.
//
// Rebalances: BeginRebalance freezes commits when the member rejoins the
// group, and Assign installs the new generation's partitions. Revoked
// partitions are dropped, so a late Done or commit can never move (rewind)
// the new owner's offset. Kept partitions keep their in-flight records: the
// reader redelivers from the committed offset, and a redelivered offset that
// is already in flight or done is a no-op, so a record is never forgotten
// while the caller still holds it. Records fetched between BeginRebalance and
// Assign are tracked and kept only if their partition is assigned.
//
// Invariants: the watermark never goes below the committed offset, and
// Committable never returns an offset at or below one already committed.
//
// A Tracker is safe for concurrent use. The zero value is not usable; use
// NewTracker.
type Tracker struct {
	mu          sync.Mutex
	parts       map[TopicPartition]*partState
	assigned    bool // Assign has been called: track only assigned partitions
	rebalancing bool // between BeginRebalance and Assign: no commits
}

type partState struct {
	pending   []pendingOffset // ascending offsets at or above watermark, fetched and not yet popped
	watermark int64           // next offset after the done prefix; -1 unknown
	committed int64           // highest committed offset; -1 unknown
	fetched   int64
	advanced  bool // the watermark moved past a done record at least once
}

type pendingOffset struct {
	offset int64
	done   bool
}

// NewTracker returns an empty Tracker that tracks every partition it sees
// until the first Assign.
func NewTracker() *Tracker {
	return &Tracker{parts: make(map[TopicPartition]*partState)}
}

func newPartState(start int64) *partState {
	if start < 0 {
		start = -1
	}
	return &partState{watermark: start, committed: start}
}

// restart applies a new generation's start offset (the group's committed
// offset, negative if none) to a partition this member keeps.
func (p *partState) restart(start int64) {
	if start < 0 {
		return
	}
	p.committed = max(p.committed, start)
	if p.watermark < start {
		// Someone committed past our done prefix: what lies below start is
		// settled. Drop it and move up.
		i := 0
		for i < len(p.pending) && p.pending[i].offset < start {
			i++
		}
		p.pending = p.pending[i:]
		p.watermark = start
		p.pop()
	}
}

// pop removes the done prefix of pending and advances the watermark.
func (p *partState) pop() {
	n := 0
	for n < len(p.pending) && p.pending[n].done {
		n++
	}
	if n > 0 {
		p.watermark = p.pending[n-1].offset + 1
		p.pending = p.pending[n:]
		p.advanced = true
	}
	if len(p.pending) == 0 {
		p.pending = nil
	}
}

func (p *partState) search(offset int64) (int, bool) {
	return slices.BinarySearchFunc(p.pending, offset, func(e pendingOffset, o int64) int {
		return cmp.Compare(e.offset, o)
	})
}

// BeginRebalance freezes commits until the next Assign: the member is
// rejoining the group and may lose partitions.
func (t *Tracker) BeginRebalance() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rebalancing = true
}

// Assign starts a new group generation: assigned maps every partition this
// member now owns to the offset it restarts from (the group's committed
// offset, or negative if the group has none). Partitions not in assigned are
// dropped and never committed again by this Tracker.
func (t *Tracker) Assign(assigned map[TopicPartition]int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.assigned = true
	t.rebalancing = false
	for tp := range t.parts {
		if _, ok := assigned[tp]; !ok {
			delete(t.parts, tp)
		}
	}
	for tp, start := range assigned {
		if p, ok := t.parts[tp]; ok {
			p.restart(start)
			continue
		}
		t.parts[tp] = newPartState(start)
	}
}

// Fetched marks offset of topic/partition in flight and reports whether it
// is tracked. It is not tracked when the partition is not assigned (a record
// fetched just before its partition was revoked): it never moves a commit.
// Fetching an offset that is already in flight or below the watermark (a
// redelivery after a rebalance, kafka-go issues #970 and #1398) changes
// nothing.
func (t *Tracker) Fetched(topic string, partition int, offset int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	tp := TopicPartition{topic, partition}
	p, ok := t.parts[tp]
	if !ok {
		if t.assigned && !t.rebalancing {
			return false
		}
		p = newPartState(-1)
		t.parts[tp] = p
	}
	p.fetched++
	if p.watermark < 0 {
		p.watermark = offset
	}
	if offset < p.watermark {
		return true // done before, or committed by the group
	}
	i, found := p.search(offset)
	if found {
		return true
	}
	if len(p.pending) == 0 {
		// Nothing is in flight, so nothing between the watermark and offset
		// is ours to wait for: it does not exist (compaction, transaction
		// markers) or was settled before.
		p.watermark = offset
	}
	p.pending = slices.Insert(p.pending, i, pendingOffset{offset: offset})
	return true
}

// Done marks offset of topic/partition done and reports whether it was in
// flight. Done on an unknown or already done offset is a no-op, so calling it
// twice, for a redelivered copy, or after its partition was revoked is safe.
func (t *Tracker) Done(topic string, partition int, offset int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.parts[TopicPartition{topic, partition}]
	if !ok {
		return false
	}
	i, found := p.search(offset)
	if !found || p.pending[i].done {
		return false
	}
	p.pending[i].done = true
	p.pop()
	return true
}

// Committable returns, sorted by topic and partition, the watermark of every
// partition whose watermark is above its committed offset. The caller
// commits them and then reports success with Committed.
func (t *Tracker) Committable() []Offset {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rebalancing {
		return nil
	}
	var out []Offset
	for tp, p := range t.parts {
		if p.watermark >= 0 && p.watermark > p.committed {
			out = append(out, Offset{Topic: tp.Topic, Partition: tp.Partition, Offset: p.watermark})
		}
	}
	sortOffsets(out)
	return out
}

// Withheld returns the offsets that would be committable but are held back
// because a rebalance is in progress (nil when none is).
func (t *Tracker) Withheld() []Offset {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.rebalancing {
		return nil
	}
	var out []Offset
	for tp, p := range t.parts {
		if p.advanced && p.watermark > p.committed {
			out = append(out, Offset{Topic: tp.Topic, Partition: tp.Partition, Offset: p.watermark})
		}
	}
	sortOffsets(out)
	return out
}

// Committed records that offs were committed. Offsets of partitions no
// longer tracked, or below what is already committed, are ignored.
func (t *Tracker) Committed(offs []Offset) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range offs {
		if p, ok := t.parts[TopicPartition{o.Topic, o.Partition}]; ok && o.Offset > p.committed {
			p.committed = o.Offset
		}
	}
}

// Stats returns a snapshot of every tracked partition, sorted by topic and
// partition.
func (t *Tracker) Stats() []event.PartitionStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]event.PartitionStats, 0, len(t.parts))
	for tp, p := range t.parts {
		out = append(out, event.PartitionStats{
			Topic: tp.Topic, Partition: tp.Partition,
			Fetched: p.fetched, InFlight: len(p.pending),
			Watermark: p.watermark, Committed: p.committed,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

func sortOffsets(offs []Offset) {
	slices.SortFunc(offs, func(a, b Offset) int {
		if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
}
