package model

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// TaggerConfig holds the NER tagger's architecture. Zero fields take the
// defaults of DefaultTaggerConfig. It is recorded in the model file.
type TaggerConfig struct {
	// Embed is the width of token embeddings (default 64, 4..1024).
	Embed int `json:"embed"`
	// CharEmbed and CharFilters size the character CNN word encoder
	// (defaults 25 and 30); CharWindow is its window (default 3).
	// NoCharCNN disables it (the Chinese tagger's tokens are characters).
	CharEmbed   int  `json:"char_embed"`
	CharFilters int  `json:"char_filters"`
	CharWindow  int  `json:"char_window"`
	NoCharCNN   bool `json:"no_char_cnn"`
	// Bigrams adds to each token a hashed sub-word row for the pair (token,
	// next token): the "bichar" feature of Chinese character taggers (Zhang
	// & Yang 2018). Off by default: on weibo_ner (1,350 sentences) it
	// overfit (dev F1 0.499 against 0.556 without, at epoch 12).
	Bigrams bool `json:"bigrams"`
	// Hidden is the number of LSTM units per direction (default 100, 4..1024).
	Hidden int `json:"hidden"`
	// Buckets is the number of hashed sub-word rows (default 10000).
	Buckets int `json:"buckets"`
	// MaxTokens is the number of tokens tagged per text (default 256); the
	// rest is not tagged.
	MaxTokens int `json:"max_tokens"`
	// MaxWordChars is the number of characters the CNN sees per token
	// (default 20).
	MaxWordChars int `json:"max_word_chars"`
	// Lexicon adds to each token's input the text.NumLexBits columns of
	// its lexicon mask (Token.Lex, multi-hot 0/1): which gse dictionary
	// words cover a Han character, at which position, and whether each is
	// a person, place, organisation or other proper name or a common word
	// (SoftLexicon of Ma et al. 2020 without word vectors). Latin tokens
	// have no bits set. Off by default (files without the field load as
	// before); it needs a tokenizer with a dictionary (not "chars"). It
	// adds input columns, no other parameters.
	Lexicon bool `json:"lexicon,omitempty"`
	// VecDim is the width of the pretrained word vectors each token's
	// input carries (Tagger.VecWords; frozen, never trained), 0 for none.
	// Files without the field load as before.
	VecDim int `json:"vec_dim,omitempty"`
}

// DefaultTaggerConfig returns the default architecture.
func DefaultTaggerConfig() TaggerConfig {
	return TaggerConfig{Embed: 64, CharEmbed: 25, CharFilters: 30, CharWindow: 3, Hidden: 100, Buckets: 10000, MaxTokens: 256, MaxWordChars: 20}
}

func (c TaggerConfig) withDefaults() TaggerConfig {
	d := DefaultTaggerConfig()
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Embed, d.Embed)
	def(&c.CharEmbed, d.CharEmbed)
	def(&c.CharFilters, d.CharFilters)
	def(&c.CharWindow, d.CharWindow)
	def(&c.Hidden, d.Hidden)
	def(&c.Buckets, d.Buckets)
	def(&c.MaxTokens, d.MaxTokens)
	def(&c.MaxWordChars, d.MaxWordChars)
	return c
}

// Validate reports the first field out of range.
func (c TaggerConfig) Validate() error {
	check := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("%w: %s = %d, want %d..%d", ErrConfig, name, v, lo, hi)
		}
		return nil
	}
	for _, e := range []error{
		check("embed", c.Embed, 4, 1024),
		check("char_embed", c.CharEmbed, 1, 256),
		check("char_filters", c.CharFilters, 1, 512),
		check("char_window", c.CharWindow, 1, 9),
		check("hidden", c.Hidden, 4, 1024),
		check("buckets", c.Buckets, 0, 1<<22),
		check("max_tokens", c.MaxTokens, 1, 4096),
		check("max_word_chars", c.MaxWordChars, 1, 256),
		check("vec_dim", c.VecDim, 0, 1024),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

// features returns the width of a token's input vector:
// [embedding ‖ char CNN ‖ one-hot casing ‖ one-hot word position ‖
// lexicon mask (Lexicon)].
func (c TaggerConfig) features() int {
	return c.oneHotCol() + int(text.NumCasing) + int(text.NumSegPos) + c.lexBits()
}

// oneHotCol returns the first column after the embedding, the char CNN
// and the pretrained vector: that of the one-hot casing, followed by the
// word position and the lexicon columns (see fillOneHots).
func (c TaggerConfig) oneHotCol() int {
	return c.vecCol() + c.VecDim
}

// vecCol returns the first column of the pretrained word vector (after the
// embedding and the char CNN).
func (c TaggerConfig) vecCol() int {
	if c.NoCharCNN {
		return c.Embed
	}
	return c.Embed + c.CharFilters
}

// lexBits returns the number of lexicon input columns.
func (c TaggerConfig) lexBits() int {
	if c.Lexicon {
		return text.NumLexBits
	}
	return 0
}

// Tagger is a BiLSTM-CRF named-entity tagger (Huang et al. 2015; Lample et
// al. 2016; char CNN of Ma & Hovy 2016). Each token's input is
//
//	x_t = [mean(E[word_t], E[sub-words]) ‖ CharCNN(chars_t) ‖ V[word_t] ‖ onehot(case_t) ‖ onehot(seg_t) ‖ lex_t]
//
// where V, with Config.VecDim > 0, is a table of pretrained word vectors
// (GloVe, say) kept frozen, so that words the training data never had
// still arrive with what a large corpus knows of them; case_t is the
// token's casing (the tokenizer lowercases), seg_t the position of a Han
// character in its gse word (B/M/E/S, the "softword" feature of Zhao & Kit
// 2008 / Peng & Dredze 2015) and lex_t, with
// Config.Lexicon, the 0/1 bits of its lexicon mask (text.LexBit: every
// dictionary word covering the character, by position and category; the
// "SoftLexicon" sets of Ma et al. 2020 as indicators). A BiLSTM reads x, a
// linear layer gives emission scores E_t, and a linear-chain CRF with learned
// transitions and BIO constraints scores tag paths:
//
//	score(y) = Start_{y_0} + Σ_t E_{t,y_t} + Σ_t Trans_{y_{t-1},y_t} + End_{y_n}
//
// Training minimises -log p(y|x) (forward algorithm); decoding is Viterbi.
// Tokens are the tokenizer's character view: one per Han character, Latin
// words whole.
type Tagger struct {
	Config TaggerConfig
	Tags   []string
	Lang   string
	// TypeMap maps the data's entity types (after removing a .NAM/.NOM
	// suffix) to the types reported at prediction time, so every model
	// reports PER, LOC, ORG and MISC; unmapped types pass through.
	// Evaluation scores the raw types.
	TypeMap map[string]string
	Vocab   *Vocab
	Chars   *Vocab // CNN character vocabulary (original case)
	// VecWords are the words of the pretrained vector table (Config.VecDim
	// > 0; row 0, <unk>, is zero), nil without one.
	VecWords  *Vocab
	Tokenizer *text.Tokenizer
	Info      map[string]string
	// Checksum is as for Classifier.Checksum.
	Checksum string

	mask nn.CRFMask
	net  tagNet
}

type tagNet struct {
	emb      *nn.Embedding
	cnn      *nn.CharCNN // nil when NoCharCNN
	fwd, bwd *nn.LSTM
	out      *nn.Dense
	crf      *nn.CRF
	vec      *nn.Param // pretrained word vectors (frozen: not in params), or nil
}

func (n *tagNet) params() []*nn.Param {
	var ps []*nn.Param
	ps = append(ps, n.emb.Params()...)
	if n.cnn != nil {
		ps = append(ps, n.cnn.Params()...)
	}
	ps = append(ps, n.fwd.Params()...)
	ps = append(ps, n.bwd.Params()...)
	ps = append(ps, n.out.Params()...)
	ps = append(ps, n.crf.Params()...)
	return ps
}

// saved returns the weights a file holds: params and the frozen vectors.
func (n *tagNet) saved() []*nn.Param {
	if n.vec == nil {
		return n.params()
	}
	return append(n.params(), n.vec)
}

func (n *tagNet) gradView() tagNet {
	v := tagNet{emb: n.emb.GradView(), fwd: n.fwd.GradView(), bwd: n.bwd.GradView(), out: n.out.GradView(), crf: n.crf.GradView(), vec: n.vec}
	if n.cnn != nil {
		v.cnn = n.cnn.GradView()
	}
	return v
}

// NewTagger returns a randomly initialised tagger. tags must be a BIO tag set.
func NewTagger(cfg TaggerConfig, lang string, tags []string, vocab, chars *Vocab, tok *text.Tokenizer, rng *rand.Rand) (*Tagger, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(tags) < 2 {
		return nil, fmt.Errorf("%w: %d tags, want at least 2", ErrConfig, len(tags))
	}
	if cfg.Lexicon && (tok == nil || tok.Options().Dict == text.DictChars) {
		return nil, fmt.Errorf("%w: lexicon features need a tokenizer with a dictionary, not %q", ErrConfig, text.DictChars)
	}
	for _, t := range tags {
		if t != "O" && !strings.HasPrefix(t, "B-") && !strings.HasPrefix(t, "I-") {
			return nil, fmt.Errorf("%w: tag %q is not O, B-X or I-X", ErrConfig, t)
		}
	}
	in, h := cfg.features(), cfg.Hidden
	tg := &Tagger{Config: cfg, Tags: tags, Lang: lang, Vocab: vocab, Chars: chars, Tokenizer: tok, Info: map[string]string{}, mask: nn.BIOMask(tags)}
	tg.net = tagNet{
		emb: nn.NewEmbedding("emb", vocab.Len()+cfg.Buckets, cfg.Embed, rng, 0.1),
		fwd: nn.NewLSTM("fwd", in, h, false, rng),
		bwd: nn.NewLSTM("bwd", in, h, true, rng),
		out: nn.NewDense("out", 2*h, len(tags), rng),
		crf: nn.NewCRF("crf", len(tags), rng),
	}
	if !cfg.NoCharCNN {
		tg.net.cnn = nn.NewCharCNN("cnn", chars.Len(), cfg.CharEmbed, cfg.CharFilters, cfg.CharWindow, rng)
	}
	return tg, nil
}

// setVectors gives the tagger its pretrained vector table: words (row i+1
// for word i) and their vectors (len(words)×Config.VecDim, row-major; nil
// leaves them zero, for a loader to fill).
func (tg *Tagger) setVectors(words *Vocab, vecs []float64) error {
	d := tg.Config.VecDim
	if d == 0 {
		return fmt.Errorf("%w: pretrained vectors for a tagger without vec_dim", ErrConfig)
	}
	if vecs != nil && len(vecs) != (words.Len()-1)*d {
		return fmt.Errorf("%w: %d vector values for %d words of width %d", ErrConfig, len(vecs), words.Len()-1, d)
	}
	p := nn.NewParam("vec", words.Len(), d)
	copy(p.W[d:], vecs)
	tg.VecWords, tg.net.vec = words, p
	return nil
}

// tagFeatures holds the input features of a batch of texts in text order:
// per token a bag of embedding rows, a list of CNN character ids, casing,
// word position and, only for a tagger with Config.Lexicon (else empty), the
// lexicon mask; per text its first token and token count.
type tagFeatures struct {
	ids, offs   []int32
	vids        []int32 // pretrained vector row per token (Config.VecDim > 0), else empty
	cids, coffs []int32
	cas, seg    []uint8
	lex         []uint32
	start, lens []int32
}

func (f *tagFeatures) reset() {
	f.ids, f.offs, f.vids = f.ids[:0], append(f.offs[:0], 0), f.vids[:0]
	f.cids, f.coffs = f.cids[:0], append(f.coffs[:0], 0)
	f.cas, f.seg, f.lex = f.cas[:0], f.seg[:0], f.lex[:0]
	f.start, f.lens = f.start[:0], f.lens[:0]
}

func (f *tagFeatures) ntok() int { return len(f.offs) - 1 }

// addToken appends one token: its bag is the rows of every piece (a gold
// token the tokenizer splits averages its pieces), its characters are runes
// (original case) mapped through chars, at most maxChars of them.
func (f *tagFeatures) addToken(vocab *Vocab, buckets int, pieces []text.Token, next string, chars *Vocab, runes []rune, maxChars int, cas text.Casing, seg text.SegPos) {
	start := len(f.ids)
	base := int32(vocab.Len())
	for _, p := range pieces {
		if id, ok := vocab.ID(p.Text); ok {
			f.ids = append(f.ids, id)
		}
		if buckets > 0 {
			sub := len(f.ids)
			f.ids = text.Subwords(f.ids, p.Text, p.Kind, int32(buckets))
			for i := sub; i < len(f.ids); i++ {
				f.ids[i] += base
			}
		}
	}
	if next != "" && buckets > 0 && len(pieces) > 0 {
		f.ids = append(f.ids, base+pairBucket(pieces[len(pieces)-1].Text, next, uint32(buckets)))
	}
	if len(f.ids) == start {
		f.ids = append(f.ids, 0)
	}
	f.offs = append(f.offs, int32(len(f.ids)))
	if chars != nil {
		for _, r := range runes[:min(len(runes), maxChars)] {
			f.cids = append(f.cids, chars.runeID(r))
		}
	}
	f.coffs = append(f.coffs, int32(len(f.cids)))
	f.cas = append(f.cas, uint8(cas))
	f.seg = append(f.seg, uint8(seg))
}

// runeID returns the row of a single-rune word, 0 (<unk>) if unknown. It
// does not allocate: the rune is encoded into a stack buffer and the map is
// indexed with string(bytes), which the compiler does not copy.
func (v *Vocab) runeID(r rune) int32 {
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	id, ok := v.index[string(b[:n])] // map lookup of string(bytes) does not allocate
	if !ok {
		return 0
	}
	return id
}

// encodeTokens appends the features of text s from its character-view
// tokens, recording token spans (rune offsets into s). runes is scratch.
func (tg *Tagger) encodeTokens(f *tagFeatures, runes []rune, s string, toks []text.Token, spans *[]tokSpan) []rune {
	runes = runes[:0]
	for _, r := range s {
		runes = append(runes, r)
	}
	n := min(len(toks), tg.Config.MaxTokens)
	f.start = append(f.start, int32(f.ntok()))
	f.lens = append(f.lens, int32(n))
	for i := range toks[:n] {
		tk := &toks[i]
		next := ""
		if tg.Config.Bigrams {
			next = "</s>"
			if i+1 < len(toks) {
				next = toks[i+1].Text
			}
		}
		f.addToken(tg.Vocab, tg.Config.Buckets, toks[i:i+1], next, tg.charVocab(), runes[tk.Start:tk.End], tg.Config.MaxWordChars, tk.Case, tk.Seg)
		if tg.VecWords != nil {
			f.vids = append(f.vids, vecRow(tg.VecWords, toks[i:i+1]))
		}
		if tg.Config.Lexicon {
			f.lex = append(f.lex, tk.Lex)
		}
		*spans = append(*spans, tokSpan{start: int32(tk.Start), end: int32(tk.End), sym: tk.Kind == text.Emoji || tk.Kind == text.Emoticon})
	}
	return runes
}

func (tg *Tagger) charVocab() *Vocab {
	if tg.Config.NoCharCNN {
		return nil
	}
	return tg.Chars
}

// tokSpan is a token's rune span in its text; sym marks an emoji or
// emoticon, which is never part of an entity.
type tokSpan struct {
	start, end int32
	sym        bool
}

// encodeGold appends the features of a pre-tokenized sentence (training and
// evaluation data). Casing comes from each token's first cased piece and the
// word position and lexicon mask from segmenting the joined sentence, as at
// inference.
func (tg *Tagger) encodeGold(f *tagFeatures, buf *text.Buffer, tokens []string) {
	// Word positions and lexicon masks: run the character view over the
	// joined sentence and map each gold token to the view token covering
	// its first rune.
	sep := tokenSep(tg.Lang)
	joined := strings.Join(tokens, sep)
	segAt := make([]text.SegPos, utf8.RuneCountInString(joined)+1)
	var lexAt []uint32
	if tg.Config.Lexicon {
		lexAt = make([]uint32, len(segAt))
	}
	for _, tk := range tg.Tokenizer.Chars(buf, joined) {
		for r := tk.Start; r < tk.End && r < len(segAt); r++ {
			segAt[r] = tk.Seg
			if lexAt != nil {
				lexAt[r] = tk.Lex
			}
		}
	}
	n := min(len(tokens), tg.Config.MaxTokens)
	f.start = append(f.start, int32(f.ntok()))
	f.lens = append(f.lens, int32(n))
	// Normalised first piece of every token, for the bigram feature.
	var firsts []string
	if tg.Config.Bigrams {
		firsts = make([]string, len(tokens)+1)
		for i, tok := range tokens {
			if p := tg.Tokenizer.Chars(buf, tok); len(p) > 0 {
				firsts[i] = strings.Clone(p[0].Text)
			}
		}
		firsts[len(tokens)] = "</s>"
	}
	pos := 0
	for i, tok := range tokens[:n] {
		seg := segAt[min(pos, len(segAt)-1)]
		if lexAt != nil {
			f.lex = append(f.lex, lexAt[min(pos, len(lexAt)-1)])
		}
		pos += utf8.RuneCountInString(tok) + len(sep)
		pieces := tg.Tokenizer.Chars(buf, tok)
		cas := text.CaseNone
		for _, p := range pieces {
			if p.Case != text.CaseNone {
				cas = p.Case
				break
			}
		}
		next := ""
		if firsts != nil {
			next = firsts[i+1]
		}
		f.addToken(tg.Vocab, tg.Config.Buckets, pieces, next, tg.charVocab(), []rune(tok), tg.Config.MaxWordChars, cas, seg)
		if tg.VecWords != nil {
			f.vids = append(f.vids, vecRow(tg.VecWords, pieces))
		}
	}
}

// vecRow returns the pretrained vector row of a token: that of its first
// piece the table has, trying a mention or hashtag without its @ or #;
// 0 (the zero row) when none has one.
func vecRow(words *Vocab, pieces []text.Token) int32 {
	for _, p := range pieces {
		if id, ok := words.ID(p.Text); ok {
			return id
		}
		if len(p.Text) > 1 && (p.Text[0] == '@' || p.Text[0] == '#') {
			if id, ok := words.ID(p.Text[1:]); ok {
				return id
			}
		}
	}
	return 0
}

// fillVectors copies the pretrained vector rows of the tokens (vids) into
// x (ntok × width, text order) at column col.
func fillVectors[T nn.Float](x []T, width, col int, table []T, dim int, vids []int32) {
	for r, id := range vids {
		copy(x[r*width+col:r*width+col+dim], table[int(id)*dim:(int(id)+1)*dim])
	}
}

// tokenSep is what joins a sentence's tokens into its text: a space for
// English, nothing for Chinese (one token per character).
func tokenSep(lang string) string {
	if lang == "zh" {
		return ""
	}
	return " "
}

// pairBucket hashes the pair (a, b) into [0, buckets) with FNV-1a 32 over
// a, a 0 byte and b. It does not allocate.
func pairBucket(a, b string, buckets uint32) int32 {
	h := uint32(2166136261)
	for i := 0; i < len(a); i++ {
		h = (h ^ uint32(a[i])) * 16777619
	}
	h *= 16777619 // the 0 separator byte
	for i := 0; i < len(b); i++ {
		h = (h ^ uint32(b[i])) * 16777619
	}
	return int32(h % buckets)
}

// fillOneHots writes the non-learned parts of the token inputs into x
// (ntok × width, text order) from column col (TaggerConfig.oneHotCol) on:
// the one-hot casing and word-position columns and, when lex is not empty
// (a tagger with Lexicon; one mask per token), the text.NumLexBits lexicon
// columns after them, 1 where the mask has the bit. The embedding and CNN
// columns before col are filled by the caller. It panics if lex is neither
// empty nor as long as cas.
func fillOneHots[T nn.Float](x []T, width, col int, cas, seg []uint8, lex []uint32) {
	if len(lex) != 0 && len(lex) != len(cas) {
		panic(fmt.Sprintf("model: %d lexicon masks for %d tokens", len(lex), len(cas)))
	}
	const lexCol = int(text.NumCasing) + int(text.NumSegPos)
	for r := range cas {
		row := x[r*width+col : (r+1)*width]
		clear(row)
		row[cas[r]] = 1
		row[int(text.NumCasing)+int(seg[r])] = 1
		if len(lex) != 0 {
			for m := lex[r]; m != 0; m &= m - 1 {
				row[lexCol+bits.TrailingZeros32(m)] = 1
			}
		}
	}
}

// DefaultTypeMap maps the entity types of the shared NER data sets to the
// result types PER, LOC, ORG and MISC: Weibo's GPE (geo-political entity)
// is a location; WNUT-17 and Resume NER use their own names.
func DefaultTypeMap() map[string]string {
	return map[string]string{
		"GPE": "LOC", "person": "PER", "location": "LOC", "corporation": "ORG", "group": "ORG",
		"product": "MISC", "creative-work": "MISC", "NAME": "PER", "CONT": "LOC", "EDU": "ORG",
		"RACE": "MISC", "TITLE": "MISC", "PRO": "MISC",
	}
}

// splitType returns a raw entity type's base type and whether it carries a
// nominal (.NOM) or named (.NAM) suffix: "GPE.NOM" -> "GPE", true, true.
func splitType(t string) (base string, nominal, marked bool) {
	switch {
	case strings.HasSuffix(t, ".NOM"):
		return t[:len(t)-4], true, true
	case strings.HasSuffix(t, ".NAM"):
		return t[:len(t)-4], false, true
	}
	return t, false, false
}

// numParams returns the number of weights of a tagger with this config,
// vocab rows, chars character rows (both including <unk>), tags tags and
// vecRows pretrained vector rows (including <unk>; 0 without vectors).
func (c TaggerConfig) numParams(vocab, chars, tags, vecRows int) int {
	in, h := c.features(), c.Hidden
	n := (vocab+c.Buckets)*c.Embed + 2*(in*4*h+h*4*h+4*h) + 2*h*tags + tags + tags*tags + 2*tags + vecRows*c.VecDim
	if !c.NoCharCNN {
		n += chars*c.CharEmbed + c.CharWindow*c.CharEmbed*c.CharFilters + c.CharFilters
	}
	return n
}
