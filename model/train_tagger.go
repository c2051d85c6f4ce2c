package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"

	"github.com/tagstream/tagstream/model/metrics"
	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// TaggedSentence is one NER training or evaluation example: tokens and
// their BIO tags (same length).
type TaggedSentence struct {
	Tokens, Tags []string
	// Set names the data set the sentence comes from (its file): dev
	// sentences are scored per set and the selection score is the mean of
	// the sets' F1; training sets differ in what they annotate.
	Set string
	// Map, when not nil, relates the data set's own types (Tags) to the
	// model's (see DataTypeMap and tagSchema); nil: Tags are model tags.
	Map *DataTypeMap
}

// TaggerTrainConfig holds the tagger's training settings. Zero fields take
// the defaults of DefaultTaggerTrainConfig.
type TaggerTrainConfig struct {
	Model TaggerConfig
	Settings
	// Lang is "en" or "zh"; empty means detected from the training tokens.
	// Chinese taggers default to no character CNN (tokens are characters).
	Lang string
	// TypeMap is recorded in the model (see Tagger.TypeMap); nil means
	// DefaultTypeMap.
	TypeMap map[string]string
	// CaseAugment adds an all-lowercase copy of this fraction of the
	// training sentences, and an all-uppercase copy of a quarter as many
	// (the casing of tweets); 0 adds none. Range 0..1.
	CaseAugment float64
	// Init, with an LM of the chars view, starts the token embedding and
	// the BiLSTM (its embedding inputs) from a pretrained language model.
	Init Pretrained
	// Vectors, when not nil, gives every token its pretrained word vector
	// (frozen; TaggerConfig.VecDim becomes their width). The tagger keeps
	// the VectorsTop first words of the table (the most frequent, in GloVe's
	// order) and every other word the training tokens have.
	Vectors *WordVectors `json:"-"`
	// Retokenize trains (and selects the epoch) on the tokens the tagger's
	// tokenizer gives each sentence's joined text, the tokens predict tags,
	// instead of the data's own (see retokenize).
	Retokenize bool `json:",omitempty"`
	// VectorsTop is the number of leading vector words kept (default
	// 50000 with Vectors).
	VectorsTop int `json:",omitempty"`
}

// WordVectors are pretrained word vectors (GloVe, say) for a tagger's
// input: Words in the source's order, Vecs their Dim-wide rows.
type WordVectors struct {
	Name   string // recorded in the model's Info ("vectors")
	SHA256 string // of the source file, recorded as "vectors_sha256"
	Dim    int
	Words  []string
	Vecs   []float32
}

// selectWords returns the vocabulary and rows of the words of v the tagger
// keeps: the top first ones and those of train.
func (v *WordVectors) selectWords(top int, train map[string]*int) (*Vocab, []float64, error) {
	if v.Dim < 1 || len(v.Vecs) != len(v.Words)*v.Dim {
		return nil, nil, fmt.Errorf("%w: %d vector values for %d words of width %d", ErrConfig, len(v.Vecs), len(v.Words), v.Dim)
	}
	var words []string
	var rows []float64
	for i, w := range v.Words {
		_, inTrain := train[w]
		if i >= top && !inTrain {
			continue
		}
		words = append(words, w)
		for _, x := range v.Vecs[i*v.Dim : (i+1)*v.Dim] {
			rows = append(rows, float64(x))
		}
	}
	vocab := NewVocab(words)
	if vocab.Len() != len(words)+1 {
		return nil, nil, fmt.Errorf("%w: vector words repeat or include <unk>", ErrConfig)
	}
	return vocab, rows, nil
}

// DefaultTaggerTrainConfig returns the default tagger training settings.
func DefaultTaggerTrainConfig() TaggerTrainConfig {
	return TaggerTrainConfig{
		Model: DefaultTaggerConfig(),
		Settings: Settings{
			Epochs: 30, Batch: 16, LR: 2e-3, LRDecay: 0.95, Clip: 5, Dropout: 0.5, WordDropout: 0.05,
			EMA: 0.999, Seed: 1, Patience: 4, MinCount: 1, MaxVocab: 25000, Workers: runtime.GOMAXPROCS(0),
		},
	}
}

func (c TaggerTrainConfig) withDefaults() TaggerTrainConfig {
	c.Model = c.Model.withDefaults()
	c.Settings = c.Settings.withDefaults(DefaultTaggerTrainConfig().Settings)
	return c
}

// Validate reports the first setting out of range.
func (c TaggerTrainConfig) Validate() error {
	if err := c.Settings.Validate(); err != nil {
		return err
	}
	if c.CaseAugment < 0 || c.CaseAugment > 1 {
		return fmt.Errorf("%w: case_augment = %v, want 0..1", ErrConfig, c.CaseAugment)
	}
	if c.Lang != "" && c.Lang != "en" && c.Lang != "zh" {
		return fmt.Errorf("%w: lang = %q, want en, zh or empty", ErrConfig, c.Lang)
	}
	return c.Model.Validate()
}

// detectSentencesLang returns "zh" when most tokens are Han characters.
func detectSentencesLang(data []TaggedSentence) string {
	var han, all int
	for _, s := range data {
		for _, t := range s.Tokens {
			all++
			for _, r := range t {
				if text.IsHan(r) {
					han++
					break
				}
			}
		}
	}
	if han*2 > all {
		return "zh"
	}
	return "en"
}

// taggedEncoded is one encoded training sentence.
type taggedEncoded struct {
	f       tagFeatures
	tags    []int32
	allowed []uint64 // per token tag sets of a partially annotated sentence, or nil
}

func (e *taggedEncoded) len() int { return int(e.f.lens[0]) }

// TrainTagger trains a BiLSTM-CRF tagger on train, evaluates entity F1 on
// dev after each epoch and returns the best epoch's weights with every
// epoch's report. Tags are the sorted distinct tags of train; sentences whose
// tags are malformed (length mismatch, I-X without B-X) are an error.
func TrainTagger(ctx context.Context, tok *text.Tokenizer, train, dev []TaggedSentence, cfg TaggerTrainConfig, hooks TrainHooks) (*Tagger, []EpochReport, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if len(train) == 0 || len(dev) == 0 {
		return nil, nil, fmt.Errorf("%w: %d training and %d dev sentences, want both > 0", ErrData, len(train), len(dev))
	}
	if cfg.Lang == "" {
		cfg.Lang = detectSentencesLang(train)
	}
	if cfg.Lang == "zh" {
		cfg.Model.NoCharCNN = true
	}
	if cfg.Init.LM != nil {
		if err := cfg.Init.check(ViewChars, tok); err != nil {
			return nil, nil, err
		}
		lc := cfg.Init.LM.Config
		cfg.Model.Embed, cfg.Model.Hidden, cfg.Model.Buckets = lc.Embed, lc.Hidden, lc.Buckets
	}
	if cfg.Retokenize {
		train, dev = retokenizeAll(tok, train, cfg.Lang), retokenizeAll(tok, dev, cfg.Lang)
		if len(train) == 0 || len(dev) == 0 {
			return nil, nil, fmt.Errorf("%w: no training or dev sentence has a token after retokenizing", ErrData)
		}
	}
	tagMap := cfg.TypeMap
	if tagMap == nil {
		tagMap = DefaultTypeMap()
	}
	schema, err := newTagSchema(train, tagMap)
	if err != nil {
		return nil, nil, err
	}
	tags := schema.tags
	train = caseAugment(train, cfg.CaseAugment, rand.New(rand.NewPCG(cfg.Seed, 0xca5e)))

	// Vocabularies: lowercased token pieces (as the tokenizer gives them)
	// and original-case characters for the CNN.
	var buf text.Buffer
	seen := map[string]*int{}
	charSeen := map[string]*int{}
	count := func(m map[string]*int, s string) {
		if n, ok := m[s]; ok {
			*n++
			return
		}
		one := 1
		m[strings.Clone(s)] = &one
	}
	for _, s := range train {
		for _, t := range s.Tokens {
			for _, p := range tok.Chars(&buf, t) {
				count(seen, p.Text)
			}
			for _, r := range t {
				count(charSeen, string(r))
			}
		}
	}
	flat := func(m map[string]*int) map[string]int {
		o := make(map[string]int, len(m))
		for k, v := range m {
			o[k] = *v
		}
		return o
	}
	vocab := BuildVocab(flat(seen), cfg.MinCount, cfg.MaxVocab)
	if cfg.Init.LM != nil {
		vocab = cfg.Init.LM.Vocab
	}
	chars := BuildVocab(flat(charSeen), 1, 0)
	var vecWords *Vocab
	var vecRows []float64
	if v := cfg.Vectors; v != nil {
		if cfg.VectorsTop <= 0 {
			cfg.VectorsTop = 50000
		}
		if vecWords, vecRows, err = v.selectWords(cfg.VectorsTop, seen); err != nil {
			return nil, nil, err
		}
		cfg.Model.VecDim = v.Dim
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7a7))
	tg, err := NewTagger(cfg.Model, cfg.Lang, tags, vocab, chars, tok, rng)
	if err != nil {
		return nil, nil, err
	}
	if vecWords != nil {
		if err := tg.setVectors(vecWords, vecRows); err != nil {
			return nil, nil, err
		}
		tg.Info["vectors"] = cfg.Vectors.Name
		tg.Info["vectors_sha256"] = cfg.Vectors.SHA256
		tg.Info["vectors_words"] = strconv.Itoa(vecWords.Len() - 1)
	}
	if cfg.Init.LM != nil {
		hooks.OnEpochStart = cfg.Init.initialise(tg.Info, tg.net.emb, tg.net.fwd, tg.net.bwd, hooks.OnEpochStart)
	}
	tg.TypeMap = tagMap
	// The settings as resolved (defaults, detected language, the character
	// CNN off for Chinese, the architecture the model got), not as given.
	cfg.Model, cfg.Lang = tg.Config, tg.Lang
	if err := recordTrainConfig(tg.Info, cfg); err != nil {
		return nil, nil, err
	}

	data := make([]taggedEncoded, len(train))
	for i, s := range train {
		e := &data[i]
		e.f.reset()
		tg.encodeGold(&e.f, &buf, s.Tokens)
		e.tags = make([]int32, e.len())
		if e.allowed, err = schema.encode(s, e.tags); err != nil {
			return nil, nil, fmt.Errorf("training sentence %d: %w", i+1, err)
		}
		if err := tg.mask.CheckPath(len(tags), e.tags); err != nil {
			return nil, nil, fmt.Errorf("%w: training sentence %d: %v", ErrData, i+1, err)
		}
	}

	tr := newTagTrainer(tg, cfg)
	var best *Tagger
	reports, err := trainEpochs(ctx, cfg.Settings, len(data), func(i int) int { return data[i].len() }, tr.master, tr.opt, rng,
		func(idx []int) float64 { return tr.step(data, idx) },
		func() (EpochReport, error) {
			devM, sets, score, err := tg.Compile().evaluateSets(dev, schema.mappedOnly)
			r := EpochReport{DevNER: &devM, Score: score}
			if len(sets) > 1 {
				r.DevSets = sets
			}
			return r, err
		},
		func() { best = tg.clone() }, hooks)
	if errors.Is(err, ErrDiverged) {
		return nil, reports, err
	}
	return best, reports, err
}

// EvaluateSentences tags pre-tokenized sentences and scores them with
// entity-level exact match (conlleval semantics) and token accuracy.
func (m *CompiledTagger) EvaluateSentences(data []TaggedSentence) (metrics.NER, error) {
	gold := make([][]string, len(data))
	tokens := make([][]string, len(data))
	for i, s := range data {
		gold[i], tokens[i] = s.Tags, s.Tokens
	}
	return metrics.EvalNER(gold, m.PredictSentences(tokens))
}

// clone returns a deep copy of the weights (the rest is shared, immutable).
func (tg *Tagger) clone() *Tagger {
	q := *tg
	q.Info = maps.Clone(tg.Info)
	q.net = tg.net.gradView()
	cloneWeights(q.net.params(), tg.net.params())
	return &q
}

// tagTrainer runs data-parallel tagger updates (see parallelStep).
type tagTrainer struct {
	tg      *Tagger
	cfg     TaggerTrainConfig
	opt     *nn.Adam
	master  []*nn.Param
	workers []*tagWorker
	grads   [][]*nn.Param
}

type tagWorker struct {
	tg    *Tagger
	net   tagNet
	rng   *rand.Rand
	vocab int32

	feat                 tagFeatures
	gold                 []int32
	allowed              []uint64
	order, slen          []int32
	xe, xt, x, xmask     []float64
	dx, dxt, dxe         []float64
	seq, dseq, emis, dem []float64
	fc, bc               nn.LSTMCache
	cc                   nn.CharCNNCache
	loss                 float64
}

func newTagTrainer(tg *Tagger, cfg TaggerTrainConfig) *tagTrainer {
	t := &tagTrainer{tg: tg, cfg: cfg, opt: nn.NewAdam(cfg.LR, cfg.WeightDecay, cfg.Clip), master: tg.net.params()}
	for i := 0; i < cfg.Workers; i++ {
		w := &tagWorker{tg: tg, net: tg.net.gradView(), rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+200)), vocab: int32(tg.Vocab.Len())}
		t.workers = append(t.workers, w)
		t.grads = append(t.grads, w.net.params())
	}
	return t
}

func (t *tagTrainer) step(data []taggedEncoded, idx []int) float64 {
	return parallelStep(t.master, t.grads, t.opt, idx, func(w int, shard []int) float64 {
		wk := t.workers[w]
		wk.forwardBackward(data, shard, t.cfg.Dropout, t.cfg.WordDropout)
		return wk.loss
	})
}

// forwardBackward computes the CRF loss of a shard and its gradients.
func (w *tagWorker) forwardBackward(data []taggedEncoded, idx []int, dropout, wordDropout float64) {
	cfg := w.tg.Config
	net := &w.net
	sorted := sortedByLength(idx, func(i int) int { return data[i].len() })
	// Concatenate the shard's features in (sorted) text order.
	f := &w.feat
	f.reset()
	w.gold = w.gold[:0]
	for _, i := range sorted {
		e := &data[i]
		f.start = append(f.start, int32(f.ntok()))
		f.lens = append(f.lens, e.f.lens[0])
		for tk := 0; tk < e.len(); tk++ {
			bag := e.f.ids[e.f.offs[tk]:e.f.offs[tk+1]]
			if wordDropout > 0 && len(bag) > 1 && bag[0] < w.vocab && bag[1] >= w.vocab && w.rng.Float64() < wordDropout {
				bag = bag[1:]
			}
			f.ids = append(f.ids, bag...)
			f.offs = append(f.offs, int32(len(f.ids)))
			f.cids = append(f.cids, e.f.cids[e.f.coffs[tk]:e.f.coffs[tk+1]]...)
			f.coffs = append(f.coffs, int32(len(f.cids)))
		}
		f.cas = append(f.cas, e.f.cas...)
		f.vids = append(f.vids, e.f.vids...)
		f.seg = append(f.seg, e.f.seg...)
		f.lex = append(f.lex, e.f.lex...)
	}
	B := len(sorted)
	steps := int(f.lens[0])
	ntok := f.ntok()
	in, H, K := cfg.features(), cfg.Hidden, len(w.tg.Tags)
	// Token inputs in text order: [emb ‖ cnn ‖ one-hots].
	w.xe = nn.Grow(w.xe, ntok*cfg.Embed)
	net.emb.Forward(f.ids, f.offs, w.xe)
	w.xt = nn.Grow(w.xt, ntok*in)
	fillOneHots(w.xt, in, cfg.oneHotCol(), f.cas, f.seg, f.lex)
	for r := 0; r < ntok; r++ {
		copy(w.xt[r*in:r*in+cfg.Embed], w.xe[r*cfg.Embed:(r+1)*cfg.Embed])
	}
	if net.cnn != nil {
		net.cnn.Forward(f.cids, f.coffs, w.xt, in, cfg.Embed, &w.cc)
	}
	if net.vec != nil {
		fillVectors(w.xt, in, cfg.vecCol(), net.vec.W, cfg.VecDim, f.vids)
	}
	// Time-major gather, gold tags alongside.
	n := steps * B
	w.x = nn.GrowZero(w.x, n*in)
	w.gold = nn.Grow(w.gold, n)
	w.allowed = nn.GrowZero(w.allowed, n)
	partial := false
	for t := 0; t < steps; t++ {
		for b, i := range sorted {
			r := t*B + b
			w.gold[r] = 0
			if t < int(f.lens[b]) {
				src := int(f.start[b]) + t
				copy(w.x[r*in:(r+1)*in], w.xt[src*in:(src+1)*in])
				w.gold[r] = data[i].tags[t]
				if a := data[i].allowed; a != nil {
					w.allowed[r] = a[t]
					partial = true
				}
			}
		}
	}
	w.xmask = nn.Grow(w.xmask, n*in)
	nn.Dropout(w.x, w.xmask, dropout, w.rng)
	w.seq = nn.Grow(w.seq, n*2*H)
	net.fwd.Forward(w.x, steps, B, f.lens, w.seq, 2*H, 0, &w.fc)
	net.bwd.Forward(w.x, steps, B, f.lens, w.seq, 2*H, H, &w.bc)
	w.emis = nn.Grow(w.emis, n*K)
	net.out.Forward(w.seq, n, w.emis)
	w.dem = nn.Grow(w.dem, n*K)
	if partial {
		w.loss = net.crf.NLLPartial(w.emis, steps, B, f.lens, w.gold, w.allowed, &w.tg.mask, w.dem)
	} else {
		w.loss = net.crf.NLL(w.emis, steps, B, f.lens, w.gold, &w.tg.mask, w.dem)
	}

	w.dseq = nn.Grow(w.dseq, n*2*H)
	net.out.Backward(w.seq, n, w.dem, w.dseq)
	w.dx = nn.GrowZero(w.dx, n*in)
	net.fwd.Backward(w.x, f.lens, w.dseq, 2*H, 0, w.dx, &w.fc)
	net.bwd.Backward(w.x, f.lens, w.dseq, 2*H, H, w.dx, &w.bc)
	nn.DropoutBackward(w.dx, w.xmask)
	// Scatter back to text order.
	w.dxt = nn.Grow(w.dxt, ntok*in)
	w.dxe = nn.Grow(w.dxe, ntok*cfg.Embed)
	for t := 0; t < steps; t++ {
		for b := range sorted {
			if t < int(f.lens[b]) {
				dst := int(f.start[b]) + t
				copy(w.dxt[dst*in:(dst+1)*in], w.dx[(t*B+b)*in:(t*B+b+1)*in])
			}
		}
	}
	for r := 0; r < ntok; r++ {
		copy(w.dxe[r*cfg.Embed:(r+1)*cfg.Embed], w.dxt[r*in:r*in+cfg.Embed])
	}
	net.emb.Backward(f.ids, f.offs, w.dxe)
	if net.cnn != nil {
		net.cnn.Backward(f.cids, f.coffs, w.dxt, in, cfg.Embed, &w.cc)
	}
}

// recordTrainConfig records the resolved training settings cfg in a new
// model's metadata as "train_config" (JSON).
func recordTrainConfig(info map[string]string, cfg any) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("record train_config: %w", err)
	}
	info["train_config"] = string(b)
	return nil
}
