package model

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/text"
)

// viewTexts is mixed input for comparing the derived character view with the
// tokenizer's own, plus up to 300 lines of each shared data set when present.
func viewTexts(t *testing.T) []string {
	t.Helper()
	out := append(append([]string{}, nerTexts...), mixedTexts...)
	out = append(out, "#HappyBirthdayRemus 北京大学 #北京 ㍻ ＡＢＣ 你好世界 @张三 http://例子.cn 123,456.7元")
	for _, name := range []string{"tweeteval_sentiment", "chnsenticorp", "waimai_10k"} {
		f, err := os.Open(filepath.Join("..", "..", "shared", "data", name, "dev.jsonl"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 0; n < 300 && sc.Scan(); n++ {
			var ex struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &ex) == nil {
				out = append(out, ex.Text)
			}
		}
		f.Close()
	}
	return out
}

func TestCharViewMatchesChars(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	var b1, b2 text.Buffer
	for _, s := range viewTexts(t) {
		want := slices.Clone(tok.Chars(&b1, s))
		got := CharView(nil, tok.Tokenize(&b2, s), &b2)
		if len(got) != len(want) {
			t.Fatalf("%q: derived %d tokens, Chars %d\n got %+v\nwant %+v", s, len(got), len(want), got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%q token %d: derived %+v, Chars %+v", s, i, got[i], want[i])
			}
		}
	}
}

func TestAnalyzerMatchesSeparateModels(t *testing.T) {
	cls := smallClassifier(t, 10).Compile()
	ner := biasedTagger(t, "en").Compile()
	a, err := NewAnalyzer(cls, ner)
	if err != nil {
		t.Fatal(err)
	}
	texts := append(append([]string{}, nerTexts...), mixedTexts...)
	ws := a.NewWorkspace()
	a.Analyze(ws, texts)
	probs := make([]float32, len(texts)*3)
	best := make([]int, len(texts))
	cls.ClassifyBatch(cls.NewWorkspace(), texts, probs, best)
	tws := ner.NewWorkspace()
	ner.TagBatch(tws, texts)
	for i := range texts {
		if ws.Label(i) != best[i] || !slices.Equal(ws.Probs(i), probs[i*3:(i+1)*3]) {
			t.Fatalf("text %d: analyzer %d %v, classifier %d %v", i, ws.Label(i), ws.Probs(i), best[i], probs[i*3:(i+1)*3])
		}
		if !slices.Equal(ws.Entities(i), tws.Entities(i)) {
			t.Fatalf("text %d: analyzer entities %+v, tagger %+v", i, ws.Entities(i), tws.Entities(i))
		}
	}
	// Steady state allocates nothing.
	en := []string{"New York is big", "I met Bob in Paris :) #fun", "北京欢迎你"}
	a.Analyze(ws, en)
	if allocs := testing.AllocsPerRun(30, func() { a.Analyze(ws, en[:2]) }); allocs != 0 {
		t.Fatalf("Analyze allocates %.1f times per batch, want 0", allocs)
	}
	if _, err := NewAnalyzer(nil, nil); err == nil {
		t.Fatal("NewAnalyzer(nil, nil) succeeded")
	}
	// Classifier only: no entities; tagger only: no labels.
	ac, _ := NewAnalyzer(cls, nil)
	wc := ac.NewWorkspace()
	ac.Analyze(wc, en)
	if wc.Entities(0) != nil || wc.Label(0) < 0 {
		t.Fatalf("classifier-only analyzer: entities %v label %d", wc.Entities(0), wc.Label(0))
	}
	an, _ := NewAnalyzer(nil, ner)
	wn := an.NewWorkspace()
	an.Analyze(wn, en)
	if wn.Label(0) != -1 || wn.Probs(0) != nil || !strings.Contains(strings.Join(en, ""), "York") {
		t.Fatalf("tagger-only analyzer: label %d probs %v", wn.Label(0), wn.Probs(0))
	}
}

// TestAnalyzerTruncation: texts longer than MaxTokens or a model's own
// limit are flagged, and a text cut by MaxTokens is analysed exactly like
// its head.
func TestAnalyzerTruncation(t *testing.T) {
	cls := smallClassifier(t, 10).Compile()
	ner := biasedTagger(t, "en").Compile()
	a, err := NewAnalyzer(cls, ner)
	if err != nil {
		t.Fatal(err)
	}
	head := "Bob met Alice in Paris and they loved it"                // 9 tokens
	long := head + strings.Repeat(" and then Bob went to London", 40) // 249 tokens
	ws := a.NewWorkspace()
	a.Analyze(ws, []string{head, long})
	if ws.Truncated(0) || ws.Truncated(1) != (249 > min(cls.cfg.MaxTokens, ner.tg.Config.MaxTokens)) {
		t.Fatalf("model limits only: truncated %v %v (classifier keeps %d, tagger %d)", ws.Truncated(0), ws.Truncated(1), cls.cfg.MaxTokens, ner.tg.Config.MaxTokens)
	}
	ws.MaxTokens = 9
	a.Analyze(ws, []string{head, long, "Bob met Alice in Paris and they loved"})
	if ws.Truncated(0) || !ws.Truncated(1) || ws.Truncated(2) {
		t.Fatalf("MaxTokens 9: truncated %v %v %v, want false true false", ws.Truncated(0), ws.Truncated(1), ws.Truncated(2))
	}
	if ws.Label(1) != ws.Label(0) || !slices.Equal(ws.Probs(1), ws.Probs(0)) || !slices.Equal(ws.Entities(1), ws.Entities(0)) {
		t.Fatalf("the cut text differs from its head: %v %v %+v, head %v %v %+v", ws.Label(1), ws.Probs(1), ws.Entities(1), ws.Label(0), ws.Probs(0), ws.Entities(0))
	}
	if allocs := testing.AllocsPerRun(20, func() { a.Analyze(ws, []string{head, long}) }); allocs != 0 {
		t.Fatalf("Analyze with MaxTokens allocates %.1f times per batch, want 0", allocs)
	}
}
