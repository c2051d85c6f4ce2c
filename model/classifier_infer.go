package model

import (
	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// CompiledClassifier is the immutable float32 inference form of a
// Classifier. It is safe for concurrent use: each goroutine brings its own
// ClassifierWorkspace.
type CompiledClassifier struct {
	cfg       ClassifierConfig
	labels    []string
	vocab     *Vocab
	tok       *text.Tokenizer
	d, h, c   int
	emb       []float32
	fwx, fwh  []float32
	fb        []float32
	bwx, bwh  []float32
	bb        []float32
	ow, ob    []float32
	tokenizer *text.Tokenizer
	// the LSTM weights packed once for the GEMM kernels
	pfwx, pfwh, pbwx, pbwh *nn.PackedB
	multi                  bool
	thresholds             []float64
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

// Compile returns the float32 inference form of the current weights. Later
// training does not affect it.
func (c *Classifier) Compile() *CompiledClassifier {
	n := &c.net
	m := &CompiledClassifier{
		cfg: c.Config, labels: c.Labels, vocab: c.Vocab, tok: c.Tokenizer,
		d: c.Config.Embed, h: c.Config.Hidden, c: len(c.Labels),
		emb: to32(n.emb.Table.W),
		fwx: to32(n.fwd.Wx.W), fwh: to32(n.fwd.Wh.W), fb: to32(n.fwd.B.W),
		bwx: to32(n.bwd.Wx.W), bwh: to32(n.bwd.Wh.W), bb: to32(n.bwd.B.W),
		ow: to32(n.out.W.W), ob: to32(n.out.B.W),
		multi: c.MultiLabel, thresholds: c.Thresholds,
	}
	d, h := m.d, m.h
	m.pfwx, m.pfwh = nn.PackB(m.fwx, d, 4*h), nn.PackB(m.fwh, h, 4*h)
	m.pbwx, m.pbwh = nn.PackB(m.bwx, d, 4*h), nn.PackB(m.bwh, h, 4*h)
	return m
}

// Labels returns the class labels in score order. Do not modify.
func (m *CompiledClassifier) Labels() []string { return m.labels }

// MultiLabel reports whether the model is multi-label: its probabilities
// are independent per label (ClassifyBatch's best is then the most
// probable label, and the labels that apply are those whose probability
// reaches their threshold: LabelsOver).
func (m *CompiledClassifier) MultiLabel() bool { return m.multi }

// Thresholds returns a multi-label model's decision threshold per label
// (nil for a single-label model). Do not modify.
func (m *CompiledClassifier) Thresholds() []float64 { return m.thresholds }

// LabelsOver appends to dst the indices of the labels whose probability in
// probs (one text's row) reaches their threshold, in label order; for a
// single-label model, the most probable one.
func (m *CompiledClassifier) LabelsOver(dst []int, probs []float32) []int {
	if !m.multi {
		return append(dst, argmax(probs))
	}
	for j, v := range probs {
		if float64(v) >= m.thresholds[j] {
			dst = append(dst, j)
		}
	}
	return dst
}

// ClassifierWorkspace is one worker's scratch memory for ClassifyBatch. It
// grows to the largest batch seen and is then reused, so steady-state
// classification allocates nothing. Not safe for concurrent use.
type ClassifierWorkspace struct {
	buf  text.Buffer
	bags clsBags
	clsScratch
}

// clsBags holds the embedding bags of the texts of one batch, as addText
// appends them: what a classifier needs of a tokenized text.
type clsBags struct {
	ids, offs   []int32 // rows of every token's bag; bag ends, offs[0] = 0
	start, lens []int32 // per text: its first token's bag, its token count
}

// clsScratch is the memory run computes in. It holds nothing between runs,
// so several classifiers run one after another may share one (the
// Analyzer does).
type clsScratch struct {
	ord, slen         []int32
	xtok, x           []float32
	gates, h, c       []float32
	seq, pooled, prob []float32
}

// NewWorkspace returns an empty workspace for m.
func (m *CompiledClassifier) NewWorkspace() *ClassifierWorkspace { return &ClassifierWorkspace{} }

// ClassifyBatch classifies texts. probs receives len(texts)×len(Labels())
// class probabilities (row i for texts[i]) and best the index of the most
// probable label of each text; both are owned by the caller and must be
// large enough. It panics if they are too small.
func (m *CompiledClassifier) ClassifyBatch(ws *ClassifierWorkspace, texts []string, probs []float32, best []int) {
	ws.bags.reset()
	for _, s := range texts {
		m.addText(&ws.bags, m.tok.Tokenize(&ws.buf, s))
	}
	m.run(&ws.bags, &ws.clsScratch, probs, best)
}

func (b *clsBags) reset() {
	b.ids, b.offs = b.ids[:0], append(b.offs[:0], 0)
	b.start, b.lens = b.start[:0], b.lens[:0]
}

// addText appends the bags of one tokenized text (the tokens may be reused
// by the caller afterwards).
func (m *CompiledClassifier) addText(b *clsBags, toks []text.Token) {
	b.start = append(b.start, int32(len(b.offs)-1))
	var n int
	b.ids, b.offs, n = appendBags(m.vocab, m.cfg.Buckets, toks, m.cfg.MaxTokens, b.ids, b.offs)
	b.lens = append(b.lens, int32(n))
}

// run classifies the texts of bags (added since reset), computing in ws,
// and writes their probabilities and best labels in text order.
func (m *CompiledClassifier) run(bags *clsBags, ws *clsScratch, probs []float32, best []int) {
	B := len(bags.lens)
	if B == 0 {
		return
	}
	d, h, nc := m.d, m.h, m.c
	ntok := len(bags.offs) - 1
	ws.xtok = nn.Grow(ws.xtok, ntok*d)
	nn.EmbedBags32(m.emb, d, bags.ids, bags.offs, ws.xtok)

	// 2. Order texts by length, longest first, so each recurrent product
	// covers only the sequences still running (no padding work); 3. gather
	// token vectors time-major: row t·B+p is token t of the p-th longest
	// text, padding rows are zero.
	ws.ord, ws.slen = longestFirst(ws.ord, ws.slen, bags.lens)
	steps := int(ws.slen[0])
	n := steps * B
	ws.x = nn.Grow(ws.x, n*d)
	gatherTimeMajor(ws.x, ws.xtok, d, steps, ws.ord, bags.start, bags.lens)

	// 4. BiLSTM: the input GEMMs of each direction over the token rows
	// (not the padding), then one recurrent GEMM per step over the running
	// sequences.
	ws.gates = nn.Grow(ws.gates, n*4*h)
	ws.h = nn.Grow(ws.h, B*h)
	ws.c = nn.Grow(ws.c, B*h)
	W := m.cfg.poolWidth()
	ws.seq = nn.Grow(ws.seq, n*W)
	if steps > 0 {
		affineSteps(ws.x, m.pfwx, m.fb, ws.gates, steps, ws.slen)
		nn.LSTMRecurPacked(ws.gates, m.pfwh, steps, B, ws.slen, false, ws.seq, W, 0, ws.h, ws.c)
		affineSteps(ws.x, m.pbwx, m.bb, ws.gates, steps, ws.slen)
		nn.LSTMRecurPacked(ws.gates, m.pbwh, steps, B, ws.slen, true, ws.seq, W, h, ws.h, ws.c)
	}
	if W > 2*h {
		for r := 0; r < n; r++ {
			copy(ws.seq[r*W+2*h:(r+1)*W], ws.x[r*d:(r+1)*d])
		}
	}

	// 5. Pool, project, softmax (a sigmoid per label for a multi-label
	// model); scatter back to text order.
	ws.pooled = nn.Grow(ws.pooled, B*2*W)
	nn.MaxMeanPool32(ws.seq, steps, B, W, ws.slen, ws.pooled)
	ws.prob = nn.Grow(ws.prob, B*nc)
	nn.Affine(ws.pooled, B, 2*W, m.ow, m.ob, nc, ws.prob)
	if m.multi {
		nn.SigmoidInPlace(ws.prob[:B*nc])
	} else {
		nn.Softmax(ws.prob, B, nc)
	}
	for p, o := range ws.ord {
		row := ws.prob[p*nc : (p+1)*nc]
		copy(probs[int(o)*nc:(int(o)+1)*nc], row)
		bi := 0
		for j, v := range row {
			if v > row[bi] {
				bi = j
			}
		}
		best[o] = bi
	}
}

// affineSteps writes y = x·w + b (x rows of width w.K, y rows of width w.N)
// for the rows of a time-major batch (B = len(slen) rows a step) that hold
// a token: with slen sorted longest first, rows t·B … t·B+a_t-1 of step t,
// a_t the number of sequences longer than t. The leading steps where every
// sequence is running are one product; then one product per step. Padding
// rows of y are not written: the recurrence, the pooling and Viterbi never
// read them. On tweets a batch of 64 has about 1.6 times as many rows as
// tokens, all of which one product over the whole batch computed.
func affineSteps(x []float32, w *nn.PackedB, b []float32, y []float32, steps int, slen []int32) {
	B, in, out := len(slen), w.K, w.N
	full := 0 // steps where all B sequences run
	for full < steps && int(slen[B-1]) > full {
		full++
	}
	if full > 0 {
		nn.AffinePacked(x, full*B, w, b, y)
	}
	act := B
	for t := full; t < steps; t++ {
		for act > 0 && int(slen[act-1]) <= t {
			act--
		}
		if act == 0 {
			return
		}
		nn.AffinePacked(x[t*B*in:], act, w, b, y[t*B*out:])
	}
}
