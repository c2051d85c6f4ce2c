package text

import (
	"unicode/utf8"
	"unsafe"

	"github.com/go-ego/gse"
)

// han emits the Han run rs[p:q]. The run is encoded into the arena and
// segmented there by gse (shortest path over the dictionary, no HMM); token
// texts alias the arena. Tokenize emits one Han token per gse word, Chars one
// per character with its B/M/E/S position.
//
// gse's Segment only reads the Segmenter (dictionary trie lookups), so the
// shared Segmenter is safe for concurrent callers; it allocates its working
// slices (about 4 allocations per run plus one per out-of-dictionary
// character).
func (sc *scanner) han(p, q int) {
	b := sc.b
	off := len(b.arena)
	for _, r := range sc.rs[p:q] {
		b.arena = utf8.AppendRune(b.arena, r)
	}
	region := b.arena[off:len(b.arena):len(b.arena)]
	var segs []gse.Segment
	if sc.t.seg != nil { // nil with DictChars: every character is a word
		segs = sc.t.seg.Segment(region)
	}
	ri, pos := p, 0
	for _, s := range segs {
		st, en := s.Start(), s.End()
		if st != pos || en <= st || en > len(region) {
			break // unexpected gse output: fall back to characters below
		}
		nr := utf8.RuneCount(region[st:en])
		if ri+nr > q {
			break
		}
		if sc.chars {
			sc.hanChars(region[st:en], ri, nr)
		} else {
			sc.emit(Han, bytesString(region[st:en]), CaseNone, SegNone, ri, ri+nr)
		}
		ri += nr
		pos = en
	}
	if ri < q {
		// Defensive: segment whatever gse did not cover as single chars.
		for pos < len(region) && ri < q {
			_, size := utf8.DecodeRune(region[pos:])
			seg := SegNone
			if sc.chars {
				seg = SegS
			}
			sc.emit(Han, bytesString(region[pos:pos+size]), CaseNone, seg, ri, ri+1)
			pos += size
			ri++
		}
	}
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
