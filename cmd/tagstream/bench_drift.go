package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/internal/bench"
	"github.com/tagstream/tagstream/model"
)

func newBenchDriftCmd() *cobra.Command {
	var data string
	var jsonOut bool
	var feedbackEvery, minExamples, steps, procs int
	var maxEvents int
	var replayFrac, lr, anchor float64
	var configTasks bool
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
			if !configTasks {
				cfg.Tasks = withDemoTasks(cfg.Tasks)
			}
			rep, err := bench.Drift(cmd.Context(), cfg, bench.DriftOptions{
				Data: data, FeedbackEvery: feedbackEvery, MinExamples: minExamples, Steps: steps, Procs: procs, MaxEvents: maxEvents,
				FineTune: model.FineTuneConfig{ReplayFraction: replayFrac, LR: lr, Anchor: anchor},
			}, cmd.ErrOrStderr())
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
