package model

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// FineTuneConfig bounds one online fine-tuning round. Zero fields take the
// defaults of DefaultFineTuneConfig.
type FineTuneConfig struct {
	// Steps is the number of Adam updates. Default 150, range 1..100000.
	Steps int
	// Batch is the number of examples per update. Default 32, range
	// 1..4096.
	Batch int
	// ReplayFraction is the share of each batch drawn from the replay set
	// (earlier feedback and the original training data) rather than the
	// new feedback, against forgetting. Default 0.5, range [0, 1).
	ReplayFraction float64
	// LR is Adam's learning rate (fresh optimizer state). Default 2e-3.
	LR float64
	// Clip is the global gradient-norm limit. Default 5.
	Clip float64
	// Dropout and WordDropout are as in Settings. Default 0.2 and 0.05.
	Dropout, WordDropout float64
	// Anchor pulls the weights back toward base after every update,
	// w -= Anchor·(w − w_base): an L2-SP penalty (Li, Grandvalet and
	// Davoine 2018) against forgetting the original task. Default 0.01,
	// range [0, 1); negative means none.
	Anchor float64
	// Workers is the number of data-parallel goroutines (the CPU cap).
	// Default 1, range 1..256.
	Workers int
	// Seed seeds batch sampling and dropout. Default 1.
	Seed uint64
}

// DefaultFineTuneConfig returns the default fine-tuning settings.
func DefaultFineTuneConfig() FineTuneConfig {
	return FineTuneConfig{Steps: 150, Batch: 32, ReplayFraction: 0.5, LR: 2e-3, Clip: 5, Dropout: 0.2, WordDropout: 0.05, Anchor: 0.01, Workers: 1, Seed: 1}
}

func (c FineTuneConfig) withDefaults() FineTuneConfig {
	d := DefaultFineTuneConfig()
	if c.Steps == 0 {
		c.Steps = d.Steps
	}
	if c.Batch == 0 {
		c.Batch = d.Batch
	}
	if c.ReplayFraction == 0 {
		c.ReplayFraction = d.ReplayFraction
	}
	if c.LR == 0 {
		c.LR = d.LR
	}
	if c.Clip == 0 {
		c.Clip = d.Clip
	}
	if c.Dropout == 0 {
		c.Dropout = d.Dropout
	}
	if c.WordDropout == 0 {
		c.WordDropout = d.WordDropout
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.Anchor == 0 {
		c.Anchor = d.Anchor
	}
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	return c
}

// Validate reports the first setting out of range.
func (c FineTuneConfig) Validate() error {
	switch {
	case c.Steps < 1 || c.Steps > 100000:
		return fmt.Errorf("%w: fine-tune steps = %d, want 1..100000", ErrConfig, c.Steps)
	case c.Batch < 1 || c.Batch > 4096:
		return fmt.Errorf("%w: fine-tune batch = %d, want 1..4096", ErrConfig, c.Batch)
	case c.ReplayFraction < 0 || c.ReplayFraction >= 1:
		return fmt.Errorf("%w: replay fraction = %g, want [0, 1)", ErrConfig, c.ReplayFraction)
	case c.LR <= 0 || c.LR > 1:
		return fmt.Errorf("%w: fine-tune lr = %g, want (0, 1]", ErrConfig, c.LR)
	case c.Workers < 1 || c.Workers > 256:
		return fmt.Errorf("%w: fine-tune workers = %d, want 1..256", ErrConfig, c.Workers)
	case c.Anchor >= 1:
		return fmt.Errorf("%w: fine-tune anchor = %g, want < 1", ErrConfig, c.Anchor)
	case c.Dropout >= 1 || c.WordDropout >= 1:
		return fmt.Errorf("%w: fine-tune dropout = %g, word dropout = %g, want < 1", ErrConfig, c.Dropout, c.WordDropout)
	}
	return nil
}

// FineTuneClassifier returns a copy of base trained for cfg.Steps updates
// on batches mixing feedback with replay (in the ReplayFraction ratio);
// base is never written. The vocabulary and labels are base's: words it
// has not seen are represented by their hashed sub-words, and examples
// whose label base does not know are an error. It stops with ctx's error
// when ctx ends, and with ErrDiverged on a non-finite loss.
//
// The update is plain supervised fine-tuning (Howard and Ruder 2018 use a
// smaller learning rate for the same reason): every step minimises the
// cross-entropy of the mixed batch with Adam from a fresh optimizer state.
//
// A single-label base reads each example's Label; an example with Labels
// is an error wrapping ErrData. A multi-label base reads each example's
// Labels (every one a label of base; none means that no label applies) and
// an example with Label is an error wrapping ErrData; the loss is the
// unweighted binary cross-entropy of one sigmoid per label, the multi-label
// trainer's (TrainConfig.MultiLabel). The candidate is multi-label too and
// keeps base's per-label thresholds unchanged: they were tuned on data held
// out of base's training, and the feedback here is no such data (Guard
// judges the candidate at those thresholds).
func FineTuneClassifier(ctx context.Context, base *Classifier, feedback, replay []LabeledText, cfg FineTuneConfig) (*Classifier, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if base.MultiLabel && len(base.Thresholds) != len(base.Labels) {
		return nil, fmt.Errorf("%w: multi-label base has %d thresholds for %d labels", ErrConfig, len(base.Thresholds), len(base.Labels))
	}
	if len(feedback) == 0 {
		return nil, fmt.Errorf("%w: no feedback examples", ErrData)
	}
	labelIdx := make(map[string]int, len(base.Labels))
	for i, l := range base.Labels {
		labelIdx[l] = i
	}
	var buf text.Buffer
	encode := func(exs []LabeledText, what string) ([]encoded, error) {
		out := make([]encoded, 0, len(exs))
		for i, ex := range exs {
			e := encoded{offs: []int32{0}}
			switch {
			case base.MultiLabel && ex.Label != "":
				return nil, fmt.Errorf("%w: %s example %d has a single label %q; the model is multi-label and reads Labels", ErrData, what, i+1, ex.Label)
			case !base.MultiLabel && len(ex.Labels) > 0:
				return nil, fmt.Errorf("%w: %s example %d has labels %v; the model is single-label and reads Label", ErrData, what, i+1, ex.Labels)
			case base.MultiLabel:
				for _, l := range ex.Labels {
					y, ok := labelIdx[l]
					if !ok {
						return nil, fmt.Errorf("%w: %s example %d has label %q; the model has %v", ErrData, what, i+1, l, base.Labels)
					}
					if !slices.Contains(e.labels, y) {
						e.labels = append(e.labels, y)
					}
				}
			default:
				y, ok := labelIdx[ex.Label]
				if !ok {
					return nil, fmt.Errorf("%w: %s example %d has label %q; the model has %v", ErrData, what, i+1, ex.Label, base.Labels)
				}
				e.label = y
			}
			toks := base.Tokenizer.Tokenize(&buf, ex.Text)
			if len(toks) == 0 {
				continue
			}
			e.ids, e.offs, _ = appendBags(base.Vocab, base.Config.Buckets, toks, base.Config.MaxTokens, nil, e.offs)
			out = append(out, e)
		}
		return out, nil
	}
	fb, err := encode(feedback, "feedback")
	if err != nil {
		return nil, err
	}
	rp, err := encode(replay, "replay")
	if err != nil {
		return nil, err
	}
	if len(fb) == 0 {
		return nil, fmt.Errorf("%w: no feedback example has a token", ErrData)
	}
	data := append(fb, rp...)
	cand := base.clone()
	settings := Settings{
		Epochs: 1, Batch: cfg.Batch, LR: cfg.LR, LRDecay: 1, Clip: cfg.Clip, Dropout: cfg.Dropout,
		WordDropout: cfg.WordDropout, EMA: -1, Seed: cfg.Seed, Patience: 1, Workers: cfg.Workers,
	}
	tr := newClsTrainer(cand, TrainConfig{Model: cand.Config, Settings: settings, ClassWeight: "none", MultiLabel: base.MultiLabel}, nil)
	if err := fineTuneLoop(ctx, cfg, len(fb), len(rp), tr.master, base.net.params(), func(idx []int) float64 { return tr.step(data, idx) }); err != nil {
		return nil, err
	}
	// Round-trip through the file format: the result carries the checksum
	// of its weights (its version) and is known to load.
	var b bytes.Buffer
	if err := cand.Save(&b); err != nil {
		return nil, err
	}
	tc := NewTokenizerCache(base.Tokenizer)
	out, err := LoadClassifier(bytes.NewReader(b.Bytes()), "fine-tuned candidate", tc)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// fineTuneLoop runs cfg.Steps updates on batches of nfb feedback examples
// (indices 0..nfb-1) and nreplay replay examples (nfb..nfb+nreplay-1) in the
// ReplayFraction ratio, pulling master toward anchor after each update.
func fineTuneLoop(ctx context.Context, cfg FineTuneConfig, nfb, nreplay int, master, anchor []*nn.Param, step func(idx []int) float64) error {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xf1e7))
	nr := 0
	if nreplay > 0 {
		nr = int(math.Round(float64(cfg.Batch) * cfg.ReplayFraction))
	}
	idx := make([]int, 0, cfg.Batch)
	for s := 0; s < cfg.Steps; s++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx = idx[:0]
		for k := 0; k < cfg.Batch; k++ {
			if k < nr {
				idx = append(idx, nfb+rng.IntN(nreplay))
			} else {
				idx = append(idx, rng.IntN(nfb))
			}
		}
		if loss := step(idx); math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("%w: loss %v at fine-tune step %d", ErrDiverged, loss, s+1)
		}
		if cfg.Anchor > 0 {
			for i, p := range master {
				w0 := anchor[i].W
				for j := range p.W {
					p.W[j] -= cfg.Anchor * (p.W[j] - w0[j])
				}
			}
		}
	}
	return nil
}

// mcNemar returns McNemar's statistic (with continuity correction) for
// wins and losses of a paired comparison.
func mcNemar(wins, losses int) float64 {
	n := wins + losses
	if n == 0 {
		return 0
	}
	diff := max(math.Abs(float64(wins-losses))-1, 0)
	return diff * diff / float64(n)
}

// GuardDecision is the outcome of comparing a fine-tuned candidate with the
// model in service.
type GuardDecision struct {
	// Promote is true when the candidate should replace the current model.
	Promote bool
	// Reason says why, in a few words.
	Reason string
	// Accuracies on the held-out feedback and on the guard set. For
	// multi-label models they are subset (exact-set) accuracies: the share
	// of examples whose predicted label set equals their Labels exactly.
	CurrentHoldout, CandidateHoldout float64
	CurrentGuard, CandidateGuard     float64
	// Wins and Losses count held-out examples only the candidate, or only
	// the current model, gets right; Chi2 is McNemar's statistic on them.
	Wins, Losses int
	Chi2         float64
}

// mcNemarCritical is the chi-square (1 d.o.f.) value for p = 0.01.
const mcNemarCritical = 6.635

// Guard decides whether cand may replace cur. The candidate must be
// significantly better on holdout (recent feedback it was not trained on):
// more wins than losses with McNemar's test at p < 0.01, so noise such as
// random labels does not pass; and its accuracy on guard (a fixed set from
// the original data) must not drop by more than maxRegression. Labels
// unknown to the models count as errors.
//
// For single-label models an example is right when the most probable
// label is its Label. For multi-label models it is right when the labels
// reaching their thresholds (CompiledClassifier.LabelsOver, each model at
// its own thresholds) are exactly the set of its Labels (none when Labels
// is empty); the accuracies are then subset accuracies. cur and cand must
// agree in MultiLabel and in their labels, and every example must carry
// the form of label the models read (Label or Labels, as in
// FineTuneClassifier); otherwise the decision is not to promote, saying
// why.
func Guard(cur, cand *CompiledClassifier, holdout, guard []LabeledText, maxRegression float64) GuardDecision {
	var d GuardDecision
	switch {
	case cur.MultiLabel() != cand.MultiLabel():
		d.Reason = fmt.Sprintf("current and candidate models disagree in multi-label (%v, %v)", cur.MultiLabel(), cand.MultiLabel())
		return d
	case !slices.Equal(cur.Labels(), cand.Labels()):
		d.Reason = fmt.Sprintf("current and candidate models have different labels (%v, %v)", cur.Labels(), cand.Labels())
		return d
	}
	multi := cur.MultiLabel()
	for _, set := range []struct {
		name string
		exs  []LabeledText
	}{{"held-out", holdout}, {"guard", guard}} {
		for i, ex := range set.exs {
			switch {
			case multi && ex.Label != "":
				d.Reason = fmt.Sprintf("%s example %d has a single label %q; the models are multi-label and read Labels", set.name, i+1, ex.Label)
				return d
			case !multi && len(ex.Labels) > 0:
				d.Reason = fmt.Sprintf("%s example %d has labels %v; the models are single-label and read Label", set.name, i+1, ex.Labels)
				return d
			}
		}
	}
	hc, hn := guardCorrect(cur, holdout), guardCorrect(cand, holdout)
	gc, gn := guardCorrect(cur, guard), guardCorrect(cand, guard)
	d.CurrentHoldout, d.CandidateHoldout = accuracy(hc), accuracy(hn)
	d.CurrentGuard, d.CandidateGuard = accuracy(gc), accuracy(gn)
	for i := range hc {
		switch {
		case hn[i] && !hc[i]:
			d.Wins++
		case hc[i] && !hn[i]:
			d.Losses++
		}
	}
	d.Chi2 = mcNemar(d.Wins, d.Losses)
	switch {
	case len(holdout) == 0:
		d.Reason = "no held-out feedback"
	case d.Wins <= d.Losses:
		d.Reason = fmt.Sprintf("not better on held-out feedback (%.3f -> %.3f)", d.CurrentHoldout, d.CandidateHoldout)
	case d.Chi2 < mcNemarCritical:
		d.Reason = fmt.Sprintf("gain on held-out feedback not significant (%d wins, %d losses, chi2 %.2f < %.2f)", d.Wins, d.Losses, d.Chi2, mcNemarCritical)
	case len(guard) > 0 && d.CandidateGuard < d.CurrentGuard-maxRegression:
		d.Reason = fmt.Sprintf("guard accuracy drops %.3f -> %.3f (more than %.3f)", d.CurrentGuard, d.CandidateGuard, maxRegression)
	default:
		d.Promote = true
		d.Reason = fmt.Sprintf("held-out %.3f -> %.3f (chi2 %.1f), guard %.3f -> %.3f", d.CurrentHoldout, d.CandidateHoldout, d.Chi2, d.CurrentGuard, d.CandidateGuard)
	}
	if multi {
		d.Reason += " (subset accuracy)"
	}
	return d
}

// guardCorrect reports for each example whether m gets it right: the most
// probable label is its Label, or for a multi-label m the labels reaching
// their thresholds are exactly its Labels. Labels m does not know are
// never right.
func guardCorrect(m *CompiledClassifier, exs []LabeledText) []bool {
	texts := make([]string, len(exs))
	for i, ex := range exs {
		texts[i] = ex.Text
	}
	probs, best := m.classifyAll(texts)
	labels := m.Labels()
	nc := len(labels)
	ok := make([]bool, len(exs))
	var over []int
	for i, ex := range exs {
		if !m.MultiLabel() {
			ok[i] = labels[best[i]] == ex.Label
			continue
		}
		over = m.LabelsOver(over[:0], probs[i*nc:(i+1)*nc])
		ok[i] = sameLabelSet(labels, over, ex.Labels)
	}
	return ok
}

// sameLabelSet reports whether the label indices over (distinct, as
// LabelsOver returns them) name exactly the set of the labels gold
// (repeats allowed; a label not in labels never matches).
func sameLabelSet(labels []string, over []int, gold []string) bool {
	distinct := 0
	for k, g := range gold {
		j := slices.Index(labels, g)
		if j < 0 || !slices.Contains(over, j) {
			return false
		}
		if !slices.Contains(gold[:k], g) {
			distinct++
		}
	}
	return distinct == len(over)
}

// accuracy returns the share of true values in ok (0 for none).
func accuracy(ok []bool) float64 {
	if len(ok) == 0 {
		return 0
	}
	n := 0
	for _, v := range ok {
		if v {
			n++
		}
	}
	return float64(n) / float64(len(ok))
}
