package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagstream/tagstream/model"
)

// ModelSwapper holds the model Snapshot in service. *Pipeline implements it;
// so does *ModelHolder.
type ModelSwapper interface {
	Models() *Snapshot
	SetModels(*Snapshot)
}

// ModelHolder is a ModelSwapper outside a running pipeline (the drift
// benchmark, a stand-alone trainer).
type ModelHolder struct{ p atomicSnapshot }

type atomicSnapshot struct {
	mu sync.Mutex
	s  *Snapshot
}

// NewModelHolder returns a holder serving s.
func NewModelHolder(s *Snapshot) *ModelHolder {
	h := &ModelHolder{}
	h.p.s = s
	return h
}

// Models returns the Snapshot held.
func (h *ModelHolder) Models() *Snapshot {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	return h.p.s
}

// SetModels replaces it.
func (h *ModelHolder) SetModels(s *Snapshot) {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	h.p.s = s
}

// TrainerConfig configures online fine-tuning. Zero fields take defaults.
type TrainerConfig struct {
	// MinExamples is the number of new training examples of a language
	// that makes Ready true. Default 200, range 1..10000000.
	MinExamples int
	// HoldoutEvery sends every n-th feedback example to the held-out set
	// instead of training (progressive validation). Default 5 (20 %).
	HoldoutEvery int
	// HoldoutSize is the number of most recent held-out examples kept.
	// Default 1000.
	HoldoutSize int
	// ReplaySize is the reservoir size of earlier feedback kept for replay.
	// Default 5000.
	ReplaySize int
	// MaxRegression is the largest accuracy drop on the guard set a
	// candidate may show and still be promoted. Default 0.01, range 0..1.
	MaxRegression float64
	// FineTune bounds each round (Workers is the CPU cap).
	FineTune model.FineTuneConfig
	// Seed seeds the reservoir sampling. Default 1.
	Seed uint64
}

func (c TrainerConfig) withDefaults() TrainerConfig {
	if c.MinExamples == 0 {
		c.MinExamples = 200
	}
	if c.HoldoutEvery == 0 {
		c.HoldoutEvery = 5
	}
	if c.HoldoutSize == 0 {
		c.HoldoutSize = 1000
	}
	if c.ReplaySize == 0 {
		c.ReplaySize = 5000
	}
	if c.MaxRegression == 0 {
		c.MaxRegression = 0.01
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// TaskKey is the key of one task's classifier of one language in the
// Trainer's original and guard maps: "<task>/<lang>".
func TaskKey(task, lang string) string { return task + "/" + lang }

// Round is the outcome of one fine-tuning round.
type Round struct {
	model    *model.Classifier // the promoted candidate, nil if rejected
	Task     string            // "" for a tagger round
	Lang     string
	Examples int // new training examples used
	Decision model.GuardDecision
	Version  string // the promoted classifier version ("" if rejected)
	Took     time.Duration
	// Encoder says the candidate started from the encoder of a language
	// model refreshed on the live stream (Trainer.UseEncoders).
	Encoder bool
}

// Trainer fine-tunes the classifiers in service from labelled feedback and
// promotes a candidate only when model.Guard accepts it. Add is safe from
// any goroutine; rounds run one at a time (RunRound serializes).
//
// Per language it keeps the new training examples since the last round, a
// reservoir sample of earlier feedback, the most recent held-out feedback,
// and the caller's original-data replay and guard sets.
type Trainer struct {
	cfg      TrainerConfig
	models   ModelSwapper
	log      *slog.Logger
	original map[string][]model.LabeledText // by TaskKey: replay of the original training data
	guard    map[string][]model.LabeledText // by TaskKey
	frozen   map[string]bool                // tasks not fine-tuned

	roundMu  sync.Mutex                // one round at a time
	mu       sync.Mutex                // guards the fields below
	langs    map[string]*feedbackState // classifier feedback by TaskKey, entity feedback by language
	rng      *rand.Rand
	gen      int // promotions so far: the fine-tuned version number
	nerGen   int // tagger promotions so far
	rounds   int
	baseline map[string]float64 // guard accuracy of the first model per TaskKey

	Promotions, Rejections int // read under mu via Stats

	recent       []RoundRecord // the newest maxRecent decisions, oldest first
	onPromote    func(ctx context.Context, p Promotion) error
	roundsMetric *prometheus.CounterVec
	encoders     *Pretrainer // refreshed encoders for classifier rounds (UseEncoders)
}

// Register exports the trainer's round counter,
// tagstream_finetune_rounds_total{lang,kind,task,decision}, on reg.
func (t *Trainer) Register(reg prometheus.Registerer) error {
	return reg.Register(t.roundsMetric)
}

// RoundRecord is one fine-tuning round's decision, for display.
type RoundRecord struct {
	Task     string // "" for a tagger round
	Lang     string
	Kind     string // "classifier" or "ner"
	Promoted bool
	Reason   string    // the guard's reason
	Version  string    // the promoted version ("" if rejected)
	Base     string    // the version fine-tuned from
	Examples int       // new training examples used
	At       time.Time // when the decision was made
}

// maxRecent is how many round decisions Recent keeps.
const maxRecent = 20

// Recent returns the newest round decisions, newest first.
func (t *Trainer) Recent() []RoundRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]RoundRecord, len(t.recent))
	for i, r := range t.recent {
		out[len(out)-1-i] = r
	}
	return out
}

// record keeps a round's decision. Call with mu held.
func (t *Trainer) record(r RoundRecord) {
	r.At = time.Now()
	t.recent = append(t.recent, r)
	if len(t.recent) > maxRecent {
		t.recent = t.recent[len(t.recent)-maxRecent:]
	}
}

func (t *Trainer) count(lang, kind, task string, promoted bool) {
	d := "rejected"
	if promoted {
		d = "promoted"
	}
	t.roundsMetric.WithLabelValues(lang, kind, task, d).Inc()
}

// Promotion describes a promoted model, for distribution: Model for a
// classifier, Tagger for a tagger.
type Promotion struct {
	Task     string // the classifier's task ("" for a tagger)
	Lang     string
	Seq      int    // the promotion number (the N of .ftN)
	Parent   string // the version it was fine-tuned from
	Model    *model.Classifier
	Tagger   *model.Tagger
	Models   *LangModels
	Decision model.GuardDecision
}

// OnPromote sets a function called after each promotion (on RunRound's
// goroutine), e.g. to publish the model to the other instances. Its error
// is logged; the promotion stands.
func (t *Trainer) OnPromote(fn func(ctx context.Context, p Promotion) error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.onPromote = fn
}

// SetGeneration makes the next promotion number n+1 (after a restart, n
// is the newest promotion in the model bucket).
func (t *Trainer) SetGeneration(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen = max(t.gen, n)
	t.nerGen = max(t.nerGen, n)
}

type feedbackState struct {
	fresh     []model.LabeledText
	reservoir []model.LabeledText
	seen      int // examples ever offered to the reservoir
	holdout   []model.LabeledText
	count     int // feedback examples ever added

	// Entity corrections, for the tagger: new, earlier (capped at
	// ReplaySize, oldest dropped) and held out.
	efresh, eold, eholdout []model.EntityExample
	ecount                 int
}

// NewTrainer returns a Trainer for the models held by m. original and
// guard map a TaskKey to a sample of its original training data (mixed
// into every round) and to a fixed guard set; either may lack a key.
func NewTrainer(cfg TrainerConfig, m ModelSwapper, original, guard map[string][]model.LabeledText, log *slog.Logger) (*Trainer, error) {
	cfg = cfg.withDefaults()
	if cfg.MaxRegression < 0 || cfg.MaxRegression > 1 {
		return nil, fmt.Errorf("%w: MaxRegression = %g, want 0..1", ErrInvalidConfig, cfg.MaxRegression)
	}
	if cfg.HoldoutEvery < 2 {
		return nil, fmt.Errorf("%w: HoldoutEvery = %d, want >= 2", ErrInvalidConfig, cfg.HoldoutEvery)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Trainer{
		cfg: cfg, models: m, log: log, original: original, guard: guard,
		roundsMetric: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tagstream_finetune_rounds_total", Help: "Fine-tuning rounds by language, model kind, task (classifiers) and guard decision.",
		}, []string{"lang", "kind", "task", "decision"}),
		langs: map[string]*feedbackState{}, baseline: map[string]float64{}, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7ee)),
		frozen: map[string]bool{},
	}, nil
}

// Freeze keeps task out of fine-tuning: its feedback is refused
// (ParseFeedback's bad_task) and no round runs for it.
func (t *Trainer) Freeze(task string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.frozen[task] = true
}

// Frozen reports whether task is kept out of fine-tuning.
func (t *Trainer) Frozen(task string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.frozen[task]
}

// Add records one labelled feedback example for task's classifier of lang
// (ex.Labels for a multi-label task, ex.Label otherwise).
func (t *Trainer) Add(task, lang string, ex model.LabeledText) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(TaskKey(task, lang))
	st.count++
	holdOrTrain(st.count, t.cfg.HoldoutEvery, t.cfg.HoldoutSize, &st.holdout, &st.fresh, ex)
}

// state returns lang's feedback state, creating it. Call with mu held.
func (t *Trainer) state(lang string) *feedbackState {
	st := t.langs[lang]
	if st == nil {
		st = &feedbackState{}
		t.langs[lang] = st
	}
	return st
}

// holdOrTrain puts the n-th example ex into holdout when n is a multiple
// of every (keeping the newest size), and into fresh otherwise.
func holdOrTrain[T any](n, every, size int, holdout, fresh *[]T, ex T) {
	if n%every != 0 {
		*fresh = append(*fresh, ex)
		return
	}
	*holdout = append(*holdout, ex)
	if len(*holdout) > size {
		*holdout = (*holdout)[len(*holdout)-size:]
	}
}

// Ready reports whether task's classifier of lang has MinExamples new
// training examples.
func (t *Trainer) Ready(task, lang string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.langs[TaskKey(task, lang)]
	return st != nil && len(st.fresh) >= t.cfg.MinExamples
}

// Stats returns the numbers of promotions and rejections so far.
func (t *Trainer) Stats() (promotions, rejections int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.Promotions, t.Rejections
}

// RunRound fine-tunes task's classifier of lang on its new feedback (with
// replay), guards the candidate and, if it passes, swaps it into service.
// The new examples then join the replay reservoir whatever the decision.
func (t *Trainer) RunRound(ctx context.Context, task, lang string) (Round, error) {
	t.roundMu.Lock()
	defer t.roundMu.Unlock()
	start := time.Now()
	r := Round{Task: task, Lang: lang}
	key := TaskKey(task, lang)
	snap := t.models.Models()
	servedLang, lm := snap.For(lang)
	_, tm := lm.Task(task)
	if servedLang != lang || tm == nil {
		return r, fmt.Errorf("pipeline: no fine-tunable %s classifier for %q", task, lang)
	}
	t.mu.Lock()
	st := t.langs[key]
	if st == nil || len(st.fresh) == 0 {
		t.mu.Unlock()
		return r, fmt.Errorf("pipeline: no new %s feedback for %q", task, lang)
	}
	fresh := st.fresh
	st.fresh = nil
	// Train on the new feedback and the reservoir of earlier feedback (a
	// rejected round's examples still count next time); replay the
	// original data against forgetting.
	train := append(append([]model.LabeledText(nil), fresh...), st.reservoir...)
	replay := t.original[key]
	holdout := append([]model.LabeledText(nil), st.holdout...)
	t.mu.Unlock()
	defer t.toReservoir(key, fresh)
	r.Examples = len(fresh)

	t.mu.Lock()
	t.rounds++
	ft := t.cfg.FineTune
	ft.Seed = t.cfg.Seed*1_000_003 + uint64(t.rounds) // reproducible, distinct per round
	t.mu.Unlock()
	from, enc := t.roundBase(lang, tm)
	r.Encoder = enc
	cand, err := model.FineTuneClassifier(ctx, from, train, replay, ft)
	if err != nil {
		return r, fmt.Errorf("fine-tune %s: %w", tm.Version, err)
	}
	ti, _ := lm.Task(task)
	r.Decision = model.Guard(lm.Analyzer.Classifiers()[ti], cand.Compile(), holdout, t.guard[key], t.cfg.MaxRegression)
	t.mu.Lock()
	// Bound the cumulative regression: the guard accuracy of the first
	// model this trainer saw for the task and language is the baseline
	// every later candidate is held to, so small drops cannot add up.
	base, ok := t.baseline[key]
	if !ok {
		base = r.Decision.CurrentGuard
		t.baseline[key] = base
	}
	t.mu.Unlock()
	if r.Decision.Promote && len(t.guard[key]) > 0 && r.Decision.CandidateGuard < base-t.cfg.MaxRegression {
		r.Decision.Promote = false
		r.Decision.Reason = fmt.Sprintf("guard accuracy %.3f is more than %.3f below the first model's %.3f", r.Decision.CandidateGuard, t.cfg.MaxRegression, base)
	}
	r.Took = time.Since(start)
	t.mu.Lock()
	t.count(lang, "classifier", task, r.Decision.Promote)
	if !r.Decision.Promote {
		t.record(RoundRecord{Task: task, Lang: lang, Kind: "classifier", Reason: r.Decision.Reason, Base: tm.Version, Examples: r.Examples})
		t.Rejections++
		t.mu.Unlock()
		t.log.Info("fine-tune candidate rejected", "task", task, "lang", lang, "base", tm.Version, "examples", r.Examples, "refreshed_encoder", r.Encoder, "reason", r.Decision.Reason, "took", r.Took)
		return r, nil
	}
	t.gen++
	gen := t.gen
	t.Promotions++
	t.mu.Unlock()
	specs := lm.Specs()
	specs[ti] = TaskSpec{Task: task, Classifier: cand, Name: fmt.Sprintf("%s.ft%d", trimFT(tm.Name), gen)}
	nlm, err := NewLangModels(specs, lm.Tagger, lm.NERName)
	if err != nil {
		return r, err
	}
	if err := t.swap(lang, nlm); err != nil {
		return r, err
	}
	r.Version = nlm.Versions[task]
	r.model = cand
	t.mu.Lock()
	t.record(RoundRecord{Task: task, Lang: lang, Kind: "classifier", Promoted: true, Reason: r.Decision.Reason, Version: r.Version, Base: tm.Version, Examples: r.Examples})
	t.mu.Unlock()
	t.mu.Lock()
	hook := t.onPromote
	t.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, Promotion{Task: task, Lang: lang, Seq: gen, Parent: tm.Version, Model: cand, Models: nlm, Decision: r.Decision}); err != nil {
			t.log.Error("publish promoted model", "version", r.Version, "err", err)
		}
	}
	t.log.Info("fine-tuned model promoted", "task", task, "lang", lang, "version", r.Version, "parent", tm.Version, "examples", r.Examples, "refreshed_encoder", r.Encoder, "reason", r.Decision.Reason, "took", r.Took)
	return r, nil
}

// swap puts nlm in service for lang, built from the models in service now
// (a round or a bucket swap of another language may have happened since).
func (t *Trainer) swap(lang string, nlm *LangModels) error {
	snap, err := t.models.Models().With(lang, nlm)
	if err != nil {
		return err
	}
	t.models.SetModels(snap)
	return nil
}

// trimFT drops a ".ftN" suffix so versions do not pile up suffixes.
func trimFT(name string) string {
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '.' {
			if len(name) > i+3 && name[i+1:i+3] == "ft" {
				return name[:i]
			}
			break
		}
	}
	return name
}

// toReservoir offers examples to key's replay reservoir (Vitter's
// algorithm R: every example ever offered is kept with equal probability).
func (t *Trainer) toReservoir(key string, exs []model.LabeledText) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.langs[key]
	for _, ex := range exs {
		st.seen++
		if len(st.reservoir) < t.cfg.ReplaySize {
			st.reservoir = append(st.reservoir, ex)
		} else if j := t.rng.IntN(st.seen); j < t.cfg.ReplaySize {
			st.reservoir[j] = ex
		}
	}
}

// candidate returns the promoted model of r (nil if none).
func (r Round) candidate() *model.Classifier { return r.model }

// AddEntities records one entity correction for lang's tagger.
func (t *Trainer) AddEntities(lang string, ex model.EntityExample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(lang)
	st.ecount++
	holdOrTrain(st.ecount, t.cfg.HoldoutEvery, t.cfg.HoldoutSize, &st.eholdout, &st.efresh, ex)
}

// ReadyNER reports whether lang has MinExamples new entity corrections.
func (t *Trainer) ReadyNER(lang string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.langs[lang]
	return st != nil && len(st.efresh) >= t.cfg.MinExamples
}

// RunNERRound is RunRound for lang's tagger, from entity corrections: it
// fine-tunes on the new and earlier corrections, guards the candidate with
// GuardTagger on the held-out ones, and swaps it in when it passes.
func (t *Trainer) RunNERRound(ctx context.Context, lang string) (Round, error) {
	t.roundMu.Lock()
	defer t.roundMu.Unlock()
	start := time.Now()
	r := Round{Lang: lang}
	servedLang, lm := t.models.Models().For(lang)
	if servedLang != lang || lm.Tagger == nil {
		return r, fmt.Errorf("pipeline: no fine-tunable tagger for %q", lang)
	}
	t.mu.Lock()
	st := t.langs[lang]
	if st == nil || len(st.efresh) == 0 {
		t.mu.Unlock()
		return r, fmt.Errorf("pipeline: no new entity feedback for %q", lang)
	}
	fresh := st.efresh
	st.efresh = nil
	train := append(append([]model.EntityExample(nil), fresh...), st.eold...)
	holdout := append([]model.EntityExample(nil), st.eholdout...)
	st.eold = append(st.eold, fresh...)
	if len(st.eold) > t.cfg.ReplaySize {
		st.eold = st.eold[len(st.eold)-t.cfg.ReplaySize:]
	}
	t.rounds++
	ft := t.cfg.FineTune
	ft.Seed = t.cfg.Seed*1_000_003 + uint64(t.rounds)
	t.mu.Unlock()
	r.Examples = len(fresh)
	cand, err := model.FineTuneTagger(ctx, lm.Tagger, train, nil, ft)
	if err != nil {
		return r, fmt.Errorf("fine-tune %s: %w", lm.NERVersion, err)
	}
	r.Decision = model.GuardTagger(lm.Analyzer.Tagger(), cand.Compile(), holdout)
	r.Took = time.Since(start)
	t.mu.Lock()
	t.count(lang, "ner", "", r.Decision.Promote)
	if !r.Decision.Promote {
		t.record(RoundRecord{Lang: lang, Kind: "ner", Reason: r.Decision.Reason, Base: lm.NERVersion, Examples: r.Examples})
		t.Rejections++
		t.mu.Unlock()
		t.log.Info("fine-tuned tagger rejected", "lang", lang, "base", lm.NERVersion, "examples", r.Examples, "reason", r.Decision.Reason, "took", r.Took)
		return r, nil
	}
	t.nerGen++
	gen := t.nerGen
	t.Promotions++
	hook := t.onPromote
	t.mu.Unlock()
	nlm, err := NewLangModels(lm.Specs(), cand, fmt.Sprintf("%s.ft%d", trimFT(lm.NERName), gen))
	if err != nil {
		return r, err
	}
	if err := t.swap(lang, nlm); err != nil {
		return r, err
	}
	r.Version = nlm.NERVersion
	t.mu.Lock()
	t.record(RoundRecord{Lang: lang, Kind: "ner", Promoted: true, Reason: r.Decision.Reason, Version: r.Version, Base: lm.NERVersion, Examples: r.Examples})
	t.mu.Unlock()
	t.log.Info("fine-tuned tagger promoted", "lang", lang, "version", r.Version, "parent", lm.NERVersion, "examples", r.Examples, "reason", r.Decision.Reason, "took", r.Took)
	if hook != nil {
		if err := hook(ctx, Promotion{Lang: lang, Seq: gen, Parent: lm.NERVersion, Tagger: cand, Models: nlm, Decision: r.Decision}); err != nil {
			t.log.Error("publish promoted tagger", "version", r.Version, "err", err)
		}
	}
	return r, nil
}
