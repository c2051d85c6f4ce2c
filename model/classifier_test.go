package model

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/tagstream/tagstream/model/safetensors"
	"github.com/tagstream/tagstream/model/text"
)

var (
	testTokOnce sync.Once
	testTok     *text.Tokenizer
	testTokErr  error
)

// tokenizer returns the tokenizer shared by the tests (the Chinese dictionary
// loads once per test binary).
func tokenizer(t testing.TB) *text.Tokenizer {
	t.Helper()
	testTokOnce.Do(func() { testTok, testTokErr = text.New(text.DefaultOptions()) })
	if testTokErr != nil {
		t.Fatal(testTokErr)
	}
	return testTok
}

// testTokenizerCache holds the test tokenizer, so loading a test model
// does not build another.
func testTokenizerCache(t testing.TB) *TokenizerCache {
	t.Helper()
	return &TokenizerCache{toks: map[text.Options]*text.Tokenizer{tokenizer(t).Options(): tokenizer(t)}}
}

// orderTask makes sentences of filler words with "alpha" and "beta" at random
// places; the label says which comes first. Bag-of-words models cannot solve
// it (both words are always present); a BiLSTM can.
func orderTask(rng *rand.Rand, n int) []LabeledText {
	fill := strings.Fields("the cat sat on a mat with some red wool and two dogs ran by quickly today")
	out := make([]LabeledText, n)
	for i := range out {
		l := 3 + rng.IntN(10)
		words := make([]string, l)
		for j := range words {
			words[j] = fill[rng.IntN(len(fill))]
		}
		a := rng.IntN(l)
		b := rng.IntN(l - 1)
		if b >= a {
			b++
		}
		words[a], words[b] = "alpha", "beta"
		label := "alpha_first"
		if b < a {
			label = "beta_first"
		}
		out[i] = LabeledText{Text: strings.Join(words, " "), Label: label}
	}
	return out
}

func TestClassifierLearnsSyntheticTask(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	train, dev := orderTask(rng, 3000), orderTask(rng, 500)
	cfg := TrainConfig{
		Model:    ClassifierConfig{Embed: 16, Hidden: 16, Buckets: 100, MaxTokens: 32},
		Settings: Settings{Epochs: 12, Batch: 16, LR: 1e-2, LRDecay: 0.9, Dropout: -1, Patience: 12, Seed: 3, Workers: 2},
	}
	clf, reports, err := TrainClassifier(context.Background(), tokenizer(t), train, dev, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	// The vocabulary holds every training word seen at least twice
	// (MinCount default 2): the 17 distinct filler words plus alpha and beta.
	if got := clf.Vocab.Len(); got != 1+19 {
		t.Errorf("vocabulary has %d rows (%v), want 20 (<unk> + 19 words)", got, clf.Vocab.Words())
	}
	for _, w := range []string{"alpha", "beta", "quickly", "the"} {
		if _, ok := clf.Vocab.ID(w); !ok {
			t.Errorf("word %q missing from the vocabulary %v", w, clf.Vocab.Words())
		}
	}
	var best EpochReport
	for _, r := range reports {
		if r.Best {
			best = r
		}
	}
	t.Logf("synthetic order task: dev accuracy %.4f (best of %d epochs)", best.Dev.Accuracy, len(reports))
	if best.Dev.Accuracy < 0.99 {
		t.Fatalf("dev accuracy %.4f after %d epochs, want >= 0.99", best.Dev.Accuracy, len(reports))
	}
	// The returned model is the best epoch's.
	m, err := clf.Compile().Evaluate(texts(dev), gold(t, clf, dev))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m.Accuracy-best.Dev.Accuracy) > 1e-12 {
		t.Fatalf("returned model accuracy %.4f, best epoch reported %.4f", m.Accuracy, best.Dev.Accuracy)
	}
}

func texts(ex []LabeledText) []string {
	out := make([]string, len(ex))
	for i, e := range ex {
		out[i] = e.Text
	}
	return out
}

func gold(t testing.TB, c *Classifier, ex []LabeledText) []int {
	t.Helper()
	idx := map[string]int{}
	for i, l := range c.Labels {
		idx[l] = i
	}
	out := make([]int, len(ex))
	for i, e := range ex {
		g, ok := idx[e.Label]
		if !ok {
			t.Fatalf("label %q not in %v", e.Label, c.Labels)
		}
		out[i] = g
	}
	return out
}

// charsTokenizer returns a tokenizer without the Chinese dictionary (one
// word per Han character): it starts instantly, which fuzz workers need.
func charsTokenizer(t testing.TB) *text.Tokenizer {
	t.Helper()
	tok, err := text.New(text.Options{Dict: text.DictChars})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// smallClassifier returns an untrained classifier over a tiny vocabulary.
func smallClassifier(t testing.TB, seed uint64) *Classifier {
	t.Helper()
	return smallClassifierWith(t, seed, tokenizer(t))
}

func smallClassifierWith(t testing.TB, seed uint64, tok *text.Tokenizer) *Classifier {
	t.Helper()
	v := NewVocab(strings.Fields("good bad movie 好 电影 <url> <user>"))
	c, err := NewClassifier(ClassifierConfig{Embed: 8, Hidden: 6, Buckets: 50, MaxTokens: 20}, []string{"neg", "neu", "pos"}, v, tok, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var mixedTexts = []string{
	"good movie!!! @bob http://x.co #great",
	"这部电影很好看，强烈推荐",
	"",
	"bad",
	"I 😀 love 北京 and NYC ♥",
	strings.Repeat("word ", 60),
}

func TestFloat32MatchesFloat64(t *testing.T) {
	t.Parallel()
	for _, pool := range []bool{false, true} {
		t.Run(fmt.Sprintf("pool_inputs=%v", pool), func(t *testing.T) {
			c := smallClassifier(t, 5)
			if pool {
				v := NewVocab(strings.Fields("good bad movie 好 电影 <url> <user>"))
				var err error
				c, err = NewClassifier(ClassifierConfig{Embed: 8, Hidden: 6, Buckets: 50, MaxTokens: 20, PoolInputs: true}, []string{"neg", "neu", "pos"}, v, tokenizer(t), rand.New(rand.NewPCG(5, 1)))
				if err != nil {
					t.Fatal(err)
				}
			}
			checkFloat32MatchesFloat64(t, c)
		})
	}
}

func checkFloat32MatchesFloat64(t *testing.T, c *Classifier) {
	// Bigger weights than the initialisation so saturation is exercised.
	for _, p := range c.net.params() {
		for i := range p.W {
			p.W[i] *= 4
		}
	}
	m := c.Compile()
	ws := m.NewWorkspace()
	probs := make([]float32, len(mixedTexts)*3)
	best := make([]int, len(mixedTexts))
	m.ClassifyBatch(ws, mixedTexts, probs, best)
	ref := c.referenceProbs(mixedTexts)
	for i := range probs {
		if d := math.Abs(float64(probs[i]) - ref[i]); d > 1e-4 {
			t.Fatalf("prob[%d]: float32 %.7f, float64 %.7f (diff %.2g > 1e-4)", i, probs[i], ref[i], d)
		}
	}
}

// referenceProbs runs the float64 training forward pass (no dropout), one
// text at a time: an independent path from the batched float32 one.
func (c *Classifier) referenceProbs(ts []string) []float64 {
	var buf text.Buffer
	var out []float64
	for _, s := range ts {
		e := encoded{offs: []int32{0}}
		e.ids, e.offs, _ = appendBags(c.Vocab, c.Config.Buckets, c.Tokenizer.Tokenize(&buf, s), c.Config.MaxTokens, nil, e.offs)
		w := &clsWorker{cfg: c.Config, net: c.net}
		probs := make([]float64, len(c.Labels))
		if e.len() == 0 {
			// No tokens: pooled features are zero; logits are the bias.
			copy(probs, c.net.out.B.W)
		} else {
			w.forwardBackward([]encoded{e}, []int{0}, 0, 0, nil)
			copy(probs, w.logits)
		}
		sm := append([]float64(nil), probs...)
		softmax64(sm)
		out = append(out, sm...)
	}
	return out
}

func softmax64(x []float64) {
	mx := x[0]
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	var s float64
	for i, v := range x {
		x[i] = math.Exp(v - mx)
		s += x[i]
	}
	for i := range x {
		x[i] /= s
	}
}

func TestClassifyBatchAllocatesNothing(t *testing.T) {
	c := smallClassifier(t, 6)
	m := c.Compile()
	ws := m.NewWorkspace()
	en := []string{"good movie!!! @bob http://x.co #great", "bad", "I love NYC :)", "so so"}
	probs := make([]float32, len(en)*3)
	best := make([]int, len(en))
	m.ClassifyBatch(ws, en, probs, best) // warm up: workspace grows once
	allocs := testing.AllocsPerRun(50, func() { m.ClassifyBatch(ws, en, probs, best) })
	if allocs != 0 {
		t.Fatalf("ClassifyBatch allocates %.1f times per batch, want 0", allocs)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	c := smallClassifier(t, 7)
	c.Info["dev_metrics"] = `{"accuracy":0.5}`
	var buf bytes.Buffer
	if err := c.Save(&buf); err != nil {
		t.Fatal(err)
	}
	// The cache holds the shared tokenizer (no second dictionary load).
	tc := testTokenizerCache(t)
	d, err := LoadClassifier(bytes.NewReader(buf.Bytes()), "mem.safetensors", tc)
	if err != nil {
		t.Fatal(err)
	}
	if d.Info["dev_metrics"] != c.Info["dev_metrics"] || fmt.Sprint(d.Labels) != fmt.Sprint(c.Labels) || d.Config != c.Config {
		t.Fatalf("metadata differs: %v %v %+v", d.Info, d.Labels, d.Config)
	}
	p1 := make([]float32, len(mixedTexts)*3)
	p2 := make([]float32, len(mixedTexts)*3)
	b := make([]int, len(mixedTexts))
	c.Compile().ClassifyBatch(c.Compile().NewWorkspace(), mixedTexts, p1, b)
	d.Compile().ClassifyBatch(d.Compile().NewWorkspace(), mixedTexts, p2, b)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("prob %d: %v before save, %v after load", i, p1[i], p2[i])
		}
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	t.Parallel()
	c := smallClassifier(t, 8)
	var buf bytes.Buffer
	if err := c.Save(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	tc := testTokenizerCache(t)
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"truncated", good[:len(good)/2], ""},
		{"payload byte flipped", flip(len(good) - 3), "checksum"},
		{"not safetensors", []byte("hello world, this is not a model file at all"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadClassifier(bytes.NewReader(tt.data), "bad.safetensors", tc)
			if err == nil {
				t.Fatal("loaded a bad file")
			}
			if !strings.Contains(err.Error(), "bad.safetensors") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not name the file and %q", err, tt.want)
			}
		})
	}
	// A valid safetensors file of another kind is refused with ErrFormat.
	t.Run("wrong kind", func(t *testing.T) {
		_, err := loadClassifier(bytes.NewReader(resave(t, good, "kind", "tagger")), tc)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "kind") {
			t.Fatalf("error %v, want ErrFormat naming the kind", err)
		}
	})
	t.Run("wrong version", func(t *testing.T) {
		_, err := loadClassifier(bytes.NewReader(resave(t, good, "format_version", "99")), tc)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "version") {
			t.Fatalf("error %v, want ErrFormat naming the version", err)
		}
	})
	t.Run("non-finite weight", func(t *testing.T) {
		d := smallClassifier(t, 8)
		d.net.out.W.W[3] = math.NaN()
		var b bytes.Buffer
		if err := d.Save(&b); err != nil {
			t.Fatal(err)
		}
		_, err := loadClassifier(bytes.NewReader(b.Bytes()), tc)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "out.w") {
			t.Fatalf("error %v, want ErrFormat naming tensor out.w", err)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		_, err := loadClassifier(bytes.NewReader(resave(t, good, "config", `{"embed":9,"hidden":6,"buckets":50,"max_tokens":20}`)), tc)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "implies") {
			t.Fatalf("error %v, want ErrFormat saying the config does not fit the weights", err)
		}
	})
}

// resave rewrites a model file with one metadata key changed (and a fresh,
// valid checksum), to test the model-level checks behind the file checks.
func resave(t testing.TB, file []byte, key, value string) []byte {
	t.Helper()
	f, err := safetensors.Read(bytes.NewReader(file), MaxModelBytes)
	if err != nil {
		t.Fatal(err)
	}
	f.Meta[key] = value
	delete(f.Meta, "sha256")
	var ts []safetensors.Tensor
	for _, name := range []string{"emb", "fwd.wx", "fwd.wh", "fwd.b", "bwd.wx", "bwd.wh", "bwd.b", "out.w", "out.b"} {
		tn, ok := f.Lookup(name)
		if !ok {
			t.Fatalf("tensor %s missing", name)
		}
		ts = append(ts, tn)
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, f.Meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzLoadClassifier(f *testing.F) {
	tok := charsTokenizer(f)
	c := smallClassifierWith(f, 9, tok)
	var buf bytes.Buffer
	if err := c.Save(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:100])
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '})
	var tc TokenizerCache
	tc.toks = map[text.Options]*text.Tokenizer{tok.Options(): tok}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadClassifier(bytes.NewReader(data), "fuzz", &tc)
		if err != nil {
			return
		}
		// Anything accepted must be usable.
		m := c.Compile()
		probs := make([]float32, len(mixedTexts)*len(c.Labels))
		best := make([]int, len(mixedTexts))
		m.ClassifyBatch(m.NewWorkspace(), mixedTexts, probs, best)
	})
}
