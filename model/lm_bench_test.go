package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// BenchmarkLMStep measures one sampled-softmax training update of the
// language model at the Chinese character model's shapes (hidden 100, 256
// samples) on real posts: 32 texts per update from the weibo2018 dev split,
// the vocabulary their characters; with and without the pair rows (the
// backward LSTM then reads bags of its own).
func BenchmarkLMStep(b *testing.B) {
	for _, bigrams := range []bool{false, true} {
		b.Run(fmt.Sprintf("bigrams=%v", bigrams), func(b *testing.B) { benchLMStep(b, bigrams) })
	}
}

func benchLMStep(b *testing.B, bigrams bool) {
	tok := tokenizer(b)
	rng := rand.New(rand.NewPCG(1, 2))
	texts := benchChinese(b)
	counts := map[string]int{}
	var buf text.Buffer
	for _, s := range texts {
		for _, t := range tok.Chars(&buf, s) {
			counts[t.Text]++
		}
	}
	cfg := LMConfig{View: ViewChars, Embed: 64, Hidden: 100, Buckets: 10000, MaxTokens: 200, Bigrams: bigrams}
	lm, err := NewLanguageModel(cfg, BuildVocab(counts, 1, 0), tok, rng)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]lmEncoded, len(texts))
	classCount := make([]float64, lm.Vocab.Len())
	for i, s := range texts {
		data[i] = lm.encode(&buf, s)
		for _, w := range data[i].words {
			classCount[w]++
		}
	}
	tc := DefaultLMTrainConfig()
	tc.Model, tc.Samples, tc.Workers = cfg, 256, 1
	tr := &lmTrainer{lm: lm, cfg: tc.withDefaults(), master: lm.net.params()}
	tr.opt = nn.NewAdam(tr.cfg.LR, 0, tr.cfg.Clip)
	w := &lmWorker{net: lm.net.gradView(), cfg: lm.Config, sampler: newUnigramSampler(classCount, 256), rng: rand.New(rand.NewPCG(1, 3))}
	w.col = make([]int32, lm.Vocab.Len())
	for i := range w.col {
		w.col[i] = -1
	}
	tr.workers, tr.grads = []*lmWorker{w}, [][]*nn.Param{w.net.params()}
	idx := make([]int, 32)
	tokens := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range idx {
			idx[j] = (i*32 + j) % len(data)
			tokens += len(data[idx[j]].words)
		}
		tr.step(data, idx)
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}
