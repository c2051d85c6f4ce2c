package text

import (
	"errors"
	"math"
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/vcaesar/cedar"
)

// han emits the Han run rs[p:q]. The run is encoded into the arena and
// segmented there (segment: gse's shortest path over its dictionary, no
// HMM); token texts alias the arena. Tokenize emits one Han token per word,
// Chars one per character with its B/M/E/S position and lexicon mask.
// Either way the run's characters' lexicon masks are appended to the
// Buffer's per-call list (see [Buffer.HanLex]).
func (sc *scanner) han(p, q int) {
	b := sc.b
	if !sc.hanBefore() {
		b.hanJump = b.hanJump[:0] // first run of this call
	}
	off := len(b.arena)
	for _, r := range sc.rs[p:q] {
		b.arena = utf8.AppendRune(b.arena, r)
	}
	region := b.arena[off:len(b.arena):len(b.arena)]
	if sc.t.seg == nil { // DictChars: every character is a word, no lexicon
		k := len(b.hanJump)
		b.hanJump = slices.Grow(b.hanJump, q-p)[:k+q-p]
		clear(b.hanJump[k:])
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
	k := len(b.hanJump)
	ri := p
	for _, n := range sc.t.segmentRun(b, region) {
		st, en := b.hanOff[ri-p], b.hanOff[ri-p+int(n)]
		if sc.chars {
			sc.hanChars(region[st:en], ri, int(n), b.hanJump[k+ri-p:])
		} else {
			sc.emit(Han, bytesString(region[st:en]), CaseNone, SegNone, ri, ri+int(n))
		}
		ri += int(n)
	}
}

// hanBefore reports whether the current call has already emitted a Han
// token, that is whether b.hanJump holds this call's earlier runs. Scanning
// back stops at the previous run's last token, so a whole call scans each
// token at most once.
func (sc *scanner) hanBefore() bool {
	toks := sc.b.toks
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].Kind == Han {
			return true
		}
	}
	return false
}

// HanLex returns the lexicon mask (see [Token.Lex]) of the i-th Han
// character, counting from 0 in token order, of the last [Tokenizer.Tokenize]
// or [Tokenizer.Chars] call with b: Tokenize does not split Han words into
// characters, and this is how their characters' masks are read (the i-th
// character of the Han word tokens, taken in order, has mask HanLex(i)).
// Han characters inside mentions or URLs are not counted. i must be below
// the number of Han characters of the call's tokens; otherwise HanLex
// panics or returns a mask of an earlier call.
func (b *Buffer) HanLex(i int) uint32 { return b.hanJump[i].lex }

// hanJump is the state of one Han character of a call. During segmentation
// dist and n are gse's shortest-path state ("jumper"): the distance of the
// best segmentation of the run up to and including the character, and the
// length in characters of its last word. lex is the character's lexicon
// mask (Token.Lex), kept for the rest of the call: Buffer.hanJump holds one
// entry per Han character of the call's tokens, in order.
type hanJump struct {
	dist float32
	n    int32
	lex  uint32
}

// segment splits region, the UTF-8 of a Han run, into words and returns
// their lengths in characters (in order; they sum to the run's length); it
// leaves the byte offset of each character, and of the end, in b.hanOff,
// and the characters' states, lexicon masks included, in b.hanJump. It
// computes what gse's Segment computes (Segmenter.segmentWords on a run
// whose every character is a word of SplitTextToWords, not search mode):
// the path of least total distance through the dictionary words, a word's
// distance being log2(total frequency / its frequency) in float32 exactly
// as gse computes it, and a character starting no one-character word being
// a pseudo word of distance 32; ties keep the earlier candidate, in gse's
// order. TestSegmentMatchesGse checks it word for word against gse on the
// test corpora. Unlike gse it allocates nothing once b has grown.
func (t *Tokenizer) segment(b *Buffer, region []byte) []int32 {
	b.hanJump = b.hanJump[:0]
	return t.segmentRun(b, region)
}

// segmentRun is segment for the next run of a call: the run's character
// states are appended to those of the call's earlier runs in b.hanJump.
//
// While it looks up every dictionary word starting at every character (the
// shortest path needs them all), it also ORs each word's bits into the
// lexicon masks of the characters it covers (see [Token.Lex]).
func (t *Tokenizer) segmentRun(b *Buffer, region []byte) []int32 {
	off := b.hanOff[:0]
	for pos := 0; pos < len(region); {
		off = append(off, int32(pos))
		_, size := utf8.DecodeRune(region[pos:])
		pos += size
	}
	off = append(off, int32(len(region)))
	b.hanOff = off
	nr := len(off) - 1
	k := len(b.hanJump)
	b.hanJump = slices.Grow(b.hanJump, nr)[:k+nr]
	jump := b.hanJump[k:]
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
			tok := &dict.Tokens[val]
			d := t.logTotal - float32(math.Log2(tok.Freq()))
			if first == 0 {
				first = n
			}
			update(&jump[cur+n-1], base+d, n)
			addLex(jump[cur:cur+n], posCat(tok.Pos()))
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

// addLex sets, in the states of the n characters of a dictionary word of
// category c, the bit of each character's position in the word.
func addLex(w []hanJump, c LexCat) {
	if len(w) == 1 {
		w[0].lex |= LexBit(c, SegS)
		return
	}
	w[0].lex |= LexBit(c, SegB)
	for i := 1; i < len(w)-1; i++ {
		w[i].lex |= LexBit(c, SegM)
	}
	w[len(w)-1].lex |= LexBit(c, SegE)
}

// posCat returns the lexicon category of a word with gse (jieba) part of
// speech pos: nr, nrt (transliterated) and nrfg are person names, ns and nsf
// places, nt organisations, nz other proper nouns.
func posCat(pos string) LexCat {
	if len(pos) < 2 || pos[0] != 'n' {
		return LexWord
	}
	switch pos[1] {
	case 'r':
		return LexPerson
	case 's':
		return LexPlace
	case 't':
		return LexOrg
	case 'z':
		return LexProper
	}
	return LexWord
}

// hanChars emits the nr characters of the gse word w starting at rune ri;
// st holds their states (lexicon masks) from the word's first character on.
func (sc *scanner) hanChars(w []byte, ri, nr int, st []hanJump) {
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
		sc.b.toks[len(sc.b.toks)-1].Lex = st[i].lex
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
