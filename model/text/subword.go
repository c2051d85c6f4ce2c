package text

import "unicode/utf8"

// FNV-1a 32-bit parameters (http://www.isthe.com/chongo/tech/comp/fnv/).
const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// Character n-gram lengths for non-Han words (fastText defaults).
const (
	minN = 3
	maxN = 5
)

// Subwords appends to dst the hashed character n-gram buckets of word and
// returns the extended slice; it does not allocate when dst has enough
// capacity. It is the out-of-vocabulary fallback: a model sums the
// embeddings of the returned buckets.
//
// For kind Han, the n-grams are the single characters and the character
// bigrams of word. For every other kind, they are the fastText-style
// n-grams of length 3..5 (in runes) of "<" + word + ">". Each n-gram's UTF-8
// bytes are hashed with 32-bit FNV-1a and reduced modulo buckets, so results
// are deterministic across runs and platforms. Placeholder kinds (URL,
// Mention, Number), an empty word and buckets <= 0 append nothing. Invalid
// UTF-8 bytes in word are hashed as U+FFFD.
//
// Subwords is safe for concurrent use.
func Subwords(dst []int32, word string, kind Kind, buckets int32) []int32 {
	if buckets <= 0 || word == "" {
		return dst
	}
	switch kind {
	case URL, Mention, Number:
		return dst
	case Han:
		return hanSubwords(dst, word, uint32(buckets))
	}
	return charNgrams(dst, word, uint32(buckets))
}

// fnvRune folds the UTF-8 encoding of r into h.
func fnvRune(h uint32, r rune) uint32 {
	if r < utf8.RuneSelf {
		return (h ^ uint32(r)) * fnvPrime32
	}
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	for _, c := range b[:n] {
		h = (h ^ uint32(c)) * fnvPrime32
	}
	return h
}

func hanSubwords(dst []int32, word string, buckets uint32) []int32 {
	var prev rune
	first := true
	for _, r := range word {
		dst = append(dst, int32(fnvRune(fnvOffset32, r)%buckets))
		if !first {
			dst = append(dst, int32(fnvRune(fnvRune(fnvOffset32, prev), r)%buckets))
		}
		prev, first = r, false
	}
	return dst
}

// charNgrams appends the n-grams (n = minN..maxN runes) of "<"+word+">".
func charNgrams(dst []int32, word string, buckets uint32) []int32 {
	m := utf8.RuneCountInString(word) + 2 // bordered length in runes
	off := 0                              // byte offset of word rune (i-1)
	for i := 0; i+minN <= m; i++ {
		h := uint32(fnvOffset32)
		p := off // byte offset of the next word rune to read
		for k := 0; k < maxN && i+k < m; k++ {
			j := i + k // virtual rune index
			switch {
			case j == 0:
				h = fnvRune(h, '<')
			case j == m-1:
				h = fnvRune(h, '>')
			default:
				r, size := utf8.DecodeRuneInString(word[p:])
				p += size
				h = fnvRune(h, r)
			}
			if k+1 >= minN {
				dst = append(dst, int32(h%buckets))
			}
		}
		if i > 0 {
			_, size := utf8.DecodeRuneInString(word[off:])
			off += size
		}
	}
	return dst
}
