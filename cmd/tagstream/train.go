package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/dataset"
	"github.com/tagstream/tagstream/model/text"
)

func newTrainClassifierCmd() *cobra.Command {
	var (
		tokOpts              = text.DefaultOptions()
		trainPaths, devPaths []string
		out                  string
		strict, quiet        bool
		initPath             string
		sharedEncoder        string
		cfg                  = model.DefaultTrainConfig()
	)
	cmd := &cobra.Command{
		Use:   "classifier --train FILE --dev FILE --out MODEL",
		Short: "Train the BiLSTM sentence classifier",
		Long: `Train the BiLSTM sentence classifier on JSONL {"text","label"} or CSV (text,label header)
data. After each epoch it evaluates on --dev and keeps the epoch with the best dev macro-F1;
it stops early after --patience epochs without improvement. Labels come from the data.

FILE@MAP reads a file's labels through a label map (a built-in name: ` + strings.Join(model.BuiltinLabelMapNames(), ", ") + `,
or a JSON file {"labels": {"source": ["model", ...]}}): a source label becomes one model label,
a set of them (partial annotation: the true label is one of the set, and training maximises the
set's probability) or none (the examples are dropped). So data sets with different label sets
train one classifier (smp2020_ewect's emotions and weibo2018's positive-or-neutral posts beside
binary reviews for three-class sentiment). Dev is scored per file, over the labels each file's
examples have (a binary file scored with a three-class model takes the more probable of its two
labels); the selection score is the mean of the files' macro-F1, and partially labelled dev
examples are not scored.

--multi-label trains on JSONL {"text","labels":[...]} (e.g. ../shared/data/goemotions): one
sigmoid per label and binary cross-entropy. A seeded tenth of --train (--threshold-holdout) is
set aside and never trained on; after each epoch a decision threshold per label is tuned on it
(the F1-best of 0.05..0.95), --dev is scored at those thresholds, and the epoch with the best dev
macro-F1 is kept, thresholds included in the model file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(trainPaths) == 0 || len(devPaths) == 0 || out == "" {
				return fmt.Errorf("train classifier: --train, --dev and --out are required")
			}
			opts := dataset.Options{Strict: strict}
			train, trainEx, err := readLabelSources(cmd, trainPaths, opts)
			if err != nil {
				return err
			}
			dev, _, err := readLabelSources(cmd, devPaths, opts)
			if err != nil {
				return err
			}
			start := time.Now()
			tok, err := text.New(tokOpts)
			if err != nil {
				return err
			}
			if initPath != "" {
				if cfg.Init.LM, err = loadLM(initPath, tok); err != nil {
					return err
				}
			}
			if sharedEncoder != "" {
				if cfg.SharedEncoder, err = modelfile.LoadClassifier(sharedEncoder, model.NewTokenizerCache(tok)); err != nil {
					return fmt.Errorf("train classifier: --shared-encoder: %w", err)
				}
			}
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "train %d examples, dev %d, seed %d, %d workers (tokenizer ready in %.1fs)\n",
				len(train), len(dev), cfg.Seed, cfg.Workers, time.Since(start).Seconds())
			hooks := progressHooks(stderr, quiet)
			if multi := slices.ContainsFunc(train, func(e model.LabeledText) bool { return len(e.Labels) > 0 }); multi != cfg.MultiLabel {
				if multi {
					return fmt.Errorf("train classifier: %s holds multi-label records (\"labels\"): give --multi-label", strings.Join(trainPaths, ","))
				}
				return fmt.Errorf("train classifier: --multi-label needs records with \"labels\"; %s has single labels", strings.Join(trainPaths, ","))
			}
			clf, reports, err := model.TrainClassifier(cmd.Context(), tok, train, dev, cfg, hooks)
			if err != nil && clf == nil {
				return fmt.Errorf("train classifier: %w", err)
			}
			if err := saveTrained(stderr, err, out, clf.Info, clf.Save, dataset.HashExamples(trainEx), len(train), reports, cfg, start); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote %s (%.1fs total)\n", out, time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	tokenizerFlags(f, &tokOpts, false)
	f.StringSliceVar(&trainPaths, "train", nil, "training data (JSONL or CSV); repeat or comma-separate to combine files; a file given N times is read N times (oversampling); FILE@MAP reads its labels through a label map")
	f.StringSliceVar(&devPaths, "dev", nil, "dev data for model selection (JSONL or CSV); repeatable, FILE@MAP as for --train; with several files the selection score is the mean of their macro-F1")
	f.StringVar(&out, "out", "", "output model file (.safetensors)")
	f.BoolVar(&strict, "strict", false, "fail on the first bad data line instead of skipping it")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	addSettingsFlags(f, &cfg.Settings)
	pretrainedFlags(f, &initPath, &cfg.Init)
	f.StringVar(&cfg.ClassWeight, "class-weight", cfg.ClassWeight, "loss class weights: none or balanced")
	f.BoolVar(&cfg.MultiLabel, "multi-label", false, `multi-label: JSONL {"text","labels":[...]}, a sigmoid per label, thresholds tuned on held-out training data`)
	f.StringVar(&sharedEncoder, "shared-encoder", "", "train only an output layer on this classifier's frozen vocabulary, embedding and BiLSTM (a task head on a shared encoder)")
	f.Float64Var(&cfg.ThresholdHoldout, "threshold-holdout", 0.1, "multi-label: share of --train held out to tune the thresholds (0.01..0.5)")
	f.IntVar(&cfg.Model.Embed, "embed", cfg.Model.Embed, "embedding width")
	f.IntVar(&cfg.Model.Hidden, "hidden", cfg.Model.Hidden, "LSTM units per direction")
	f.IntVar(&cfg.Model.Buckets, "buckets", cfg.Model.Buckets, "hashed sub-word buckets")
	f.IntVar(&cfg.Model.MaxTokens, "max-tokens", cfg.Model.MaxTokens, "tokens kept per text")
	f.BoolVar(&cfg.Model.PoolInputs, "pool-inputs", false, "also max/mean-pool the token vectors (bag-of-words features beside the BiLSTM)")
	return cmd
}

// saveTrained records the training metadata in info and writes the model
// to out; trainErr (a cancelled run that still has a best epoch) is reported
// on stderr first.
func saveTrained(stderr io.Writer, trainErr error, out string, info map[string]string, save func(io.Writer) error,
	dataHash string, n int, reports []model.EpochReport, cfg any, start time.Time) error {
	if trainErr != nil {
		fmt.Fprintf(stderr, "training stopped: %v; saving the best epoch so far\n", trainErr)
	}
	if err := recordTrainingInfo(info, dataHash, n, reports, cfg, time.Since(start)); err != nil {
		return err
	}
	return modelfile.Write(out, save)
}

func recordTrainingInfo(info map[string]string, dataHash string, n int, reports []model.EpochReport, cfg any, took time.Duration) error {
	var best *model.EpochReport
	for i := range reports {
		if reports[i].Best {
			best = &reports[i]
		}
	}
	if best == nil {
		return fmt.Errorf("no epoch finished")
	}
	var dev any = best.Dev
	switch {
	case best.DevNER != nil:
		dev = best.DevNER
	case best.DevMulti != nil:
		dev = best.DevMulti
	}
	values := map[string]any{"dev_metrics": dev, "epochs": reports}
	if _, ok := info["train_config"]; !ok { // the trainer records the resolved settings
		values["train_config"] = cfg
	}
	for k, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		info[k] = string(b)
	}
	info["best_epoch"] = strconv.Itoa(best.Epoch)
	info["train_data_sha256"] = dataHash
	info["train_examples"] = strconv.Itoa(n)
	info["train_seconds"] = strconv.FormatFloat(took.Seconds(), 'f', 1, 64)
	info["created_at"] = time.Now().UTC().Format(time.RFC3339)
	return nil
}

// reportSkipped prints the bad lines a non-strict read skipped.
func reportSkipped(cmd *cobra.Command, path string, rep dataset.Report) {
	if rep.Skipped == 0 {
		return
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: skipped %d bad lines (use --strict to fail instead)\n", path, rep.Skipped)
	for _, le := range rep.Errors {
		fmt.Fprintf(cmd.ErrOrStderr(), "  %s: %v\n", path, le.Error())
	}
}

// tokenizerFlags registers the tokenizer settings a training command
// records in the model it writes. Models used together (the classifier and
// tagger of one language, a model and the LM it starts from) need the same
// settings.
// compound is the default of --compound-words (train ner: true).
func tokenizerFlags(f *pflag.FlagSet, o *text.Options, compound bool) {
	o.SplitClitics = true
	f.BoolVar(&o.SplitClitics, "split-clitics", true, "split English possessives and contractions into their own tokens (Obama's -> Obama 's, don't -> do n't); =false keeps the tokenization of models trained before it existed")
	o.CompoundWords = compound
	f.BoolVar(&o.CompoundWords, "compound-words", compound, "keep as one token user names with underscores (david_myers77), hyphenated compounds (coca-cola), abbreviations (u.s.) and hyphenated numbers (1996-08-30), as CoNLL and tweet NER data do; =false keeps the tokenization of models trained before it existed")
}
