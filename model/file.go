package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
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
	formatName        = "tagstream-model"
	// KindClassifier is the kind of a sentence classifier file.
	KindClassifier = "classifier"
)

// reservedMeta lists keys that Info may not override.
var reservedMeta = map[string]bool{
	metaFormat: true, metaFormatVersion: true, metaKind: true, metaLabels: true, metaVocab: true,
	metaTokenizer: true, metaTokVersion: true, metaConfig: true, metaDType: true, "sha256": true,
}

// Save writes the classifier as a safetensors file: float32 tensors and
// metadata (kind, labels, vocabulary, tokenizer settings, hyper-parameters,
// format version and Info, e.g. dev metrics and the training-data hash). A
// SHA-256 of the tensor payload is added by the writer.
func (c *Classifier) Save(w io.Writer) error {
	meta := map[string]string{}
	for k, v := range c.Info {
		if reservedMeta[k] {
			return fmt.Errorf("%w: info key %q is reserved", ErrConfig, k)
		}
		meta[k] = v
	}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // plain data types only: cannot fail
		}
		return string(b)
	}
	meta[metaFormat] = formatName
	meta[metaFormatVersion] = strconv.Itoa(FormatVersion)
	meta[metaKind] = KindClassifier
	meta[metaLabels] = js(c.Labels)
	meta[metaVocab] = js(c.Vocab.Words())
	meta[metaTokenizer] = js(c.Tokenizer.Options())
	meta[metaTokVersion] = strconv.Itoa(text.Version)
	meta[metaConfig] = js(c.Config)
	meta[metaDType] = "F32"
	n := &c.net
	f32 := func(name string, rows, cols int, w []float64) safetensors.Tensor {
		shape := []int{rows, cols}
		if rows == 1 {
			shape = []int{cols}
		}
		return safetensors.NewF32(name, shape, to32(w))
	}
	H, D, C := c.Config.Hidden, c.Config.Embed, len(c.Labels)
	ts := []safetensors.Tensor{
		f32("emb", n.emb.Table.Rows, D, n.emb.Table.W),
		f32("fwd.wx", D, 4*H, n.fwd.Wx.W), f32("fwd.wh", H, 4*H, n.fwd.Wh.W), f32("fwd.b", 1, 4*H, n.fwd.B.W),
		f32("bwd.wx", D, 4*H, n.bwd.Wx.W), f32("bwd.wh", H, 4*H, n.bwd.Wh.W), f32("bwd.b", 1, 4*H, n.bwd.B.W),
		f32("out.w", 4*H, C, n.out.W.W), f32("out.b", 1, C, n.out.B.W),
	}
	return safetensors.Write(w, ts, meta)
}

// TokenizerCache builds one Tokenizer per distinct options and shares it
// (loading the Chinese dictionary is slow and large). Safe for concurrent
// use. The zero value is ready.
type TokenizerCache struct {
	mu   sync.Mutex
	toks map[text.Options]*text.Tokenizer
}

// Get returns the shared tokenizer for opts, building it on first use.
func (tc *TokenizerCache) Get(opts text.Options) (*text.Tokenizer, error) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if t, ok := tc.toks[opts]; ok {
		return t, nil
	}
	t, err := text.New(opts)
	if err != nil {
		return nil, err
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
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%w: tensor %q element %d is %v", ErrFormat, name, i, x)
		}
	}
	return v, nil
}

// LoadClassifier reads a classifier written by Save. It checks the format
// version, checksum, kind, metadata and every tensor shape, and returns an
// error (never a panic) naming what is wrong. name (the file path) is put in
// errors. Tokenizers come from tc, shared with other models.
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
	c := &Classifier{Config: cfg, Labels: labels, Vocab: vocab, Tokenizer: tok, Info: map[string]string{}}
	for k, v := range h.meta {
		if !reservedMeta[k] {
			c.Info[k] = v
		}
	}
	D, H, C, rows := cfg.Embed, cfg.Hidden, len(labels), vocab.Len()+cfg.Buckets
	net := clsNet{
		emb: &nn.Embedding{Table: nn.NewParam("emb", rows, D)},
		fwd: &nn.LSTM{In: D, Hidden: H, Wx: nn.NewParam("fwd.wx", D, 4*H), Wh: nn.NewParam("fwd.wh", H, 4*H), B: nn.NewParam("fwd.b", 1, 4*H)},
		bwd: &nn.LSTM{In: D, Hidden: H, Reverse: true, Wx: nn.NewParam("bwd.wx", D, 4*H), Wh: nn.NewParam("bwd.wh", H, 4*H), B: nn.NewParam("bwd.b", 1, 4*H)},
		out: &nn.Dense{In: 4 * H, Out: C, W: nn.NewParam("out.w", 4*H, C), B: nn.NewParam("out.b", 1, C)},
	}
	net.emb.Table.Sparse, net.emb.Table.NoDecay = true, true
	net.fwd.B.NoDecay, net.bwd.B.NoDecay, net.out.B.NoDecay = true, true, true
	for _, p := range net.params() {
		shape := []int{p.Rows, p.Cols}
		if p.Rows == 1 {
			shape = []int{p.Cols}
		}
		w, err := h.weights(p.Name, shape...)
		if err != nil {
			return nil, err
		}
		copy(p.W, w)
	}
	c.net = net
	return c, nil
}
