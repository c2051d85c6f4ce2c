package text

import (
	"unicode"
	"unicode/utf8"
)

// IsHan reports whether r is a Han (Chinese) character, i.e. in the Unicode
// Han script. Han runs are segmented with gse.
func IsHan(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	if r >= 0x4E00 && r <= 0x9FFF {
		return true
	}
	return unicode.Is(unicode.Han, r)
}

// hanWeight is how many non-Han letters one Han character counts for in
// DetectLang: an average Chinese word is ~1.5 characters, an English one ~4.7
// letters, so one Han character carries roughly as much as three letters.
const hanWeight = 3

// DetectLang returns "zh" if Han characters dominate the letters of s and
// "en" otherwise (including when s has no letters). Each Han rune counts as
// three letters (see the hanWeight rationale), so "我爱你 hello" is "zh" and
// "I love this 好" is "en". Invalid UTF-8 is ignored. It does not allocate.
func DetectLang(s string) string {
	han, other := 0, 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c|0x20 >= 'a' && c|0x20 <= 'z' {
				other++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case IsHan(r):
			han++
		case unicode.IsLetter(r):
			other++
		}
	}
	if han > 0 && han*hanWeight >= other {
		return "zh"
	}
	return "en"
}
