package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/dataset"
	"github.com/tagstream/tagstream/model/text"
)

func newPretrainCmd() *cobra.Command {
	var (
		tokOpts             = text.DefaultOptions()
		textPaths, devPaths []string
		out, resume         string
		strict, quiet       bool
		cfg                 = model.DefaultLMTrainConfig()
		fromTopic           topicTexts
	)
	cmd := &cobra.Command{
		Use:   "pretrain --text FILE... [--from-topic T] --out LM",
		Short: "Pretrain a forward and a backward LSTM language model on unlabeled text",
		Long: `Pretrain the encoder of the classifier (--view words) or of the NER tagger (--view chars) as a
pair of LSTM language models: the forward one predicts each token from the tokens before it,
the backward one from the tokens after it (sampled softmax over the vocabulary, hashed sub-word
rows for rare words). Input lines are JSON objects with "text" (labels are ignored) or "tokens"
(NER data), or plain text. After each epoch it reports the perplexity on --dev (default: every
20th input text, held out) and writes the best model so far to --out, so an interrupted run
keeps its progress; --resume LM continues from such a file. --from-topic T adds the texts of the
events on a Kafka topic (brokers, TLS, SASL and input.format from the configuration). Then
"tagstream train classifier|ner --init LM" fine-tunes from it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (len(textPaths) == 0 && fromTopic.topic == "") || out == "" {
				return fmt.Errorf("pretrain: --out and --text or --from-topic are required")
			}
			opts := dataset.Options{Strict: strict}
			train, err := readAllTexts(cmd, textPaths, opts)
			if err != nil {
				return err
			}
			topicTexts, err := fromTopic.read(cmd)
			if err != nil {
				return err
			}
			train = append(train, topicTexts...)
			var dev []string
			if len(devPaths) > 0 {
				if dev, err = readAllTexts(cmd, devPaths, opts); err != nil {
					return err
				}
			} else {
				train, dev = holdOut(train, 20)
			}
			start := time.Now()
			if !cmd.Flags().Changed("compound-words") {
				tokOpts.CompoundWords = cfg.Model.View == model.ViewChars // as train ner's default
			}
			tok, err := text.New(tokOpts)
			if err != nil {
				return err
			}
			if resume != "" {
				if cfg.Resume, err = loadLM(resume, tok); err != nil {
					return err
				}
			}
			stderr := cmd.ErrOrStderr()
			view := cfg.Model.View
			if cfg.Resume != nil {
				view = cfg.Resume.Config.View + " (resumed after " + cfg.Resume.Info["epochs"] + " epochs)"
			}
			fmt.Fprintf(stderr, "pretrain on %d texts, dev %d, view %s, seed %d, %d workers\n", len(train), len(dev), view, cfg.Seed, cfg.Workers)
			hooks := model.LMHooks{TrainHooks: progressHooks(stderr, quiet)}
			dataHash := hashTexts(train)
			var reports []model.EpochReport
			bar := hooks.OnEpoch
			hooks.OnEpoch = func(r model.EpochReport) {
				reports = append(reports, r)
				bar(r)
			}
			hooks.Checkpoint = func(best *model.LanguageModel) error {
				recordLMInfo(best.Info, dataHash, reports, start)
				return modelfile.Write(out, best.Save)
			}
			lm, _, err := model.TrainLM(cmd.Context(), tok, train, dev, cfg, hooks)
			if lm == nil {
				return fmt.Errorf("pretrain: %w", err)
			}
			if err != nil {
				fmt.Fprintf(stderr, "training stopped: %v; saving the best epoch so far\n", err)
			}
			fwd, bwd, n := lm.Perplexity(dev)
			lm.Info["dev_perplexity"] = fmt.Sprintf(`{"forward":%.4f,"backward":%.4f,"predictions":%d}`, fwd, bwd, n)
			recordLMInfo(lm.Info, dataHash, reports, start)
			if err := modelfile.Write(out, lm.Save); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "dev perplexity (all %d dev texts): forward %.2f, backward %.2f over %d predictions\n", len(dev), fwd, bwd, n)
			fmt.Fprintf(stderr, "wrote %s (vocabulary %d, %s epochs, %.1fs total)\n", out, lm.Vocab.Len(), lm.Info["epochs"], time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	tokenizerFlags(f, &tokOpts, false)
	f.Lookup("compound-words").Usage += " (default for pretrain: on with --view chars, as train ner, off with --view words)"
	f.StringSliceVar(&textPaths, "text", nil, "unlabeled text: JSONL (text or tokens field) or plain lines; repeat or comma-separate")
	f.StringSliceVar(&devPaths, "dev", nil, "held-out text for perplexity (default: every 20th --text line)")
	f.StringVar(&out, "out", "", "output language model file (.safetensors), rewritten after every epoch")
	f.StringVar(&resume, "resume", "", "continue training this language model file (its vocabulary and settings)")
	f.BoolVar(&strict, "strict", false, "fail on the first bad data line instead of skipping it")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	fromTopic.addFlags(f)
	addSettingsFlags(f, &cfg.Settings)
	f.StringVar(&cfg.Model.View, "view", cfg.Model.View, "token view: words (for classifiers) or chars (for NER taggers)")
	f.IntVar(&cfg.Model.Embed, "embed", cfg.Model.Embed, "embedding width")
	f.IntVar(&cfg.Model.Hidden, "hidden", cfg.Model.Hidden, "LSTM units per direction")
	f.IntVar(&cfg.Model.Buckets, "buckets", cfg.Model.Buckets, "hashed sub-word buckets")
	f.IntVar(&cfg.Model.MaxTokens, "max-tokens", cfg.Model.MaxTokens, "tokens read per text")
	f.BoolVar(&cfg.Model.Bigrams, "bigrams", false, "also learn the hashed (token, next token) rows that train ner --bigrams reads")
	f.IntVar(&cfg.Samples, "samples", cfg.Samples, "sampled softmax: output classes drawn per update")
	f.IntVar(&cfg.EvalMax, "eval-max", cfg.EvalMax, "dev texts scored after each epoch (all are scored at the end)")
	return cmd
}

// recordLMInfo records the training data hash, the epoch reports and the
// time taken in a language model's metadata.
func recordLMInfo(info map[string]string, dataHash string, reports []model.EpochReport, start time.Time) {
	if b, err := json.Marshal(reports); err == nil {
		info["epoch_reports"] = string(b)
	}
	info["train_data_sha256"] = dataHash
	info["train_seconds"] = strconv.FormatFloat(time.Since(start).Seconds(), 'f', 1, 64)
	info["created_at"] = time.Now().UTC().Format(time.RFC3339)
}

// readAllTexts reads and concatenates unlabeled text files.
func readAllTexts(cmd *cobra.Command, paths []string, opts dataset.Options) ([]string, error) {
	return readAll(cmd, paths, opts, func(cmd *cobra.Command, path string, opts dataset.Options) ([]string, error) {
		return readDataFile(cmd, path, opts, dataset.ReadTexts)
	})
}

// holdOut splits off every k-th text as dev.
func holdOut(texts []string, k int) (train, dev []string) {
	for i, s := range texts {
		if i%k == k-1 {
			dev = append(dev, s)
		} else {
			train = append(train, s)
		}
	}
	return train, dev
}

// hashTexts is the hex SHA-256 of the texts (length-prefixed).
func hashTexts(texts []string) string {
	ex := make([]dataset.Example, len(texts))
	for i, s := range texts {
		ex[i].Text = s
	}
	return dataset.HashExamples(ex)
}

// loadLM reads a language model file for tok's settings.
func loadLM(path string, tok *text.Tokenizer) (*model.LanguageModel, error) {
	return modelfile.LoadLM(path, model.NewTokenizerCache(tok))
}

// pretrainedFlags registers --init, --layer-lr and --unfreeze.
func pretrainedFlags(f *pflag.FlagSet, path *string, p *model.Pretrained) {
	f.StringVar(path, "init", "", "start the embedding and BiLSTM from this language model (tagstream pretrain)")
	f.Float64Var(&p.LayerLR, "layer-lr", 1, "with --init: learning-rate divisor per layer below the output (LSTMs lr/f, embedding lr/f²; ULMFiT: 2.6; 1 = one rate)")
	f.BoolVar(&p.EmbeddingOnly, "init-embedding-only", false, "with --init: take only the LM's embedding table (pretrained word vectors); the LSTMs start fresh")
	f.Float64Var(&p.Shrink, "init-shrink", 0, "with --init: start each weight at this factor (0..1) times the LM's plus its fresh initialisation (shrink and perturb); 0 copies the LM's weights")
	f.BoolVar(&p.RescaleEmbedding, "init-rescale", false, "with --init-embedding-only: scale the LM's embedding table to the RMS of the fresh initialisation it replaces")
	f.BoolVar(&p.Unfreeze, "unfreeze", false, "with --init: gradual unfreezing (epoch 1 output layers only, epoch 2 adds the LSTMs, then all)")
}
