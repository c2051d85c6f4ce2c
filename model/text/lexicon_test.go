package text

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// lexNames is the mask of the person, place and organisation bits.
var lexNames = lexCatMask(LexPerson) | lexCatMask(LexPlace) | lexCatMask(LexOrg)

// lexCatMask returns the four position bits of category c.
func lexCatMask(c LexCat) uint32 {
	return LexBit(c, SegB) | LexBit(c, SegM) | LexBit(c, SegE) | LexBit(c, SegS)
}

// lexString spells a mask as "person:BE word:S" (categories in order,
// positions in B, M, E, S order).
func lexString(m uint32) string {
	var parts []string
	for c := range NumLexCat {
		var sb strings.Builder
		for p := SegB; p < NumSegPos; p++ {
			if m&LexBit(c, p) != 0 {
				sb.WriteString(p.String())
			}
		}
		if sb.Len() > 0 {
			parts = append(parts, c.String()+":"+sb.String())
		}
	}
	return strings.Join(parts, " ")
}

func TestLexBitLayout(t *testing.T) {
	t.Parallel()
	seen := uint32(0)
	for c := range NumLexCat {
		for p := SegB; p < NumSegPos; p++ {
			b := LexBit(c, p)
			if b == 0 || b&(b-1) != 0 || seen&b != 0 {
				t.Fatalf("LexBit(%v, %v) = %#x: not a new single bit", c, p, b)
			}
			seen |= b
		}
	}
	if seen != 1<<NumLexBits-1 {
		t.Fatalf("bits %#x, want the low %d", seen, NumLexBits)
	}
	if LexBit(LexPerson, SegNone) != 0 || LexBit(NumLexCat, SegB) != 0 {
		t.Fatal("LexBit of SegNone or an invalid category is not 0")
	}
	if got := LexBit(LexPlace, SegE); got != 1<<10 {
		t.Fatalf("LexBit(place, E) = %#x, want bit 10", got)
	}
}

// TestLexiconBits checks the masks of a sentence with a person, a company
// and a city against what gse's zh_s dictionary says about the words
// (logged): 马云 nr, 阿里巴巴 nrt (jieba tags the company as a
// transliterated name), 阿里 nrt, 巴巴 ns, 巴 ns, 杭州 ns, 杭 nr.
func TestLexiconBits(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	for _, w := range []string{"马云", "马", "云", "阿里巴巴", "阿里", "巴巴", "阿", "里", "巴", "杭州", "杭", "州", "创办"} {
		val, _, err := tk.seg.Dict.Value([]byte(w))
		if err != nil {
			t.Logf("%s: not in the dictionary", w)
			continue
		}
		tok := &tk.seg.Dict.Tokens[val]
		t.Logf("%s: freq %v pos %s -> %v", w, tok.Freq(), tok.Pos(), posCat(tok.Pos()))
	}
	var b Buffer
	const sent = "马云在杭州创办了阿里巴巴"
	toks := tk.Chars(&b, sent)
	if len(toks) != len([]rune(sent)) {
		t.Fatalf("Chars(%q): %d tokens, want one per character", sent, len(toks))
	}
	for _, tk := range toks {
		t.Logf("%s %v %s", tk.Text, tk.Seg, lexString(tk.Lex))
	}
	tests := []struct {
		name       string
		at         int    // character index in sent
		want, none uint32 // bits that must be set, bits that must be clear
	}{
		{"马 starts the name 马云", 0, LexBit(LexPerson, SegB), LexBit(LexPerson, SegE) | LexBit(LexPlace, SegB)},
		{"云 ends the name 马云", 1, LexBit(LexPerson, SegE), LexBit(LexPerson, SegB)},
		{"杭 starts the place 杭州 and is a surname", 3, LexBit(LexPlace, SegB) | LexBit(LexPerson, SegS), LexBit(LexPlace, SegE)},
		{"州 ends the place 杭州", 4, LexBit(LexPlace, SegE) | LexBit(LexWord, SegS), LexBit(LexPlace, SegB)},
		{"创 is in common words only", 5, LexBit(LexWord, SegB), lexNames | lexCatMask(LexProper)},
		{"阿 starts 阿里巴巴 and 阿里", 8, LexBit(LexPerson, SegB), LexBit(LexPerson, SegM) | LexBit(LexPerson, SegE)},
		{"里 is inside 阿里巴巴, ends 阿里", 9, LexBit(LexPerson, SegM) | LexBit(LexPerson, SegE), LexBit(LexPerson, SegB)},
		{"first 巴: inside 阿里巴巴, starts 巴巴, a place alone", 10, LexBit(LexPerson, SegM) | LexBit(LexPlace, SegB) | LexBit(LexPlace, SegS), LexBit(LexPlace, SegE)},
		{"second 巴: ends 阿里巴巴 and 巴巴, a place alone", 11, LexBit(LexPerson, SegE) | LexBit(LexPlace, SegE) | LexBit(LexPlace, SegS), LexBit(LexPlace, SegB)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := toks[tc.at].Lex
			if m&tc.want != tc.want || m&tc.none != 0 {
				t.Fatalf("%s: mask %s, want %s set and %s clear", toks[tc.at].Text, lexString(m), lexString(tc.want), lexString(tc.none))
			}
		})
	}
}

// TestLexiconDictChars: without a dictionary every mask is 0.
func TestLexiconDictChars(t *testing.T) {
	t.Parallel()
	tk, err := New(Options{Dict: DictChars})
	if err != nil {
		t.Fatal(err)
	}
	var b Buffer
	s := "马云在杭州 hello 创办了阿里巴巴"
	for _, c := range tk.Chars(&b, s) {
		if c.Lex != 0 {
			t.Fatalf("%q: Lex %#x, want 0", c.Text, c.Lex)
		}
	}
	n := 0
	for _, w := range tk.Tokenize(&b, s) {
		if w.Kind == Han {
			n += len([]rune(w.Text))
		}
	}
	for i := range n {
		if b.HanLex(i) != 0 {
			t.Fatalf("HanLex(%d) = %#x, want 0", i, b.HanLex(i))
		}
	}
}

// TestHanLexMatchesChars requires the masks read with Buffer.HanLex after
// Tokenize, taken in order over the characters of the Han word tokens, to
// equal the Lex of the Han tokens of Chars on the same text: mixed text
// with NFKC-changed input, emoji, Latin words, mentions and URLs with Han,
// long Han runs, and up to 300 lines of the shared Chinese corpora.
func TestHanLexMatchesChars(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	lines := []string{
		"马云在杭州创办了阿里巴巴 #HappyBirthday 😂👍🏽 http://例子.cn/路径 @张三 你好",
		"㍻三十年 ＡＢＣ公司 ㋀ 北京大学 ⑴ 中国人民银行 café Ｉｐｈｏｎｅ手机 ﬁne 豈更",
		"中华人民共和国国务院总理李克强在人民大会堂会见了来访的外国领导人" + strings.Repeat("北京欢迎你，上海浦东新区陆家嘴金融贸易区", 20),
		"", "a", "中", "@马云 马云", "中 国 中国 China中国", "的的的的的的的的的的", "張三說上海的天氣不錯𠀀𠀁",
	}
	root := dataRoot
	for _, name := range []string{"weibo_ner", "chnsenticorp", "waimai_10k"} {
		lines = append(lines, readDataTexts(t, filepath.Join(root, name, "dev.jsonl"), 300)...)
	}
	var b1, b2 Buffer
	for _, s := range lines {
		var want []uint32
		for _, c := range tk.Chars(&b1, s) {
			if c.Kind == Han {
				want = append(want, c.Lex)
			}
		}
		var got []uint32
		for _, w := range tk.Tokenize(&b2, s) {
			if w.Kind != Han {
				continue
			}
			if w.Lex != 0 {
				t.Fatalf("%q: Han word %q has Lex %#x, want 0", s, w.Text, w.Lex)
			}
			for range w.Text {
				got = append(got, b2.HanLex(len(got)))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: HanLex after Tokenize %x, Chars %x", s, got, want)
		}
	}
}

// TestLexiconWeiboRates logs how often the bits are on for the Han
// characters of weibo_ner's dev split (skipped without ../shared/data):
// any person/place/organisation bit, S × LexWord, and per gold entity type
// the share of its characters with a bit of the matching category.
func TestLexiconWeiboRates(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", "weibo_ner", "dev.jsonl"))
	if err != nil {
		t.Skip("weibo_ner dev split not present")
	}
	defer f.Close()
	tk := testTokenizer(t)
	var b Buffer
	type count struct{ n, names, person, place, org, sword, none int }
	byTag := map[string]*count{}
	all := &count{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ex struct{ Tokens, Tags []string }
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			t.Fatal(err)
		}
		// Characters: a Han token of Chars per one-rune gold token.
		joined := strings.Join(ex.Tokens, "")
		toks := tk.Chars(&b, joined)
		at := map[int]uint32{}
		for _, c := range toks {
			if c.Kind == Han && c.End == c.Start+1 {
				at[c.Start] = c.Lex
			}
		}
		pos := 0
		for i, w := range ex.Tokens {
			m, ok := at[pos]
			pos += len([]rune(w))
			if !ok {
				continue
			}
			typ := "O"
			if tag := ex.Tags[i]; tag != "O" {
				typ = strings.TrimSuffix(strings.TrimSuffix(tag[2:], ".NAM"), ".NOM")
				if strings.HasSuffix(tag, ".NAM") {
					typ += ".NAM"
				}
			}
			if byTag[typ] == nil {
				byTag[typ] = &count{}
			}
			for _, c := range []*count{all, byTag[typ]} {
				c.n++
				if m&lexNames != 0 {
					c.names++
				}
				if m&lexCatMask(LexPerson) != 0 {
					c.person++
				}
				if m&lexCatMask(LexPlace) != 0 {
					c.place++
				}
				if m&lexCatMask(LexOrg) != 0 {
					c.org++
				}
				if m&LexBit(LexWord, SegS) != 0 {
					c.sword++
				}
				if m == 0 {
					c.none++
				}
			}
		}
	}
	pct := func(a, n int) float64 { return 100 * float64(a) / float64(max(n, 1)) }
	keys := []string{"all"}
	byTag["all"] = all
	for k := range byTag {
		if k != "all" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys[1:])
	for _, k := range keys {
		c := byTag[k]
		t.Logf("%-8s %6d chars: nr|ns|nt %5.1f%%  nr %5.1f%%  ns %5.1f%%  nt %5.1f%%  S×word %5.1f%%  no bit %4.1f%%",
			k, c.n, pct(c.names, c.n), pct(c.person, c.n), pct(c.place, c.n), pct(c.org, c.n), pct(c.sword, c.n), pct(c.none, c.n))
	}
}
