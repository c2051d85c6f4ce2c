package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// LMTrainConfig holds the language model's training settings. Zero fields
// take the defaults of DefaultLMTrainConfig.
type LMTrainConfig struct {
	Model LMConfig
	Settings
	// Samples is the number of output classes drawn (with replacement,
	// duplicates merged) per update for the sampled softmax, from the
	// unigram distribution to the power 0.75 (default 256); every
	// prediction is scored against its own target and these.
	Samples int
	// EvalMax bounds the dev texts scored after each epoch (default 2000);
	// the rest of dev is not read during training.
	EvalMax int
	// Resume continues training this model: its vocabulary, configuration
	// and weights; Model, MinCount and MaxVocab are ignored, and the
	// learning rate starts decayed by the epochs it has done (Info
	// "epochs"). Adam's moments start from zero.
	Resume *LanguageModel
}

// DefaultLMTrainConfig returns the default language-model training settings.
func DefaultLMTrainConfig() LMTrainConfig {
	return LMTrainConfig{
		Model: DefaultLMConfig(),
		Settings: Settings{
			Epochs: 5, Batch: 32, LR: 2e-3, LRDecay: 0.85, Clip: 5, Dropout: 0.2, WordDropout: -1,
			EMA: 0.999, Seed: 1, Patience: 2, MinCount: 2, MaxVocab: 18000, Workers: runtime.GOMAXPROCS(0),
		},
		Samples: 256,
		EvalMax: 2000,
	}
}

func (c LMTrainConfig) withDefaults() LMTrainConfig {
	d := DefaultLMTrainConfig()
	c.Model = c.Model.withDefaults()
	c.Settings = c.Settings.withDefaults(d.Settings)
	if c.Samples == 0 {
		c.Samples = d.Samples
	}
	if c.EvalMax == 0 {
		c.EvalMax = d.EvalMax
	}
	return c
}

// Validate reports the first setting out of range.
func (c LMTrainConfig) Validate() error {
	if err := c.Settings.Validate(); err != nil {
		return err
	}
	if c.Samples < 1 || c.Samples > 1<<20 {
		return fmt.Errorf("%w: samples = %d, want 1..%d", ErrConfig, c.Samples, 1<<20)
	}
	if c.EvalMax < 1 {
		return fmt.Errorf("%w: eval max = %d, want >= 1", ErrConfig, c.EvalMax)
	}
	return c.Model.Validate()
}

// LMHooks receives progress. Checkpoint, when set, is called after every
// epoch with the best model so far (its Info holds the epochs done), for the
// caller to save it; an error stops training.
type LMHooks struct {
	TrainHooks
	Checkpoint func(best *LanguageModel) error
}

// TrainLM trains a forward and a backward language model on the texts of
// train, scoring perplexity on (at most EvalMax texts of) dev after every
// epoch; it returns the epoch with the lowest dev perplexity (the geometric
// mean of the two directions'; the report's Score is its inverse). Texts with fewer than two tokens
// are skipped. The vocabulary is the training words kept by MinCount and
// MaxVocab. It stops early after Patience epochs without improvement, or
// when ctx is done (returning the best model so far and ctx's error).
func TrainLM(ctx context.Context, tok *text.Tokenizer, train, dev []string, cfg LMTrainConfig, hooks LMHooks) (*LanguageModel, []EpochReport, error) {
	cfg = cfg.withDefaults()
	if cfg.Resume != nil {
		cfg.Model = cfg.Resume.Config
		tok = cfg.Resume.Tokenizer
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if len(train) == 0 || len(dev) == 0 {
		return nil, nil, fmt.Errorf("%w: %d training and %d dev texts, want both > 0", ErrData, len(train), len(dev))
	}
	var buf text.Buffer
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x1a))
	lm, done := cfg.Resume, 0
	if lm != nil {
		lm = lm.clone()
		done, _ = strconv.Atoi(lm.Info["epochs"])
		cfg.LR *= math.Pow(cfg.LRDecay, float64(done))
	} else {
		tokens := func(buf *text.Buffer, s string) []text.Token { return viewTokens(tok, cfg.Model.View, buf, s) }
		var err error
		if lm, err = NewLanguageModel(cfg.Model, BuildVocab(countTokens(&buf, train, tokens), cfg.MinCount, cfg.MaxVocab), tok, rng); err != nil {
			return nil, nil, err
		}
	}
	data := make([]lmEncoded, 0, len(train))
	classCount := make([]float64, lm.Vocab.Len())
	tokens := 0
	for _, s := range train {
		if e := lm.encode(&buf, s); e.len() >= 2 {
			data = append(data, e)
			for _, w := range e.words {
				classCount[w]++
			}
			tokens += e.len()
		}
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%w: no training text has two or more tokens", ErrData)
	}
	devTexts := dev[:min(len(dev), cfg.EvalMax)]
	sampler := newUnigramSampler(classCount, cfg.Samples)

	tr := &lmTrainer{lm: lm, cfg: cfg, opt: nn.NewAdam(cfg.LR, cfg.WeightDecay, cfg.Clip), master: lm.net.params()}
	for i := 0; i < cfg.Workers; i++ {
		w := &lmWorker{net: lm.net.gradView(), cfg: lm.Config, sampler: sampler, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+200))}
		w.col = make([]int32, lm.Vocab.Len())
		for j := range w.col {
			w.col[j] = -1
		}
		tr.workers = append(tr.workers, w)
		tr.grads = append(tr.grads, w.net.params())
	}
	var best *LanguageModel
	var ckErr error
	user := hooks.OnEpoch
	hooks.OnEpoch = func(rep EpochReport) {
		if user != nil {
			user(rep)
		}
		if hooks.Checkpoint != nil && ckErr == nil && best != nil {
			ckErr = hooks.Checkpoint(best)
		}
	}
	epochs := 0
	lmCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	reports, err := trainEpochs(lmCtx, cfg.Settings, len(data), func(i int) int { return data[i].len() }, tr.master, tr.opt, rng,
		func(idx []int) float64 {
			if ckErr != nil {
				cancel()
			}
			return tr.step(data, idx)
		},
		func() (EpochReport, error) {
			epochs++
			f, b, n := lm.Perplexity(devTexts)
			if n == 0 {
				return EpochReport{}, fmt.Errorf("%w: no dev text has two or more tokens", ErrData)
			}
			ppl := math.Exp((math.Log(f) + math.Log(b)) / 2)
			return EpochReport{Perplexity: &LMPerplexity{Forward: f, Backward: b, Predictions: n}, Score: 1 / ppl}, nil
		},
		func() {
			best = lm.clone()
			best.Info["epochs"] = strconv.Itoa(done + epochs)
			best.Info["train_texts"] = strconv.Itoa(len(data))
			best.Info["train_tokens"] = strconv.Itoa(tokens)
		}, hooks.TrainHooks)
	if ckErr != nil {
		return best, reports, fmt.Errorf("checkpoint: %w", ckErr)
	}
	return best, reports, err
}

// LMPerplexity is a language model's perplexity in each direction and the
// number of predictions it averages.
type LMPerplexity struct {
	Forward     float64 `json:"forward"`
	Backward    float64 `json:"backward"`
	Predictions int     `json:"predictions"`
}

// unigramSampler draws output classes with probability ∝ count^0.75 and
// knows each class's log-probability of being among k draws.
type unigramSampler struct {
	cum  []float64 // cumulative probabilities
	logQ []float64 // log P(class in a set of k draws)
	k    int
}

func newUnigramSampler(count []float64, k int) *unigramSampler {
	s := &unigramSampler{cum: make([]float64, len(count)), logQ: make([]float64, len(count)), k: k}
	var z float64
	for _, c := range count {
		z += math.Pow(c, 0.75)
	}
	var acc float64
	for i, c := range count {
		p := math.Pow(c, 0.75) / z
		acc += p
		s.cum[i] = acc
		// 1-(1-p)^k, floored so a class never drawn still gets a finite value.
		s.logQ[i] = math.Log(max(-math.Expm1(float64(k)*math.Log1p(-p)), 1e-12))
	}
	s.cum[len(s.cum)-1] = math.Inf(1)
	return s
}

func (s *unigramSampler) draw(rng *rand.Rand) int32 {
	return int32(sort.SearchFloat64s(s.cum, rng.Float64()))
}

type lmTrainer struct {
	lm      *LanguageModel
	cfg     LMTrainConfig
	opt     *nn.Adam
	master  []*nn.Param
	workers []*lmWorker
	grads   [][]*nn.Param
}

func (t *lmTrainer) step(data []lmEncoded, idx []int) float64 {
	return parallelStep(t.master, t.grads, t.opt, idx, func(w int, shard []int) float64 {
		wk := t.workers[w]
		wk.forwardBackward(data, shard, t.cfg.Dropout)
		return wk.loss
	})
}

type lmWorker struct {
	net     lmNet
	cfg     LMConfig
	sampler *unigramSampler
	rng     *rand.Rand
	loss    float64

	ids, offs, lens         []int32
	idsB, offsB             []int32 // the backward LSTM's bags (bigrams)
	x, xmask, seq, dseq, dx []float64
	xb, xbmask, dxb         []float64
	cand, col               []int32 // sampled classes; class -> column (-1: none)
	rowsF, rowsB            []int
	tgtF, tgtB              []int
	hid, hmask, dhid        []float64
	y                       []int
	wc, dwc, logits, dlogit []float64
	fc, bc                  nn.LSTMCache
}

// forwardBackward computes the mean of the two directions' sampled-softmax
// losses over the shard idx and leaves the gradients in w.net.
func (w *lmWorker) forwardBackward(data []lmEncoded, idx []int, dropout float64) {
	net := &w.net
	B := len(idx)
	sorted := sortedByLength(idx, func(i int) int { return data[i].len() })
	steps := data[sorted[0]].len()
	w.lens = w.lens[:0]
	for _, i := range sorted {
		w.lens = append(w.lens, int32(data[i].len()))
	}
	w.cand = w.cand[:0]
	w.rowsF, w.rowsB, w.tgtF, w.tgtB = w.rowsF[:0], w.rowsB[:0], w.tgtF[:0], w.tgtB[:0]
	for t := 0; t < steps; t++ {
		for b, i := range sorted {
			e := &data[i]
			if t < e.len() {
				r := t*B + b
				if t+1 < e.len() {
					w.rowsF, w.tgtF = append(w.rowsF, r), append(w.tgtF, int(e.words[t+1]))
				}
				if t > 0 {
					w.rowsB, w.tgtB = append(w.rowsB, r), append(w.tgtB, int(e.words[t-1]))
				}
			}
		}
	}
	for k := 0; k < w.sampler.k; k++ {
		w.candidate(w.sampler.draw(w.rng))
	}
	n := steps * B
	D, H := w.cfg.Embed, w.cfg.Hidden
	w.ids, w.offs = layoutBags(data, sorted, steps, 0, w.ids, w.offs)
	w.x = nn.Grow(w.x, n*D)
	net.emb.Forward(w.ids, w.offs, w.x)
	w.xmask = nn.Grow(w.xmask, n*D)
	nn.Dropout(w.x, w.xmask, dropout, w.rng)
	// With bigrams the backward LSTM reads other bags (the pair after each
	// token): its own input, dropout mask and input gradient.
	xb := w.x
	if w.cfg.Bigrams {
		w.idsB, w.offsB = layoutBags(data, sorted, steps, 1, w.idsB, w.offsB)
		w.xb = nn.Grow(w.xb, n*D)
		net.emb.Forward(w.idsB, w.offsB, w.xb)
		w.xbmask = nn.Grow(w.xbmask, n*D)
		nn.Dropout(w.xb, w.xbmask, dropout, w.rng)
		xb = w.xb
	}
	w.seq = nn.Grow(w.seq, n*2*H)
	net.fwd.Forward(w.x, steps, B, w.lens, w.seq, 2*H, 0, &w.fc)
	net.bwd.Forward(xb, steps, B, w.lens, w.seq, 2*H, H, &w.bc)

	w.dseq = nn.GrowZero(w.dseq, n*2*H)
	w.loss = 0.5*w.sampled(w.rowsF, w.tgtF, 0, net.outF, net.binF, dropout) +
		0.5*w.sampled(w.rowsB, w.tgtB, H, net.outB, net.binB, dropout)
	for _, c := range w.cand {
		w.col[c] = -1
	}

	w.dx = nn.GrowZero(w.dx, n*D)
	dxb := w.dx
	if w.cfg.Bigrams {
		w.dxb = nn.GrowZero(w.dxb, n*D)
		dxb = w.dxb
	}
	net.fwd.Backward(w.x, w.lens, w.dseq, 2*H, 0, w.dx, &w.fc)
	net.bwd.Backward(xb, w.lens, w.dseq, 2*H, H, dxb, &w.bc)
	nn.DropoutBackward(w.dx, w.xmask)
	net.emb.Backward(w.ids, w.offs, w.dx)
	if w.cfg.Bigrams {
		nn.DropoutBackward(w.dxb, w.xbmask)
		net.emb.Backward(w.idsB, w.offsB, w.dxb)
	}
}

// candidate adds class c to the sampled set (once) and returns its column.
func (w *lmWorker) candidate(c int32) int {
	if w.col[c] < 0 {
		w.col[c] = int32(len(w.cand))
		w.cand = append(w.cand, c)
	}
	return int(w.col[c])
}

// sampled is the sampled softmax of one direction (Jean et al. 2015): the
// hidden state h_r of each row (columns [off, off+H) of seq, after dropout)
// scores its own target y_r and the K classes drawn for the whole update,
// each corrected by the log-probability of being drawn:
//
//	z_r = [h_r·U_{y_r} + c_{y_r} - log Q(y_r), (h_r·U_s + c_s - log Q(s))_{s∈S}]
//	L   = mean_r -log softmax(z_r)[0]
//
// A drawn class equal to the row's target is masked out (an accidental
// hit). It returns L, adds 0.5·∂L/∂h into dseq and 0.5·∂L/∂(U, c) into the
// gradients of the targets' and drawn classes' rows.
func (w *lmWorker) sampled(rows, tgt []int, off int, out, bias *nn.Param, dropout float64) float64 {
	M, K, H := len(rows), len(w.cand), w.cfg.Hidden
	if M == 0 {
		return 0
	}
	C := K + 1 // logits per row: the target, then the drawn classes
	logQ := w.sampler.logQ
	w.hid = nn.Grow(w.hid, M*H)
	for k, r := range rows {
		copy(w.hid[k*H:(k+1)*H], w.seq[r*2*H+off:r*2*H+off+H])
	}
	w.hmask = nn.Grow(w.hmask, M*H)
	nn.Dropout(w.hid, w.hmask, dropout, w.rng)
	w.wc = nn.Grow(w.wc, K*H)
	for i, c := range w.cand {
		copy(w.wc[i*H:(i+1)*H], out.W[int(c)*H:int(c+1)*H])
	}
	w.logits = nn.Grow(w.logits, M*C)
	for k := 0; k < M; k++ {
		z := w.logits[k*C : (k+1)*C]
		for i, c := range w.cand {
			z[1+i] = bias.W[c] - logQ[c]
		}
	}
	nn.Gemm(false, true, M, K, H, 1, w.hid, H, w.wc, H, 1, w.logits[1:], C)
	w.y = nn.Grow(w.y, M)
	for k := 0; k < M; k++ {
		y, h := tgt[k], w.hid[k*H:(k+1)*H]
		z := w.logits[k*C : (k+1)*C]
		u := out.W[y*H : (y+1)*H]
		var dot float64
		for j, v := range h {
			dot += v * u[j]
		}
		z[0] = dot + bias.W[y] - logQ[y]
		if i := w.col[y]; i >= 0 {
			z[1+i] = math.Inf(-1)
		}
		w.y[k] = 0
	}
	w.dlogit = nn.Grow(w.dlogit, M*C)
	loss := nn.SoftmaxCrossEntropy(w.logits, M, C, w.y, nil, nil, w.dlogit)
	for i := range w.dlogit[:M*C] {
		w.dlogit[i] *= 0.5
	}
	w.dhid = nn.Grow(w.dhid, M*H)
	nn.Gemm(false, false, M, H, K, 1, w.dlogit[1:], C, w.wc, H, 0, w.dhid, H)
	w.dwc = nn.Grow(w.dwc, K*H)
	nn.Gemm(true, false, K, H, M, 1, w.dlogit[1:], C, w.hid, H, 0, w.dwc, H)
	for i, c := range w.cand {
		out.Touch(c)
		g := out.G[int(c)*H : int(c+1)*H]
		for j, v := range w.dwc[i*H : (i+1)*H] {
			g[j] += v
		}
		var db float64
		for k := 0; k < M; k++ {
			db += w.dlogit[k*C+1+i]
		}
		bias.Touch(c)
		bias.G[c] += db
	}
	for k := 0; k < M; k++ {
		y, d := tgt[k], w.dlogit[k*C]
		h, dh := w.hid[k*H:(k+1)*H], w.dhid[k*H:(k+1)*H]
		u := out.W[y*H : (y+1)*H]
		out.Touch(int32(y))
		g := out.G[y*H : (y+1)*H]
		for j := range h {
			g[j] += d * h[j]
			dh[j] += d * u[j]
		}
		bias.Touch(int32(y))
		bias.G[y] += d
	}
	nn.DropoutBackward(w.dhid, w.hmask)
	for k, r := range rows {
		d := w.dseq[r*2*H+off : r*2*H+off+H]
		for j, v := range w.dhid[k*H : (k+1)*H] {
			d[j] += v
		}
	}
	return loss
}
