package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
)

// maxSampleBytes is the longest text the Pretrainer keeps; longer ones are
// cut at a rune boundary (a language model reads only its MaxTokens).
const maxSampleBytes = 2048

// PretrainConfig configures the Pretrainer. Zero fields take defaults.
type PretrainConfig struct {
	// Sample is the fraction of offered event texts kept. Default 0.1,
	// range (0, 1].
	Sample float64
	// Buffer is the number of texts kept per language: a uniform reservoir
	// over every text sampled (Vitter's algorithm R), each cut to 2048
	// bytes. Default 20000, range 10..10000000.
	Buffer int
	// Interval is the time between rounds. Default 30m, range > 0.
	Interval time.Duration
	// MinTexts is the number of texts sampled since a language's last
	// round that starts a round at the next tick. Default 1000.
	MinTexts int
	// Holdout is the fraction of the sample held out in a round to judge
	// the refreshed model by perplexity. Default 0.1, range (0, 0.5].
	Holdout float64
	// Duty is the share of one core a round may use: after every batch
	// (and each perplexity evaluation) the round sleeps busy·(1−Duty)/Duty.
	// Default 0.25, range (0, 1]; 1 never sleeps.
	Duty float64
	// Train holds the training settings of a round. Zero fields take
	// TrainLM's defaults, except EMA (off) and LRDecay (1: every round
	// starts at LR); a round always trains one epoch with one worker,
	// resuming the model in service.
	Train model.LMTrainConfig
	// Seed seeds sampling and the held-out split. Default 1.
	Seed uint64
	// OnKept, when set, is called with every refreshed model a round
	// keeps, on the round's goroutine, after the model is in service and
	// before the next round can start; Offer and Encoder do not wait for it
	// (the service saves the model, so a restart continues from it). An
	// error is logged; the model stays in service.
	OnKept func(lang string, lm *model.LanguageModel) error
}

func (c PretrainConfig) withDefaults() PretrainConfig {
	if c.Sample == 0 {
		c.Sample = 0.1
	}
	if c.Buffer == 0 {
		c.Buffer = 20000
	}
	if c.Interval == 0 {
		c.Interval = 30 * time.Minute
	}
	if c.MinTexts == 0 {
		c.MinTexts = 1000
	}
	if c.Holdout == 0 {
		c.Holdout = 0.1
	}
	if c.Duty == 0 {
		c.Duty = 0.25
	}
	if c.Train.EMA == 0 {
		c.Train.EMA = -1
	}
	if c.Train.LRDecay == 0 {
		c.Train.LRDecay = 1
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	c.Train.Epochs, c.Train.Workers, c.Train.Patience = 1, 1, 1
	return c
}

// Validate reports the first field out of range (after defaults).
func (c PretrainConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case !(c.Sample > 0 && c.Sample <= 1):
		return fmt.Errorf("%w: pretrain Sample = %g, want (0, 1]", ErrInvalidConfig, c.Sample)
	case c.Buffer < 10 || c.Buffer > 10_000_000:
		return fmt.Errorf("%w: pretrain Buffer = %d, want 10..10000000", ErrInvalidConfig, c.Buffer)
	case c.Interval <= 0:
		return fmt.Errorf("%w: pretrain Interval = %v, want > 0", ErrInvalidConfig, c.Interval)
	case c.MinTexts < 1:
		return fmt.Errorf("%w: pretrain MinTexts = %d, want >= 1", ErrInvalidConfig, c.MinTexts)
	case !(c.Holdout > 0 && c.Holdout <= 0.5):
		return fmt.Errorf("%w: pretrain Holdout = %g, want (0, 0.5]", ErrInvalidConfig, c.Holdout)
	case !(c.Duty > 0 && c.Duty <= 1):
		return fmt.Errorf("%w: pretrain Duty = %g, want (0, 1]", ErrInvalidConfig, c.Duty)
	}
	return nil
}

// PretrainRound is the outcome of one pretraining round.
type PretrainRound struct {
	Lang string
	// Train and Heldout are the numbers of texts trained on and held out.
	Train, Heldout int
	// Before and After are the held-out perplexities (geometric mean of
	// the two directions) of the model in service and of the refreshed
	// one.
	Before, After float64
	// Kept says the refreshed model replaced the one in service (After
	// <= Before).
	Kept bool
	// Busy and Paused are the time spent computing and sleeping for the
	// duty cycle.
	Busy, Paused time.Duration
}

// Pretrainer keeps pretraining language models on a sample of the live
// stream. Offer (the pipeline's fetch hook, WithFetchHook) samples event
// texts per language into a reservoir; Run starts a round for a language
// every Interval once it has MinTexts new texts. A round continues the
// language model in service for one epoch on the sample (one goroutine,
// paced to Duty of a core) and keeps the result when its perplexity on a
// held-out slice of the sample is not worse. A kept model's encoder is
// handed to the next fine-tuning round of the Trainer it is attached to
// (Trainer.UseEncoders).
//
// Offer, Encoder and RunRound are safe from any goroutine; rounds run one
// at a time. Lock order: roundMu before mu.
type Pretrainer struct {
	cfg   PretrainConfig
	log   *slog.Logger
	order []string
	sleep func(ctx context.Context, d time.Duration)

	roundMu sync.Mutex // one round at a time
	mu      sync.Mutex // guards the fields below
	langs   map[string]*sampleState
	rng     *rand.Rand
	rounds  int
	warned  map[string]bool // lang + classifier version: mismatch logged

	m pretrainMetrics
}

type sampleState struct {
	lm      *model.LanguageModel // in service
	pending *model.LanguageModel // kept, not yet taken by fine-tuning
	texts   []string             // the reservoir
	seen    int                  // texts ever sampled
	fresh   int                  // sampled since the last round
}

type pretrainMetrics struct {
	rounds     *prometheus.CounterVec
	sampled    *prometheus.CounterVec
	perplexity *prometheus.GaugeVec
	seconds    *prometheus.CounterVec
	handoffs   *prometheus.CounterVec
}

// NewPretrainer returns a Pretrainer for the language models in lms (by
// language); each must read the words view. It does not start anything.
func NewPretrainer(cfg PretrainConfig, lms map[string]*model.LanguageModel, log *slog.Logger) (*Pretrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pretrainer{
		cfg: cfg, log: log, langs: map[string]*sampleState{}, warned: map[string]bool{},
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e7)), sleep: sleepCtx,
		m: pretrainMetrics{
			rounds: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "tagstream_pretrain_rounds_total", Help: "Live-stream pretraining rounds by language and result (kept, discarded, failed).",
			}, []string{"lang", "result"}),
			sampled: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "tagstream_pretrain_texts_sampled_total", Help: "Event texts sampled for pretraining, by language.",
			}, []string{"lang"}),
			perplexity: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: "tagstream_pretrain_heldout_perplexity", Help: "Held-out perplexity of the last round, of the language model in service before it and of the refreshed one (lm=before|after).",
			}, []string{"lang", "lm"}),
			seconds: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "tagstream_pretrain_seconds_total", Help: "Seconds pretraining rounds spent computing (state=busy) and sleeping for the duty cycle (state=paused).",
			}, []string{"lang", "state"}),
			handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "tagstream_pretrain_encoder_handoffs_total", Help: "Refreshed encoders taken by fine-tuning rounds, by language and result (used, incompatible: the classifier was not trained from this language model).",
			}, []string{"lang", "result"}),
		},
	}
	for lang, lm := range lms {
		if lm == nil {
			continue
		}
		if lm.Config.View != model.ViewWords {
			return nil, fmt.Errorf("%w: the %s language model reads %s, want %s", ErrInvalidConfig, lang, lm.Config.View, model.ViewWords)
		}
		p.langs[lang] = &sampleState{lm: lm}
		p.order = append(p.order, lang)
	}
	if len(p.order) == 0 {
		return nil, fmt.Errorf("%w: no language model to pretrain", ErrInvalidConfig)
	}
	slices.Sort(p.order)
	return p, nil
}

// Register exports the Pretrainer's metrics on reg.
func (p *Pretrainer) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{p.m.rounds, p.m.sampled, p.m.perplexity, p.m.seconds, p.m.handoffs} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Offer samples the texts of valid events among recs: each is kept with
// probability Sample for the language of its event (detected from the
// text when absent) if that language has a model. It never blocks on
// anything but a short critical section and does not retain recs.
func (p *Pretrainer) Offer(recs []event.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		if r.Err != nil || p.rng.Float64() >= p.cfg.Sample {
			continue
		}
		p.offerLocked(r.Event.Lang, r.Event.Text)
	}
}

// OfferText samples one text of lang ("" detects it), as Offer.
func (p *Pretrainer) OfferText(lang, s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rng.Float64() < p.cfg.Sample {
		p.offerLocked(lang, s)
	}
}

func (p *Pretrainer) offerLocked(lang, s string) {
	if lang == "" {
		lang = text.DetectLang(s)
	}
	st := p.langs[lang]
	if st == nil || strings.TrimSpace(s) == "" {
		return
	}
	s = strings.Clone(cutText(s, maxSampleBytes))
	st.seen++
	st.fresh++
	if len(st.texts) < p.cfg.Buffer {
		st.texts = append(st.texts, s)
	} else if j := p.rng.IntN(st.seen); j < p.cfg.Buffer {
		st.texts[j] = s
	}
	p.m.sampled.WithLabelValues(lang).Inc()
}

// cutText returns the longest prefix of s of at most n bytes that ends at
// a rune boundary.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Encoder returns lang's language model in service (nil if none).
func (p *Pretrainer) Encoder(lang string) *model.LanguageModel {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.langs[lang]; st != nil {
		return st.lm
	}
	return nil
}

// Sampled returns the number of texts in lang's reservoir and the number
// sampled since its last round.
func (p *Pretrainer) Sampled(lang string) (kept, fresh int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.langs[lang]; st != nil {
		return len(st.texts), st.fresh
	}
	return 0, 0
}

// Run runs rounds until ctx ends: every Interval, one for each language
// with MinTexts new texts. A failed round is logged and counted; Run
// returns nil when ctx ends (a round in progress stops within a batch).
func (p *Pretrainer) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, lang := range p.order {
			if _, fresh := p.Sampled(lang); fresh < p.cfg.MinTexts {
				continue
			}
			if _, err := p.RunRound(ctx, lang); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				p.log.Warn("pretraining round failed", "lang", lang, "err", err)
			}
		}
	}
}

// RunRound continues lang's language model for one epoch on its sample
// (less a held-out slice) and keeps the result when its held-out
// perplexity is not above the current model's. It returns ctx's error
// when ctx ends (the model in service stays).
func (p *Pretrainer) RunRound(ctx context.Context, lang string) (r PretrainRound, err error) {
	p.roundMu.Lock()
	defer p.roundMu.Unlock()
	r = PretrainRound{Lang: lang}
	p.mu.Lock()
	st := p.langs[lang]
	if st == nil || len(st.texts) < 2 {
		p.mu.Unlock()
		return r, fmt.Errorf("pipeline: fewer than 2 texts sampled for %q", lang)
	}
	texts := slices.Clone(st.texts)
	st.fresh = 0
	cur := st.lm
	p.rounds++
	seed := p.cfg.Seed*1_000_003 + uint64(p.rounds)
	p.mu.Unlock()

	rng := rand.New(rand.NewPCG(seed, 0x5a))
	rng.Shuffle(len(texts), func(i, j int) { texts[i], texts[j] = texts[j], texts[i] })
	nh := min(max(1, int(math.Round(float64(len(texts))*p.cfg.Holdout))), len(texts)-1)
	heldout, train := texts[:nh], texts[nh:]
	r.Train, r.Heldout = len(train), len(heldout)

	pc := newPacer(p.cfg.Duty, p.sleep)
	defer func() {
		r.Busy, r.Paused = pc.busy, pc.paused
		p.m.seconds.WithLabelValues(lang, "busy").Add(pc.busy.Seconds())
		p.m.seconds.WithLabelValues(lang, "paused").Add(pc.paused.Seconds())
	}()
	r.Before = perplexity(cur, heldout)
	pc.pace(ctx)
	cfg := p.cfg.Train
	cfg.Resume, cfg.EvalMax, cfg.Seed = cur, len(heldout), seed
	cand, reports, err := model.TrainLM(ctx, nil, train, heldout, cfg, model.LMHooks{
		TrainHooks: model.TrainHooks{OnBatch: func(model.Progress) { pc.pace(ctx) }},
	})
	pc.pace(ctx)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil || cand == nil || len(reports) == 0 || reports[0].Perplexity == nil {
		p.m.rounds.WithLabelValues(lang, "failed").Inc()
		if err == nil {
			err = fmt.Errorf("pipeline: pretraining %s returned no model", lang)
		}
		return r, fmt.Errorf("pretrain %s: %w", lang, err)
	}
	pp := reports[0].Perplexity
	r.After = math.Sqrt(pp.Forward * pp.Backward)
	r.Kept = r.After <= r.Before
	p.m.perplexity.WithLabelValues(lang, "before").Set(r.Before)
	p.m.perplexity.WithLabelValues(lang, "after").Set(r.After)
	result := "discarded"
	if r.Kept {
		result = "kept"
		p.mu.Lock()
		st.lm, st.pending = cand, cand
		p.mu.Unlock()
		if p.cfg.OnKept != nil {
			if err := p.cfg.OnKept(lang, cand); err != nil {
				p.log.Warn("refreshed language model not saved", "lang", lang, "err", err)
			}
		}
	}
	p.m.rounds.WithLabelValues(lang, result).Inc()
	p.log.Info("pretraining round "+result, "lang", lang, "train_texts", r.Train, "heldout_texts", r.Heldout,
		"perplexity_before", round2(r.Before), "perplexity_after", round2(r.After), "epochs", cand.Info["epochs"],
		"busy", pc.busy.Round(time.Millisecond), "paused", pc.paused.Round(time.Millisecond), "seed", seed)
	return r, nil
}

// perplexity is lm's held-out perplexity: the geometric mean of the two
// directions' (+Inf when no text has two tokens).
func perplexity(lm *model.LanguageModel, texts []string) float64 {
	f, b, n := lm.Perplexity(texts)
	if n == 0 {
		return math.Inf(1)
	}
	return math.Sqrt(f * b)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// take returns and clears lang's kept model not yet handed to fine-tuning.
func (p *Pretrainer) take(lang string) *model.LanguageModel {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.langs[lang]
	if st == nil {
		return nil
	}
	lm := st.pending
	st.pending = nil
	return lm
}

// baseFor returns the base of lang's next fine-tuning round: c with the
// encoder of the language model kept since the last round, or c itself
// when there is none or it does not fit c (logged once per classifier
// version, counted every time). A refreshed encoder is offered to one
// round only: later rounds build on the classifier that round produced.
func (p *Pretrainer) baseFor(lang string, c *model.Classifier, version string) (*model.Classifier, bool) {
	lm := p.take(lang)
	if lm == nil {
		return c, false
	}
	q, err := model.ReplaceEncoder(c, lm)
	if err != nil {
		p.m.handoffs.WithLabelValues(lang, "incompatible").Inc()
		p.mu.Lock()
		key := lang + " " + version
		first := !p.warned[key]
		p.warned[key] = true
		p.mu.Unlock()
		if first {
			p.log.Warn("refreshed language model does not fit the classifier; fine-tuning keeps the classifier's encoder (train the classifier with --init from the language model)",
				"lang", lang, "classifier", version, "err", err)
		}
		return c, false
	}
	p.m.handoffs.WithLabelValues(lang, "used").Inc()
	p.log.Info("fine-tuning round starts from the refreshed encoder", "lang", lang, "classifier", version, "lm_epochs", lm.Info["epochs"])
	return q, true
}

// WithFetchHook calls fn with every batch of records the pipeline fetches,
// on its fetch goroutine, before they are queued (Pretrainer.Offer). fn
// must not block or retain recs.
func WithFetchHook(fn func(recs []event.Record)) Option {
	return func(o *options) { o.fetchHook = fn }
}

// UseEncoders makes every later classifier round start from the encoder
// of the language model p kept since the previous round, when it fits the
// classifier in service (model.ReplaceEncoder); nil stops it.
func (t *Trainer) UseEncoders(p *Pretrainer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.encoders = p
}

// roundBase returns the classifier lang's round fine-tunes and whether it
// carries a refreshed encoder.
func (t *Trainer) roundBase(lang string, tm *TaskModel) (*model.Classifier, bool) {
	t.mu.Lock()
	p := t.encoders
	t.mu.Unlock()
	if p == nil || tm.MultiLabel {
		return tm.Classifier, false
	}
	return p.baseFor(lang, tm.Classifier, tm.Version)
}

// pacer caps a goroutine's duty cycle: pace sleeps in proportion to the
// time computed since the previous call.
type pacer struct {
	duty         float64
	sleep        func(ctx context.Context, d time.Duration)
	now          func() time.Time
	last         time.Time
	busy, paused time.Duration
}

func newPacer(duty float64, sleep func(context.Context, time.Duration)) *pacer {
	return &pacer{duty: duty, sleep: sleep, now: time.Now, last: time.Now()}
}

// pace counts the time since the last call as busy and sleeps
// busy·(1−duty)/duty, or until ctx ends.
func (pc *pacer) pace(ctx context.Context) {
	t := pc.now()
	busy := t.Sub(pc.last)
	pc.busy += busy
	if pc.duty < 1 && busy > 0 && ctx.Err() == nil {
		pc.sleep(ctx, time.Duration(float64(busy)*(1-pc.duty)/pc.duty))
	}
	after := pc.now()
	pc.paused += after.Sub(t)
	pc.last = after
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
