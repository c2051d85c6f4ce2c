package model

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tagstream/tagstream/model/metrics"
	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// LabeledText is one training or evaluation example.
type LabeledText struct {
	Text, Label string
}

// TrainConfig holds the training settings. Zero fields take the defaults of
// DefaultTrainConfig.
type TrainConfig struct {
	Model ClassifierConfig
	// Epochs is the maximum number of passes over the data (default 8).
	Epochs int
	// Batch is the number of examples per update (default 32).
	Batch int
	// LR is Adam's learning rate (default 2e-3); LRDecay multiplies it after
	// each epoch (default 0.85).
	LR, LRDecay float64
	// WeightDecay is the decoupled weight decay (default 0; negative = none).
	WeightDecay float64
	// Clip is the global gradient-norm limit (default 5).
	Clip float64
	// Dropout is the drop probability on embeddings and pooled features
	// (default 0.3; negative = none).
	Dropout float64
	// WordDropout is the probability of dropping a token's whole-word
	// embedding during training so that it is represented by its sub-words
	// alone, as an unseen word would be (default 0.1; negative = none).
	WordDropout float64
	// Seed seeds initialisation, shuffling and dropout (default 1).
	Seed uint64
	// Patience stops training after this many epochs without a better dev
	// macro-F1 (default 3).
	Patience int
	// MinCount and MaxVocab bound the word vocabulary (defaults 2, 18000).
	MinCount, MaxVocab int
	// ClassWeight is "none" or "balanced" (loss weights n/(k·n_c)); default
	// "balanced".
	ClassWeight string
	// Workers is the number of data-parallel goroutines (default GOMAXPROCS).
	Workers int
}

// DefaultTrainConfig returns the default training settings.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Model: DefaultClassifierConfig(), Epochs: 8, Batch: 32, LR: 2e-3, LRDecay: 0.85,
		Clip: 5, Dropout: 0.3, WordDropout: 0.1, Seed: 1, Patience: 3, MinCount: 2, MaxVocab: 18000,
		ClassWeight: "balanced", Workers: runtime.GOMAXPROCS(0),
	}
}

func (c TrainConfig) withDefaults() TrainConfig {
	d := DefaultTrainConfig()
	c.Model = c.Model.withDefaults()
	setI := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	setI(&c.Epochs, d.Epochs)
	setI(&c.Batch, d.Batch)
	setI(&c.Patience, d.Patience)
	setI(&c.MinCount, d.MinCount)
	setI(&c.MaxVocab, d.MaxVocab)
	setI(&c.Workers, d.Workers)
	setF(&c.LR, d.LR)
	setF(&c.LRDecay, d.LRDecay)
	setF(&c.Clip, d.Clip)
	setF(&c.Dropout, d.Dropout)
	if c.Dropout < 0 {
		c.Dropout = 0
	}
	setF(&c.WordDropout, d.WordDropout)
	if c.WordDropout < 0 {
		c.WordDropout = 0
	}
	if c.WeightDecay < 0 {
		c.WeightDecay = 0
	}
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	if c.ClassWeight == "" {
		c.ClassWeight = d.ClassWeight
	}
	return c
}

// Validate reports the first setting out of range.
func (c TrainConfig) Validate() error {
	switch {
	case c.Epochs < 1 || c.Epochs > 1000:
		return fmt.Errorf("%w: epochs = %d, want 1..1000", ErrConfig, c.Epochs)
	case c.Batch < 1 || c.Batch > 4096:
		return fmt.Errorf("%w: batch = %d, want 1..4096", ErrConfig, c.Batch)
	case c.LR <= 0 || c.LR > 1:
		return fmt.Errorf("%w: lr = %g, want (0, 1]", ErrConfig, c.LR)
	case c.LRDecay <= 0 || c.LRDecay > 1:
		return fmt.Errorf("%w: lr decay = %g, want (0, 1]", ErrConfig, c.LRDecay)
	case c.Dropout >= 1:
		return fmt.Errorf("%w: dropout = %g, want [0, 1)", ErrConfig, c.Dropout)
	case c.WordDropout >= 1:
		return fmt.Errorf("%w: word dropout = %g, want [0, 1)", ErrConfig, c.WordDropout)
	case c.ClassWeight != "none" && c.ClassWeight != "balanced":
		return fmt.Errorf("%w: class weight = %q, want none or balanced", ErrConfig, c.ClassWeight)
	case c.Workers < 1 || c.Workers > 256:
		return fmt.Errorf("%w: workers = %d, want 1..256", ErrConfig, c.Workers)
	}
	return c.Model.Validate()
}

// Progress is reported after every update.
type Progress struct {
	Epoch, Epochs int
	Done, Total   int // examples done in this epoch, and its size
	Loss          float64
	Elapsed       time.Duration
}

// EpochReport summarises one epoch.
type EpochReport struct {
	Epoch          int                    `json:"epoch"`
	TrainLoss      float64                `json:"train_loss"`
	Seconds        float64                `json:"seconds"`
	ExamplesPerSec float64                `json:"examples_per_sec"`
	Dev            metrics.Classification `json:"dev"`
	Best           bool                   `json:"best"`
}

// TrainHooks receives progress. Hooks run on the training goroutine and must
// return quickly. Nil hooks are skipped.
type TrainHooks struct {
	OnBatch func(Progress)
	OnEpoch func(EpochReport)
}

// encoded is a tokenized example: bags of embedding rows per token.
type encoded struct {
	ids   []int32
	offs  []int32 // len = tokens+1, offs[0] = 0
	label int
}

func (e *encoded) len() int { return len(e.offs) - 1 }

// TrainClassifier trains a classifier on train, evaluates it on dev after
// every epoch and returns the weights of the epoch with the best dev
// macro-F1, with every epoch's report. Labels are the sorted distinct labels
// of train; dev examples with other labels are an error. It stops early after
// cfg.Patience epochs without improvement, or when ctx is done (returning the
// best model so far and ctx's error).
func TrainClassifier(ctx context.Context, tok *text.Tokenizer, train, dev []LabeledText, cfg TrainConfig, hooks TrainHooks) (*Classifier, []EpochReport, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if len(train) == 0 || len(dev) == 0 {
		return nil, nil, fmt.Errorf("%w: %d training and %d dev examples, want both > 0", ErrData, len(train), len(dev))
	}
	labelIdx := map[string]int{}
	for _, ex := range train {
		labelIdx[ex.Label] = 0
	}
	labels := make([]string, 0, len(labelIdx))
	for l := range labelIdx {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for i, l := range labels {
		labelIdx[l] = i
	}
	for i, ex := range dev {
		if _, ok := labelIdx[ex.Label]; !ok {
			return nil, nil, fmt.Errorf("%w: dev example %d has label %q not seen in training (labels %v)", ErrData, i+1, ex.Label, labels)
		}
	}

	// Vocabulary from the training tokens.
	var buf text.Buffer
	// Token text lives in buf only until the next call, so map keys must own
	// their bytes. Counting through pointers means a key is stored once, by
	// the cloning insert: assigning m[k] for an existing string key would
	// replace the stored key with k.
	seen := map[string]*int{}
	for _, ex := range train {
		for _, tk := range tok.Tokenize(&buf, ex.Text) {
			if n, ok := seen[tk.Text]; ok {
				*n++
			} else {
				one := 1
				seen[strings.Clone(tk.Text)] = &one
			}
		}
	}
	counts := make(map[string]int, len(seen))
	for w, n := range seen {
		counts[w] = *n
	}
	vocab := BuildVocab(counts, cfg.MinCount, cfg.MaxVocab)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7a6))
	clf, err := NewClassifier(cfg.Model, labels, vocab, tok, rng)
	if err != nil {
		return nil, nil, err
	}

	data := make([]encoded, len(train))
	classCount := make([]int, len(labels))
	for i, ex := range train {
		toks := tok.Tokenize(&buf, ex.Text)
		e := &data[i]
		e.offs = []int32{0}
		e.ids, e.offs, _ = appendBags(vocab, cfg.Model.Buckets, toks, cfg.Model.MaxTokens, nil, e.offs)
		e.label = labelIdx[ex.Label]
		classCount[e.label]++
	}
	var classWeight []float64
	if cfg.ClassWeight == "balanced" {
		classWeight = make([]float64, len(labels))
		for c, n := range classCount {
			if n > 0 {
				classWeight[c] = float64(len(train)) / float64(len(labels)*n)
			}
		}
	}
	devTexts := make([]string, len(dev))
	devGold := make([]int, len(dev))
	for i, ex := range dev {
		devTexts[i], devGold[i] = ex.Text, labelIdx[ex.Label]
	}

	tr := newClsTrainer(clf, cfg, classWeight)
	var reports []EpochReport
	bestF1, bestEpoch := -1.0, 0
	var best *Classifier
	order := make([]int, len(data))
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		start := time.Now()
		batches := makeBatches(data, order, cfg.Batch, rng)
		var lossSum float64
		done := 0
		for _, b := range batches {
			if err := ctx.Err(); err != nil {
				return best, reports, err
			}
			l := tr.step(data, b)
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return nil, reports, fmt.Errorf("%w: loss %v at epoch %d; lower the learning rate", ErrDiverged, l, epoch)
			}
			lossSum += l * float64(len(b))
			done += len(b)
			if hooks.OnBatch != nil {
				hooks.OnBatch(Progress{Epoch: epoch, Epochs: cfg.Epochs, Done: done, Total: len(data), Loss: lossSum / float64(done), Elapsed: time.Since(start)})
			}
		}
		secs := time.Since(start).Seconds()
		devM, err := clf.Compile().Evaluate(devTexts, devGold)
		if err != nil {
			return nil, nil, err
		}
		rep := EpochReport{Epoch: epoch, TrainLoss: lossSum / float64(done), Seconds: secs, ExamplesPerSec: float64(done) / secs, Dev: devM}
		if devM.MacroF1 > bestF1 {
			bestF1, bestEpoch, rep.Best = devM.MacroF1, epoch, true
			best = clf.clone()
		}
		reports = append(reports, rep)
		if hooks.OnEpoch != nil {
			hooks.OnEpoch(rep)
		}
		if epoch-bestEpoch >= cfg.Patience {
			break
		}
		tr.opt.LR *= cfg.LRDecay
	}
	return best, reports, nil
}

// Evaluate classifies texts in batches of 64 and scores them against gold.
func (m *CompiledClassifier) Evaluate(texts []string, gold []int) (metrics.Classification, error) {
	ws := m.NewWorkspace()
	pred := make([]int, len(texts))
	probs := make([]float32, 64*len(m.labels))
	for i := 0; i < len(texts); i += 64 {
		j := min(i+64, len(texts))
		m.ClassifyBatch(ws, texts[i:j], probs, pred[i:j])
	}
	return metrics.Classify(m.labels, gold, pred)
}

// clone returns a deep copy of the weights (the rest is shared, immutable).
func (c *Classifier) clone() *Classifier {
	q := *c
	q.Info = maps.Clone(c.Info)
	cp := func(p *nn.Param) *nn.Param {
		r := *p
		r.W = slices.Clone(p.W)
		r.G = make([]float64, len(p.W))
		return &r
	}
	n := c.net
	q.net = clsNet{
		emb: &nn.Embedding{Table: cp(n.emb.Table)},
		fwd: &nn.LSTM{In: n.fwd.In, Hidden: n.fwd.Hidden, Reverse: false, Wx: cp(n.fwd.Wx), Wh: cp(n.fwd.Wh), B: cp(n.fwd.B)},
		bwd: &nn.LSTM{In: n.bwd.In, Hidden: n.bwd.Hidden, Reverse: true, Wx: cp(n.bwd.Wx), Wh: cp(n.bwd.Wh), B: cp(n.bwd.B)},
		out: &nn.Dense{In: n.out.In, Out: n.out.Out, W: cp(n.out.W), B: cp(n.out.B)},
	}
	return &q
}

// makeBatches shuffles the examples, sorts windows of 50 batches by length
// (so a batch holds similar lengths and little padding) and shuffles the
// batch order.
func makeBatches(data []encoded, order []int, size int, rng *rand.Rand) [][]int {
	for i := range order {
		order[i] = i
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	win := 50 * size
	for lo := 0; lo < len(order); lo += win {
		w := order[lo:min(lo+win, len(order))]
		slices.SortStableFunc(w, func(a, b int) int { return data[b].len() - data[a].len() })
	}
	var batches [][]int
	for lo := 0; lo < len(order); lo += size {
		batches = append(batches, order[lo:min(lo+size, len(order))])
	}
	rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	return batches
}

// clsTrainer runs data-parallel updates: each worker computes gradients for
// a shard of the batch into its own gradient view; they are summed into the
// master parameters, which Adam then updates.
type clsTrainer struct {
	clf     *Classifier
	cfg     TrainConfig
	cw      []float64
	opt     *nn.Adam
	master  []*nn.Param
	workers []*clsWorker
}

type clsWorker struct {
	net    clsNet
	params []*nn.Param
	vocab  int32 // rows below this are whole words
	rng    *rand.Rand
	loss   float64
	n      int

	ids, offs, lens         []int32
	y                       []int
	x, xmask, seq, dseq, dx []float64
	pooled, pmask, dpooled  []float64
	logits, dlogits         []float64
	argmax                  []int32
	fc, bc                  nn.LSTMCache
}

func newClsTrainer(clf *Classifier, cfg TrainConfig, cw []float64) *clsTrainer {
	t := &clsTrainer{clf: clf, cfg: cfg, cw: cw, opt: nn.NewAdam(cfg.LR, cfg.WeightDecay, cfg.Clip), master: clf.net.params()}
	for i := 0; i < cfg.Workers; i++ {
		w := &clsWorker{net: clf.net.gradView(), rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+100)), vocab: int32(clf.Vocab.Len())}
		w.params = w.net.params()
		t.workers = append(t.workers, w)
	}
	return t
}

// step trains on the examples idx (sorted longest first) and returns the
// mean loss.
func (t *clsTrainer) step(data []encoded, idx []int) float64 {
	nw := min(len(t.workers), max(1, len(idx)/4))
	var wg sync.WaitGroup
	per := (len(idx) + nw - 1) / nw
	for w := 0; w < nw; w++ {
		lo, hi := w*per, min((w+1)*per, len(idx))
		wk := t.workers[w]
		wk.n = 0
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk.forwardBackward(data, idx[lo:hi], t.cfg.Dropout, t.cfg.WordDropout, t.cw)
		}()
	}
	wg.Wait()
	for _, p := range t.master {
		p.ZeroGrad()
	}
	var loss float64
	total := 0
	for _, wk := range t.workers[:nw] {
		if wk.n == 0 {
			continue
		}
		// Each worker's loss is a mean over its shard: weight by shard size.
		scale := float64(wk.n) / float64(len(idx))
		for i, p := range wk.params {
			scaleGrad(p, scale)
			t.master[i].AddGrad(p)
			p.ZeroGrad()
		}
		loss += wk.loss * float64(wk.n)
		total += wk.n
	}
	t.opt.Step(t.master)
	return loss / float64(total)
}

func scaleGrad(p *nn.Param, s float64) {
	if s == 1 {
		return
	}
	if !p.Sparse {
		for i := range p.G {
			p.G[i] *= s
		}
		return
	}
	for _, r := range p.TouchedRows() {
		g := p.G[int(r)*p.Cols : int(r+1)*p.Cols]
		for i := range g {
			g[i] *= s
		}
	}
}

func (w *clsWorker) forwardBackward(data []encoded, idx []int, dropout, wordDropout float64, cw []float64) {
	net := &w.net
	B := len(idx)
	// Sort the shard longest first: recurrent products then skip finished rows.
	sorted := slices.Clone(idx)
	slices.SortStableFunc(sorted, func(a, b int) int { return data[b].len() - data[a].len() })
	steps := data[sorted[0]].len()
	w.lens, w.y = w.lens[:0], w.y[:0]
	for _, i := range sorted {
		w.lens = append(w.lens, int32(data[i].len()))
		w.y = append(w.y, data[i].label)
	}
	// Time-major bags.
	w.ids, w.offs = w.ids[:0], append(w.offs[:0], 0)
	for t := 0; t < steps; t++ {
		for _, i := range sorted {
			e := &data[i]
			if t < e.len() {
				bag := e.ids[e.offs[t]:e.offs[t+1]]
				// A bag is [word id] + sub-word rows (ids >= vocabulary size).
				if wordDropout > 0 && len(bag) > 1 && bag[0] < w.vocab && bag[1] >= w.vocab && w.rng.Float64() < wordDropout {
					bag = bag[1:]
				}
				w.ids = append(w.ids, bag...)
			}
			w.offs = append(w.offs, int32(len(w.ids)))
		}
	}
	n := steps * B
	D, H, C := net.emb.Table.Cols, net.fwd.Hidden, net.out.Out
	w.x = nn.Grow(w.x, n*D)
	net.emb.Forward(w.ids, w.offs, w.x)
	w.xmask = nn.Grow(w.xmask, n*D)
	nn.Dropout(w.x, w.xmask, dropout, w.rng)
	w.seq = nn.Grow(w.seq, n*2*H)
	net.fwd.Forward(w.x, steps, B, w.lens, w.seq, 2*H, 0, &w.fc)
	net.bwd.Forward(w.x, steps, B, w.lens, w.seq, 2*H, H, &w.bc)
	w.pooled = nn.Grow(w.pooled, B*4*H)
	w.argmax = nn.Grow(w.argmax, B*2*H)
	nn.MaxMeanPool(w.seq, steps, B, 2*H, w.lens, w.pooled, w.argmax)
	w.pmask = nn.Grow(w.pmask, B*4*H)
	nn.Dropout(w.pooled, w.pmask, dropout, w.rng)
	w.logits = nn.Grow(w.logits, B*C)
	w.dlogits = nn.Grow(w.dlogits, B*C)
	net.out.Forward(w.pooled, B, w.logits)
	w.loss = nn.SoftmaxCrossEntropy(w.logits, B, C, w.y, cw, nil, w.dlogits)
	w.n = B

	w.dpooled = nn.Grow(w.dpooled, B*4*H)
	net.out.Backward(w.pooled, B, w.dlogits, w.dpooled)
	nn.DropoutBackward(w.dpooled, w.pmask)
	w.dseq = nn.GrowZero(w.dseq, n*2*H)
	nn.MaxMeanPoolBackward(w.dpooled, steps, B, 2*H, w.lens, w.argmax, w.dseq)
	w.dx = nn.GrowZero(w.dx, n*D)
	net.fwd.Backward(w.x, w.lens, w.dseq, 2*H, 0, w.dx, &w.fc)
	net.bwd.Backward(w.x, w.lens, w.dseq, 2*H, H, w.dx, &w.bc)
	nn.DropoutBackward(w.dx, w.xmask)
	net.emb.Backward(w.ids, w.offs, w.dx)
}
