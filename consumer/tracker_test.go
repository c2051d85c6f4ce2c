package consumer

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// step is one Tracker operation in a table test.
type step struct {
	op     string // fetch, done, assign, committed
	p      int
	off    int64
	assign map[TopicPartition]int64
}

func fetch(p int, offs ...int64) []step {
	var s []step
	for _, o := range offs {
		s = append(s, step{op: "fetch", p: p, off: o})
	}
	return s
}

func done(p int, offs ...int64) []step {
	var s []step
	for _, o := range offs {
		s = append(s, step{op: "done", p: p, off: o})
	}
	return s
}

func seq(parts ...[]step) []step {
	var s []step
	for _, p := range parts {
		s = append(s, p...)
	}
	return s
}

func TestTracker(t *testing.T) {
	t.Parallel()
	const tp = "t"
	tests := []struct {
		name  string
		steps []step
		want  []Offset // Committable after the steps
	}{
		{
			name:  "nothing fetched",
			steps: nil,
			want:  nil,
		},
		{
			name:  "fetched nothing done commits the start position",
			steps: fetch(0, 5, 6, 7),
			want:  []Offset{{tp, 0, 5}},
		},
		{
			name:  "in order",
			steps: seq(fetch(0, 0, 1, 2), done(0, 0, 1, 2)),
			want:  []Offset{{tp, 0, 3}},
		},
		{
			name:  "out of order stops at the first undone",
			steps: seq(fetch(0, 0, 1, 2, 3, 4), done(0, 4, 3, 1, 0)),
			want:  []Offset{{tp, 0, 2}},
		},
		{
			name:  "out of order completes",
			steps: seq(fetch(0, 0, 1, 2, 3, 4), done(0, 4, 3, 1, 0, 2)),
			want:  []Offset{{tp, 0, 5}},
		},
		{
			name:  "gaps in offsets do not block",
			steps: seq(fetch(0, 10, 13, 20), done(0, 20, 13, 10)),
			want:  []Offset{{tp, 0, 21}},
		},
		{
			name:  "done twice and unknown offsets are no-ops",
			steps: seq(fetch(0, 0, 1, 2), done(0, 1, 1, 7, 0)),
			want:  []Offset{{tp, 0, 2}},
		},
		{
			name:  "partitions are independent",
			steps: seq(fetch(0, 0, 1), fetch(1, 0, 1), done(1, 1, 0), done(0, 1)),
			want:  []Offset{{tp, 0, 0}, {tp, 1, 2}},
		},
		{
			name:  "after commit nothing new",
			steps: seq(fetch(0, 0, 1), done(0, 0, 1), []step{{op: "committed", p: 0, off: 2}}),
			want:  nil,
		},
		{
			name:  "a lower commit report does not rewind",
			steps: seq(fetch(0, 0, 1), done(0, 0, 1), []step{{op: "committed", p: 0, off: 2}, {op: "committed", p: 0, off: 1}}, fetch(0, 2)),
			want:  nil,
		},
		{
			name: "redelivery of in-flight and done offsets is a no-op",
			// 0..3 fetched, 1..3 done, then the reader restarts at 0.
			steps: seq(fetch(0, 0, 1, 2, 3), done(0, 3, 2, 1), fetch(0, 0), done(0, 1), fetch(0, 1, 2)),
			want:  []Offset{{tp, 0, 0}},
		},
		{
			name:  "redelivered copy completes the original",
			steps: seq(fetch(0, 0, 1, 2, 3), done(0, 3, 2, 1), fetch(0, 0, 1), done(0, 0)),
			want:  []Offset{{tp, 0, 4}},
		},
		{
			name: "assign drops revoked partitions",
			steps: seq(fetch(0, 0, 1), fetch(1, 0, 1), done(0, 0, 1), done(1, 0, 1),
				[]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 1}: 1}}}, fetch(1, 1), done(1, 1), done(0, 2)),
			want: []Offset{{tp, 1, 2}},
		},
		{
			name: "assign with a committed offset sets the floor",
			steps: seq(fetch(0, 0, 1), done(0, 0, 1),
				[]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 0}: 2}}}),
			want: nil,
		},
		{
			name: "assign never lowers the floor",
			steps: seq(fetch(0, 0, 1, 2, 3), done(0, 0, 1, 2, 3), []step{{op: "committed", p: 0, off: 4}},
				[]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 0}: 2}}}, fetch(0, 2, 3), done(0, 2, 3)),
			want: nil,
		},
		{
			name: "after assign unassigned partitions are not tracked",
			steps: seq([]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 0}: -2}}},
				fetch(1, 0, 1), done(1, 0, 1), fetch(0, 4), done(0, 4)),
			want: []Offset{{tp, 0, 5}},
		},
		{
			name: "kept partition keeps in-flight records across assign",
			steps: seq(fetch(0, 0, 1, 2), done(0, 0),
				[]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 0}: 1}}},
				done(0, 1), fetch(0, 1, 2), done(0, 2)),
			want: []Offset{{tp, 0, 3}},
		},
		{
			name: "assign past our watermark drops settled records",
			steps: seq(fetch(0, 0, 1, 2), done(0, 2),
				[]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 0}: 2}}}),
			want: []Offset{{tp, 0, 3}},
		},
		{
			name:  "commits frozen while rebalancing",
			steps: seq(fetch(0, 0), done(0, 0), []step{{op: "begin"}}),
			want:  nil,
		},
		{
			name: "records fetched while rebalancing are kept if assigned",
			steps: seq([]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 0}: 0}}, {op: "begin"}},
				fetch(1, 5), fetch(0, 0),
				[]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 1}: 5}}},
				fetch(1, 6), done(1, 6), done(0, 0)),
			want: nil, // 5 is still in flight
		},
		{
			name: "and complete once done",
			steps: seq([]step{{op: "assign", assign: map[TopicPartition]int64{{tp, 0}: 0}}, {op: "begin"}},
				fetch(1, 5), []step{{op: "assign", assign: map[TopicPartition]int64{{tp, 1}: 5}}},
				fetch(1, 6), done(1, 6, 5)),
			want: []Offset{{tp, 1, 7}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTracker()
			for _, s := range tc.steps {
				switch s.op {
				case "fetch":
					tr.Fetched(tp, s.p, s.off)
				case "done":
					tr.Done(tp, s.p, s.off)
				case "assign":
					tr.Assign(s.assign)
				case "begin":
					tr.BeginRebalance()
				case "committed":
					tr.Committed([]Offset{{tp, s.p, s.off}})
				}
			}
			if got := tr.Committable(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Committable() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTrackerMatchesNaive compares the watermark after every Done with a
// naive reference: with fetched offsets x0 < x1 < ... and xi the first not
// done, the watermark is x0 if i == 0, else x(i-1)+1; if all are done it is
// the last offset + 1. Sizes 0..N, offsets with gaps, a seeded random order.
func TestTrackerMatchesNaive(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 40; n++ {
		tr := NewTracker()
		offs := make([]int64, n)
		for i := range offs {
			offs[i] = int64(7 + 3*i) // odd start, gaps of 2
			tr.Fetched("t", 0, offs[i])
		}
		isDone := make(map[int64]bool)
		for k, j := range rng.Perm(n) {
			tr.Done("t", 0, offs[j])
			isDone[offs[j]] = true
			want := offs[n-1] + 1
			for i, x := range offs {
				if !isDone[x] {
					want = x
					if i > 0 {
						want = offs[i-1] + 1
					}
					break
				}
			}
			if got := tr.Stats()[0].Watermark; got != want {
				t.Fatalf("n=%d after %d done: watermark %d, want %d", n, k+1, got, want)
			}
		}
	}
}

func TestTrackerWithheldDuringRebalance(t *testing.T) {
	t.Parallel()
	tr := NewTracker()
	tr.Assign(map[TopicPartition]int64{{"t", 0}: 0})
	for o := int64(0); o < 3; o++ {
		tr.Fetched("t", 0, o)
		tr.Done("t", 0, o)
	}
	if w := tr.Withheld(); w != nil {
		t.Fatalf("Withheld outside a rebalance = %v, want nil", w)
	}
	tr.BeginRebalance()
	if c := tr.Committable(); c != nil {
		t.Fatalf("Committable during a rebalance = %v, want nil", c)
	}
	if w := tr.Withheld(); len(w) != 1 || w[0] != (Offset{"t", 0, 3}) {
		t.Fatalf("Withheld = %v, want [t[0]@3]", w)
	}
	tr.Assign(map[TopicPartition]int64{{"t", 0}: 0})
	if w := tr.Withheld(); w != nil {
		t.Fatalf("Withheld after Assign = %v, want nil", w)
	}
}

// A partition fetched but with nothing done is not reported as withheld:
// there is no progress to lose.
func TestTrackerWithheldNeedsProgress(t *testing.T) {
	t.Parallel()
	tr := NewTracker()
	tr.Assign(map[TopicPartition]int64{{"t", 0}: -1})
	tr.Fetched("t", 0, 0)
	tr.BeginRebalance()
	if w := tr.Withheld(); w != nil {
		t.Fatalf("Withheld = %v with nothing done, want nil", w)
	}
}
