package model

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// cycleTexts makes texts that walk a cycle of words from a random start:
// each word determines the next one and the one before it, so a language
// model that learns the cycle has perplexity near 1 in both directions.
func cycleTexts(rng *rand.Rand, words []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		start, l := rng.IntN(len(words)), 4+rng.IntN(8)
		parts := make([]string, l)
		for j := range parts {
			parts[j] = words[(start+j)%len(words)]
		}
		out[i] = strings.Join(parts, " ")
	}
	return out
}

var cycleWords = []string{"red", "green", "blue", "cyan", "magenta", "yellow", "black", "white", "orange", "purple"}

func TestLMLearnsCycle(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	train, dev := cycleTexts(rng, cycleWords, 600), cycleTexts(rng, cycleWords, 100)
	cfg := DefaultLMTrainConfig()
	cfg.Model = LMConfig{Embed: 16, Hidden: 16, Buckets: 50}
	cfg.Epochs, cfg.Samples, cfg.Workers, cfg.LR, cfg.Dropout = 8, 16, 2, 1e-2, -1
	lm, reports, err := TrainLM(context.Background(), tok, train, dev, cfg, LMHooks{})
	if err != nil {
		t.Fatal(err)
	}
	f, b, n := lm.Perplexity(dev)
	t.Logf("epochs %d, dev perplexity forward %.3f backward %.3f over %d predictions", len(reports), f, b, n)
	// Vocabulary: 10 words + <unk>; uniform guessing gives 11.
	if f > 1.3 || b > 1.3 {
		t.Fatalf("dev perplexity forward %.3f backward %.3f, want <= 1.3", f, b)
	}
	got := lm.Generate("red green", GenerateOptions{Tokens: 4, Temperature: 0.1, Seed: 1})
	if want := []string{"blue", "cyan", "magenta", "yellow"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Generate(red green) = %v, want %v", got, want)
	}
}

// lmLoss returns the training loss of w on data (dropout off); it reseeds
// the worker's sampler so every call draws the same classes.
func lmLoss(w *lmWorker, data []lmEncoded, idx []int) float64 {
	for _, p := range w.net.params() {
		p.ZeroGrad()
	}
	w.rng = rand.New(rand.NewPCG(5, 6))
	w.forwardBackward(data, idx, 0)
	return w.loss
}

func TestLMGradient(t *testing.T) {
	t.Parallel()
	for _, bigrams := range []bool{false, true} {
		t.Run(fmt.Sprintf("bigrams=%v", bigrams), func(t *testing.T) {
			t.Parallel()
			lmGradientCheck(t, bigrams)
		})
	}
}

func lmGradientCheck(t *testing.T, bigrams bool) {
	tok := tokenizer(t)
	rng := rand.New(rand.NewPCG(3, 4))
	texts := cycleTexts(rng, cycleWords, 3)
	texts = append(texts, "red zebra quagga blue") // unknown words: <unk> targets and sub-word rows
	counts := map[string]int{}
	for _, w := range cycleWords[:7] {
		counts[w] = 1
	}
	lm, err := NewLanguageModel(LMConfig{Embed: 4, Hidden: 4, Buckets: 7, Bigrams: bigrams}, BuildVocab(counts, 1, 0), tok, rng)
	if err != nil {
		t.Fatal(err)
	}
	var buf text.Buffer
	var data []lmEncoded
	classCount := make([]float64, lm.Vocab.Len())
	for _, s := range texts {
		e := lm.encode(&buf, s)
		data = append(data, e)
		for _, w := range e.words {
			classCount[w]++
		}
	}
	w := &lmWorker{net: lm.net.gradView(), cfg: lm.Config, sampler: newUnigramSampler(classCount, 3)}
	w.col = make([]int32, lm.Vocab.Len())
	for i := range w.col {
		w.col[i] = -1
	}
	idx := []int{0, 1, 2, 3}
	lmLoss(w, data, idx)
	for _, p := range w.net.params() {
		g := append([]float64(nil), p.G...)
		master := masterOf(lm, p.Name)
		const h = 1e-5
		for i := range master.W {
			old := master.W[i]
			master.W[i] = old + h
			fp := lmLoss(w, data, idx)
			master.W[i] = old - h
			fm := lmLoss(w, data, idx)
			master.W[i] = old
			num := (fp - fm) / (2 * h)
			if d := math.Abs(num - g[i]); d > 1e-6*math.Max(1, math.Abs(num)+math.Abs(g[i])) {
				t.Fatalf("%s[%d]: analytic %.10g, numeric %.10g", p.Name, i, g[i], num)
			}
		}
	}
}

// TestLMBigramsDoNotLeak checks that with bigrams the forward LSTM's state
// at t does not depend on the tokens after t, nor the backward LSTM's on the
// tokens before t: the pair rows must not show a direction the token it
// predicts.
func TestLMBigramsDoNotLeak(t *testing.T) {
	t.Parallel()
	counts := map[string]int{}
	for _, w := range cycleWords {
		counts[w] = 1
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lm, err := NewLanguageModel(LMConfig{Embed: 6, Hidden: 5, Buckets: 50, Bigrams: true}, BuildVocab(counts, 1, 0), tokenizer(t), rng)
	if err != nil {
		t.Fatal(err)
	}
	H := lm.Config.Hidden
	states := func(s string) []float32 {
		var buf text.Buffer
		e := lm.encode(&buf, s)
		if e.pairs == nil {
			t.Fatal("no pair rows with Bigrams")
		}
		ev := newLMEval(lm)
		steps, _ := ev.encodeBatch([]lmEncoded{e})
		return append([]float32(nil), ev.seq[:steps*2*H]...)
	}
	// Forward: "red green blue cyan" and "red green blue white" differ at
	// t = 3 only; the forward states at t <= 2 must be equal.
	a, b := states("red green blue cyan"), states("red green blue white")
	for tt := 0; tt < 4; tt++ {
		same := slicesEqual(a[tt*2*H:tt*2*H+H], b[tt*2*H:tt*2*H+H])
		if tt < 3 && !same {
			t.Fatalf("forward state at %d depends on token 3", tt)
		}
		if tt == 3 && same {
			t.Fatal("forward state at 3 does not depend on token 3: the test proves nothing")
		}
	}
	// Backward: "red green blue cyan" and "white green blue cyan" differ at
	// t = 0 only; the backward states at t >= 1 must be equal.
	a, b = states("red green blue cyan"), states("white green blue cyan")
	for tt := 0; tt < 4; tt++ {
		same := slicesEqual(a[tt*2*H+H:(tt+1)*2*H], b[tt*2*H+H:(tt+1)*2*H])
		if tt > 0 && !same {
			t.Fatalf("backward state at %d depends on token 0", tt)
		}
		if tt == 0 && same {
			t.Fatal("backward state at 0 does not depend on token 0: the test proves nothing")
		}
	}
	// The pair rows are the tagger's: the row of (token t, token t+1).
	var buf text.Buffer
	e := lm.encode(&buf, "red green")
	if want := int32(lm.Vocab.Len()) + pairBucket("red", "green", 50); e.pairs[0] != want {
		t.Fatalf("pair row %d, want %d", e.pairs[0], want)
	}
	if want := int32(lm.Vocab.Len()) + pairBucket("green", "</s>", 50); e.pairs[1] != want {
		t.Fatalf("last pair row %d, want %d", e.pairs[1], want)
	}
}

// TestLMBigramRowsAreTheTaggers checks that a tagger trained with --bigrams
// from a bigram LM reads, at every character, the pair row the LM learned
// for that character and the next.
func TestLMBigramRowsAreTheTaggers(t *testing.T) {
	t.Parallel()
	sent := "我在北京大学见到了张三"
	counts := map[string]int{}
	for _, r := range sent {
		counts[string(r)] = 1
	}
	tok := charsTokenizer(t)
	lm, err := NewLanguageModel(LMConfig{View: ViewChars, Embed: 6, Hidden: 5, Buckets: 97, Bigrams: true}, BuildVocab(counts, 1, 0), tok, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	chars := strings.Split(sent, "")
	tags := make([]string, len(chars))
	for i := range tags {
		tags[i] = "O"
	}
	tags[2], tags[3] = "B-LOC", "I-LOC"
	cfg := DefaultTaggerTrainConfig()
	cfg.Lang, cfg.Epochs, cfg.Workers, cfg.Batch = "zh", 1, 1, 1
	cfg.Model.Bigrams = true
	cfg.Init = Pretrained{LM: lm}
	train := []TaggedSentence{{Tokens: chars, Tags: tags}}
	tg, _, err := TrainTagger(context.Background(), tok, train, train, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	var buf text.Buffer
	want := lm.encode(&buf, sent).pairs
	var f tagFeatures
	f.reset()
	var spans []tokSpan
	tg.encodeTokens(&f, nil, sent, tg.Tokenizer.Chars(&buf, sent), &spans)
	if len(want) != len(chars) || f.ntok() != len(chars) {
		t.Fatalf("%d LM pairs, %d tagger tokens, want %d", len(want), f.ntok(), len(chars))
	}
	for i := range chars {
		bag := f.ids[f.offs[i]:f.offs[i+1]]
		if !slices.Contains(bag, want[i]) {
			t.Fatalf("character %d (%s): tagger bag %v lacks the LM's pair row %d", i, chars[i], bag, want[i])
		}
	}
}

func slicesEqual(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func masterOf(lm *LanguageModel, name string) *nn.Param {
	for _, p := range lm.net.params() {
		if p.Name == name {
			return p
		}
	}
	panic(name)
}

func smallLM(t *testing.T, view string) (*LanguageModel, []string) {
	t.Helper()
	tok := tokenizer(t)
	if view == ViewChars {
		tok = charsTokenizer(t)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	train := cycleTexts(rng, cycleWords, 200)
	cfg := DefaultLMTrainConfig()
	cfg.Model = LMConfig{View: view, Embed: 8, Hidden: 8, Buckets: 30}
	cfg.Epochs, cfg.Samples, cfg.Workers = 1, 4, 1
	lm, _, err := TrainLM(context.Background(), tok, train, train[:20], cfg, LMHooks{})
	if err != nil {
		t.Fatal(err)
	}
	return lm, train
}

func TestLMSaveLoad(t *testing.T) {
	t.Parallel()
	lm, train := smallLM(t, ViewWords)
	var b bytes.Buffer
	if err := lm.Save(&b); err != nil {
		t.Fatal(err)
	}
	file := b.Bytes()
	got, err := LoadLM(bytes.NewReader(file), "x.lm", NewTokenizerCache(lm.Tokenizer))
	if err != nil {
		t.Fatal(err)
	}
	f0, b0, _ := lm.Perplexity(train[:20])
	f1, b1, _ := got.Perplexity(train[:20])
	if math.Abs(f0-f1) > 1e-3*f0 || math.Abs(b0-b1) > 1e-3*b0 || got.Info["epochs"] != "1" {
		t.Fatalf("loaded model: perplexity %.5f/%.5f, want %.5f/%.5f; epochs %q", f1, b1, f0, b0, got.Info["epochs"])
	}
	// A classifier file is not a language model, and a classifier loader
	// refuses a language model.
	var cb bytes.Buffer
	if err := smallClassifier(t, 1).Save(&cb); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadLM(bytes.NewReader(cb.Bytes()), "c.safetensors", nil); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "c.safetensors") || !strings.Contains(err.Error(), `kind "classifier"`) {
		t.Fatalf("LoadLM(classifier) = %v", err)
	}
	if _, err := LoadClassifier(bytes.NewReader(file), "x.lm", nil); !errors.Is(err, ErrFormat) {
		t.Fatalf("LoadClassifier(lm) = %v", err)
	}
	// Truncated and bit-flipped files are refused.
	if _, err := LoadLM(bytes.NewReader(file[:len(file)-10]), "x.lm", nil); err == nil {
		t.Fatal("truncated file loaded")
	}
	bad := bytes.Clone(file)
	bad[len(bad)-3] ^= 0x40
	if _, err := LoadLM(bytes.NewReader(bad), "x.lm", nil); err == nil || !strings.Contains(err.Error(), "x.lm") || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("corrupt payload: %v", err)
	}
}

func TestLMResume(t *testing.T) {
	t.Parallel()
	lm, train := smallLM(t, ViewWords)
	cfg := DefaultLMTrainConfig()
	cfg.Epochs, cfg.Samples, cfg.Workers, cfg.Resume = 1, 4, 1, lm
	var saved int
	got, _, err := TrainLM(context.Background(), nil, train, train[:20], cfg, LMHooks{Checkpoint: func(*LanguageModel) error { saved++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if got.Info["epochs"] != "2" || saved != 1 || got.Vocab != lm.Vocab {
		t.Fatalf("resumed: epochs %q, checkpoints %d, same vocabulary %v", got.Info["epochs"], saved, got.Vocab == lm.Vocab)
	}
	// The resumed model starts from the saved weights: they moved, and the
	// original is untouched.
	if got.net.fwd.Wh.W[0] == lm.net.fwd.Wh.W[0] {
		t.Fatal("resumed training did not change the weights")
	}
}

func TestInitFromLM(t *testing.T) {
	t.Parallel()
	lm, train := smallLM(t, ViewWords)
	var ex []LabeledText
	for i, s := range train[:60] {
		ex = append(ex, LabeledText{Text: s, Label: []string{"a", "b"}[i%2]})
	}
	cfg := DefaultTrainConfig()
	cfg.Epochs, cfg.Workers = 1, 1
	cfg.Model.Hidden = 32 // replaced by the LM's
	cfg.Init = Pretrained{LM: lm, LayerLR: 2.6, Unfreeze: true}
	clf, _, err := TrainClassifier(context.Background(), lm.Tokenizer, ex, ex[:10], cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if clf.Config.Hidden != lm.Config.Hidden || clf.Vocab != lm.Vocab {
		t.Fatalf("classifier hidden %d, want the LM's %d; same vocabulary %v", clf.Config.Hidden, lm.Config.Hidden, clf.Vocab == lm.Vocab)
	}
	// Epoch 1 trains only the output layer: the encoder is the LM's.
	for _, pair := range [][2]*nn.Param{{clf.net.emb.Table, lm.net.emb.Table}, {clf.net.fwd.Wx, lm.net.fwd.Wx}, {clf.net.bwd.Wh, lm.net.bwd.Wh}} {
		for i := range pair[1].W {
			// The saved weights are the moving average of a constant.
			if math.Abs(pair[0].W[i]-pair[1].W[i]) > 1e-12 {
				t.Fatalf("%s[%d] = %v, want the LM's %v (frozen in epoch 1)", pair[0].Name, i, pair[0].W[i], pair[1].W[i])
			}
		}
	}
	// The wrong view is refused.
	cfg.Init.LM, _ = smallLM(t, ViewChars)
	if _, _, err := TrainClassifier(context.Background(), cfg.Init.LM.Tokenizer, ex, ex[:10], cfg, TrainHooks{}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--view words") {
		t.Fatalf("chars LM for a classifier: %v", err)
	}
}

func TestInitTaggerFromLM(t *testing.T) {
	t.Parallel()
	lm, _ := smallLM(t, ViewChars)
	train := []TaggedSentence{
		{Tokens: []string{"red", "green", "Paris"}, Tags: []string{"O", "O", "B-LOC"}},
		{Tokens: []string{"blue", "Bob", "cyan"}, Tags: []string{"O", "B-PER", "O"}},
	}
	cfg := DefaultTaggerTrainConfig()
	cfg.Epochs, cfg.Workers, cfg.Batch = 2, 1, 2
	cfg.Init = Pretrained{LM: lm, Unfreeze: true}
	tg, _, err := TrainTagger(context.Background(), lm.Tokenizer, train, train, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	// Epochs 1-2 keep the embedding frozen; the LSTM's embedding rows start
	// from the LM's (and train in epoch 2), the rest keeps its own shape.
	if math.Abs(tg.net.emb.Table.W[5]-lm.net.emb.Table.W[5]) > 1e-12 || tg.Vocab != lm.Vocab {
		t.Fatal("tagger embedding is not the LM's")
	}
	if tg.net.fwd.In != tg.Config.features() || tg.Config.Hidden != lm.Config.Hidden {
		t.Fatalf("tagger LSTM reads %d inputs with %d units", tg.net.fwd.In, tg.Config.Hidden)
	}
}

func TestInitEmbeddingOnly(t *testing.T) {
	t.Parallel()
	lm, train := smallLM(t, ViewWords)
	clf := classifierFromLM(t, lm, train, 40, Pretrained{Unfreeze: true, EmbeddingOnly: true})
	// The embedding is the LM's (frozen in epoch 1); the LSTMs are not
	// the LM's and trained in epoch 1.
	if d := math.Abs(clf.net.emb.Table.W[3] - lm.net.emb.Table.W[3]); d > 1e-12 {
		t.Fatalf("embedding differs from the LM's by %g", d)
	}
	same := 0
	for i := range lm.net.fwd.Wh.W {
		if clf.net.fwd.Wh.W[i] == lm.net.fwd.Wh.W[i] {
			same++
		}
	}
	if same > 0 {
		t.Fatalf("%d forward LSTM weights equal the LM's with EmbeddingOnly", same)
	}
}

func TestReplaceEncoderEmbeddingOnly(t *testing.T) {
	t.Parallel()
	lm, train := smallLM(t, ViewWords)
	clf := classifierFromLM(t, lm, train, 40, Pretrained{EmbeddingOnly: true})
	if clf.Info["init_lm_parts"] != "embedding" {
		t.Fatalf("init_lm_parts %q", clf.Info["init_lm_parts"])
	}
	q, err := ReplaceEncoder(clf, lm)
	if err != nil {
		t.Fatal(err)
	}
	// The embedding is the LM's, the BiLSTM stays the classifier's.
	if q.net.emb.Table.W[7] != lm.net.emb.Table.W[7] || q.net.fwd.Wh.W[3] != clf.net.fwd.Wh.W[3] || q.net.fwd.Wh.W[3] == lm.net.fwd.Wh.W[3] {
		t.Fatal("ReplaceEncoder of an embedding-only classifier: want the LM's embedding and the classifier's own BiLSTM")
	}
}

// TestInitRescaleEmbedding checks --init-rescale: the embedding starts as the
// LM's table times one factor, the one that gives it the fresh
// initialisation's RMS; the factor is recorded and ReplaceEncoder applies
// it to a refreshed LM; without EmbeddingOnly it is refused.
// TestInitShrink checks shrink and perturb: every copied weight starts at
// Shrink × the LM's plus the fresh initialisation, and the factor is
// recorded; ReplaceEncoder refuses such a classifier.
func TestInitShrink(t *testing.T) {
	t.Parallel()
	lm, train := smallLM(t, ViewWords)
	rng := rand.New(rand.NewPCG(9, 9))
	cfg := lm.Config
	emb := nn.NewEmbedding("emb", lm.Vocab.Len()+cfg.Buckets, cfg.Embed, rng, 0.1)
	fwd := nn.NewLSTM("fwd", cfg.Embed, cfg.Hidden, false, rng)
	bwd := nn.NewLSTM("bwd", cfg.Embed, cfg.Hidden, true, rng)
	fresh := [][]float64{slices.Clone(emb.Table.W), slices.Clone(fwd.Wx.W), slices.Clone(bwd.Wh.W), slices.Clone(fwd.B.W)}
	info := map[string]string{}
	Pretrained{LM: lm, Shrink: 0.3}.initialise(info, emb, fwd, bwd, nil)
	for k, pair := range [][2][]float64{{emb.Table.W, lm.net.emb.Table.W}, {fwd.Wx.W, lm.net.fwd.Wx.W}, {bwd.Wh.W, lm.net.bwd.Wh.W}, {fwd.B.W, lm.net.fwd.B.W}} {
		for i, v := range pair[1] {
			if want := fresh[k][i] + 0.3*v; math.Abs(pair[0][i]-want) > 1e-12 {
				t.Fatalf("weight %d[%d] = %v, want %v + 0.3 × %v", k, i, pair[0][i], fresh[k][i], v)
			}
		}
	}
	if info["init_lm_shrink"] != "0.3" {
		t.Fatalf("init_lm_shrink %q", info["init_lm_shrink"])
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if err := (Pretrained{LM: lm, Shrink: bad}).check(ViewWords, lm.Tokenizer); !errors.Is(err, ErrConfig) {
			t.Fatalf("shrink %v accepted: %v", bad, err)
		}
	}
	clf := classifierFromLM(t, lm, train, 40, Pretrained{Shrink: 0.3})
	if _, err := ReplaceEncoder(clf, lm); !errors.Is(err, ErrEncoderMismatch) || !strings.Contains(err.Error(), "--init-shrink") {
		t.Fatalf("ReplaceEncoder of a shrink-initialised classifier: %v", err)
	}
}

func TestInitRescaleEmbedding(t *testing.T) {
	t.Parallel()
	lm, train := smallLM(t, ViewWords)
	plain := classifierFromLM(t, lm, train, 40, Pretrained{EmbeddingOnly: true, Unfreeze: true})
	clf := classifierFromLM(t, lm, train, 40, Pretrained{EmbeddingOnly: true, RescaleEmbedding: true, Unfreeze: true})
	s, err := strconv.ParseFloat(clf.Info["init_lm_scale"], 64)
	if err != nil || s <= 0 || s == 1 {
		t.Fatalf("init_lm_scale %q", clf.Info["init_lm_scale"])
	}
	if _, ok := plain.Info["init_lm_scale"]; ok {
		t.Fatal("init_lm_scale recorded without RescaleEmbedding")
	}
	// Frozen in epoch 1, so the trained table is the scaled LM table.
	for i, v := range lm.net.emb.Table.W {
		if d := math.Abs(clf.net.emb.Table.W[i] - s*v); d > 1e-12 {
			t.Fatalf("embedding[%d] = %v, want %v × %v", i, clf.net.emb.Table.W[i], s, v)
		}
	}
	// The factor brings the LM's RMS to the initialisation's (uniform
	// ±0.1: 0.1/√3).
	if got, want := s*rms(lm.net.emb.Table.W), 0.1/math.Sqrt(3); math.Abs(got-want) > 0.05*want {
		t.Fatalf("rescaled RMS %v, want about %v", got, want)
	}
	q, err := ReplaceEncoder(clf, lm)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(q.net.emb.Table.W[7] - s*lm.net.emb.Table.W[7]); d > 1e-12 {
		t.Fatalf("ReplaceEncoder: embedding row differs from the rescaled LM's by %g", d)
	}
	cfg := DefaultTrainConfig()
	cfg.Init = Pretrained{LM: lm, RescaleEmbedding: true}
	ex := []LabeledText{{Text: train[0], Label: "a"}, {Text: train[1], Label: "b"}}
	if _, _, err := TrainClassifier(context.Background(), lm.Tokenizer, ex, ex, cfg, TrainHooks{}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--init-embedding-only") {
		t.Fatalf("rescale of the whole encoder: %v", err)
	}
}

// classifierFromLM trains a classifier for one epoch (one worker) on the
// first n texts, labelled a and b in turn, with init (its LM set to lm).
func classifierFromLM(t *testing.T, lm *LanguageModel, texts []string, n int, init Pretrained) *Classifier {
	t.Helper()
	var ex []LabeledText
	for i, s := range texts[:n] {
		ex = append(ex, LabeledText{Text: s, Label: []string{"a", "b"}[i%2]})
	}
	cfg := DefaultTrainConfig()
	cfg.Epochs, cfg.Workers = 1, 1
	init.LM = lm
	cfg.Init = init
	clf, _, err := TrainClassifier(context.Background(), lm.Tokenizer, ex, ex[:10], cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	return clf
}
