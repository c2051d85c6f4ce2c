package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// BenchmarkLMStep measures one sampled-softmax training update of the
// language model at the Chinese character model's shapes: 32 texts of 60
// tokens, 4,000 output classes, 256 samples, hidden 100; with and without
// the pair rows (the backward LSTM then reads bags of its own).
func BenchmarkLMStep(b *testing.B) {
	for _, bigrams := range []bool{false, true} {
		b.Run(fmt.Sprintf("bigrams=%v", bigrams), func(b *testing.B) { benchLMStep(b, bigrams) })
	}
}

func benchLMStep(b *testing.B, bigrams bool) {
	tok := tokenizer(b)
	rng := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 4000)
	for i := range words {
		words[i] = string(rune(0x4e00 + i))
	}
	counts := map[string]int{}
	for i, w := range words {
		counts[w] = 1 + 4000/(i+1)
	}
	cfg := LMConfig{View: ViewChars, Embed: 64, Hidden: 100, Buckets: 10000, MaxTokens: 200, Bigrams: bigrams}
	lm, err := NewLanguageModel(cfg, BuildVocab(counts, 1, 0), tok, rng)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]lmEncoded, 64)
	classCount := make([]float64, lm.Vocab.Len())
	for i := range data {
		var s []rune
		for j := 0; j < 60; j++ {
			s = append(s, rune(0x4e00+int(float64(len(words))*rng.Float64()*rng.Float64())))
		}
		var buf text.Buffer
		data[i] = lm.encode(&buf, string(s))
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
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range idx {
			idx[j] = (i*32 + j) % len(data)
		}
		tr.step(data, idx)
	}
	b.ReportMetric(float64(b.N*32*60)/b.Elapsed().Seconds(), "tokens/s")
}
