package model

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
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

// smallMultiLabel returns an untrained multi-label classifier with another
// architecture than smallClassifier's (so the two share no layout), over
// tok: four labels, a threshold each.
func smallMultiLabel(t testing.TB, seed uint64, tok *text.Tokenizer) *Classifier {
	t.Helper()
	v := NewVocab(strings.Fields("good bad movie happy sad new york 好 电影 <url> <user>"))
	cfg := ClassifierConfig{Embed: 10, Hidden: 7, Buckets: 40, MaxTokens: 12, PoolInputs: true}
	c, err := NewClassifier(cfg, []string{"anger", "joy", "sadness", "surprise"}, v, tok, rand.New(rand.NewPCG(seed, 2)))
	if err != nil {
		t.Fatal(err)
	}
	c.MultiLabel, c.Thresholds = true, []float64{0.5, 0.45, 0.55, 0.5}
	return c
}

// checkTasks fails unless ws holds, for every classifier of a, exactly
// what ClassifyBatch gives alone on texts (bit for bit: the same float32
// code on the same tokens), and the entities of the tagger alone.
func checkTasks(t *testing.T, a *Analyzer, ws *AnalyzerWorkspace, texts []string) {
	t.Helper()
	if ws.Tasks() != len(a.Classifiers()) {
		t.Fatalf("workspace has %d tasks, analyzer %d classifiers", ws.Tasks(), len(a.Classifiers()))
	}
	for k, c := range a.Classifiers() {
		nc := len(c.Labels())
		probs := make([]float32, len(texts)*nc)
		best := make([]int, len(texts))
		c.ClassifyBatch(c.NewWorkspace(), texts, probs, best)
		for i := range texts {
			if got, want := ws.ClassProbs(k, i), probs[i*nc:(i+1)*nc]; ws.ClassBest(k, i) != best[i] || !slices.Equal(got, want) {
				t.Fatalf("classifier %d text %d: analyzer %d %v, alone %d %v", k, i, ws.ClassBest(k, i), got, best[i], want)
			}
		}
	}
	if len(a.Classifiers()) > 0 {
		for i := range texts {
			if ws.Label(i) != ws.ClassBest(0, i) || !slices.Equal(ws.Probs(i), ws.ClassProbs(0, i)) {
				t.Fatalf("text %d: Label/Probs %d %v are not classifier 0's %d %v", i, ws.Label(i), ws.Probs(i), ws.ClassBest(0, i), ws.ClassProbs(0, i))
			}
		}
	}
	if ner := a.Tagger(); ner != nil {
		tws := ner.NewWorkspace()
		ner.TagBatch(tws, texts)
		for i := range texts {
			if !slices.Equal(ws.Entities(i), tws.Entities(i)) {
				t.Fatalf("text %d: analyzer entities %+v, tagger %+v", i, ws.Entities(i), tws.Entities(i))
			}
		}
	}
}

// TestTaskAnalyzerMatchesSeparateModels: two classifiers (one single-,
// one multi-label, different shapes sharing the analyzer's scratch memory)
// and a tagger over one tokenization give each model's own results, the
// multi-label probabilities are independent sigmoids, steady state
// allocates nothing, and a workspace moves between analyzers. Not
// parallel: testing.AllocsPerRun refuses to run in a parallel test.
func TestTaskAnalyzerMatchesSeparateModels(t *testing.T) {
	sent := smallClassifier(t, 10).Compile()
	emo := smallMultiLabel(t, 11, tokenizer(t)).Compile()
	ner := biasedTagger(t, "en").Compile()
	cls := []*CompiledClassifier{sent, emo}
	a, err := NewTaskAnalyzer(cls, ner)
	if err != nil {
		t.Fatal(err)
	}
	cls[0] = emo // the analyzer keeps its own copy
	if got := a.Classifiers(); len(got) != 2 || got[0] != sent || got[1] != emo || a.Classifier() != sent || a.Tagger() != ner {
		t.Fatalf("Classifiers %v, Classifier %p, want [%p %p]", got, a.Classifier(), sent, emo)
	}
	texts := append(append([]string{}, nerTexts...), mixedTexts...)
	texts = append(texts, "happy new york", "sad movie 好电影 #SadTimes")
	ws := a.NewWorkspace()
	a.Analyze(ws, texts)
	checkTasks(t, a, ws, texts)
	// Sigmoids: each in (0, 1), not a distribution over the labels.
	var sum float32
	for _, p := range ws.ClassProbs(1, 0) {
		if p <= 0 || p >= 1 {
			t.Fatalf("multi-label probability %v outside (0, 1)", p)
		}
		sum += p
	}
	if math.Abs(float64(sum)-1) < 1e-3 {
		t.Errorf("multi-label probabilities %v sum to 1: a softmax?", ws.ClassProbs(1, 0))
	}
	// A smaller batch after a larger one reuses the memory: results as
	// fresh, no allocation.
	a.Analyze(ws, texts[3:7])
	checkTasks(t, a, ws, texts[3:7])
	en := []string{"New York is big", "I met Bob in Paris :) #fun", "北京欢迎你"}
	a.Analyze(ws, en)
	if allocs := testing.AllocsPerRun(30, func() { a.Analyze(ws, en[:2]) }); allocs != 0 {
		t.Fatalf("Analyze with two classifiers allocates %.1f times per batch, want 0", allocs)
	}
	// The same workspace under a one-task analyzer, then back.
	one, err := NewAnalyzer(emo, nil)
	if err != nil {
		t.Fatal(err)
	}
	one.Analyze(ws, en)
	checkTasks(t, one, ws, en)
	a.Analyze(ws, texts)
	checkTasks(t, a, ws, texts)
	// Tagger only: no tasks.
	an, err := NewTaskAnalyzer(nil, ner)
	if err != nil {
		t.Fatal(err)
	}
	an.Analyze(ws, en)
	if ws.Tasks() != 0 || ws.Label(0) != -1 || ws.Probs(0) != nil || an.Classifier() != nil {
		t.Fatalf("tagger-only analyzer: %d tasks, label %d, probs %v", ws.Tasks(), ws.Label(0), ws.Probs(0))
	}
	checkTasks(t, an, ws, en)
}

// TestTaskAnalyzerTruncation: a text is flagged when it exceeds any
// classifier's max_tokens, here only the second one's (12 against 20).
func TestTaskAnalyzerTruncation(t *testing.T) {
	t.Parallel()
	sent := smallClassifier(t, 10).Compile()
	emo := smallMultiLabel(t, 11, tokenizer(t)).Compile()
	s := "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen" // 15 tokens
	for _, c := range []struct {
		name string
		cls  []*CompiledClassifier
		want bool
	}{
		{"limit_20", []*CompiledClassifier{sent}, false},
		{"limits_20_12", []*CompiledClassifier{sent, emo}, true},
		{"limits_12_20", []*CompiledClassifier{emo, sent}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := NewTaskAnalyzer(c.cls, nil)
			if err != nil {
				t.Fatal(err)
			}
			ws := a.NewWorkspace()
			a.Analyze(ws, []string{"one two", s})
			if ws.Truncated(0) || ws.Truncated(1) != c.want {
				t.Fatalf("truncated %v %v, want false %v", ws.Truncated(0), ws.Truncated(1), c.want)
			}
		})
	}
}

// TestTaskAnalyzerRefusesBadModels: no model and a nil classifier are
// refused with ErrConfig, naming the classifier.
func TestTaskAnalyzerRefusesBadModels(t *testing.T) {
	t.Parallel()
	sent := smallClassifier(t, 10).Compile()
	emo := smallMultiLabel(t, 11, tokenizer(t)).Compile()
	ner := biasedTagger(t, "en").Compile()
	for _, c := range []struct {
		name string
		cls  []*CompiledClassifier
		ner  *CompiledTagger
		want string // in the message
	}{
		{"nothing", nil, nil, "needs a classifier or a tagger"},
		{"empty_slice", []*CompiledClassifier{}, nil, "needs a classifier or a tagger"},
		{"nil_classifier", []*CompiledClassifier{sent, nil}, ner, "classifier 1 is nil"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := NewTaskAnalyzer(c.cls, c.ner)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewTaskAnalyzer = %v, %v; want ErrConfig saying %q", a, err, c.want)
			}
		})
	}
	if _, err := NewTaskAnalyzer([]*CompiledClassifier{sent, emo}, ner); err != nil {
		t.Fatal(err)
	}
}

// TestTaskAnalyzerMixedTokenizers: models with different tokenizer
// settings serve together (a user's classifier trained with other
// options beside the built-in ones): each text is tokenized once per
// setting, and every model gives what it gives alone; still no allocation
// in steady state.
func TestTaskAnalyzerMixedTokenizers(t *testing.T) {
	sent := smallClassifier(t, 10).Compile()
	emo := smallMultiLabel(t, 11, tokenizer(t)).Compile()
	ner := biasedTagger(t, "en").Compile()
	other := charsTokenizer(t) // Dict "chars", not the default
	odd := smallMultiLabel(t, 11, other).Compile()
	oddNER := biasedTaggerWith(t, "en", other).Compile()
	texts := append(append([]string{}, nerTexts...), mixedTexts...)
	for _, c := range []struct {
		name string
		cls  []*CompiledClassifier
		ner  *CompiledTagger
		toks int
	}{
		{"classifier_1_differs", []*CompiledClassifier{sent, odd}, nil, 2},
		{"classifier_2_differs", []*CompiledClassifier{sent, emo, odd}, ner, 2},
		{"tagger_differs", []*CompiledClassifier{sent, emo}, oddNER, 2},
		{"all_on_another_setting", []*CompiledClassifier{odd}, oddNER, 1},
	} {
		a, err := NewTaskAnalyzer(c.cls, c.ner)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(a.toks) != c.toks {
			t.Errorf("%s: %d tokenizers, want %d", c.name, len(a.toks), c.toks)
		}
		ws := a.NewWorkspace()
		a.Analyze(ws, texts)
		checkTasks(t, a, ws, texts)
		if allocs := testing.AllocsPerRun(20, func() { a.Analyze(ws, texts[:4]) }); allocs != 0 {
			t.Errorf("%s: Analyze allocates %.1f times per batch, want 0", c.name, allocs)
		}
	}
}

// TestTaskAnalyzerBuiltinEN: the built-in English sentiment (single-label)
// and emotion (multi-label) classifiers and the NER tagger share their
// tokenizer options, so one analyzer runs all three, and it gives each
// model's own results on tweets and the mixed test texts.
func TestTaskAnalyzerBuiltinEN(t *testing.T) {
	t.Parallel()
	var tc TokenizerCache
	sent := loadModelFile(t, filepath.Join("..", "models"), "sentiment-en.safetensors", &tc).Classifier
	emo := loadModelFile(t, filepath.Join("..", "models"), "emotion-en.safetensors", &tc).Classifier
	ner := loadModelFile(t, filepath.Join("..", "models"), "ner-en.safetensors", &tc).Tagger
	if sent == nil || emo == nil || ner == nil || sent.MultiLabel || !emo.MultiLabel {
		t.Fatal("want sentiment-en (single-label), emotion-en (multi-label) and ner-en")
	}
	a, err := NewTaskAnalyzer([]*CompiledClassifier{sent.Compile(), emo.Compile()}, ner.Compile())
	if err != nil {
		t.Fatalf("the built-in English models do not share tokenizer options: %v", err)
	}
	texts := append(append([]string{}, nerTexts...), mixedTexts...)
	texts = append(texts,
		"I can't believe @united lost my bag AGAIN. so angry right now #fail",
		"Thank you so much, this made my day!! 😍 Love you NYC",
		"Obama's speech in Chicago was surprisingly short.",
		"wow didn't see that coming... Taylor Swift in London tonight?")
	ws := a.NewWorkspace()
	a.Analyze(ws, texts)
	checkTasks(t, a, ws, texts)
}
