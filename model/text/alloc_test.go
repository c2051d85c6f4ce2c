package text

import (
	"testing"
)

// TestTokenizeEnglishNoAllocs enforces the steady-state zero-allocation
// contract for text without Han characters (STYLE §6).
func TestTokenizeEnglishNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are noisy under -short coverage runs")
	}
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

// TestTokenizeHanAllocs reports (and bounds) what gse allocates per Han
// run: its Segment builds a few working slices per call plus a pseudo token
// per out-of-dictionary character.
func TestTokenizeHanAllocs(t *testing.T) {
	tk := testTokenizer(t)
	s := "选择珠江花园的原因就是方便，有电动扶梯直接到达海边"
	var b Buffer
	tk.Tokenize(&b, s)
	a := testing.AllocsPerRun(50, func() { tk.Tokenize(&b, s) })
	t.Logf("Tokenize(%d Han runs): %.1f allocs per call (all inside gse Segment)", 2, a)
	if a > 20 {
		t.Errorf("Tokenize(%q): %.1f allocs per call, want <= 20", s, a)
	}
}
