package main

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/tagstream/tagstream/model"
)

// addSettingsFlags registers the optimisation flags shared by both trainers,
// with s's values as defaults.
func addSettingsFlags(f *pflag.FlagSet, s *model.Settings) {
	f.IntVar(&s.Epochs, "epochs", s.Epochs, "maximum epochs")
	f.IntVar(&s.Batch, "batch", s.Batch, "examples per update")
	f.Float64Var(&s.LR, "lr", s.LR, "Adam learning rate")
	f.Float64Var(&s.LRDecay, "lr-decay", s.LRDecay, "learning-rate factor after each epoch")
	f.Float64Var(&s.WeightDecay, "weight-decay", s.WeightDecay, "decoupled weight decay")
	f.Float64Var(&s.Clip, "clip", s.Clip, "gradient-norm clipping threshold")
	f.Float64Var(&s.Dropout, "dropout", s.Dropout, "dropout on inputs and features (negative: none)")
	f.Float64Var(&s.WordDropout, "word-dropout", s.WordDropout, "probability of hiding a word's own embedding, sub-words stay (negative: none)")
	f.Float64Var(&s.EMA, "ema", s.EMA, "decay of the moving average of weights used for evaluation and saving (negative: off)")
	f.Uint64Var(&s.Seed, "seed", s.Seed, "random seed (initialisation, shuffling, dropout)")
	f.IntVar(&s.Patience, "patience", s.Patience, "early stopping: epochs without a better dev score")
	f.IntVar(&s.MinCount, "min-count", s.MinCount, "minimum word count for the vocabulary")
	f.IntVar(&s.MaxVocab, "max-vocab", s.MaxVocab, "maximum vocabulary size")
	f.IntVar(&s.Workers, "workers", runtime.GOMAXPROCS(0), "data-parallel training goroutines")
}

// progressHooks draws a progress bar per epoch (loss, examples/s, ETA) and
// prints a summary line after each epoch.
func progressHooks(stderr io.Writer, quiet bool) model.TrainHooks {
	var bar *progressbar.ProgressBar
	return model.TrainHooks{
		OnBatch: func(p model.Progress) {
			if quiet {
				return
			}
			if bar == nil {
				bar = progressbar.NewOptions(p.Total,
					progressbar.OptionSetWriter(stderr),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("ex"), progressbar.OptionThrottle(200*time.Millisecond),
					progressbar.OptionSetPredictTime(true), progressbar.OptionSetWidth(30))
			}
			bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", p.Epoch, p.Epochs, p.Loss))
			_ = bar.Set(p.Done)
		},
		OnEpoch: func(r model.EpochReport) {
			if bar != nil {
				_ = bar.Finish()
				bar = nil
				fmt.Fprintln(stderr)
			}
			best := ""
			if r.Best {
				best = "  (best)"
			}
			switch {
			case r.Dev != nil:
				fmt.Fprintf(stderr, "epoch %d: loss %.4f, %.1fs (%.0f ex/s); dev acc %.4f macro-P %.4f macro-R %.4f macro-F1 %.4f%s\n",
					r.Epoch, r.TrainLoss, r.Seconds, r.ExamplesPerSec, r.Dev.Accuracy, r.Dev.MacroPrecision, r.Dev.MacroRecall, r.Dev.MacroF1, best)
			case r.DevNER != nil:
				fmt.Fprintf(stderr, "epoch %d: loss %.4f, %.1fs (%.0f sent/s); dev entity P %.4f R %.4f F1 %.4f, token acc %.4f%s\n",
					r.Epoch, r.TrainLoss, r.Seconds, r.ExamplesPerSec, r.DevNER.Precision, r.DevNER.Recall, r.DevNER.F1, r.DevNER.TokenAccuracy, best)
			case r.Perplexity != nil:
				fmt.Fprintf(stderr, "epoch %d: loss %.4f, %.1fs (%.0f texts/s); dev perplexity forward %.2f backward %.2f over %d predictions%s\n",
					r.Epoch, r.TrainLoss, r.Seconds, r.ExamplesPerSec, r.Perplexity.Forward, r.Perplexity.Backward, r.Perplexity.Predictions, best)
			}
		},
	}
}
