package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tagstream/tagstream/model/metrics"
	"github.com/tagstream/tagstream/model/nn"
)

// Settings are the optimisation settings shared by the classifier and the
// tagger trainers. Zero fields take the model's defaults.
type Settings struct {
	// Epochs is the maximum number of passes over the data.
	Epochs int
	// Batch is the number of examples per update.
	Batch int
	// LR is Adam's learning rate; LRDecay multiplies it after each epoch.
	LR, LRDecay float64
	// WeightDecay is the decoupled weight decay (0 or negative = none).
	WeightDecay float64
	// Clip is the global gradient-norm limit.
	Clip float64
	// Dropout is the drop probability on the model's inputs and features
	// (negative = none).
	Dropout float64
	// WordDropout is the probability of dropping a token's whole-word
	// embedding during training so that it is represented by its sub-words
	// alone, as an unseen word would be (negative = none).
	WordDropout float64
	// EMA is the decay of an exponential moving average of the weights
	// (Polyak averaging); when on, dev evaluation and the saved model use
	// the averaged weights (negative = off).
	EMA float64
	// Seed seeds initialisation, shuffling and dropout.
	Seed uint64
	// Patience stops training after this many epochs without a better dev
	// score (macro-F1 for the classifier, entity F1 for the tagger).
	Patience int
	// MinCount and MaxVocab bound the word vocabulary.
	MinCount, MaxVocab int
	// Workers is the number of data-parallel goroutines.
	Workers int
}

func (s Settings) withDefaults(d Settings) Settings {
	setI := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		} else if *p < 0 {
			*p = 0
		}
	}
	setI(&s.Epochs, d.Epochs)
	setI(&s.Batch, d.Batch)
	setI(&s.Patience, d.Patience)
	setI(&s.MinCount, d.MinCount)
	setI(&s.MaxVocab, d.MaxVocab)
	setI(&s.Workers, d.Workers)
	setF(&s.LR, d.LR)
	setF(&s.LRDecay, d.LRDecay)
	setF(&s.Clip, d.Clip)
	setF(&s.Dropout, d.Dropout)
	setF(&s.WordDropout, d.WordDropout)
	setF(&s.EMA, d.EMA)
	if s.WeightDecay < 0 {
		s.WeightDecay = 0
	}
	if s.Seed == 0 {
		s.Seed = d.Seed
	}
	return s
}

// Validate reports the first setting out of range.
func (s Settings) Validate() error {
	switch {
	case s.Epochs < 1 || s.Epochs > 1000:
		return fmt.Errorf("%w: epochs = %d, want 1..1000", ErrConfig, s.Epochs)
	case s.Batch < 1 || s.Batch > 4096:
		return fmt.Errorf("%w: batch = %d, want 1..4096", ErrConfig, s.Batch)
	case s.LR <= 0 || s.LR > 1:
		return fmt.Errorf("%w: lr = %g, want (0, 1]", ErrConfig, s.LR)
	case s.LRDecay <= 0 || s.LRDecay > 1:
		return fmt.Errorf("%w: lr decay = %g, want (0, 1]", ErrConfig, s.LRDecay)
	case s.Dropout >= 1:
		return fmt.Errorf("%w: dropout = %g, want [0, 1)", ErrConfig, s.Dropout)
	case s.EMA >= 1:
		return fmt.Errorf("%w: ema = %g, want [0, 1)", ErrConfig, s.EMA)
	case s.WordDropout >= 1:
		return fmt.Errorf("%w: word dropout = %g, want [0, 1)", ErrConfig, s.WordDropout)
	case s.Patience < 1:
		return fmt.Errorf("%w: patience = %d, want >= 1", ErrConfig, s.Patience)
	case s.Workers < 1 || s.Workers > 256:
		return fmt.Errorf("%w: workers = %d, want 1..256", ErrConfig, s.Workers)
	}
	return nil
}

// Progress is reported after every update.
type Progress struct {
	Epoch, Epochs int
	Done, Total   int // examples done in this epoch, and its size
	Loss          float64
	Elapsed       time.Duration
}

// EpochReport summarises one epoch: Dev for a classifier, DevNER for a
// tagger, Perplexity for a language model; Score is the model-selection
// metric (dev macro-F1, entity F1 or the inverse perplexity).
type EpochReport struct {
	Epoch          int                     `json:"epoch"`
	TrainLoss      float64                 `json:"train_loss"`
	Seconds        float64                 `json:"seconds"`
	ExamplesPerSec float64                 `json:"examples_per_sec"`
	Dev            *metrics.Classification `json:"dev,omitempty"`
	DevMulti       *metrics.MultiLabel     `json:"dev_multi,omitempty"`
	DevNER         *metrics.NER            `json:"dev_ner,omitempty"`
	// DevSets holds a tagger's per-data-set dev scores when it has several
	// dev sets; Score is then the mean of their F1 and DevNER the pooled
	// scores.
	DevSets []DevSetReport `json:"dev_sets,omitempty"`
	// DevClassSets holds a classifier's per-data-set dev scores when it
	// has several dev sets or one without every label; Score is then the
	// mean of their macro-F1 and Dev the pooled, unrestricted scores.
	DevClassSets []DevClassSetReport `json:"dev_class_sets,omitempty"`
	Perplexity   *LMPerplexity       `json:"perplexity,omitempty"`
	Score        float64             `json:"score"`
	Best         bool                `json:"best"`
}

// TrainHooks receives progress. Hooks run on the training goroutine and must
// return quickly. Nil hooks are skipped.
type TrainHooks struct {
	OnBatch func(Progress)
	OnEpoch func(EpochReport)
	// OnEpochStart runs before each epoch's first update (epochs count
	// from 1).
	OnEpochStart func(epoch int)
}

// trainEpochs runs the training schedule shared by the classifier and the
// tagger: per epoch, length-bucketed shuffled batches of s.Batch examples
// (n in all, length(i) each), one step per batch (returning the batch's
// mean loss), the weight EMA and the progress hooks; then eval of the
// (averaged) weights, snapshot when its Score beats every earlier epoch,
// early stopping after s.Patience epochs without improvement and learning
// rate decay. It returns every epoch's report; the error is ctx's when
// cancelled (the last snapshot stands) and wraps ErrDiverged when the loss
// stops being finite.
func trainEpochs(ctx context.Context, s Settings, n int, length func(int) int, master []*nn.Param, opt *nn.Adam, rng *rand.Rand,
	step func(idx []int) float64, eval func() (EpochReport, error), snapshot func(), hooks TrainHooks) ([]EpochReport, error) {
	ema := newEMA(master, s.EMA)
	var reports []EpochReport
	bestScore, bestEpoch := -1.0, 0
	for epoch := 1; epoch <= s.Epochs; epoch++ {
		if hooks.OnEpochStart != nil {
			hooks.OnEpochStart(epoch)
		}
		start := time.Now()
		var lossSum float64
		done := 0
		for _, b := range makeBatches(n, s.Batch, length, rng) {
			if err := ctx.Err(); err != nil {
				return reports, err
			}
			l := step(b)
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return reports, fmt.Errorf("%w: loss %v at epoch %d; lower the learning rate", ErrDiverged, l, epoch)
			}
			ema.update(master)
			lossSum += l * float64(len(b))
			done += len(b)
			if hooks.OnBatch != nil {
				hooks.OnBatch(Progress{Epoch: epoch, Epochs: s.Epochs, Done: done, Total: n, Loss: lossSum / float64(done), Elapsed: time.Since(start)})
			}
		}
		secs := time.Since(start).Seconds()
		// Evaluate (and keep) the averaged weights when EMA is on.
		ema.swap(master)
		rep, err := eval()
		if err != nil {
			ema.swap(master)
			return reports, err
		}
		rep.Epoch, rep.TrainLoss, rep.Seconds, rep.ExamplesPerSec = epoch, lossSum/float64(done), secs, float64(done)/secs
		if rep.Score > bestScore {
			bestScore, bestEpoch, rep.Best = rep.Score, epoch, true
			snapshot()
		}
		ema.swap(master)
		reports = append(reports, rep)
		if hooks.OnEpoch != nil {
			hooks.OnEpoch(rep)
		}
		if epoch-bestEpoch >= s.Patience {
			break
		}
		opt.LR *= s.LRDecay
	}
	return reports, nil
}
