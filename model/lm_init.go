package model

import (
	"fmt"
	"math"
	"strconv"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// Pretrained initialises a classifier's or tagger's encoder from a
// language model and sets the fine-tuning schedule of ULMFiT (Howard &
// Ruder 2018): discriminative learning rates and gradual unfreezing.
type Pretrained struct {
	// LM is the language model (nil: train from scratch). Its vocabulary,
	// embedding width, hidden size and sub-word buckets replace the
	// model's; its view must be the model's (words for a classifier, chars
	// for a tagger) and its tokenizer settings the training tokenizer's.
	// A trained model records the LM's checksum in its Info, not the LM.
	LM *LanguageModel `json:"-"`
	// LayerLR divides the learning rate layer by layer below the output:
	// the LSTMs train at LR/LayerLR, the embedding at LR/LayerLR². Values
	// <= 1 train every layer at LR.
	LayerLR float64
	// Unfreeze trains only the layers above the encoder in epoch 1, adds
	// the LSTMs in epoch 2 and the embedding from epoch 3 on.
	Unfreeze bool
	// EmbeddingOnly takes only the LM's embedding table (pretrained word
	// vectors); the LSTMs start from their own initialisation and train
	// at the full rate from epoch 1. The shapes must match as for the
	// whole encoder.
	EmbeddingOnly bool
	// RescaleEmbedding, with EmbeddingOnly, multiplies the LM's embedding
	// table by the factor that gives it the root mean square of the fresh
	// initialisation it replaces. A language model's vectors come out
	// several times larger than the initialisation the from-scratch recipe
	// (LSTM initialisation, learning rate) was tuned for; the rescaled table
	// keeps their directions at that input scale. The factor is recorded in
	// the model's Info ("init_lm_scale").
	RescaleEmbedding bool

	// Shrink, in (0, 1], starts every copied weight at Shrink × the LM's
	// value plus the fresh initialisation's (shrink and perturb, Ash &
	// Adams 2020): the LM's directions at a smaller scale, in the range
	// where the LSTMs' gates are not saturated. 0 copies the weights as they
	// are. Recorded in the model's Info ("init_lm_shrink").
	Shrink float64

	// scale, when positive, is the factor to apply instead of computing it
	// (ReplaceEncoder reuses the model's recorded factor).
	scale float64
}

// check returns an error when the language model cannot initialise a model
// of view read by tok.
func (p Pretrained) check(view string, tok *text.Tokenizer) error {
	lm := p.LM
	if p.RescaleEmbedding && !p.EmbeddingOnly {
		return fmt.Errorf("%w: rescaling the embedding (--init-rescale) needs --init-embedding-only: the LM's LSTMs read its table at its own scale", ErrConfig)
	}
	if p.Shrink < 0 || p.Shrink > 1 || math.IsNaN(p.Shrink) {
		return fmt.Errorf("%w: shrink = %v, want 0 (copy the weights) up to 1", ErrConfig, p.Shrink)
	}
	if lm.Config.View != view {
		return fmt.Errorf("%w: the language model reads %s, this model needs %s (pretrain with --view %s)", ErrConfig, lm.Config.View, view, view)
	}
	if lm.Tokenizer.Options() != tok.Options() {
		return fmt.Errorf("%w: the language model's tokenizer settings %+v differ from the training tokenizer's %+v", ErrConfig, lm.Tokenizer.Options(), tok.Options())
	}
	return nil
}

// initialise copies the LM's encoder into emb, fwd and bwd (copyEncoder),
// records in info what it took ("init_lm", "init_lm_parts", and
// "init_lm_scale" when the embedding was rescaled) and returns the
// OnEpochStart hook of the fine-tuning schedule, which runs next after it.
func (p Pretrained) initialise(info map[string]string, emb *nn.Embedding, fwd, bwd *nn.LSTM, next func(int)) func(int) {
	if s := p.copyEncoder(emb, fwd, bwd); s != 1 {
		info["init_lm_scale"] = strconv.FormatFloat(s, 'g', -1, 64)
	}
	if p.Shrink > 0 {
		info["init_lm_shrink"] = strconv.FormatFloat(p.Shrink, 'g', -1, 64)
	}
	info["init_lm"] = p.LM.Checksum
	info["init_lm_parts"] = p.parts()
	return p.schedule(emb.Params(), append(fwd.Params(), bwd.Params()...), next)
}

// copyEncoder copies the LM's embedding table and both LSTMs into emb, fwd
// and bwd. The LSTMs may read wider inputs than the LM (the tagger's extra
// features follow the embedding): their first Embed input rows are copied
// and the others keep their initialisation. It returns the factor the
// embedding was multiplied by (1: copied as is).
func (p Pretrained) copyEncoder(emb *nn.Embedding, fwd, bwd *nn.LSTM) float64 {
	n := &p.LM.net
	s := p.scale
	if s <= 0 {
		s = 1
		if p.EmbeddingOnly && p.RescaleEmbedding {
			if from, to := rms(n.emb.Table.W), rms(emb.Table.W); from > 0 && to > 0 {
				s = to / from
			}
		}
	}
	take := func(dst, src []float64, s float64) {
		if p.Shrink > 0 {
			for i, v := range src {
				dst[i] += p.Shrink * s * v
			}
			return
		}
		for i, v := range src {
			dst[i] = s * v
		}
	}
	take(emb.Table.W, n.emb.Table.W, s)
	if p.EmbeddingOnly {
		return s
	}
	for _, pair := range [][2]*nn.LSTM{{fwd, n.fwd}, {bwd, n.bwd}} {
		dst, src := pair[0], pair[1]
		take(dst.Wx.W, src.Wx.W, 1) // rows 0..Embed-1: the embedding's inputs
		take(dst.Wh.W, src.Wh.W, 1)
		take(dst.B.W, src.B.W, 1)
	}
	return s
}

// rms returns the root mean square of w (0 when empty).
func rms(w []float64) float64 {
	if len(w) == 0 {
		return 0
	}
	var sq float64
	for _, v := range w {
		sq += v * v
	}
	return math.Sqrt(sq / float64(len(w)))
}

// schedule sets the learning-rate scales of the embedding and LSTM
// parameters and returns the OnEpochStart hook that unfreezes them (nil
// without an LM). next is the caller's own hook, run after it.
func (p Pretrained) schedule(emb, lstm []*nn.Param, next func(int)) func(int) {
	if p.LM == nil {
		return next
	}
	if p.EmbeddingOnly {
		lstm = nil // not pretrained: the full rate, never frozen
	}
	if f := p.LayerLR; f > 1 {
		for _, q := range lstm {
			q.LRScale = 1 / f
		}
		for _, q := range emb {
			q.LRScale = 1 / (f * f)
		}
	}
	return func(epoch int) {
		if p.Unfreeze {
			for _, q := range lstm {
				q.Frozen = epoch < 2
			}
			for _, q := range emb {
				q.Frozen = epoch < 3
			}
		}
		if next != nil {
			next(epoch)
		}
	}
}

// parts names what was taken from the LM, recorded in the model's Info
// ("init_lm_parts"): "embedding" or "encoder" (embedding and BiLSTM).
func (p Pretrained) parts() string {
	if p.EmbeddingOnly {
		return "embedding"
	}
	return "encoder"
}
