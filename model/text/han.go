package text

import (
	"errors"
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/vcaesar/cedar"
)

// han emits the Han run rs[p:q]. The run is encoded into the arena and
// segmented there (segment: gse's shortest path over its dictionary, no
// HMM); token texts alias the arena. Tokenize emits one Han token per word,
// Chars one per character with its B/M/E/S position.
func (sc *scanner) han(p, q int) {
	b := sc.b
	off := len(b.arena)
	for _, r := range sc.rs[p:q] {
		b.arena = utf8.AppendRune(b.arena, r)
	}
	region := b.arena[off:len(b.arena):len(b.arena)]
	if sc.t.seg == nil { // DictChars: every character is a word
		for i, pos := 0, 0; pos < len(region); i++ {
			_, size := utf8.DecodeRune(region[pos:])
			seg := SegNone
			if sc.chars {
				seg = SegS
			}
			sc.emit(Han, bytesString(region[pos:pos+size]), CaseNone, seg, p+i, p+i+1)
			pos += size
		}
		return
	}
	ri := p
	for _, n := range sc.t.segment(b, region) {
		st, en := b.hanOff[ri-p], b.hanOff[ri-p+int(n)]
		if sc.chars {
			sc.hanChars(region[st:en], ri, int(n))
		} else {
			sc.emit(Han, bytesString(region[st:en]), CaseNone, SegNone, ri, ri+int(n))
		}
		ri += int(n)
	}
}

// hanJump is the shortest-path state at one character of a Han run (gse's
// jumper): the distance of the best segmentation of the run up to and
// including the character, and the length in characters of its last word.
type hanJump struct {
	dist float32
	n    int32
}

// segment splits region, the UTF-8 of a Han run, into words and returns
// their lengths in characters (in order; they sum to the run's length); it
// leaves the byte offset of each character, and of the end, in b.hanOff.
// It computes what gse's Segment computes (Segmenter.segmentWords on a run
// whose every character is a word of SplitTextToWords, not search mode):
// the path of least total distance through the dictionary words, a word's
// distance being log2(total frequency / its frequency) in float32 exactly
// as gse computes it, and a character starting no one-character word being
// a pseudo word of distance 32; ties keep the earlier candidate, in gse's
// order. TestSegmentMatchesGse checks it word for word against gse on the
// test corpora. Unlike gse it allocates nothing once b has grown.
func (t *Tokenizer) segment(b *Buffer, region []byte) []int32 {
	off := b.hanOff[:0]
	for pos := 0; pos < len(region); {
		off = append(off, int32(pos))
		_, size := utf8.DecodeRune(region[pos:])
		pos += size
	}
	off = append(off, int32(len(region)))
	b.hanOff = off
	nr := len(off) - 1
	if cap(b.hanJump) < nr {
		b.hanJump = make([]hanJump, nr, nr+nr/2)
	}
	jump := b.hanJump[:nr]
	clear(jump)
	dict := t.seg.Dict
	maxLen := dict.MaxTokenLen()
	update := func(j *hanJump, d float32, n int) {
		if j.dist == 0 || j.dist > d {
			j.dist, j.n = d, int32(n)
		}
	}
	for cur := 0; cur < nr; cur++ {
		var base float32
		if cur > 0 {
			base = jump[cur-1].dist
		}
		first := 0 // length of the shortest dictionary word starting here
		for n := 1; n <= maxLen && cur+n <= nr; n++ {
			val, _, err := dict.Value(region[off[cur]:off[cur+n]])
			if errors.Is(err, cedar.ErrNoKey) {
				break // no longer word has this prefix
			}
			if err != nil || val < 0 || val >= len(dict.Tokens) {
				continue
			}
			d := t.logTotal - float32(math.Log2(dict.Tokens[val].Freq()))
			if first == 0 {
				first = n
			}
			update(&jump[cur+n-1], base+d, n)
		}
		if first != 1 {
			update(&jump[cur], base+32, 1)
		}
	}
	words := b.hanWords[:0]
	for i := nr - 1; i >= 0; i -= int(jump[i].n) {
		words = append(words, jump[i].n)
	}
	for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
		words[i], words[j] = words[j], words[i]
	}
	b.hanWords = words
	return words
}

// hanChars emits the nr characters of the gse word w starting at rune ri.
func (sc *scanner) hanChars(w []byte, ri, nr int) {
	for i, pos := 0, 0; i < nr && pos < len(w); i++ {
		_, size := utf8.DecodeRune(w[pos:])
		seg := SegM
		switch {
		case nr == 1:
			seg = SegS
		case i == 0:
			seg = SegB
		case i == nr-1:
			seg = SegE
		}
		sc.emit(Han, bytesString(w[pos:pos+size]), CaseNone, seg, ri+i, ri+i+1)
		pos += size
	}
}

// bytesString returns b as a string without copying; b must not be
// modified while the string is in use (arena bytes are append-only within a
// call).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
