package model

import (
	"fmt"
	"strconv"
)

// ReplaceEncoder returns a copy of c whose encoder, the embedding table
// (word and hashed sub-word rows) and the forward and backward LSTMs, is
// lm's, and whose output layer is c's. It is how a language model
// refreshed on live text reaches online fine-tuning: the copy is the base
// of the next fine-tuning round, which adapts the output layer (and the
// encoder) to the new features before the guard judges it.
//
// The two must fit row for row: lm reads the words view with c's tokenizer
// settings, has c's vocabulary in the same order, and c's embedding width,
// hidden size and sub-word buckets, as when c was trained with
// "train classifier --init" from an ancestor of lm. Otherwise the error
// wraps ErrEncoderMismatch and names the first difference.
//
// A classifier trained with --init-embedding-only (Info "init_lm_parts"
// = "embedding") takes only the embedding table, multiplied by the factor
// of Info "init_lm_scale" when it was rescaled (--init-rescale).
//
// c and lm are not modified; the copy shares only their read-only
// vocabulary and tokenizer. Its Checksum is empty (the weights are new)
// and Info["encoder_lm"] records lm's checksum and epochs.
func ReplaceEncoder(c *Classifier, lm *LanguageModel) (*Classifier, error) {
	if c == nil || lm == nil {
		return nil, fmt.Errorf("%w: nil classifier or language model", ErrEncoderMismatch)
	}
	if err := encoderFits(c, lm); err != nil {
		return nil, err
	}
	if v, ok := c.Info["init_lm_shrink"]; ok {
		// Its encoder started at shrink × the LM's plus a random draw that
		// is not kept: no copy of an LM's weights is on its scale.
		return nil, fmt.Errorf("%w: the classifier was initialised by shrink and perturb (--init-shrink %s); a language model's encoder cannot replace its own", ErrEncoderMismatch, v)
	}
	q := c.clone()
	// A classifier that took only the LM's embedding (train --init
	// --init-embedding-only) keeps its own BiLSTM: it never read the LM's.
	// One trained on a rescaled embedding (--init-rescale) reads the new
	// table at the same scale.
	only := c.Info["init_lm_parts"] == "embedding"
	p := Pretrained{LM: lm, EmbeddingOnly: only}
	if s, err := strconv.ParseFloat(c.Info["init_lm_scale"], 64); err == nil && s > 0 && only {
		p.scale = s
	}
	p.copyEncoder(q.net.emb, q.net.fwd, q.net.bwd)
	q.Checksum = ""
	q.Info["encoder_lm"] = lm.Checksum + " epochs " + strconv.Quote(lm.Info["epochs"])
	return q, nil
}

// encoderFits returns an error wrapping ErrEncoderMismatch naming the first
// way lm's encoder differs from c's.
func encoderFits(c *Classifier, lm *LanguageModel) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrEncoderMismatch}, args...)...)
	}
	lc, cc := lm.Config, c.Config
	switch {
	case lc.View != ViewWords:
		return bad("the language model reads %s, a classifier reads %s", lc.View, ViewWords)
	case lm.Tokenizer.Options() != c.Tokenizer.Options():
		return bad("tokenizer settings %+v, the classifier's are %+v", lm.Tokenizer.Options(), c.Tokenizer.Options())
	case lc.Embed != cc.Embed:
		return bad("embedding width %d, the classifier's is %d", lc.Embed, cc.Embed)
	case lc.Hidden != cc.Hidden:
		return bad("hidden size %d, the classifier's is %d", lc.Hidden, cc.Hidden)
	case lc.Buckets != cc.Buckets:
		return bad("%d sub-word buckets, the classifier has %d", lc.Buckets, cc.Buckets)
	case lm.Vocab.Len() != c.Vocab.Len():
		return bad("vocabulary of %d rows, the classifier's has %d (train the classifier with --init from this language model)", lm.Vocab.Len(), c.Vocab.Len())
	}
	if lm.Vocab != c.Vocab {
		lw, cw := lm.Vocab.Words(), c.Vocab.Words()
		for i := range lw {
			if lw[i] != cw[i] {
				return bad("vocabulary row %d is %q, the classifier's is %q (train the classifier with --init from this language model)", i+1, lw[i], cw[i])
			}
		}
	}
	n, m := &lm.net, &c.net
	for _, p := range [][2]int{
		{len(n.emb.Table.W), len(m.emb.Table.W)},
		{len(n.fwd.Wx.W), len(m.fwd.Wx.W)}, {len(n.fwd.Wh.W), len(m.fwd.Wh.W)}, {len(n.fwd.B.W), len(m.fwd.B.W)},
		{len(n.bwd.Wx.W), len(m.bwd.Wx.W)}, {len(n.bwd.Wh.W), len(m.bwd.Wh.W)}, {len(n.bwd.B.W), len(m.bwd.B.W)},
	} {
		if p[0] != p[1] {
			return bad("encoder tensor of %d weights, the classifier's has %d", p[0], p[1])
		}
	}
	return nil
}
