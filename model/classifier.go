package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// ClassifierConfig holds the classifier's architecture. Zero fields take the
// defaults of DefaultClassifierConfig. It is recorded in the model file.
type ClassifierConfig struct {
	// Embed is the width of word and sub-word embeddings (default 64, 4..1024).
	Embed int `json:"embed"`
	// Hidden is the number of LSTM units per direction (default 64, 4..1024).
	Hidden int `json:"hidden"`
	// Buckets is the number of hashed sub-word rows (default 10000, 0..1<<22).
	Buckets int `json:"buckets"`
	// MaxTokens is the number of tokens kept per text; the rest is cut
	// (default 128, 1..4096).
	MaxTokens int `json:"max_tokens"`
	// PoolInputs also pools the token vectors themselves (a bag-of-words
	// view beside the BiLSTM states): u = [max ‖ mean] of [h_t ‖ x_t].
	PoolInputs bool `json:"pool_inputs"`
}

// poolWidth is the width of the pooled sequence: 2H, plus Embed with
// PoolInputs.
func (c ClassifierConfig) poolWidth() int {
	if c.PoolInputs {
		return 2*c.Hidden + c.Embed
	}
	return 2 * c.Hidden
}

// DefaultClassifierConfig returns the default architecture.
func DefaultClassifierConfig() ClassifierConfig {
	return ClassifierConfig{Embed: 64, Hidden: 64, Buckets: 10000, MaxTokens: 128}
}

func (c ClassifierConfig) withDefaults() ClassifierConfig {
	d := DefaultClassifierConfig()
	if c.Embed == 0 {
		c.Embed = d.Embed
	}
	if c.Hidden == 0 {
		c.Hidden = d.Hidden
	}
	if c.Buckets == 0 {
		c.Buckets = d.Buckets
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = d.MaxTokens
	}
	return c
}

// Validate reports the first field out of range.
func (c ClassifierConfig) Validate() error {
	check := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("%w: %s = %d, want %d..%d", ErrConfig, name, v, lo, hi)
		}
		return nil
	}
	for _, e := range []error{
		check("embed", c.Embed, 4, 1024),
		check("hidden", c.Hidden, 4, 1024),
		check("buckets", c.Buckets, 0, 1<<22),
		check("max_tokens", c.MaxTokens, 1, 4096),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

// Classifier is a sentence classifier (Zhou et al. 2016; Conneau et al. 2017
// pooling):
//
//	x_t = mean(E[word_t], E[subword n-grams of word_t])
//	h_t = [LSTM→(x)_t ‖ LSTM←(x)_t]
//	u   = [max_t h_t ‖ mean_t h_t]
//	p   = softmax(u·W + b)
//
// The float64 weights are the training master copy; inference runs a float32
// copy made by Compile. A Classifier is not safe for concurrent training; the
// compiled model is immutable and shared by all workers.
type Classifier struct {
	Config    ClassifierConfig
	Labels    []string
	Vocab     *Vocab
	Tokenizer *text.Tokenizer
	// Info is descriptive metadata written to the model file (dev metrics,
	// data hash, training settings).
	Info map[string]string
	// Checksum is the hex SHA-256 of the tensor payload of the file the
	// model was loaded from ("" for a model built in memory). It
	// identifies the weights: a model version.
	Checksum string
	// MultiLabel marks a multi-label classifier: one sigmoid per label
	// instead of a softmax over them, trained with binary cross-entropy;
	// label j applies to a text when its probability reaches
	// Thresholds[j] (chosen on data the model was not trained on).
	MultiLabel bool
	Thresholds []float64

	net clsNet
}

// clsNet holds one set of parameters: the master weights or a training
// goroutine's gradient view of them.
type clsNet struct {
	emb      *nn.Embedding
	fwd, bwd *nn.LSTM
	out      *nn.Dense
}

func (n *clsNet) params() []*nn.Param {
	var ps []*nn.Param
	ps = append(ps, n.emb.Params()...)
	ps = append(ps, n.fwd.Params()...)
	ps = append(ps, n.bwd.Params()...)
	ps = append(ps, n.out.Params()...)
	return ps
}

func (n *clsNet) gradView() clsNet {
	return clsNet{emb: n.emb.GradView(), fwd: n.fwd.GradView(), bwd: n.bwd.GradView(), out: n.out.GradView()}
}

// NewClassifier returns a randomly initialised classifier for labels over
// vocab. rng seeds the initialisation.
func NewClassifier(cfg ClassifierConfig, labels []string, vocab *Vocab, tok *text.Tokenizer, rng *rand.Rand) (*Classifier, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(labels) < 2 {
		return nil, fmt.Errorf("%w: %d labels, want at least 2", ErrConfig, len(labels))
	}
	rows := vocab.Len() + cfg.Buckets
	c := &Classifier{Config: cfg, Labels: labels, Vocab: vocab, Tokenizer: tok, Info: map[string]string{}}
	c.net = clsNet{
		emb: nn.NewEmbedding("emb", rows, cfg.Embed, rng, 0.1),
		fwd: nn.NewLSTM("fwd", cfg.Embed, cfg.Hidden, false, rng),
		bwd: nn.NewLSTM("bwd", cfg.Embed, cfg.Hidden, true, rng),
		out: nn.NewDense("out", 2*cfg.poolWidth(), len(labels), rng),
	}
	return c, nil
}

// appendBags appends, for each token, its bag of embedding rows to ids and
// the bag ends to offs (offs is cumulative over ids; the caller seeds it).
// At most maxTokens tokens are used; it returns the number used.
func appendBags(vocab *Vocab, buckets int, toks []text.Token, maxTokens int, ids, offs []int32) ([]int32, []int32, int) {
	n := min(len(toks), maxTokens)
	base := int32(vocab.Len())
	for _, tk := range toks[:n] {
		start := len(ids)
		if id, ok := vocab.ID(tk.Text); ok {
			ids = append(ids, id)
		}
		if buckets > 0 {
			sub := len(ids)
			ids = text.Subwords(ids, tk.Text, tk.Kind, int32(buckets))
			for i := sub; i < len(ids); i++ {
				ids[i] += base
			}
		}
		if len(ids) == start {
			ids = append(ids, 0) // <unk>
		}
		offs = append(offs, int32(len(ids)))
	}
	return ids, offs, n
}

// numParams returns the number of weights of a classifier with this config,
// vocab rows (including <unk>) and labels classes.
func (c ClassifierConfig) numParams(vocab, labels int) int {
	d, h := c.Embed, c.Hidden
	lstm := d*4*h + h*4*h + 4*h
	return (vocab+c.Buckets)*d + 2*lstm + 2*c.poolWidth()*labels + labels
}
