package text

import (
	"hash/fnv"
	"slices"
	"testing"
)

// refSubwords is the naive reference for Subwords: build every n-gram as a
// string and hash it with the standard library FNV-1a.
func refSubwords(word string, kind Kind, buckets int32) []int32 {
	if buckets <= 0 || word == "" || kind == URL || kind == Mention || kind == Number {
		return nil
	}
	hash := func(s string) int32 {
		h := fnv.New32a()
		h.Write([]byte(s))
		return int32(h.Sum32() % uint32(buckets))
	}
	var out []int32
	rs := []rune(word)
	if kind == Han {
		for i := range rs {
			out = append(out, hash(string(rs[i])))
			if i > 0 {
				out = append(out, hash(string(rs[i-1:i+1])))
			}
		}
		return out
	}
	b := append(append([]rune{'<'}, rs...), '>')
	for i := range b {
		for n := minN; n <= maxN && i+n <= len(b); n++ {
			out = append(out, hash(string(b[i:i+n])))
		}
	}
	return out
}

func TestSubwordsMatchesReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		word    string
		kind    Kind
		buckets int32
	}{
		{"latin", "happy", Word, 2000000},
		{"one letter", "a", Word, 1000},
		{"two letters", "ab", Word, 1000},
		{"long", "supercalifragilistic", Word, 1 << 20},
		{"accented", "café", Word, 97},
		{"han one", "好", Han, 1000},
		{"han word", "一应俱全", Han, 1000},
		{"hashtag", "#win", Hashtag, 500},
		{"emoji", "👨\u200d👩\u200d👧", Emoji, 500},
		{"invalid utf8", "a\xffb", Word, 500},
		{"one bucket", "hello", Word, 1},
		{"url placeholder", "<url>", URL, 1000},
		{"user placeholder", "<user>", Mention, 1000},
		{"num placeholder", "<num>", Number, 1000},
		{"empty", "", Word, 1000},
		{"zero buckets", "hello", Word, 0},
		{"negative buckets", "hello", Word, -5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Subwords(nil, tt.word, tt.kind, tt.buckets)
			want := refSubwords(tt.word, tt.kind, tt.buckets)
			if !slices.Equal(got, want) {
				t.Errorf("Subwords(%q, %v, %d) = %v, want %v", tt.word, tt.kind, tt.buckets, got, want)
			}
			for _, v := range got {
				if v < 0 || v >= tt.buckets {
					t.Errorf("bucket %d outside [0, %d)", v, tt.buckets)
				}
			}
		})
	}
}

// TestSubwordsGolden pins a few values so a change of hash or n-gram scheme
// (which would invalidate trained embeddings) is caught. The golden values
// are FNV-1a 32 of "<ha" and "<hap" modulo 1000003, computed independently
// with a five-line Python FNV-1a; they are the same on every platform.
func TestSubwordsGolden(t *testing.T) {
	t.Parallel()
	got := Subwords(nil, "happy", Word, 1000003)
	want := refSubwords("happy", Word, 1000003)
	if !slices.Equal(got, want) || len(got) != 12 {
		t.Fatalf("Subwords(happy) = %v, want 12 values %v", got, want)
	}
	if golden := []int32{74906, 80589}; !slices.Equal(got[:2], golden) {
		t.Errorf("Subwords(happy)[:2] = %v, want %v", got[:2], golden)
	}
}

func TestSubwordsAppendsWithoutAlloc(t *testing.T) {
	dst := make([]int32, 0, 256)
	prefix := append(dst, 7)
	out := Subwords(prefix, "wonderful", Word, 1<<20)
	if out[0] != 7 {
		t.Fatalf("Subwords overwrote dst prefix: %v", out[:1])
	}
	allocs := testing.AllocsPerRun(100, func() {
		dst = Subwords(dst[:0], "wonderful", Word, 1<<20)
		dst = Subwords(dst, "一应俱全", Han, 1<<20)
		dst = Subwords(dst, "café", Word, 1<<20)
	})
	if allocs != 0 {
		t.Errorf("Subwords allocated %.1f times per run, want 0", allocs)
	}
}
