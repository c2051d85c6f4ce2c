package text

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestOffsetsRoundTrip checks, for every token of mixed inputs, that the
// original runes [Start:End], NFKC-normalized and lowercased, relate to the
// token: equal for words/Han/hashtags/emoticons, a URL for <url>, digits for
// <num>, and so on. Inputs include NFKC-changing runes (ligatures,
// full-width, circled digits, compatibility jamo), ZWJ emoji and invalid
// UTF-8.
func TestOffsetsRoundTrip(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	inputs := []struct{ name, in string }{
		{"mixed", "看这个https://t.co/AbC很好，真的！！ I don't ❤️ it 👨\u200d👩\u200d👧 #HappyDay @bob 1,000 :)"},
		{"nfkc", "ﬁne ＨＥＬＬＯ１２ ①② ⑴ ㄱㅏ ｶﾀｶﾅ Ⅻ ㍿ ¼ x²"},
		{"emoji", "🇨🇳👍🏽 1\ufe0f\u20e3 👩🏽\u200d💻 ❤\ufe0f\u200d🔥"},
		{"invalid", "a\xffb\xc3 中\xe4\xb8文 \xf0\x9f\x98 ok"},
		{"combining", "cafe\u0301 n\u0303o e\u0301\u0301\u0301"},
		{"zh", "选择珠江花园的原因就是方便，有电动扶梯直接到达海边。。。"},
		{"empty", ""},
	}
	for _, tt := range inputs {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b Buffer
			src := []rune(tt.in)
			for _, view := range []struct {
				name string
				f    func(*Buffer, string) []Token
			}{{"Tokenize", tk.Tokenize}, {"Chars", tk.Chars}} {
				toks := view.f(&b, tt.in)
				checkOffsets(t, tt.in, toks)
				for _, tok := range toks {
					span := strings.ToLower(norm.NFKC.String(string(src[tok.Start:tok.End])))
					if !relates(tok, span, tok.End-tok.Start) {
						t.Errorf("%s: token %q (%v) at [%d:%d] has source %q", view.name, tok.Text, tok.Kind, tok.Start, tok.End, span)
					}
				}
			}
		})
	}
}

// relates reports whether tok plausibly comes from the normalized source
// span; width is the span length in source runes.
func relates(tok Token, span string, width int) bool {
	if width == 1 && strings.Contains(span, strings.Trim(tok.Text, "<>")) {
		return true // one source rune that NFKC expanded (⑴, ㍿, ...)
	}
	switch tok.Kind {
	case URL:
		return strings.Contains(span, ".") || strings.Contains(span, "/")
	case Mention:
		return strings.HasPrefix(span, "@") && utf8.RuneCountInString(span) > 1
	case Number:
		return strings.ContainsAny(span, "0123456789")
	case Emoji:
		drop := func(r rune) rune {
			if r == vs15 || r == vs16 || isSkin(r) {
				return -1
			}
			return r
		}
		return strings.Map(drop, span) == strings.Map(drop, tok.Text)
	case Punct:
		if tok.Text == ellipsis {
			return strings.Trim(span, ".。") == ""
		}
		return strings.Trim(span, tok.Text) == ""
	case Other:
		return span == tok.Text || tok.Text == "\ufffd"
	case Han:
		if tok.Seg != SegNone {
			return span == tok.Text
		}
	}
	// Word, Han, Hashtag, Emoticon: equal after unifying apostrophes.
	return strings.ReplaceAll(span, "\u2019", "'") == tok.Text
}
