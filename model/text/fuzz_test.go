package text

import (
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"",
	"I don't like it!!!! Soooooo BAD :( #HappyBirthdayRemus @john_doe https://t.co/abc.",
	"看这个https://t.co/x很好，真的很好！！！😂😂 👍🏽 👨\u200d👩\u200d👧 🇨🇳 1\ufe0f\u20e3 ❤\ufe0f <3 xD ^_^",
	"ﬁne ＨＥＬＬＯ１２ ①② ⑴ ㄱㅏ ｶﾀｶﾅ ㍿ e\u0301\u0301",
	"a\xffb\xc3 中\xe4\xb8文 \xf0\x9f\x98",
	"#话题# @张三你好 www.x.cn/(a)) 1,000.5:3 </3 <3333",
}

// fuzzCheck asserts the invariants every output must satisfy.
func fuzzCheck(t *testing.T, s string, toks []Token) {
	t.Helper()
	n := utf8.RuneCountInString(s)
	prev := 0
	for i, tok := range toks {
		if tok.Start < prev || tok.Start < 0 || tok.Start >= tok.End || tok.End > n {
			t.Fatalf("token %d %q: span [%d:%d], previous Start %d, rune count %d", i, tok.Text, tok.Start, tok.End, prev, n)
		}
		if tok.Text == "" || tok.Kind >= NumKind || tok.Case >= NumCasing || tok.Seg >= NumSegPos {
			t.Fatalf("token %d: invalid %+v", i, tok)
		}
		prev = tok.Start
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tk := testTokenizer(f)
	f.Fuzz(func(t *testing.T, s string) {
		var b Buffer
		toks := tk.Tokenize(&b, s)
		fuzzCheck(t, s, toks)
		for _, tok := range toks {
			_ = Subwords(nil, tok.Text, tok.Kind, 1000)
		}
		_ = DetectLang(s)
	})
}

func FuzzChars(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tk := testTokenizer(f)
	f.Fuzz(func(t *testing.T, s string) {
		var b Buffer
		toks := tk.Chars(&b, s)
		fuzzCheck(t, s, toks)
		for _, tok := range toks {
			if tok.Kind == Han && (tok.Seg == SegNone || utf8.RuneCountInString(tok.Text) != 1) {
				t.Fatalf("Han char token %+v: want one rune with a B/M/E/S position", tok)
			}
		}
	})
}
