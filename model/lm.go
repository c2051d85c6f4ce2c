package model

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"sort"
	"unicode/utf8"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// Token views a language model can read: the classifier's tokens (words,
// Chinese segmented by gse) or the tagger's (one token per Han character,
// Latin words whole). An encoder initialises only models of its own view.
const (
	ViewWords = "words"
	ViewChars = "chars"
)

// LMConfig holds a language model's architecture, recorded in its file. Zero
// fields take the defaults of DefaultLMConfig.
type LMConfig struct {
	// View is the token view, ViewWords or ViewChars (default words).
	View string `json:"view"`
	// Embed is the width of word and sub-word embeddings (default 64).
	Embed int `json:"embed"`
	// Hidden is the number of LSTM units per direction (default 64).
	Hidden int `json:"hidden"`
	// Buckets is the number of hashed sub-word rows (default 10000).
	Buckets int `json:"buckets"`
	// MaxTokens is the number of tokens read per text (default 128).
	MaxTokens int `json:"max_tokens"`
	// Bigrams adds to each token's input the hashed sub-word row of a token
	// pair, the tagger's bigram feature (TaggerConfig.Bigrams) learned from
	// unlabeled text: the forward LSTM reads at t the pair (t-1, t), the
	// backward LSTM the pair (t, t+1), so neither sees the token it
	// predicts. A tagger trained with --bigrams and --init from this model
	// starts with these rows.
	Bigrams bool `json:"bigrams,omitempty"`
}

// DefaultLMConfig returns the default architecture: the encoder shapes of
// the default classifier.
func DefaultLMConfig() LMConfig {
	return LMConfig{View: ViewWords, Embed: 64, Hidden: 64, Buckets: 10000, MaxTokens: 128}
}

func (c LMConfig) withDefaults() LMConfig {
	d := DefaultLMConfig()
	if c.View == "" {
		c.View = d.View
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Embed, d.Embed)
	def(&c.Hidden, d.Hidden)
	def(&c.Buckets, d.Buckets)
	def(&c.MaxTokens, d.MaxTokens)
	return c
}

// Validate reports the first field out of range.
func (c LMConfig) Validate() error {
	if c.View != ViewWords && c.View != ViewChars {
		return fmt.Errorf("%w: view = %q, want %s or %s", ErrConfig, c.View, ViewWords, ViewChars)
	}
	if c.Bigrams && c.Buckets <= 0 {
		return fmt.Errorf("%w: bigrams need sub-word buckets (buckets = %d)", ErrConfig, c.Buckets)
	}
	return ClassifierConfig{Embed: c.Embed, Hidden: c.Hidden, Buckets: c.Buckets, MaxTokens: c.MaxTokens}.Validate()
}

// numParams returns the number of weights for vocab rows (with <unk>).
func (c LMConfig) numParams(vocab int) int {
	d, h := c.Embed, c.Hidden
	lstm := d*4*h + h*4*h + 4*h
	return (vocab+c.Buckets)*d + 2*lstm + 2*(vocab*h+vocab)
}

// LanguageModel is a pair of LSTM language models sharing one input
// embedding (Peters et al. 2018): the forward LSTM predicts each token from
// the ones before it, the backward LSTM from the ones after it.
//
//	x_t = mean(E[word_t], E[sub-words of word_t])
//	p(w_{t+1} | w_≤t) = softmax(U→·h→_t + c→),  p(w_{t-1} | w_≥t) = softmax(U←·h←_t + c←)
//
// Output classes are the vocabulary words, with <unk> (row 0) for the rest.
// Training uses sampled softmax (Jean et al. 2015); perplexity is computed
// with the full softmax. The embedding and the two LSTMs are the encoder
// that Classifier and Tagger training take with an Init model: the two
// directions are exactly their BiLSTM.
type LanguageModel struct {
	Config    LMConfig
	Vocab     *Vocab
	Tokenizer *text.Tokenizer
	// Info is descriptive metadata written to the file.
	Info map[string]string
	// Checksum is as for Classifier.Checksum.
	Checksum string

	net lmNet
}

type lmNet struct {
	emb        *nn.Embedding
	fwd, bwd   *nn.LSTM
	outF, outB *nn.Param // vocab × H output embeddings (row-sparse)
	binF, binB *nn.Param // vocab × 1 output biases (row-sparse)
}

func (n *lmNet) params() []*nn.Param {
	ps := append([]*nn.Param{}, n.emb.Params()...)
	ps = append(ps, n.fwd.Params()...)
	ps = append(ps, n.bwd.Params()...)
	return append(ps, n.outF, n.binF, n.outB, n.binB)
}

func (n *lmNet) gradView() lmNet {
	return lmNet{emb: n.emb.GradView(), fwd: n.fwd.GradView(), bwd: n.bwd.GradView(),
		outF: n.outF.GradView(), binF: n.binF.GradView(), outB: n.outB.GradView(), binB: n.binB.GradView()}
}

// NewLanguageModel returns a randomly initialised language model over vocab.
func NewLanguageModel(cfg LMConfig, vocab *Vocab, tok *text.Tokenizer, rng *rand.Rand) (*LanguageModel, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if vocab.Len() < 2 {
		return nil, fmt.Errorf("%w: empty vocabulary", ErrConfig)
	}
	v, h := vocab.Len(), cfg.Hidden
	out := func(name string, cols int) *nn.Param {
		p := nn.NewParam(name, v, cols)
		p.Sparse = true
		if cols == 1 {
			p.NoDecay = true
		} else {
			p.InitUniform(rng, 1/math.Sqrt(float64(h)))
		}
		return p
	}
	lm := &LanguageModel{Config: cfg, Vocab: vocab, Tokenizer: tok, Info: map[string]string{}}
	lm.net = lmNet{
		emb:  nn.NewEmbedding("emb", v+cfg.Buckets, cfg.Embed, rng, 0.1),
		fwd:  nn.NewLSTM("fwd", cfg.Embed, h, false, rng),
		bwd:  nn.NewLSTM("bwd", cfg.Embed, h, true, rng),
		outF: out("out_fwd.w", h),
		binF: out("out_fwd.b", 1),
		outB: out("out_bwd.w", h),
		binB: out("out_bwd.b", 1),
	}
	return lm, nil
}

// tokens returns the tokens of s in the model's view.
func (lm *LanguageModel) tokens(buf *text.Buffer, s string) []text.Token {
	return viewTokens(lm.Tokenizer, lm.Config.View, buf, s)
}

func viewTokens(tok *text.Tokenizer, view string, buf *text.Buffer, s string) []text.Token {
	if view == ViewChars {
		return tok.Chars(buf, s)
	}
	return tok.Tokenize(buf, s)
}

// lmEncoded is a text as embedding bags per token and the output class of
// every token (its vocabulary row, 0 for <unk>). With bigrams, pairs holds
// the row of the pair (token t, token t+1) for every t, "</s>" after the
// last.
type lmEncoded struct {
	ids, offs []int32
	words     []int32
	pairs     []int32
}

func (e *lmEncoded) len() int { return len(e.words) }

// appendBag appends token t's bag as direction dir (0 forward, 1 backward)
// reads it: the token's own rows and, with bigrams, the pair that ends at t
// (forward) or starts at t (backward).
func (e *lmEncoded) appendBag(ids []int32, t, dir int) []int32 {
	ids = append(ids, e.ids[e.offs[t]:e.offs[t+1]]...)
	if e.pairs != nil {
		if dir == 1 {
			ids = append(ids, e.pairs[t])
		} else if t > 0 {
			ids = append(ids, e.pairs[t-1])
		}
	}
	return ids
}

// layoutBags lays out the tokens of enc, in order, time-major (steps rows
// of len(order) texts) as the bags direction dir reads.
func layoutBags(enc []lmEncoded, order []int, steps, dir int, ids, offs []int32) ([]int32, []int32) {
	ids, offs = ids[:0], append(offs[:0], 0)
	for t := 0; t < steps; t++ {
		for _, i := range order {
			if t < enc[i].len() {
				ids = enc[i].appendBag(ids, t, dir)
			}
			offs = append(offs, int32(len(ids)))
		}
	}
	return ids, offs
}

// pairRow returns the embedding row of the pair (a, b): the tagger's.
func (lm *LanguageModel) pairRow(a, b string) int32 {
	return int32(lm.Vocab.Len()) + pairBucket(a, b, uint32(lm.Config.Buckets))
}

// encode returns the bags and classes of s's first MaxTokens tokens.
func (lm *LanguageModel) encode(buf *text.Buffer, s string) lmEncoded {
	toks := lm.tokens(buf, s)
	var e lmEncoded
	e.offs = []int32{0}
	var n int
	e.ids, e.offs, n = appendBags(lm.Vocab, lm.Config.Buckets, toks, lm.Config.MaxTokens, nil, e.offs)
	e.words = make([]int32, n)
	for i, tk := range toks[:n] {
		e.words[i], _ = lm.Vocab.ID(tk.Text)
	}
	if lm.Config.Bigrams && lm.Config.Buckets > 0 {
		e.pairs = make([]int32, n)
		for i, tk := range toks[:n] {
			next := "</s>"
			if i+1 < len(toks) {
				next = toks[i+1].Text
			}
			e.pairs[i] = lm.pairRow(tk.Text, next)
		}
	}
	return e
}

// clone returns a deep copy of the weights (vocabulary and tokenizer shared).
func (lm *LanguageModel) clone() *LanguageModel {
	q := *lm
	q.Info = maps.Clone(lm.Info)
	q.net = lm.net.gradView()
	cloneWeights(q.net.params(), lm.net.params())
	return &q
}

// Perplexity returns exp of the mean negative log-likelihood of every token
// of texts given its left context (forward model) and given its right
// context (backward model), with the full softmax over the vocabulary, and
// the number of predictions each is averaged over. The first token has no
// forward prediction and the last none backward; texts of one token count
// for nothing. It runs in float32.
func (lm *LanguageModel) Perplexity(texts []string) (fwd, bwd float64, n int) {
	ev := newLMEval(lm)
	var buf text.Buffer
	var sumF, sumB float64
	const batch = 32
	enc := make([]lmEncoded, 0, batch)
	for i := 0; i < len(texts); i += batch {
		enc = enc[:0]
		for _, s := range texts[i:min(i+batch, len(texts))] {
			if e := lm.encode(&buf, s); e.len() >= 2 {
				enc = append(enc, e)
			}
		}
		f, b, k := ev.batch(enc)
		sumF, sumB, n = sumF+f, sumB+b, n+k
	}
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	return math.Exp(sumF / float64(n)), math.Exp(sumB / float64(n)), n
}

// lmEval computes full-softmax log-likelihoods in float32.
type lmEval struct {
	lm               *LanguageModel
	emb, wxF, wxB    []float32
	whF, whB, bF, bB []float32
	outTF, outTB     []float32 // H × V (transposed output embeddings)
	binF, binB       []float32
	x, xb, gates     []float32
	seq, h, c        []float32
	logits, rows     []float32
	ids, offs, lens  []int32
	tgtF, tgtB       []int32
	rowIdxF, rowIdxB []int
}

func newLMEval(lm *LanguageModel) *lmEval {
	n := &lm.net
	v, h := lm.Vocab.Len(), lm.Config.Hidden
	tr := func(p *nn.Param) []float32 {
		t := make([]float32, h*v)
		for r := 0; r < v; r++ {
			for j := 0; j < h; j++ {
				t[j*v+r] = float32(p.W[r*h+j])
			}
		}
		return t
	}
	return &lmEval{lm: lm, emb: to32(n.emb.Table.W),
		wxF: to32(n.fwd.Wx.W), whF: to32(n.fwd.Wh.W), bF: to32(n.fwd.B.W),
		wxB: to32(n.bwd.Wx.W), whB: to32(n.bwd.Wh.W), bB: to32(n.bwd.B.W),
		outTF: tr(n.outF), outTB: tr(n.outB), binF: to32(n.binF.W), binB: to32(n.binB.W)}
}

// encodeBatch lays out enc (longest first) time-major and runs both LSTMs;
// seq gets [h→ ‖ h←] per position. It returns the number of steps and the
// order of enc used.
func (e *lmEval) encodeBatch(enc []lmEncoded) (steps int, order []int) {
	cfg := e.lm.Config
	D, H := cfg.Embed, cfg.Hidden
	order = make([]int, len(enc))
	for i := range order {
		order[i] = i
	}
	order = sortedByLength(order, func(i int) int { return enc[i].len() })
	B := len(enc)
	steps = enc[order[0]].len()
	e.lens = e.lens[:0]
	for _, i := range order {
		e.lens = append(e.lens, int32(enc[i].len()))
	}
	n := steps * B
	e.ids, e.offs = layoutBags(enc, order, steps, 0, e.ids, e.offs)
	e.x = nn.Grow(e.x, n*D)
	nn.EmbedBags(e.emb, D, e.ids, e.offs, e.x)
	xb := e.x // the backward LSTM reads the same bags, unless bigrams differ
	if cfg.Bigrams {
		e.ids, e.offs = layoutBags(enc, order, steps, 1, e.ids, e.offs)
		e.xb = nn.Grow(e.xb, n*D)
		nn.EmbedBags(e.emb, D, e.ids, e.offs, e.xb)
		xb = e.xb
	}
	e.seq = nn.Grow(e.seq, n*2*H)
	e.gates = nn.Grow(e.gates, n*4*H)
	e.h = nn.Grow(e.h, B*H)
	e.c = nn.Grow(e.c, B*H)
	for dir, w := range [][3][]float32{{e.wxF, e.whF, e.bF}, {e.wxB, e.whB, e.bB}} {
		for r := 0; r < n; r++ {
			copy(e.gates[r*4*H:(r+1)*4*H], w[2])
		}
		x := e.x
		if dir == 1 {
			x = xb
		}
		nn.Gemm(false, false, n, 4*H, D, 1, x, D, w[0], 4*H, 1, e.gates, 4*H)
		nn.LSTMRecur(e.gates, w[1], steps, B, H, e.lens, dir == 1, e.seq, 2*H, dir*H, e.h, e.c)
	}
	return steps, order
}

// batch returns the summed negative log-likelihoods of enc's forward and
// backward predictions and their count (per direction).
func (e *lmEval) batch(enc []lmEncoded) (nllF, nllB float64, n int) {
	if len(enc) == 0 {
		return 0, 0, 0
	}
	_, order := e.encodeBatch(enc)
	B := len(enc)
	e.rowIdxF, e.rowIdxB, e.tgtF, e.tgtB = e.rowIdxF[:0], e.rowIdxB[:0], e.tgtF[:0], e.tgtB[:0]
	for b, i := range order {
		w := enc[i].words
		for t := range w {
			r := t*B + b
			if t+1 < len(w) {
				e.rowIdxF, e.tgtF = append(e.rowIdxF, r), append(e.tgtF, w[t+1])
			}
			if t > 0 {
				e.rowIdxB, e.tgtB = append(e.rowIdxB, r), append(e.tgtB, w[t-1])
			}
		}
	}
	H := e.lm.Config.Hidden
	nllF = e.nll(e.rowIdxF, e.tgtF, 0, e.outTF, e.binF)
	nllB = e.nll(e.rowIdxB, e.tgtB, H, e.outTB, e.binB)
	return nllF, nllB, len(e.tgtF)
}

// nll sums -log softmax(h·outT + bias)[target] over the rows of seq
// (columns [off, off+H)).
func (e *lmEval) nll(rows []int, tgt []int32, off int, outT, bias []float32) float64 {
	H, V := e.lm.Config.Hidden, e.lm.Vocab.Len()
	const chunk = 64
	e.rows = nn.Grow(e.rows, chunk*H)
	e.logits = nn.Grow(e.logits, chunk*V)
	var sum float64
	for lo := 0; lo < len(rows); lo += chunk {
		m := min(chunk, len(rows)-lo)
		for k := 0; k < m; k++ {
			r := rows[lo+k]
			copy(e.rows[k*H:(k+1)*H], e.seq[r*2*H+off:r*2*H+off+H])
			copy(e.logits[k*V:(k+1)*V], bias)
		}
		nn.Gemm(false, false, m, V, H, 1, e.rows, H, outT, V, 1, e.logits, V)
		for k := 0; k < m; k++ {
			z := e.logits[k*V : (k+1)*V]
			mx := z[0]
			for _, v := range z {
				mx = max(mx, v)
			}
			var s float32
			for _, v := range z {
				s += nn.FastExp(v - mx)
			}
			sum += float64(mx) + math.Log(float64(s)) - float64(z[tgt[lo+k]])
		}
	}
	return sum
}

// GenerateOptions controls sampling.
type GenerateOptions struct {
	// Tokens is the number of tokens to add (default 20).
	Tokens int
	// Temperature divides the logits (default 1; lower is greedier).
	Temperature float64
	// TopK samples among the K most likely words (0: all).
	TopK int
	// Seed seeds the sampler.
	Seed uint64
}

// Generate continues prompt with words sampled from the forward model and
// returns the sampled words (never <unk>). A quick check that the model has
// learned something; it recomputes the whole prefix at every step.
func (lm *LanguageModel) Generate(prompt string, o GenerateOptions) []string {
	if o.Tokens <= 0 {
		o.Tokens = 20
	}
	if o.Temperature <= 0 {
		o.Temperature = 1
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6e6))
	var buf text.Buffer
	e := lm.encode(&buf, prompt)
	var lastText string // the text of e's last token, for the bigram rows
	if toks := lm.tokens(&buf, prompt); e.len() > 0 {
		lastText = toks[e.len()-1].Text
	}
	ev := newLMEval(lm)
	H, V := lm.Config.Hidden, lm.Vocab.Len()
	words := lm.Vocab.Words()
	var out []string
	probs := make([]float64, V)
	idx := make([]int, V)
	for len(out) < o.Tokens && e.len() > 0 && e.len() < lm.Config.MaxTokens {
		steps, _ := ev.encodeBatch([]lmEncoded{e})
		last := ev.seq[(steps-1)*2*H : (steps-1)*2*H+H]
		for v := 0; v < V; v++ {
			s := float64(ev.binF[v])
			for j := 0; j < H; j++ {
				s += float64(last[j]) * float64(ev.outTF[j*V+v])
			}
			probs[v] = s / o.Temperature
			idx[v] = v
		}
		probs[0] = math.Inf(-1) // never <unk>
		cand := idx
		if o.TopK > 0 && o.TopK < V {
			sort.Slice(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
			cand = idx[:o.TopK]
		}
		mx := math.Inf(-1)
		for _, v := range cand {
			mx = max(mx, probs[v])
		}
		var total float64
		for _, v := range cand {
			total += math.Exp(probs[v] - mx)
		}
		u := rng.Float64() * total
		pick := cand[len(cand)-1]
		for _, v := range cand {
			u -= math.Exp(probs[v] - mx)
			if u <= 0 {
				pick = v
				break
			}
		}
		w := words[pick-1]
		out = append(out, w)
		// Append the word as one more token: its bag is what encode gives it.
		kind := text.Word
		if r, _ := utf8.DecodeRuneInString(w); text.IsHan(r) {
			kind = text.Han
		}
		toks := []text.Token{{Text: w, Kind: kind}}
		e.ids, e.offs, _ = appendBags(lm.Vocab, lm.Config.Buckets, toks, 1, e.ids, e.offs)
		e.words = append(e.words, int32(pick))
		if e.pairs != nil { // the last pair was (last, "</s>")
			e.pairs[len(e.pairs)-1] = lm.pairRow(lastText, w)
			e.pairs = append(e.pairs, lm.pairRow(w, "</s>"))
		}
		lastText = w
	}
	return out
}
