package text

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
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

// dataRoot is ../shared/data seen from this package's directory: the data
// sets beside the repository (never copied into it).
var dataRoot = filepath.Join("..", "..", "..", "shared", "data")

// readDataTexts returns the texts of up to n lines of a JSONL data file:
// the "text" field, or the "tokens" joined without spaces (NER data). It
// returns nil if the file does not exist; lines that do not decode are
// skipped.
func readDataTexts(tb testing.TB, path string, n int) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for len(out) < n && sc.Scan() {
		var ex struct {
			Text   string   `json:"text"`
			Tokens []string `json:"tokens"`
		}
		if json.Unmarshal(sc.Bytes(), &ex) != nil {
			continue
		}
		if ex.Text == "" {
			ex.Text = strings.Join(ex.Tokens, "")
		}
		out = append(out, ex.Text)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return out
}
