package model

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/tagstream/tagstream/model/metrics"
	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// LabeledText is one training or evaluation example: Label for a
// single-label classifier, Labels (any number, none included) for a
// multi-label one.
//
// A single-label example may instead be partially labelled: Allowed lists
// the labels its true label is one of (a data set read through a LabelMap
// whose source label maps to several). Training maximises the probability
// of that set (nn.SoftmaxSetCrossEntropy); dev examples with Allowed are
// not scored. Set names the data set an example comes from: dev is scored
// per set (see TrainClassifier).
type LabeledText struct {
	Text, Label string
	Labels      []string
	Allowed     []string
	Set         string
}

// TrainConfig holds the classifier's training settings. Zero fields take
// the defaults of DefaultTrainConfig.
type TrainConfig struct {
	Model ClassifierConfig
	Settings
	// ClassWeight is "none" or "balanced" (loss weights n/(k·n_c)); default
	// "balanced".
	ClassWeight string
	// Init, with an LM of the words view, starts the embedding and the
	// BiLSTM from a pretrained language model.
	Init Pretrained
	// MultiLabel trains a multi-label classifier from the examples' Labels:
	// one sigmoid per label, binary cross-entropy ("balanced" weighs each
	// label's positives by min(sqrt(negatives/positives), 10)). A seeded
	// ThresholdHoldout share of train is set aside and never trained on:
	// after each epoch the per-label thresholds are tuned on it, dev is
	// scored at those thresholds (so dev figures never choose them), the
	// epoch with the best dev macro-F1 is kept, thresholds included.
	MultiLabel bool
	// ThresholdHoldout is that share (default 0.1, range 0.01..0.5).
	ThresholdHoldout float64
	// SharedEncoder, when set, gives the classifier this classifier's
	// vocabulary, embedding and BiLSTM (and their settings), frozen for
	// the whole training: only the output layer learns, so the result
	// reads exactly the encoder states SharedEncoder computes (a task head
	// on a shared encoder). Its tokenizer settings must be the training
	// tokenizer's; it excludes Init. Recorded in Info ("shared_encoder":
	// its checksum).
	SharedEncoder *Classifier `json:"-"`
}

// DefaultTrainConfig returns the default classifier training settings.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Model: DefaultClassifierConfig(),
		Settings: Settings{
			Epochs: 8, Batch: 32, LR: 2e-3, LRDecay: 0.85, Clip: 5, Dropout: 0.3, WordDropout: 0.1,
			EMA: 0.999, Seed: 1, Patience: 3, MinCount: 2, MaxVocab: 18000, Workers: runtime.GOMAXPROCS(0),
		},
		ClassWeight: "balanced",
	}
}

func (c TrainConfig) withDefaults() TrainConfig {
	d := DefaultTrainConfig()
	c.Model = c.Model.withDefaults()
	c.Settings = c.Settings.withDefaults(d.Settings)
	if c.ClassWeight == "" {
		c.ClassWeight = d.ClassWeight
	}
	if c.MultiLabel && c.ThresholdHoldout == 0 {
		c.ThresholdHoldout = 0.1
	}
	return c
}

// Validate reports the first setting out of range.
func (c TrainConfig) Validate() error {
	if err := c.Settings.Validate(); err != nil {
		return err
	}
	if c.ClassWeight != "none" && c.ClassWeight != "balanced" {
		return fmt.Errorf("%w: class weight = %q, want none or balanced", ErrConfig, c.ClassWeight)
	}
	if c.MultiLabel && (c.ThresholdHoldout < 0.01 || c.ThresholdHoldout > 0.5) {
		return fmt.Errorf("%w: threshold holdout = %v, want 0.01..0.5", ErrConfig, c.ThresholdHoldout)
	}
	return c.Model.Validate()
}

// encoded is a tokenized example: bags of embedding rows per token.
type encoded struct {
	ids    []int32
	offs   []int32 // len = tokens+1, offs[0] = 0
	label  int
	labels []int // a multi-label example's labels, a partial one's allowed labels
	// partial marks a single-label example whose labels are the set its
	// true label is in.
	partial bool
}

func (e *encoded) len() int { return len(e.offs) - 1 }

// TrainClassifier trains a classifier on train, evaluates it on dev after
// every epoch and returns the weights of the epoch with the best dev
// macro-F1, with every epoch's report. Labels are the sorted distinct labels
// of train (Label and Allowed); dev examples with other labels are an
// error. A single-label model's dev is scored per data set (LabeledText.Set,
// in first-seen order) over the labels that set's examples have (argmax
// restricted to them: a binary set scored with a three-class model), and
// the selection score is the mean of the sets' macro-F1; one set with every
// label is plain macro-F1. It stops early after
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
	labelsOf := func(ex LabeledText) []string {
		switch {
		case cfg.MultiLabel:
			return ex.Labels
		case len(ex.Allowed) > 0:
			return ex.Allowed
		}
		return []string{ex.Label}
	}
	for i, ex := range append(train[:len(train):len(train)], dev...) {
		switch {
		case cfg.MultiLabel && ex.Label != "":
			return nil, nil, fmt.Errorf("%w: example %d has a single label %q; a multi-label classifier reads Labels", ErrData, i+1, ex.Label)
		case !cfg.MultiLabel && len(ex.Labels) > 0:
			return nil, nil, fmt.Errorf("%w: example %d has several labels %v; train a multi-label classifier (MultiLabel)", ErrData, i+1, ex.Labels)
		case len(ex.Allowed) > 0 && (cfg.MultiLabel || ex.Label != ""):
			return nil, nil, fmt.Errorf("%w: example %d has a label set %v beside a label; a partial label is for a single-label model and replaces Label", ErrData, i+1, ex.Allowed)
		}
	}
	labelIdx := map[string]int{}
	for _, ex := range train {
		for _, l := range labelsOf(ex) {
			labelIdx[l] = 0
		}
	}
	labels := make([]string, 0, len(labelIdx))
	for l := range labelIdx {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for i, l := range labels {
		labelIdx[l] = i
	}
	var calib []LabeledText // a multi-label model's threshold data, not trained on
	if cfg.MultiLabel {
		perm := rand.New(rand.NewPCG(cfg.Seed, 0x7a8)).Perm(len(train))
		nc := max(1, int(float64(len(train))*cfg.ThresholdHoldout))
		if nc >= len(train) {
			return nil, nil, fmt.Errorf("%w: %d training examples leave none to train on after the threshold holdout", ErrData, len(train))
		}
		fit := make([]LabeledText, 0, len(train)-nc)
		for k, i := range perm {
			if k < nc {
				calib = append(calib, train[i])
			} else {
				fit = append(fit, train[i])
			}
		}
		train = fit
	}
	for i, ex := range dev {
		for _, l := range labelsOf(ex) {
			if _, ok := labelIdx[l]; !ok {
				return nil, nil, fmt.Errorf("%w: dev example %d has label %q not seen in training (labels %v)", ErrData, i+1, l, labels)
			}
		}
	}

	var buf text.Buffer
	if e := cfg.SharedEncoder; e != nil {
		switch {
		case cfg.Init.LM != nil:
			return nil, nil, fmt.Errorf("%w: a shared encoder and a language-model init exclude each other", ErrConfig)
		case e.Tokenizer.Options() != tok.Options():
			return nil, nil, fmt.Errorf("%w: the shared encoder's tokenizer settings %+v differ from the training tokenizer's %+v", ErrConfig, e.Tokenizer.Options(), tok.Options())
		}
		cfg.Model = e.Config
	}
	if cfg.Init.LM != nil {
		if err := cfg.Init.check(ViewWords, tok); err != nil {
			return nil, nil, err
		}
		lc := cfg.Init.LM.Config
		cfg.Model.Embed, cfg.Model.Hidden, cfg.Model.Buckets = lc.Embed, lc.Hidden, lc.Buckets
	}
	// Vocabulary from the training tokens (or the language model's).
	texts := make([]string, len(train))
	for i, ex := range train {
		texts[i] = ex.Text
	}
	vocab := BuildVocab(countTokens(&buf, texts, tok.Tokenize), cfg.MinCount, cfg.MaxVocab)
	if cfg.Init.LM != nil {
		vocab = cfg.Init.LM.Vocab
	}
	if cfg.SharedEncoder != nil {
		vocab = cfg.SharedEncoder.Vocab
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7a6))
	clf, err := NewClassifier(cfg.Model, labels, vocab, tok, rng)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Init.LM != nil {
		hooks.OnEpochStart = cfg.Init.initialise(clf.Info, clf.net.emb, clf.net.fwd, clf.net.bwd, hooks.OnEpochStart)
	}
	if e := cfg.SharedEncoder; e != nil {
		shareEncoder(clf, e)
	}
	clf.MultiLabel = cfg.MultiLabel
	cfg.Model = clf.Config // the architecture the model got
	if err := recordTrainConfig(clf.Info, cfg); err != nil {
		return nil, nil, err
	}

	data := make([]encoded, len(train))
	classCount := make([]float64, len(labels)) // a partial example counts 1/|set| in each
	for i, ex := range train {
		toks := tok.Tokenize(&buf, ex.Text)
		e := &data[i]
		e.offs = []int32{0}
		e.ids, e.offs, _ = appendBags(vocab, cfg.Model.Buckets, toks, cfg.Model.MaxTokens, nil, e.offs)
		ls := labelsOf(ex)
		for _, l := range ls {
			e.labels = append(e.labels, labelIdx[l])
			classCount[labelIdx[l]] += 1 / float64(len(ls))
		}
		switch {
		case len(ex.Allowed) > 0:
			e.partial = true
		case !cfg.MultiLabel:
			e.label, e.labels = e.labels[0], nil
		}
	}
	var classWeight []float64 // per class; a multi-label model's positive weights
	if cfg.ClassWeight == "balanced" {
		classWeight = make([]float64, len(labels))
		for c, n := range classCount {
			switch {
			case n == 0:
			case cfg.MultiLabel:
				classWeight[c] = min(math.Sqrt((float64(len(train))-n)/n), 10)
			default:
				classWeight[c] = float64(len(train)) / (float64(len(labels)) * n)
			}
		}
	}
	if !cfg.MultiLabel { // partially labelled dev examples are not scored
		dev = slices.DeleteFunc(slices.Clone(dev), func(ex LabeledText) bool { return len(ex.Allowed) > 0 })
		if len(dev) == 0 {
			return nil, nil, fmt.Errorf("%w: every dev example has a label set (partial); none can be scored", ErrData)
		}
	}
	devTexts := make([]string, len(dev))
	devGold := make([]int, len(dev))
	devSet := make([]string, len(dev))
	for i, ex := range dev {
		devTexts[i], devSet[i] = ex.Text, ex.Set
		if !cfg.MultiLabel {
			devGold[i] = labelIdx[ex.Label]
		}
	}
	labelSets := func(exs []LabeledText) []bool {
		sets := make([]bool, len(exs)*len(labels))
		for i, ex := range exs {
			for _, l := range ex.Labels {
				sets[i*len(labels)+labelIdx[l]] = true
			}
		}
		return sets
	}
	devSets, calibSets := labelSets(dev), labelSets(calib)
	calibTexts := make([]string, len(calib))
	for i, ex := range calib {
		calibTexts[i] = ex.Text
	}

	tr := newClsTrainer(clf, cfg, classWeight)
	var best *Classifier
	var thresholds []float64 // tuned on calib for the epoch just evaluated
	reports, err := trainEpochs(ctx, cfg.Settings, len(data), func(i int) int { return data[i].len() }, tr.master, tr.opt, rng,
		func(idx []int) float64 { return tr.step(data, idx) },
		func() (EpochReport, error) {
			m := clf.Compile()
			if !cfg.MultiLabel {
				probs, pred := m.classifyAll(devTexts)
				devM, err := metrics.Classify(labels, devGold, pred)
				if err != nil {
					return EpochReport{}, err
				}
				sets, score, err := scoreSets(labels, devSet, devGold, probs)
				r := EpochReport{Dev: &devM, Score: score}
				if len(sets) > 1 || sets[0].Labels != nil {
					r.DevClassSets = sets
				}
				return r, err
			}
			thresholds = metrics.TuneThresholds(calibSets, m.Probabilities(calibTexts), len(labels))
			devM, err := metrics.EvalMultiLabel(labels, devSets, m.Probabilities(devTexts), thresholds)
			return EpochReport{DevMulti: &devM, Score: devM.MacroF1}, err
		},
		func() {
			best = clf.clone()
			if cfg.MultiLabel {
				best.Thresholds = slices.Clone(thresholds)
			}
		}, hooks)
	if errors.Is(err, ErrDiverged) {
		return nil, reports, err
	}
	return best, reports, err
}

// Probabilities classifies texts in batches of 64 and returns their
// probabilities, len(texts) rows of one per label.
func (m *CompiledClassifier) Probabilities(texts []string) []float32 {
	probs, _ := m.classifyAll(texts)
	return probs
}

// classifyAll classifies texts in batches of 64 with one workspace and
// returns every text's probabilities (len(texts) rows of one per label) and
// most probable label.
func (m *CompiledClassifier) classifyAll(texts []string) (probs []float32, best []int) {
	ws := m.NewWorkspace()
	nc := len(m.labels)
	probs = make([]float32, len(texts)*nc)
	best = make([]int, len(texts))
	for i := 0; i < len(texts); i += 64 {
		j := min(i+64, len(texts))
		m.ClassifyBatch(ws, texts[i:j], probs[i*nc:j*nc], best[i:j])
	}
	return probs, best
}

// DevClassSetReport is a classifier's score on one dev data set. Labels,
// when set, are the labels the set's examples have, a strict subset of the
// model's: predictions are the most probable of those (restricted argmax).
type DevClassSetReport struct {
	Set    string   `json:"set"`
	Labels []string `json:"labels,omitempty"`
	metrics.Classification
}

// scoreSets scores probs (one row of len(labels) per example) against gold
// per data set (set[i], first-seen order), each over the labels its gold
// examples have, and returns the reports and the mean of their macro-F1.
func scoreSets(labels, set []string, gold []int, probs []float32) ([]DevClassSetReport, float64, error) {
	var order []string
	rows := map[string][]int{}
	for i, s := range set {
		if _, ok := rows[s]; !ok {
			order = append(order, s)
		}
		rows[s] = append(rows[s], i)
	}
	var out []DevClassSetReport
	var sum float64
	for _, s := range order {
		r, err := EvaluateRestricted(labels, gold, probs, rows[s])
		if err != nil {
			return nil, 0, fmt.Errorf("dev set %s: %w", s, err)
		}
		r.Set = s
		out = append(out, r)
		sum += r.MacroF1
	}
	return out, sum / float64(len(order)), nil
}

// EvaluateRestricted scores the examples rows (all when nil) of probs
// (len(labels) per example) against gold over the labels those examples
// have: when that is a strict subset of labels (a binary data set scored
// with a three-class model) each prediction is the most probable label of
// the subset, and Labels names it.
func EvaluateRestricted(labels []string, gold []int, probs []float32, rows []int) (DevClassSetReport, error) {
	if rows == nil {
		rows = make([]int, len(gold))
		for i := range rows {
			rows[i] = i
		}
	}
	k := len(labels)
	present := make([]bool, k)
	for _, i := range rows {
		present[gold[i]] = true
	}
	var sub []int // model label index of each restricted label
	for c, ok := range present {
		if ok {
			sub = append(sub, c)
		}
	}
	var rep DevClassSetReport
	names := labels
	if len(sub) < k {
		names = make([]string, len(sub))
		for j, c := range sub {
			names[j] = labels[c]
		}
		rep.Labels = names
	} else {
		sub = nil
	}
	g := make([]int, len(rows))
	p := make([]int, len(rows))
	for n, i := range rows {
		row := probs[i*k : (i+1)*k]
		if sub == nil {
			g[n], p[n] = gold[i], argmax(row)
			continue
		}
		best := -1
		for j, c := range sub {
			if best < 0 || row[c] > row[sub[best]] {
				best = j
			}
			if c == gold[i] {
				g[n] = j
			}
		}
		p[n] = best
	}
	var err error
	rep.Classification, err = metrics.Classify(names, g, p)
	return rep, err
}

// EvaluateProbs scores probs (len(labels) per example) against gold, each
// prediction the most probable of all the labels (EvaluateRestricted
// without the restriction).
func EvaluateProbs(labels []string, gold []int, probs []float32) (metrics.Classification, error) {
	k := len(labels)
	pred := make([]int, len(gold))
	for i := range gold {
		pred[i] = argmax(probs[i*k : (i+1)*k])
	}
	return metrics.Classify(labels, gold, pred)
}

// argmax returns the index of the largest value of row (the first of
// equal ones).
func argmax(row []float32) int {
	best := 0
	for c, v := range row {
		if v > row[best] {
			best = c
		}
	}
	return best
}

// EvaluateMultiLabel scores a multi-label model on texts against the gold
// label sets gold (len(texts)×len(Labels()), true where a text carries the
// label) at the model's thresholds.
func (m *CompiledClassifier) EvaluateMultiLabel(texts []string, gold []bool) (metrics.MultiLabel, error) {
	if !m.multi {
		return metrics.MultiLabel{}, fmt.Errorf("%w: not a multi-label classifier", ErrConfig)
	}
	return metrics.EvalMultiLabel(m.labels, gold, m.Probabilities(texts), m.thresholds)
}

// Evaluate classifies texts in batches of 64 and scores them against gold.
func (m *CompiledClassifier) Evaluate(texts []string, gold []int) (metrics.Classification, error) {
	_, pred := m.classifyAll(texts)
	return metrics.Classify(m.labels, gold, pred)
}

// clone returns a deep copy of the weights (the rest is shared, immutable).
func (c *Classifier) clone() *Classifier {
	q := *c
	q.Info = maps.Clone(c.Info)
	q.net = c.net.gradView()
	cloneWeights(q.net.params(), c.net.params())
	return &q
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
	grads   [][]*nn.Param // workers' gradient views, for parallelStep
}

type clsWorker struct {
	cfg   ClassifierConfig
	net   clsNet
	vocab int32 // rows below this are whole words
	rng   *rand.Rand
	loss  float64

	ids, offs, lens         []int32
	y                       []int
	multi                   bool // multi-label: targets in yv, B×labels
	yv                      []float64
	allowed                 []bool    // a batch with partial labels: B×labels label sets
	rowWeight               []float64 // and each row's loss weight
	x, xmask, seq, dseq, dx []float64
	pooled, pmask, dpooled  []float64
	logits, dlogits         []float64
	argmax                  []int32
	fc, bc                  nn.LSTMCache
}

func newClsTrainer(clf *Classifier, cfg TrainConfig, cw []float64) *clsTrainer {
	t := &clsTrainer{clf: clf, cfg: cfg, cw: cw, opt: nn.NewAdam(cfg.LR, cfg.WeightDecay, cfg.Clip), master: clf.net.params()}
	for i := 0; i < cfg.Workers; i++ {
		w := &clsWorker{cfg: clf.Config, net: clf.net.gradView(), rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+100)), vocab: int32(clf.Vocab.Len()), multi: cfg.MultiLabel}
		t.workers = append(t.workers, w)
		t.grads = append(t.grads, w.net.params())
	}
	return t
}

// step trains on the examples idx and returns the mean loss.
func (t *clsTrainer) step(data []encoded, idx []int) float64 {
	return parallelStep(t.master, t.grads, t.opt, idx, func(w int, shard []int) float64 {
		wk := t.workers[w]
		wk.forwardBackward(data, shard, t.cfg.Dropout, t.cfg.WordDropout, t.cw)
		return wk.loss
	})
}

func (w *clsWorker) forwardBackward(data []encoded, idx []int, dropout, wordDropout float64, cw []float64) {
	net := &w.net
	B := len(idx)
	// Sort the shard longest first: recurrent products then skip finished rows.
	sorted := sortedByLength(idx, func(i int) int { return data[i].len() })
	steps := data[sorted[0]].len()
	w.lens, w.y = w.lens[:0], w.y[:0]
	for _, i := range sorted {
		w.lens = append(w.lens, int32(data[i].len()))
		w.y = append(w.y, data[i].label)
	}
	if w.multi {
		C := w.net.out.Out
		w.yv = nn.GrowZero(w.yv, B*C)
		for r, i := range sorted {
			for _, l := range data[i].labels {
				w.yv[r*C+l] = 1
			}
		}
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
	// seq holds [h→ ‖ h← (‖ x when PoolInputs)] per token, width W.
	W := w.cfg.poolWidth()
	w.seq = nn.Grow(w.seq, n*W)
	net.fwd.Forward(w.x, steps, B, w.lens, w.seq, W, 0, &w.fc)
	net.bwd.Forward(w.x, steps, B, w.lens, w.seq, W, H, &w.bc)
	if W > 2*H {
		for r := 0; r < n; r++ {
			copy(w.seq[r*W+2*H:(r+1)*W], w.x[r*D:(r+1)*D])
		}
	}
	w.pooled = nn.Grow(w.pooled, B*2*W)
	w.argmax = nn.Grow(w.argmax, B*W)
	nn.MaxMeanPool(w.seq, steps, B, W, w.lens, w.pooled, w.argmax)
	w.pmask = nn.Grow(w.pmask, B*2*W)
	nn.Dropout(w.pooled, w.pmask, dropout, w.rng)
	w.logits = nn.Grow(w.logits, B*C)
	w.dlogits = nn.Grow(w.dlogits, B*C)
	net.out.Forward(w.pooled, B, w.logits)
	switch {
	case w.multi:
		w.loss = nn.SigmoidBCE(w.logits, B, C, w.yv, cw, nil, w.dlogits)
	case slices.ContainsFunc(sorted, func(i int) bool { return data[i].partial }):
		w.setTargets(data, sorted, C, cw)
		rw := w.rowWeight
		if cw == nil {
			rw = nil
		}
		w.loss = nn.SoftmaxSetCrossEntropy(w.logits, B, C, w.allowed, rw, w.dlogits)
	default:
		w.loss = nn.SoftmaxCrossEntropy(w.logits, B, C, w.y, cw, nil, w.dlogits)
	}

	w.dpooled = nn.Grow(w.dpooled, B*2*W)
	net.out.Backward(w.pooled, B, w.dlogits, w.dpooled)
	nn.DropoutBackward(w.dpooled, w.pmask)
	w.dseq = nn.GrowZero(w.dseq, n*W)
	nn.MaxMeanPoolBackward(w.dpooled, steps, B, W, w.lens, w.argmax, w.dseq)
	w.dx = nn.GrowZero(w.dx, n*D)
	net.fwd.Backward(w.x, w.lens, w.dseq, W, 0, w.dx, &w.fc)
	net.bwd.Backward(w.x, w.lens, w.dseq, W, H, w.dx, &w.bc)
	if W > 2*H {
		for r := 0; r < n; r++ {
			dst := w.dx[r*D : (r+1)*D]
			for j, v := range w.dseq[r*W+2*H : (r+1)*W] {
				dst[j] += v
			}
		}
	}
	nn.DropoutBackward(w.dx, w.xmask)
	net.emb.Backward(w.ids, w.offs, w.dx)
}

// setTargets fills w.allowed with each row's label set (a partial
// example's labels, an exact one's label) and w.rowWeight with its class
// weight (a partial example's: the mean over its set).
func (w *clsWorker) setTargets(data []encoded, rows []int, C int, cw []float64) {
	w.allowed = slices.Grow(w.allowed[:0], len(rows)*C)[:len(rows)*C]
	clear(w.allowed)
	w.rowWeight = slices.Grow(w.rowWeight[:0], len(rows))[:len(rows)]
	for r, i := range rows {
		e := &data[i]
		if !e.partial {
			w.allowed[r*C+e.label] = true
			if cw != nil {
				w.rowWeight[r] = cw[e.label]
			}
			continue
		}
		var wsum float64
		for _, c := range e.labels {
			w.allowed[r*C+c] = true
			if cw != nil {
				wsum += cw[c]
			}
		}
		w.rowWeight[r] = wsum / float64(len(e.labels))
	}
}

// shareEncoder copies e's embedding and BiLSTM weights into c (same
// shapes: c was built from e's configuration and vocabulary) and freezes
// them.
func shareEncoder(c, e *Classifier) {
	dst, src := c.net.params(), e.net.params()
	n := len(dst) - len(c.net.out.Params())
	for i := range n {
		copy(dst[i].W, src[i].W)
		dst[i].Frozen = true
	}
	c.Info["shared_encoder"] = e.Checksum
}
