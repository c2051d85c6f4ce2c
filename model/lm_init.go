package model

import (
	"fmt"

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
	LM *LanguageModel
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
}

// check returns an error when the language model cannot initialise a model
// of view read by tok.
func (p Pretrained) check(view string, tok *text.Tokenizer) error {
	lm := p.LM
	if lm.Config.View != view {
		return fmt.Errorf("%w: the language model reads %s, this model needs %s (pretrain with --view %s)", ErrConfig, lm.Config.View, view, view)
	}
	if lm.Tokenizer.Options() != tok.Options() {
		return fmt.Errorf("%w: the language model's tokenizer settings %+v differ from the training tokenizer's %+v", ErrConfig, lm.Tokenizer.Options(), tok.Options())
	}
	return nil
}

// copyEncoder copies the LM's embedding table and both LSTMs into emb, fwd
// and bwd. The LSTMs may read wider inputs than the LM (the tagger's extra
// features follow the embedding): their first Embed input rows are copied
// and the others keep their initialisation.
func (p Pretrained) copyEncoder(emb *nn.Embedding, fwd, bwd *nn.LSTM) {
	n := &p.LM.net
	copy(emb.Table.W, n.emb.Table.W)
	if p.EmbeddingOnly {
		return
	}
	for _, pair := range [][2]*nn.LSTM{{fwd, n.fwd}, {bwd, n.bwd}} {
		dst, src := pair[0], pair[1]
		copy(dst.Wx.W, src.Wx.W) // rows 0..Embed-1: the embedding's inputs
		copy(dst.Wh.W, src.Wh.W)
		copy(dst.B.W, src.B.W)
	}
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
