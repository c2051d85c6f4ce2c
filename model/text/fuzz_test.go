package text

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Seeds in code; testdata/fuzz/FuzzTokenize and FuzzChars hold more (and
// every crasher found so far). Plain go test replays both.
var fuzzSeeds = []string{
	"RT @ david_myers77 : U.S.-based Coca-Cola 1996-08-30 _x_ a- e.g.x 2-year-old T.O'Gorman",
	"",
	"I don't like it!!!! Soooooo BAD :( #HappyBirthdayRemus @john_doe https://t.co/abc.",
	"看这个https://t.co/x很好，真的很好！！！😂😂 👍🏽 👨\u200d👩\u200d👧 🇨🇳 1\ufe0f\u20e3 ❤\ufe0f <3 xD ^_^",
	"ﬁne ＨＥＬＬＯ１２ ①② ⑴ ㄱㅏ ｶﾀｶﾅ ㍿ e\u0301\u0301",
	"a\xffb\xc3 中\xe4\xb8文 \xf0\x9f\x98",
	"#话题# @张三你好 www.x.cn/(a)) 1,000.5:3 </3 <3333",
	"aa㏂ #ab㏂ !\u0301 #Ｈａｐｐｙ＿Ｄａｙ",
}

// noSplit returns tk with hashtag splitting off, sharing its segmenter
// (a second dictionary would cost another second and 130 MB).
func noSplit(tk *Tokenizer) *Tokenizer {
	c := *tk
	c.opts.NoSplitHashtags = true
	return &c
}

// cloneTokens copies toks out of their Buffer.
func cloneTokens(toks []Token) []Token {
	out := make([]Token, len(toks))
	for i, t := range toks {
		t.Text = strings.Clone(t.Text)
		out[i] = t
	}
	return out
}

func sameTokens(a, b []Token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// simple reports whether the source rune r maps to itself under NFKC and
// cannot combine with a neighbour, so its span is exact: no two tokens may
// share it.
func simple(r rune) bool {
	s := string(r)
	p := norm.NFKC.PropertiesString(s)
	return p.BoundaryBefore() && p.BoundaryAfter() && norm.NFKC.String(s) == s
}

// fuzzCheck asserts the invariants every token of either view satisfies:
// spans inside the source runes with Start non-decreasing, valid enums, and
// the per-kind text rules of the package documentation.
func fuzzCheck(t *testing.T, s string, toks []Token) {
	t.Helper()
	n := utf8.RuneCountInString(s)
	prev := 0
	for i, tok := range toks {
		if tok.Start < prev || tok.Start < 0 || tok.Start >= tok.End || tok.End > n {
			t.Fatalf("token %d %q: span [%d:%d], previous Start %d, rune count %d", i, tok.Text, tok.Start, tok.End, prev, n)
		}
		if tok.Text == "" || !utf8.ValidString(tok.Text) || tok.Kind >= NumKind || tok.Case >= NumCasing || tok.Seg >= NumSegPos {
			t.Fatalf("token %d: invalid %+v", i, tok)
		}
		if tok.Seg != SegNone && tok.Kind != Han {
			t.Fatalf("token %d %+v: a segment position on a non-Han token", i, tok)
		}
		prev = tok.Start
		nr := utf8.RuneCountInString(tok.Text)
		bad := ""
		switch tok.Kind {
		case URL:
			if tok.Text != placeURL {
				bad = "url placeholder"
			}
		case Mention:
			if tok.Text != placeUser {
				bad = "mention placeholder"
			}
		case Number:
			if tok.Text != placeNum {
				bad = "number placeholder"
			}
		case Hashtag:
			if len(tok.Text) < 2 || tok.Text[0] != '#' || !isLowered(tok.Text) {
				bad = "hashtag: '#' and a lowercase body"
			}
		case Word:
			if !isLowered(tok.Text) || maxLetterRun(tok.Text) > DefaultMaxRepeat {
				bad = "word: lowercase, letter runs squeezed to 3"
			}
		case Han:
			for _, r := range tok.Text {
				if !IsHan(r) {
					bad = "han: Han runes only"
				}
			}
		case Emoji:
			for i, r := range []rune(tok.Text) {
				if r == vs15 || r == vs16 || i > 0 && isSkin(r) {
					bad = "emoji: variation selector or skin tone kept"
				}
			}
		case Punct:
			if nr > 3 {
				bad = "punct: runs collapse to at most 3 runes"
			}
		case Other:
			if nr != 1 {
				bad = "other: one rune"
			}
		}
		if bad != "" {
			t.Fatalf("token %d %+v of %q breaks rule %s", i, tok, s, bad)
		}
	}
}

func isLowered(s string) bool {
	for _, r := range s {
		if unicode.ToLower(r) != r {
			return false
		}
	}
	return true
}

// maxLetterRun returns the longest run of one repeated letter in s.
func maxLetterRun(s string) int {
	best, run := 0, 0
	prev := rune(-1)
	for _, r := range s {
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		if isLetter(r) {
			best = max(best, run)
		}
	}
	return best
}

// checkPrimary asserts, for tokens without hashtag parts, that End never
// decreases, that two tokens share source runes only where NFKC rewrote or
// combined them (the coarse span map), and that every source rune no token
// covers normalizes to white space (nothing else is dropped).
func checkPrimary(t *testing.T, s string, toks []Token) {
	t.Helper()
	src := []rune(s)
	covered := make([]bool, len(src))
	for i, tok := range toks {
		for j := tok.Start; j < tok.End; j++ {
			covered[j] = true
		}
		if i == 0 {
			continue
		}
		p := toks[i-1]
		if tok.End < p.End {
			t.Fatalf("token %d %+v ends before token %d %+v", i, tok, i-1, p)
		}
		if tok.Start < p.End {
			exact := true
			for _, r := range src[tok.Start:p.End] {
				exact = exact && simple(r)
			}
			if exact {
				t.Fatalf("tokens %d %+v and %d %+v of %q overlap on runes NFKC leaves alone", i-1, p, i, tok, s)
			}
		}
	}
	for j, r := range src {
		if covered[j] {
			continue
		}
		for _, q := range norm.NFKC.String(string(r)) {
			if !isSpace(q) {
				t.Fatalf("source rune %d %U of %q is in no token", j, r, s)
			}
		}
	}
}

// checkParts asserts that toks is plain (the NoSplitHashtags view) with
// each hashtag followed by its word parts, which lie inside its span.
func checkParts(t *testing.T, s string, toks, plain []Token) {
	t.Helper()
	j := 0
	var tag *Token
	for i := range toks {
		tok := toks[i]
		if j < len(plain) && tok == plain[j] {
			j++
			tag = nil
			if tok.Kind == Hashtag {
				tag = &toks[i]
			}
			continue
		}
		if tag == nil || tok.Kind != Word && tok.Kind != Number || tok.Start < tag.Start || tok.End > tag.End {
			t.Fatalf("Tokenize(%q) token %d %+v: neither the NoSplitHashtags token %d nor a part of a preceding hashtag %+v", s, i, tok, j, tag)
		}
	}
	if j != len(plain) {
		t.Fatalf("Tokenize(%q): NoSplitHashtags token %d %+v missing", s, j, plain[j])
	}
}

// checkChars asserts that the character view is the word view with every
// Han word split into characters tagged B M* E or S, whose texts and spans
// add up to the word's.
func checkChars(t *testing.T, s string, chars, words []Token) {
	t.Helper()
	j := 0
	for i := 0; i < len(chars); {
		if j >= len(words) {
			t.Fatalf("Chars(%q) token %d %+v: no word-view token left", s, i, chars[i])
		}
		c, w := chars[i], words[j]
		if c.Kind != Han {
			if c != w {
				t.Fatalf("Chars(%q) token %d %+v, word view %+v", s, i, c, w)
			}
			i, j = i+1, j+1
			continue
		}
		// One Han word: S, or B M* E.
		k := i + 1
		if c.Seg == SegB {
			for k < len(chars) && chars[k].Kind == Han && chars[k].Seg == SegM {
				k++
			}
			if k == len(chars) || chars[k].Kind != Han || chars[k].Seg != SegE {
				t.Fatalf("Chars(%q) token %d %+v: B not closed by M* E", s, i, c)
			}
			k++
		} else if c.Seg != SegS {
			t.Fatalf("Chars(%q) token %d %+v: Han word starts with %v", s, i, c, c.Seg)
		}
		var sb strings.Builder
		for _, h := range chars[i:k] {
			if utf8.RuneCountInString(h.Text) != 1 {
				t.Fatalf("Chars(%q) Han token %+v: want one rune", s, h)
			}
			sb.WriteString(h.Text)
		}
		if w.Kind != Han || w.Seg != SegNone || sb.String() != w.Text || c.Start != w.Start || chars[k-1].End != w.End {
			t.Fatalf("Chars(%q) tokens %d..%d %q [%d:%d], word view %+v", s, i, k, sb.String(), c.Start, chars[k-1].End, w)
		}
		i, j = k, j+1
	}
	if j != len(words) {
		t.Fatalf("Chars(%q): word-view token %d %+v has no characters", s, j, words[j])
	}
}

// FuzzTokenize checks the word view with the dictionary tokenizer (gse
// segmentation included): the span and text invariants, hashtag parts,
// agreement with the character view, that a reused Buffer gives the
// same tokens as a fresh one, and Subwords and DetectLang on the result.
func FuzzTokenize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tk := testTokenizer(f)
	plainTk := noSplit(tk)
	var dirty Buffer
	f.Fuzz(func(t *testing.T, s string) {
		var b, pb, cb Buffer
		toks := tk.Tokenize(&b, s)
		fuzzCheck(t, s, toks)
		plain := plainTk.Tokenize(&pb, s)
		fuzzCheck(t, s, plain)
		checkPrimary(t, s, plain)
		checkParts(t, s, toks, plain)
		chars := tk.Chars(&cb, s)
		checkChars(t, s, chars, plain)

		want := cloneTokens(toks)
		tk.Chars(&dirty, "前一条 #Previous 😂 text\xff"+s)
		if got := tk.Tokenize(&dirty, s); !sameTokens(got, want) {
			t.Fatalf("Tokenize(%q) with a reused Buffer:\n%v\nfresh Buffer:\n%v", s, got, want)
		}
		const buckets = 1000
		var ids []int32
		for _, tok := range toks {
			ids = Subwords(ids[:0], tok.Text, tok.Kind, buckets)
			for _, id := range ids {
				if id < 0 || id >= buckets {
					t.Fatalf("Subwords(%q): bucket %d outside [0, %d)", tok.Text, id, buckets)
				}
			}
		}
		if l := DetectLang(s); l != "en" && l != "zh" {
			t.Fatalf("DetectLang(%q) = %q", s, l)
		}
	})
}

// FuzzChars checks the character view (the NER tagger's input): the span
// and text invariants, BMES positions, and that a reused Buffer gives the
// same tokens as a fresh one.
func FuzzChars(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tk := testTokenizer(f)
	// The tagger's settings: clitics split, compound words kept whole.
	compound, err := New(Options{Dict: DictChars, SplitClitics: true, CompoundWords: true})
	if err != nil {
		f.Fatal(err)
	}
	var dirty Buffer
	f.Fuzz(func(t *testing.T, s string) {
		var b, cb Buffer
		toks := tk.Chars(&b, s)
		fuzzCheck(t, s, toks)
		checkPrimary(t, s, toks)
		ctoks := compound.Chars(&cb, s)
		fuzzCheck(t, s, ctoks)
		checkPrimary(t, s, ctoks)
		for i, tok := range toks {
			if tok.Kind == Han && (tok.Seg == SegNone || utf8.RuneCountInString(tok.Text) != 1) {
				t.Fatalf("Han char token %d %+v: want one rune with a B/M/E/S position", i, tok)
			}
		}
		want := cloneTokens(toks)
		tk.Tokenize(&dirty, "#Previous 前一条很长的文本 😂\xff"+s)
		if got := tk.Chars(&dirty, s); !sameTokens(got, want) {
			t.Fatalf("Chars(%q) with a reused Buffer:\n%v\nfresh Buffer:\n%v", s, got, want)
		}
	})
}
