package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/safetensors"
	"github.com/tagstream/tagstream/model/text"
)

// FormatVersion is the version of the model file layout written by this
// package. Loading refuses other versions.
const FormatVersion = 1

// MaxModelBytes bounds the size of a model file accepted by the loaders.
const MaxModelBytes = 1 << 30

// Metadata keys of a model file (safetensors __metadata__, all strings).
const (
	metaFormat        = "format"
	metaFormatVersion = "format_version"
	metaKind          = "kind"
	metaLabels        = "labels"
	metaVocab         = "vocab"
	metaTokenizer     = "tokenizer"
	metaTokVersion    = "tokenizer_version"
	metaConfig        = "config"
	metaDType         = "dtype"
	metaTags          = "tags"
	metaLang          = "lang"
	metaChars         = "chars"
	metaTypeMap       = "type_map"
	metaThresholds    = "thresholds" // a multi-label classifier's, per label
	metaVecWords      = "vec_words"  // a tagger's pretrained vector words (config vec_dim > 0)
	formatName        = "tagstream-model"
	// KindClassifier is the kind of a sentence classifier file.
	KindClassifier = "classifier"
	// KindTagger is the kind of a named-entity tagger file.
	KindTagger = "tagger"
	// KindLM is the kind of a language model file (tagstream pretrain).
	KindLM = "lm"
)

// reservedMeta lists keys that Info may not override.
var reservedMeta = map[string]bool{
	metaFormat: true, metaFormatVersion: true, metaKind: true, metaLabels: true, metaVocab: true,
	metaTokenizer: true, metaTokVersion: true, metaConfig: true, metaDType: true, "sha256": true,
	metaTags: true, metaLang: true, metaChars: true, metaTypeMap: true, metaThresholds: true,
	metaVecWords: true,
}

// Save writes the classifier as a safetensors file: float32 tensors and
// metadata (kind, labels, vocabulary, tokenizer settings, hyper-parameters,
// format version and Info, e.g. dev metrics and the training-data hash). A
// SHA-256 of the tensor payload is added by the writer.
//
// A multi-label classifier's file holds its thresholds (metadata
// "thresholds"), which is what marks it multi-label.
func (c *Classifier) Save(w io.Writer) error {
	values := map[string]any{metaLabels: c.Labels, metaVocab: c.Vocab.Words(), metaConfig: c.Config}
	if c.MultiLabel {
		if len(c.Thresholds) != len(c.Labels) {
			return fmt.Errorf("%w: multi-label classifier with %d thresholds for %d labels", ErrConfig, len(c.Thresholds), len(c.Labels))
		}
		values[metaThresholds] = c.Thresholds
	}
	return writeModel(w, KindClassifier, c.Info, c.Tokenizer, values, c.net.params())
}

// Save writes the tagger as a safetensors file (see Classifier.Save); the
// metadata holds the tag set, language and character vocabulary too.
func (tg *Tagger) Save(w io.Writer) error {
	values := map[string]any{
		metaTags: tg.Tags, metaLang: tg.Lang, metaVocab: tg.Vocab.Words(), metaChars: tg.Chars.Words(), metaConfig: tg.Config,
		metaTypeMap: tg.TypeMap,
	}
	if tg.VecWords != nil {
		values[metaVecWords] = tg.VecWords.Words()
	}
	return writeModel(w, KindTagger, tg.Info, tg.Tokenizer, values, tg.net.saved())
}

// Save writes the language model as a safetensors file (see
// Classifier.Save); the metadata holds its vocabulary and configuration.
func (lm *LanguageModel) Save(w io.Writer) error {
	return writeModel(w, KindLM, lm.Info, lm.Tokenizer, map[string]any{
		metaVocab: lm.Vocab.Words(), metaConfig: lm.Config,
	}, lm.net.params())
}

// LoadLM reads a language model file written by LanguageModel.Save,
// checking what LoadClassifier checks. name is used in errors; tc may be nil
// (a tokenizer of its own).
func LoadLM(r io.Reader, name string, tc *TokenizerCache) (*LanguageModel, error) {
	return loadKind(r, "language model", name, func(h *header) (*LanguageModel, error) { return h.lm(tc) })
}

// loadKind reads a model file's header and parses it with parse; errors
// name what is loaded and the file.
func loadKind[T any](r io.Reader, what, name string, parse func(*header) (T, error)) (T, error) {
	h, err := readHeader(r)
	if err == nil {
		var m T
		if m, err = parse(h); err == nil {
			return m, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("load %s %s: %w", what, name, err)
}

func (h *header) lm(tc *TokenizerCache) (*LanguageModel, error) {
	if h.kind != KindLM {
		return nil, fmt.Errorf("%w: kind %q, want %q (a language model from tagstream pretrain)", ErrFormat, h.kind, KindLM)
	}
	var cfg LMConfig
	var words []string
	if err := h.json(metaConfig, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: metadata config: %v", ErrFormat, err)
	}
	if err := h.json(metaVocab, &words); err != nil {
		return nil, err
	}
	tok, err := h.tokenizer(tc)
	if err != nil {
		return nil, err
	}
	vocab := NewVocab(words)
	if vocab.Len() != len(words)+1 || vocab.Len() < 2 {
		return nil, fmt.Errorf("%w: vocabulary is empty or has duplicate words", ErrFormat)
	}
	if err := h.checkSize(cfg.numParams(vocab.Len())); err != nil {
		return nil, err
	}
	lm, err := NewLanguageModel(cfg, vocab, tok, rand.New(rand.NewPCG(1, 1))) // weights are overwritten below
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if err := h.fill(lm.net.params()); err != nil {
		return nil, err
	}
	lm.Info = h.info()
	lm.Checksum = h.meta["sha256"]
	return lm, nil
}

// writeModel writes params as float32 tensors (a 1-row parameter as a
// vector) with the common metadata, the JSON of each model-specific value
// and info.
func writeModel(w io.Writer, kind string, info map[string]string, tok *text.Tokenizer, values map[string]any, params []*nn.Param) error {
	meta := map[string]string{}
	for k, v := range info {
		if reservedMeta[k] {
			return fmt.Errorf("%w: info key %q is reserved", ErrConfig, k)
		}
		meta[k] = v
	}
	values[metaTokenizer] = tok.Options()
	for k, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode metadata %s: %w", k, err)
		}
		meta[k] = string(b)
	}
	meta[metaFormat] = formatName
	meta[metaFormatVersion] = strconv.Itoa(FormatVersion)
	meta[metaKind] = kind
	meta[metaTokVersion] = strconv.Itoa(text.Version)
	meta[metaDType] = "F32"
	ts := make([]safetensors.Tensor, 0, len(params))
	for _, p := range params {
		ts = append(ts, safetensors.NewF32(p.Name, paramShape(p), to32(p.W)))
	}
	return safetensors.Write(w, ts, meta)
}

func paramShape(p *nn.Param) []int {
	if p.Rows == 1 {
		return []int{p.Cols}
	}
	return []int{p.Rows, p.Cols}
}

// TokenizerCache builds one Tokenizer per distinct options and shares it,
// and tokenizers whose options differ but name the same dictionary share
// that dictionary (loading it is slow and large). Safe for concurrent
// use. The zero value is ready.
type TokenizerCache struct {
	mu   sync.Mutex
	toks map[text.Options]*text.Tokenizer
}

// Get returns the shared tokenizer for opts, building it on first use. A
// nil cache shares nothing: it builds a new tokenizer on every call (so the
// loaders accept a nil cache).
func (tc *TokenizerCache) Get(opts text.Options) (*text.Tokenizer, error) {
	if tc == nil {
		return text.New(opts)
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if t, ok := tc.toks[opts]; ok {
		return t, nil
	}
	var t *text.Tokenizer
	var err error
	for _, have := range tc.toks { // share a loaded dictionary
		if t, err = have.WithOptions(opts); err == nil {
			break
		}
	}
	if t == nil {
		if t, err = text.New(opts); err != nil {
			return nil, err
		}
	}
	if tc.toks == nil {
		tc.toks = map[text.Options]*text.Tokenizer{}
	}
	tc.toks[t.Options()] = t
	tc.toks[opts] = t
	return t, nil
}

// header is the decoded common metadata of a model file.
type header struct {
	kind string
	meta map[string]string
	file *safetensors.File
}

// readHeader reads and checks a model file: layout, checksum, format name
// and version. name is used in errors.
func readHeader(r io.Reader) (*header, error) {
	f, err := safetensors.Read(r, MaxModelBytes)
	if err != nil {
		return nil, err
	}
	m := f.Meta
	if m[metaFormat] != formatName {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrFormat, m[metaFormat], formatName)
	}
	if _, ok := m["sha256"]; !ok {
		return nil, fmt.Errorf("%w: no sha256 checksum in metadata", ErrFormat)
	}
	if v := m[metaFormatVersion]; v != strconv.Itoa(FormatVersion) {
		return nil, fmt.Errorf("%w: format version %q, this build reads %d", ErrFormat, v, FormatVersion)
	}
	return &header{kind: m[metaKind], meta: m, file: f}, nil
}

func (h *header) json(key string, v any) error {
	s, ok := h.meta[key]
	if !ok {
		return fmt.Errorf("%w: metadata %q missing", ErrFormat, key)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: metadata %q: %v", ErrFormat, key, err)
	}
	return nil
}

func (h *header) tokenizer(tc *TokenizerCache) (*text.Tokenizer, error) {
	if v := h.meta[metaTokVersion]; v != strconv.Itoa(text.Version) {
		return nil, fmt.Errorf("%w: tokenizer version %q, this build has %d", ErrFormat, v, text.Version)
	}
	var opts text.Options
	if err := h.json(metaTokenizer, &opts); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("%w: metadata %q: %v", ErrFormat, metaTokenizer, err)
	}
	return tc.Get(opts)
}

// weights reads a float tensor of the given shape into float64.
func (h *header) weights(name string, shape ...int) ([]float64, error) {
	t, err := h.file.Tensor(name, "", shape...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	v, err := t.Float64s()
	if err != nil {
		return nil, fmt.Errorf("%w: tensor %q: %v", ErrFormat, name, err)
	}
	// Inference runs on a float32 copy (Compile) and Save writes float32,
	// so a finite float64 beyond the float32 range (an F64 tensor) would
	// become ±Inf there: refuse it like a non-finite weight.
	for i, x := range v {
		if math.IsNaN(x) || math.Abs(x) > math.MaxFloat32 {
			return nil, fmt.Errorf("%w: tensor %q element %d is %v, not a finite float32", ErrFormat, name, i, x)
		}
	}
	return v, nil
}

// LoadClassifier reads a classifier written by Save. It checks the format
// version, checksum, kind, metadata and every tensor shape, and returns an
// error (never a panic) naming what is wrong. name (the file path) is put in
// errors. Tokenizers come from tc, shared with other models (nil: a
// tokenizer of its own).
func LoadClassifier(r io.Reader, name string, tc *TokenizerCache) (*Classifier, error) {
	c, err := loadClassifier(r, tc)
	if err != nil {
		return nil, fmt.Errorf("load classifier %s: %w", name, err)
	}
	return c, nil
}

func loadClassifier(r io.Reader, tc *TokenizerCache) (*Classifier, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	return h.classifier(tc)
}

func (h *header) classifier(tc *TokenizerCache) (*Classifier, error) {
	if h.kind != KindClassifier {
		return nil, fmt.Errorf("%w: kind %q, want %q", ErrFormat, h.kind, KindClassifier)
	}
	var cfg ClassifierConfig
	var labels, words []string
	if err := h.json(metaConfig, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: metadata config: %v", ErrFormat, err)
	}
	if err := h.json(metaLabels, &labels); err != nil {
		return nil, err
	}
	if len(labels) < 2 {
		return nil, fmt.Errorf("%w: %d labels, want at least 2", ErrFormat, len(labels))
	}
	if err := h.json(metaVocab, &words); err != nil {
		return nil, err
	}
	tok, err := h.tokenizer(tc)
	if err != nil {
		return nil, err
	}
	vocab := NewVocab(words)
	if vocab.Len() != len(words)+1 {
		return nil, fmt.Errorf("%w: vocabulary has duplicate words", ErrFormat)
	}
	if err := h.checkSize(cfg.numParams(vocab.Len(), len(labels))); err != nil {
		return nil, err
	}
	c, err := NewClassifier(cfg, labels, vocab, tok, rand.New(rand.NewPCG(1, 1))) // weights are overwritten below
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if err := h.fill(c.net.params()); err != nil {
		return nil, err
	}
	if _, ok := h.meta[metaThresholds]; ok {
		var th []float64
		if err := h.json(metaThresholds, &th); err != nil {
			return nil, err
		}
		if len(th) != len(labels) {
			return nil, fmt.Errorf("%w: %d thresholds for %d labels", ErrFormat, len(th), len(labels))
		}
		for j, t := range th {
			if !(t > 0 && t < 1) {
				return nil, fmt.Errorf("%w: threshold of label %q is %v, want one in (0, 1)", ErrFormat, labels[j], t)
			}
		}
		c.MultiLabel, c.Thresholds = true, th
	}
	c.Info = h.info()
	c.Checksum = h.meta["sha256"]
	return c, nil
}

// fill reads every parameter's tensor (by name, checking the shape).
func (h *header) fill(params []*nn.Param) error {
	for _, p := range params {
		if t, ok := h.file.Lookup(p.Name); ok && t.DType == safetensors.I8 {
			if err := h.int8Weights(p.W, p.Name, p.Rows, p.Cols); err != nil {
				return err
			}
			continue
		}
		w, err := h.weights(p.Name, paramShape(p)...)
		if err != nil {
			return err
		}
		copy(p.W, w)
	}
	return nil
}

// info returns the non-reserved metadata.
func (h *header) info() map[string]string {
	m := map[string]string{}
	for k, v := range h.meta {
		if !reservedMeta[k] {
			m[k] = v
		}
	}
	return m
}

// LoadTagger reads a tagger written by Tagger.Save, with the same checks as
// LoadClassifier.
func LoadTagger(r io.Reader, name string, tc *TokenizerCache) (*Tagger, error) {
	return loadKind(r, "tagger", name, func(h *header) (*Tagger, error) { return h.tagger(tc) })
}

func (h *header) tagger(tc *TokenizerCache) (*Tagger, error) {
	if h.kind != KindTagger {
		return nil, fmt.Errorf("%w: kind %q, want %q", ErrFormat, h.kind, KindTagger)
	}
	var cfg TaggerConfig
	var tags, words, chars []string
	var lang string
	var typeMap map[string]string
	for key, v := range map[string]any{metaConfig: &cfg, metaTags: &tags, metaVocab: &words, metaChars: &chars, metaLang: &lang, metaTypeMap: &typeMap} {
		if err := h.json(key, v); err != nil {
			return nil, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: metadata config: %v", ErrFormat, err)
	}
	if lang != "en" && lang != "zh" {
		return nil, fmt.Errorf("%w: lang %q, want en or zh", ErrFormat, lang)
	}
	tok, err := h.tokenizer(tc)
	if err != nil {
		return nil, err
	}
	vocab, charVocab := NewVocab(words), NewVocab(chars)
	if vocab.Len() != len(words)+1 || charVocab.Len() != len(chars)+1 {
		return nil, fmt.Errorf("%w: vocabulary has duplicate entries", ErrFormat)
	}
	var vecWords *Vocab
	vecRows := 0
	if cfg.VecDim > 0 {
		var vw []string
		if err := h.json(metaVecWords, &vw); err != nil {
			return nil, err
		}
		if vecWords = NewVocab(vw); vecWords.Len() != len(vw)+1 {
			return nil, fmt.Errorf("%w: metadata %q has duplicate words", ErrFormat, metaVecWords)
		}
		vecRows = vecWords.Len()
	}
	if err := h.checkSize(cfg.numParams(vocab.Len(), charVocab.Len(), len(tags), vecRows)); err != nil {
		return nil, err
	}
	tg, err := NewTagger(cfg, lang, tags, vocab, charVocab, tok, rand.New(rand.NewPCG(1, 1))) // weights are overwritten below
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if vecWords != nil {
		if err := tg.setVectors(vecWords, nil); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
	}
	if err := h.fill(tg.net.saved()); err != nil {
		return nil, err
	}
	tg.Info = h.info()
	tg.Checksum = h.meta["sha256"]
	tg.TypeMap = typeMap
	return tg, nil
}

// Loaded is a model file of either kind.
type Loaded struct {
	Classifier *Classifier
	Tagger     *Tagger
}

// Load reads a model file of any kind (see LoadClassifier, LoadTagger).
func Load(r io.Reader, name string, tc *TokenizerCache) (Loaded, error) {
	h, err := readHeader(r)
	var l Loaded
	if err == nil {
		switch h.kind {
		case KindClassifier:
			l.Classifier, err = h.classifier(tc)
		case KindTagger:
			l.Tagger, err = h.tagger(tc)
		default:
			err = fmt.Errorf("%w: kind %q, want %q or %q", ErrFormat, h.kind, KindClassifier, KindTagger)
		}
	}
	if err != nil {
		return Loaded{}, fmt.Errorf("load model %s: %w", name, err)
	}
	return l, nil
}

// checkSize refuses metadata that implies more weights than the file holds,
// before anything that large is allocated (a corrupt or hostile header could
// otherwise ask for gigabytes).
func (h *header) checkSize(want int) error {
	have := 0
	for _, t := range h.file.Tensors {
		if h.isScale(t) {
			continue
		}
		n, err := safetensors.Elements(t.Shape)
		if err != nil {
			return fmt.Errorf("%w: tensor %q: %v", ErrFormat, t.Name, err)
		}
		have += n
	}
	if want != have {
		return fmt.Errorf("%w: metadata implies %d weights, the file holds %d", ErrFormat, want, have)
	}
	return nil
}

// NewTokenizerCache returns a cache that already holds toks, so models
// loaded through it share them (a tokenizer with a Chinese dictionary is
// large and slow to build).
func NewTokenizerCache(toks ...*text.Tokenizer) *TokenizerCache {
	tc := &TokenizerCache{toks: map[text.Options]*text.Tokenizer{}}
	for _, t := range toks {
		tc.toks[t.Options()] = t
	}
	return tc
}
