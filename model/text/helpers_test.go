package text

import (
	"strings"
	"sync"
	"testing"
)

// The gse dictionary takes about a second to load, so the whole test binary
// shares one Tokenizer with default options.
var shared struct {
	once sync.Once
	tok  *Tokenizer
	err  error
}

func testTokenizer(tb testing.TB) *Tokenizer {
	tb.Helper()
	shared.once.Do(func() { shared.tok, shared.err = New(Options{}) })
	if shared.err != nil {
		tb.Fatalf("New: %v", shared.err)
	}
	return shared.tok
}

// texts joins the token texts with spaces.
func texts(toks []Token) string {
	var sb strings.Builder
	for i, t := range toks {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(t.Text)
	}
	return sb.String()
}

// checkOffsets verifies the span invariants of toks for input s.
func checkOffsets(tb testing.TB, s string, toks []Token) {
	tb.Helper()
	n := len([]rune(s))
	prev := 0
	for i, t := range toks {
		if t.Start < 0 || t.Start >= t.End || t.End > n {
			tb.Fatalf("token %d %q: span [%d:%d] outside [0:%d] or empty", i, t.Text, t.Start, t.End, n)
		}
		if t.Start < prev {
			tb.Fatalf("token %d %q: Start %d < previous Start %d", i, t.Text, t.Start, prev)
		}
		prev = t.Start
		if t.Text == "" {
			tb.Fatalf("token %d: empty text, span [%d:%d]", i, t.Start, t.End)
		}
	}
}
