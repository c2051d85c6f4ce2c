package text

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalize fills b.runes with the NFKC form of s and b.start/b.end with,
// for every normalized rune, the span [start, end) of source runes it came
// from. Source runes are counted like []rune(s): each invalid byte is one
// rune and becomes U+FFFD.
//
// Normalization runs per NFKC segment (a starter plus its combining marks),
// so the map is exact for runes that normalization leaves alone and coarse
// (the whole source segment) for runes it rewrites. ASCII and inert runes
// (most Han, kana, emoji) take a fast path without a segment search.
func (b *Buffer) normalize(s string) {
	b.runes = b.runes[:0]
	b.start = b.start[:0]
	b.end = b.end[:0]
	ri := int32(0) // source rune index of s[i]
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf) {
			b.push(rune(c), ri, ri+1)
			i++
			ri++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.push(replaceChr, ri, ri+1)
			i++
			ri++
			continue
		}
		if b.inert(s, i, size) {
			b.push(r, ri, ri+1)
			i += size
			ri++
			continue
		}
		n := norm.NFKC.NextBoundaryInString(s[i:], true)
		if n <= 0 {
			n = size
		}
		chunk := s[i : i+n]
		if !utf8.ValidString(chunk) {
			// Only reached for a valid first rune followed by marks and
			// then invalid bytes: normalize the first rune alone and let
			// the loop handle the rest.
			chunk = s[i : i+size]
		}
		k := int32(utf8.RuneCountInString(chunk))
		if norm.NFKC.QuickSpanString(chunk) == len(chunk) {
			for _, r := range chunk {
				b.push(r, ri, ri+1)
				ri++
			}
		} else {
			// norm.Iter reuses its internal buffers, unlike AppendString
			// and IsNormalString, which allocate a reorder buffer per call.
			b.iter.InitString(norm.NFKC, chunk)
			for !b.iter.Done() {
				out := b.iter.Next()
				for j := 0; j < len(out); {
					r, size := utf8.DecodeRune(out[j:])
					j += size
					b.push(r, ri, ri+k)
				}
			}
			ri += k
		}
		i += len(chunk)
	}
}

// inert reports whether the rune s[i:i+size] is unchanged by NFKC and cannot
// interact with its neighbours, so it can be copied as is.
func (b *Buffer) inert(s string, i, size int) bool {
	if !norm.NFKC.PropertiesString(s[i:]).BoundaryAfter() {
		return false
	}
	j := i + size
	if j == len(s) || s[j] < utf8.RuneSelf {
		return true
	}
	return norm.NFKC.PropertiesString(s[j:]).BoundaryBefore()
}

func (b *Buffer) push(r rune, start, end int32) {
	b.runes = append(b.runes, r)
	b.start = append(b.start, start)
	b.end = append(b.end, end)
}
