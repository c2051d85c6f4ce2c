package text

import "unicode"

// Emoji code points used by the sequence grammar (UTS #51).
const (
	zwj        = 0x200D
	vs15       = 0xFE0E
	vs16       = 0xFE0F
	keycap     = 0x20E3
	skinFirst  = 0x1F3FB
	skinLast   = 0x1F3FF
	riFirst    = 0x1F1E6 // regional indicator A
	riLast     = 0x1F1FF
	tagFirst   = 0xE0020
	tagLast    = 0xE007F
	ellipsis   = "..."
	bangQuery  = "?!"
	placeURL   = "<url>"
	placeUser  = "<user>"
	placeNum   = "<num>"
	heart      = "<3"
	replaceChr = 0xFFFD
)

// extPict approximates the Unicode Extended_Pictographic property (emoji-data
// 15.1) with ranges, sorted by Lo. It includes a few code points that NFKC
// maps away (™, ℹ, Ⓜ, ㊗, ...); those never reach the scanner.
var extPict = []struct{ lo, hi rune }{
	{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA},
	{0x231A, 0x231B}, {0x2328, 0x2328}, {0x2388, 0x2388}, {0x23CF, 0x23CF},
	{0x23E9, 0x23F3}, {0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB},
	{0x25B6, 0x25B6}, {0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x2605},
	{0x2607, 0x2612}, {0x2614, 0x2685}, {0x2690, 0x2705}, {0x2708, 0x2712},
	{0x2714, 0x2714}, {0x2716, 0x2716}, {0x271D, 0x271D}, {0x2721, 0x2721},
	{0x2728, 0x2728}, {0x2733, 0x2734}, {0x2744, 0x2744}, {0x2747, 0x2747},
	{0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757},
	{0x2763, 0x2767}, {0x2795, 0x2797}, {0x27A1, 0x27A1}, {0x27B0, 0x27B0},
	{0x27BF, 0x27BF}, {0x2934, 0x2935}, {0x2B05, 0x2B07}, {0x2B1B, 0x2B1C},
	{0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x3030, 0x3030}, {0x303D, 0x303D},
	{0x3297, 0x3297}, {0x3299, 0x3299}, {0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F},
	{0x1F12F, 0x1F12F}, {0x1F16C, 0x1F171}, {0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E},
	{0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5}, {0x1F201, 0x1F20F}, {0x1F21A, 0x1F21A},
	{0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A}, {0x1F23C, 0x1F23F}, {0x1F249, 0x1F3FA},
	{0x1F400, 0x1F53D}, {0x1F546, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F},
	{0x1F7D5, 0x1F7FF}, {0x1F80C, 0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F},
	{0x1F888, 0x1F88F}, {0x1F8AE, 0x1F8FF}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
	{0x1F947, 0x1FAFF}, {0x1FC00, 0x1FFFD},
}

// isExtPict reports whether r is (approximately) Extended_Pictographic.
func isExtPict(r rune) bool {
	if r < 0xA9 {
		return false
	}
	lo, hi := 0, len(extPict)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case r < extPict[m].lo:
			hi = m
		case r > extPict[m].hi:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

func isSkin(r rune) bool { return r >= skinFirst && r <= skinLast }
func isRI(r rune) bool   { return r >= riFirst && r <= riLast }

// isEmojiExtender reports runes that extend the preceding emoji: variation
// selectors, skin tones, tag characters and the keycap mark.
func isEmojiExtender(r rune) bool {
	return r == vs15 || r == vs16 || isSkin(r) || (r >= tagFirst && r <= tagLast) || r == keycap
}

// emojiEnd returns the end of the emoji sequence starting at rs[p], or p if
// there is none. Grammar (simplified UTS #51):
//
//	flag     = RI RI
//	keycap   = [0-9#*] VS16? U+20E3
//	sequence = (ExtPict | skin) extender* (ZWJ ExtPict extender*)*
func emojiEnd(rs []rune, p int) int {
	n := len(rs)
	r := rs[p]
	switch {
	case isRI(r):
		if p+1 < n && isRI(rs[p+1]) {
			return p + 2
		}
		return p + 1
	case r == '#' || r == '*' || (r >= '0' && r <= '9'):
		q := p + 1
		if q < n && rs[q] == vs16 {
			q++
		}
		if q < n && rs[q] == keycap {
			return q + 1
		}
		return p
	case isExtPict(r) || isSkin(r):
		q := p + 1
		for {
			for q < n && isEmojiExtender(rs[q]) {
				q++
			}
			if q+1 < n && rs[q] == zwj && isExtPict(rs[q+1]) {
				q += 2
				continue
			}
			return q
		}
	}
	return p
}

// emoticons lists the recognised ASCII emoticons. At a position, the longest
// match wins. "<3" also absorbs further '3's ("<333").
var emoticons = []string{
	":-)", ":)", ":))", ":-))", ":-(", ":(", ":((", ":-D", ":D", ";-)", ";)",
	";D", ";-D", ":-P", ":P", ":-p", ":p", ";P", ";p", ":'(", ":')", ":'-(",
	":-/", ":/", ":-\\", ":\\", ":-|", ":|", ":-O", ":O", ":-o", ":o", ":-*",
	":*", ":3", ":]", ":[", ":S", ":s", ":$", ":@", ";(", ":'D", "=)", "=(",
	"=D", "=]", "=P", "(:", "):", "xD", "XD", "xP", "XP", "<3", "</3",
	"^_^", "^^", "^.^", "^-^", "^o^", "-_-", "-.-", "-__-", "T_T", "T.T",
	"T^T", "o_O", "O_o", "o_o", "O_O", "o.O", "O.o", ">_<", ">.<", "u_u",
	">:(", ">:)", ">:-(", "3:)", "0:)", "O:)", "<(_ _)>", "orz",
}

// emoticonTrie is not worth it for ~90 short strings: matchEmoticon first
// filters on the first rune, which rejects almost every position.
var emoticonFirst = func() (m [128]bool) {
	for _, e := range emoticons {
		m[e[0]] = true
	}
	return m
}()

func isASCIIAlnum(r rune) bool {
	return r < 0x80 && (r >= '0' && r <= '9' || r|0x20 >= 'a' && r|0x20 <= 'z')
}

// matchEmoticon returns the end of the longest emoticon at rs[p], or p.
// Emoticons starting with a letter, digit or bracket need a left boundary
// (start, space, or another non-alphanumeric rune that is not a bracket),
// and emoticons ending with a letter or digit need a right boundary (end or
// a non-alphanumeric rune), so "boxDrop", "(step 8)" and "10:30" are not
// emoticons.
func matchEmoticon(rs []rune, p int) int {
	r := rs[p]
	if r >= 0x80 || !emoticonFirst[r] {
		return p
	}
	best := p
	for _, e := range emoticons {
		if e[0] != byte(r) || len(e) <= best-p || p+len(e) > len(rs) {
			continue
		}
		ok := true
		for i := 1; i < len(e); i++ {
			if rs[p+i] != rune(e[i]) {
				ok = false
				break
			}
		}
		if ok {
			best = p + len(e)
		}
	}
	if best == p {
		return p
	}
	if rs[p] == '<' && best == p+2 && rs[p+1] == '3' { // "<333"
		for best < len(rs) && rs[best] == '3' {
			best++
		}
	}
	if first := rs[p]; isASCIIAlnum(first) || first == '(' || first == ')' {
		if p > 0 {
			prev := rs[p-1]
			if isWordRune(prev) || prev == '(' || prev == ')' || prev == '[' || prev == ']' {
				return p
			}
		}
	}
	if last := rs[best-1]; isASCIIAlnum(last) && best < len(rs) && isWordRune(rs[best]) {
		return p
	}
	return best
}

// isWordRune reports letters (except Han), marks and digits.
func isWordRune(r rune) bool {
	if r < 0x80 {
		return isASCIIAlnum(r)
	}
	return (unicode.IsLetter(r) && !IsHan(r)) || unicode.IsMark(r) || unicode.IsDigit(r)
}
