package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/server"
)

// DriftReport is the outcome of Drift (bench drift --json).
type DriftReport struct {
	NewDomainBefore float64 `json:"new_domain_before"`
	NewDomainAfter  float64 `json:"new_domain_after"`
	OriginalBefore  float64 `json:"original_before"`
	OriginalAfter   float64 `json:"original_after"`
	Promotions      int     `json:"promotions"`
	Rejections      int     `json:"rejections"`
	Events          int     `json:"events"`
	Feedback        int     `json:"feedback"`
	Version         string  `json:"version"`
	// Tasks are the configured tasks; the drift is the route task's, and
	// OtherTasksUnchanged says every other task's English model kept its
	// version.
	Tasks               []string `json:"tasks"`
	OtherTasksUnchanged bool     `json:"other_tasks_unchanged"`
	Seconds             float64  `json:"seconds"`
	// PeakRSSMB is the process's peak resident set size, MiB (what a
	// trainer round with its replay and guard data needs).
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// agNewsToSentiment is the drift scenario's fixed relabelling of the news
// topics onto the sentiment model's labels: a new domain with a new
// labelling function the default model cannot know.
var agNewsToSentiment = map[string]string{"world": "negative", "business": "neutral", "sci_tech": "neutral", "sports": "positive"}

// DriftOptions configure Drift.
type DriftOptions struct {
	// Data is the datasets directory (ag_news, tweeteval_sentiment).
	Data string
	// FeedbackEvery: one event in this many comes back as feedback.
	FeedbackEvery int
	// MinExamples new examples start a round of Steps Adam steps on
	// Procs goroutines.
	MinExamples, Steps, Procs int
	// MaxEvents bounds the stream (0: the whole ag_news train split).
	MaxEvents int
	// FineTune sets the replay fraction, learning rate and anchor (zero:
	// defaults).
	FineTune model.FineTuneConfig
}

// relabel maps every example's label through m.
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

// accuracy is m's accuracy on exs.
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

// Drift runs the drift scenario: the configured English sentiment model
// (the built-in one by default) fine-tuned online on the shuffled,
// relabelled ag_news train split, one event in o.FeedbackEvery coming back
// as feedback, each candidate guarded as the trainer does in service.
// Progress is logged to logw.
func Drift(ctx context.Context, cfg config.Config, o DriftOptions, logw io.Writer) (*DriftReport, error) {
	data, feedbackEvery, minExamples, steps, procs, maxEvents, ft := o.Data, o.FeedbackEvery, o.MinExamples, o.Steps, o.Procs, o.MaxEvents, o.FineTune
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
	// 1,000 and 5,000 of tweeteval's 45,615; a smaller split keeps the
	// same one-to-five proportion.
	if len(origTrain) < 10 {
		return nil, fmt.Errorf("bench drift: tweeteval_sentiment train split has %d examples, want at least 10", len(origTrain))
	}
	nGuard := min(1000, len(origTrain)/6)
	guardSet := origTrain[:nGuard]
	replay := origTrain[nGuard:min(nGuard+5000, len(origTrain))]

	snap, err := server.LoadSnapshot(cfg)
	if err != nil {
		return nil, err
	}
	// The drift is the route task's (sentiment): the other tasks of the
	// configuration serve beside it, untouched.
	route := snap.Route()
	holder := pipeline.NewModelHolder(snap)
	_, en := snap.For("en")
	routeCls := func(lm *pipeline.LangModels) *model.CompiledClassifier {
		i, _ := lm.Task(route)
		return lm.Analyzer.Classifiers()[i]
	}
	rep := &DriftReport{Tasks: snap.Tasks()}
	before := en.Versions
	if rep.NewDomainBefore, err = accuracy(routeCls(en), newDev); err != nil {
		return nil, err
	}
	if rep.OriginalBefore, err = accuracy(routeCls(en), origDev); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	tr, err := pipeline.NewTrainer(pipeline.TrainerConfig{
		MinExamples: minExamples, MaxRegression: cfg.Finetune.MaxRegression,
		FineTune: model.FineTuneConfig{Steps: steps, Workers: procs, ReplayFraction: ft.ReplayFraction, LR: ft.LR, Anchor: ft.Anchor},
	}, holder, map[string][]model.LabeledText{pipeline.TaskKey(route, "en"): replay}, map[string][]model.LabeledText{pipeline.TaskKey(route, "en"): guardSet}, log)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for i, ex := range newTrain {
		rep.Events++
		if i%feedbackEvery != 0 {
			continue // labelled by the pipeline; no correction came back
		}
		rep.Feedback++
		tr.Add(route, "en", ex)
		if tr.Ready(route, "en") {
			if _, err := tr.RunRound(ctx, route, "en"); err != nil {
				return nil, err
			}
		}
	}
	rep.Promotions, rep.Rejections = tr.Stats()
	_, en = holder.Models().For("en")
	rep.Version = en.Versions[route]
	rep.OtherTasksUnchanged = true
	for _, t := range rep.Tasks {
		if t != route && en.Versions[t] != before[t] {
			rep.OtherTasksUnchanged = false
		}
	}
	if rep.NewDomainAfter, err = accuracy(routeCls(en), newDev); err != nil {
		return nil, err
	}
	if rep.OriginalAfter, err = accuracy(routeCls(en), origDev); err != nil {
		return nil, err
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.PeakRSSMB = peakRSSMB()
	return rep, nil
}
