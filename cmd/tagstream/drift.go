package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/server"
)

// driftReport is the --json output of bench drift.
type driftReport struct {
	NewDomainBefore float64 `json:"new_domain_before"`
	NewDomainAfter  float64 `json:"new_domain_after"`
	OriginalBefore  float64 `json:"original_before"`
	OriginalAfter   float64 `json:"original_after"`
	Promotions      int     `json:"promotions"`
	Rejections      int     `json:"rejections"`
	Events          int     `json:"events"`
	Feedback        int     `json:"feedback"`
	Version         string  `json:"version"`
	Seconds         float64 `json:"seconds"`
}

// agNewsToSentiment is the drift scenario's fixed relabelling of the news
// topics onto the sentiment model's labels: a new domain with a new
// labelling function the default model cannot know.
var agNewsToSentiment = map[string]string{"world": "negative", "business": "neutral", "sci_tech": "neutral", "sports": "positive"}

func newBenchDriftCmd() *cobra.Command {
	var data string
	var jsonOut bool
	var feedbackEvery, minExamples, steps, procs int
	var maxEvents int
	var replayFrac, lr, anchor float64
	cmd := &cobra.Command{
		Use:   "drift [--data ../shared/data] [--json]",
		Short: "Fine-tune the English sentiment model online on a drifted stream and report accuracy before and after",
		Long: `Reproducible drift scenario. Start from the built-in English sentiment model (trained on tweets).
Stream the shuffled ag_news train split (news, a domain the model never saw) relabelled by a fixed
topic map (world -> negative, business and sci_tech -> neutral, sports -> positive); every
--feedback-every-th event comes back as labelled feedback. The online trainer fine-tunes after every
--min-examples new examples (with replay of earlier feedback and of tweeteval train), guards each
candidate (held-out recent feedback, McNemar p < 0.01; tweeteval guard set, max regression 0.01)
and hot-swaps the promoted ones. Reports accuracy on the relabelled ag_news dev split and on the
tweeteval dev split before and after.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			rep, err := benchDrift(cmd, cfg, data, feedbackEvery, minExamples, steps, procs, maxEvents, model.FineTuneConfig{ReplayFraction: replayFrac, LR: lr, Anchor: anchor})
			if err != nil {
				return err
			}
			if jsonOut {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new domain %.4f -> %.4f, original %.4f -> %.4f, %d promotions, %d rejections (%d events, %d feedback, %.0f s)\n",
				rep.NewDomainBefore, rep.NewDomainAfter, rep.OriginalBefore, rep.OriginalAfter, rep.Promotions, rep.Rejections, rep.Events, rep.Feedback, rep.Seconds)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", filepath.Join("..", "shared", "data"), "the datasets directory")
	f.BoolVar(&jsonOut, "json", false, "print one JSON object")
	f.IntVar(&feedbackEvery, "feedback-every", 10, "one event in this many comes back as feedback (10: 10 %)")
	f.IntVar(&minExamples, "min-examples", 50, "new training examples per fine-tuning round")
	f.IntVar(&steps, "steps", 150, "Adam steps per round")
	f.IntVar(&procs, "max-procs", 2, "goroutines a round may use")
	f.IntVar(&maxEvents, "events", 0, "events to stream (0: the whole ag_news train split)")
	f.Float64Var(&replayFrac, "replay", 0, "share of each fine-tuning batch replayed from the original data (0: default)")
	f.Float64Var(&lr, "lr", 0, "fine-tuning learning rate (0: default)")
	f.Float64Var(&anchor, "anchor", 0, "pull toward the base weights per step (0: default, negative: none)")
	return cmd
}

func relabel(exs []model.LabeledText, m map[string]string) ([]model.LabeledText, error) {
	out := make([]model.LabeledText, len(exs))
	for i, e := range exs {
		l, ok := m[e.Label]
		if !ok {
			return nil, fmt.Errorf("label %q not in the drift map", e.Label)
		}
		out[i] = model.LabeledText{Text: e.Text, Label: l}
	}
	return out, nil
}

func accuracy(m *model.CompiledClassifier, exs []model.LabeledText) (float64, error) {
	idx := map[string]int{}
	for i, l := range m.Labels() {
		idx[l] = i
	}
	texts := make([]string, len(exs))
	gold := make([]int, len(exs))
	for i, e := range exs {
		texts[i], gold[i] = e.Text, idx[e.Label]
	}
	r, err := m.Evaluate(texts, gold)
	return r.Accuracy, err
}

func benchDrift(cmd *cobra.Command, cfg config.Config, data string, feedbackEvery, minExamples, steps, procs, maxEvents int, ft model.FineTuneConfig) (*driftReport, error) {
	if feedbackEvery < 1 || minExamples < 1 || steps < 1 || procs < 1 {
		return nil, fmt.Errorf("bench drift: --feedback-every, --min-examples, --steps and --max-procs must be >= 1")
	}
	load := func(parts ...string) ([]model.LabeledText, error) {
		p := filepath.Join(append([]string{data}, parts...)...)
		exs, err := modelfile.ReadLabeled(p)
		if err != nil {
			return nil, fmt.Errorf("bench drift: %w (give --data)", err)
		}
		return exs, nil
	}
	newTrain, err := load("ag_news", "train.jsonl")
	if err != nil {
		return nil, err
	}
	newDev, err := load("ag_news", "dev.jsonl")
	if err != nil {
		return nil, err
	}
	origTrain, err := load("tweeteval_sentiment", "train.jsonl")
	if err != nil {
		return nil, err
	}
	origDev, err := load("tweeteval_sentiment", "dev.jsonl")
	if err != nil {
		return nil, err
	}
	if newTrain, err = relabel(newTrain, agNewsToSentiment); err != nil {
		return nil, err
	}
	if newDev, err = relabel(newDev, agNewsToSentiment); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(7, 11))
	rng.Shuffle(len(newTrain), func(i, j int) { newTrain[i], newTrain[j] = newTrain[j], newTrain[i] })
	rng.Shuffle(len(origTrain), func(i, j int) { origTrain[i], origTrain[j] = origTrain[j], origTrain[i] })
	if maxEvents > 0 && maxEvents < len(newTrain) {
		newTrain = newTrain[:maxEvents]
	}
	// Replay and guard come from disjoint parts of the original training
	// split; the original dev split is only reported, never used.
	guardSet := origTrain[:1000]
	replay := origTrain[1000:6000]

	snap, err := server.LoadSnapshot(cfg.Models)
	if err != nil {
		return nil, err
	}
	holder := pipeline.NewModelHolder(snap)
	_, en := snap.For("en")
	rep := &driftReport{}
	if rep.NewDomainBefore, err = accuracy(en.Analyzer.Classifier(), newDev); err != nil {
		return nil, err
	}
	if rep.OriginalBefore, err = accuracy(en.Analyzer.Classifier(), origDev); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	tr, err := pipeline.NewTrainer(pipeline.TrainerConfig{
		MinExamples: minExamples, MaxRegression: cfg.Finetune.MaxRegression,
		FineTune: model.FineTuneConfig{Steps: steps, Workers: procs, ReplayFraction: ft.ReplayFraction, LR: ft.LR, Anchor: ft.Anchor},
	}, holder, map[string][]model.LabeledText{"en": replay}, map[string][]model.LabeledText{"en": guardSet}, log)
	if err != nil {
		return nil, err
	}
	start := timeNow()
	ctx := cmd.Context()
	for i, ex := range newTrain {
		rep.Events++
		if i%feedbackEvery != 0 {
			continue // labelled by the pipeline; no correction came back
		}
		rep.Feedback++
		tr.Add("en", ex)
		if tr.Ready("en") {
			if _, err := tr.RunRound(ctx, "en"); err != nil {
				return nil, err
			}
		}
	}
	rep.Promotions, rep.Rejections = tr.Stats()
	_, en = holder.Models().For("en")
	rep.Version = en.ClassifierVersion
	if rep.NewDomainAfter, err = accuracy(en.Analyzer.Classifier(), newDev); err != nil {
		return nil, err
	}
	if rep.OriginalAfter, err = accuracy(en.Analyzer.Classifier(), origDev); err != nil {
		return nil, err
	}
	rep.Seconds = timeNow().Sub(start).Seconds()
	return rep, nil
}
