package text

import (
	"testing"
)

// TestTokenizeEnglishNoAllocs enforces the steady-state zero-allocation
// contract for text without Han characters (STYLE §6).
func TestTokenizeEnglishNoAllocs(t *testing.T) {
	tk := testTokenizer(t)
	inputs := []string{
		"QT @user In the original draft of the 7th book, Remus Lupin survived the Battle of Hogwarts. #HappyBirthdayRemusLupin",
		"I don't like it!!!! Soooooo BAD :( 😂👍🏽 https://t.co/abc ＨＥＬＬＯ ﬁne café…",
		"a\xffb",
	}
	var b Buffer
	for _, s := range inputs {
		tk.Tokenize(&b, s) // warm up the Buffer
		tk.Chars(&b, s)
		if a := testing.AllocsPerRun(50, func() { tk.Tokenize(&b, s) }); a != 0 {
			t.Errorf("Tokenize(%q): %.1f allocs per call, want 0", s, a)
		}
		if a := testing.AllocsPerRun(50, func() { tk.Chars(&b, s) }); a != 0 {
			t.Errorf("Chars(%q): %.1f allocs per call, want 0", s, a)
		}
	}
}

// TestTokenizeHanNoAllocs extends the zero-allocation contract to Han text:
// segment runs gse's shortest path in the Buffer's scratch (gse's own
// Segment allocated its working slices per run plus a pseudo token per
// out-of-dictionary character: 8 allocations per call for the first input).
func TestTokenizeHanNoAllocs(t *testing.T) {
	tk := testTokenizer(t)
	for _, s := range []string{
		"选择珠江花园的原因就是方便，有电动扶梯直接到达海边",
		"我在北京吃了@user 推荐的外卖 #美食# 😂 送餐太慢了!!! http://t.co/x 張三說",
	} {
		var b Buffer
		tk.Tokenize(&b, s)
		tk.Chars(&b, s)
		if a := testing.AllocsPerRun(50, func() { tk.Tokenize(&b, s) }); a != 0 {
			t.Errorf("Tokenize(%q): %.1f allocs per call, want 0", s, a)
		}
		if a := testing.AllocsPerRun(50, func() { tk.Chars(&b, s) }); a != 0 {
			t.Errorf("Chars(%q): %.1f allocs per call, want 0", s, a)
		}
	}
}
