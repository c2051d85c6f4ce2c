package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/internal/embedded"
	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
)

// service is one running tagstream processor: optional embedded brokers,
// the NATS publisher, the Kafka consumer, the pipeline and the HTTP
// endpoint. start builds it; run runs it until ctx ends and tears it down.
type service struct {
	cfg     config.Config
	log     *slog.Logger
	servers *embedded.Servers // nil unless embedded
	pub     *producer.Publisher
	cons    *consumer.Consumer
	pipe    *pipeline.Pipeline
	reg     *prometheus.Registry
	httpSrv *http.Server
	httpLn  net.Listener
	models  func() (*pipeline.Snapshot, error) // reloads the models (SIGHUP)

	// Online fine-tuning (finetune.enabled): its own consumer of the
	// feedback topic and its own publisher for invalid feedback.
	trainer *pipeline.Trainer
	fbCons  *consumer.Consumer
	fbPub   *producer.Publisher
	// Live-stream pretraining (pretrain.enabled): the job, and for a
	// stand-alone trainer the consumer that samples the event topics.
	pretrainer *pipeline.Pretrainer
	ptCons     *consumer.Consumer

	// Model distribution (models.bucket, jetstream mode).
	store *producer.ModelStore
	sync  *pipeline.ModelSync
	// swapper holds the models in service: the pipeline, or a
	// ModelHolder for a stand-alone trainer.
	swapper pipeline.ModelSwapper
}

// serviceOptions adjust start for the demo and the benchmark.
type serviceOptions struct {
	identity     bool // label with the identity analyzer (no models)
	trainerOnly  bool // no serving pipeline: the stand-alone trainer
	noHTTP       bool
	httpOptional bool // go on without HTTP when its address is taken
}

// consumerConfig maps the file configuration onto the consumer's.
func consumerConfig(c config.Config) consumer.Config {
	ci := c.Kafka.CommitInterval
	if ci < 10*time.Millisecond {
		ci = 10 * time.Millisecond // 0 in the file: as soon as possible
	}
	return consumer.Config{
		Brokers:     c.Kafka.Brokers,
		Topics:      c.Kafka.Topics,
		Group:       c.Kafka.Group,
		StartOffset: c.Kafka.StartOffset,
		TLS: consumer.TLSConfig{
			Enable: c.Kafka.TLS.Enabled, CAFile: c.Kafka.TLS.CAFile, CertFile: c.Kafka.TLS.CertFile,
			KeyFile: c.Kafka.TLS.KeyFile, InsecureSkipVerify: c.Kafka.TLS.InsecureSkipVerify,
		},
		SASL:           consumer.SASLConfig{Mechanism: c.Kafka.SASL.Mechanism, Username: c.Kafka.SASL.Username, Password: c.Kafka.SASL.Password},
		FetchMaxBytes:  max(c.Kafka.FetchMaxBytes, c.Input.MaxBytes),
		FetchLinger:    max(c.Batch.MaxDelay, time.Millisecond),
		CommitInterval: ci,
		Format:         event.Format(c.Input.Format),
		MaxBytes:       c.Input.MaxBytes,
	}
}

// producerConfig maps the file configuration onto the publisher's.
func producerConfig(c config.Config) producer.Config {
	return producer.Config{
		URL:             c.NATS.URL,
		Mode:            producer.Mode(c.NATS.Mode),
		Stream:          c.NATS.Stream,
		DuplicateWindow: c.NATS.DuplicateWindow,
		SubjectPrefix:   c.Output.SubjectPrefix,
		DLQSubject:      c.Output.DLQSubject,
		IncludeText:     c.Output.IncludeText,
		User:            c.NATS.User,
		Password:        c.NATS.Password,
		Token:           c.NATS.Token,
		NKeySeedFile:    c.NATS.NKeySeedFile,
		CredsFile:       c.NATS.CredsFile,
		TLS: producer.TLSConfig{
			Enabled: c.NATS.TLS.Enabled, CAFile: c.NATS.TLS.CAFile, CertFile: c.NATS.TLS.CertFile,
			KeyFile: c.NATS.TLS.KeyFile, InsecureSkipVerify: c.NATS.TLS.InsecureSkipVerify,
		},
		MaxPendingAcks: c.NATS.MaxPendingAcks,
	}
}

func pipelineConfig(c config.Config) pipeline.Config {
	return pipeline.Config{
		BatchMaxSize:     c.Batch.MaxSize,
		BatchMaxDelay:    c.Batch.MaxDelay,
		BatchMaxBytes:    c.Batch.MaxBytes,
		Workers:          c.Workers,
		QueueSize:        c.QueueSize,
		MaxInFlight:      max(c.QueueSize+c.NATS.MaxPendingAcks, c.Batch.MaxSize),
		MaxInFlightBytes: c.MaxInFlightBytes,
		MaxTokens:        c.Input.MaxTokens,
		// The drain gets 4/5 of shutdown_timeout; the final commit and
		// leaving the group get the rest (see service.run).
		ShutdownTimeout: max(c.ShutdownTimeout*4/5, time.Millisecond),
		IncludeText:     c.Output.IncludeText,
	}
}

// loadSnapshot loads the configured models; an empty path means the
// built-in model of that slot.
func loadSnapshot(m config.Models) (*pipeline.Snapshot, error) {
	var tc model.TokenizerCache
	defs, err := models.Defaults(&tc)
	if err != nil {
		return nil, err
	}
	langs := map[string]*pipeline.LangModels{}
	for lang, paths := range map[string][2]string{"en": {m.ClassifierEN, m.NEREN}, "zh": {m.ClassifierZH, m.NERZH}} {
		d := defs[lang]
		cls, clsName := d.Classifier, d.ClassifierName
		ner, nerName := d.Tagger, d.TaggerName
		if paths[0] != "" {
			l, err := modelfile.Load(paths[0], &tc)
			if err != nil {
				return nil, fmt.Errorf("models.classifier_%s: %w", lang, err)
			}
			if l.Classifier == nil {
				return nil, fmt.Errorf("models.classifier_%s: %s is a %s, want a classifier", lang, paths[0], model.KindTagger)
			}
			cls, clsName = l.Classifier, filepath.Base(paths[0])
		}
		if paths[1] != "" {
			l, err := modelfile.Load(paths[1], &tc)
			if err != nil {
				return nil, fmt.Errorf("models.ner_%s: %w", lang, err)
			}
			if l.Tagger == nil {
				return nil, fmt.Errorf("models.ner_%s: %s is a %s, want a tagger", lang, paths[1], model.KindClassifier)
			}
			ner, nerName = l.Tagger, filepath.Base(paths[1])
		}
		lm, err := pipeline.NewLangModels(cls, clsName, ner, nerName)
		if err != nil {
			return nil, fmt.Errorf("models for %s: %w", lang, err)
		}
		langs[lang] = lm
	}
	return pipeline.NewSnapshot(langs)
}

// accessCheckTimeout bounds the start-up check of the Kafka credentials.
const accessCheckTimeout = 15 * time.Second

// checkKafkaAccess returns an error when a broker rejects the configured
// credentials or is not trusted. The consumer would report that only from
// Fetch, which the pipeline retries forever, so run would never end. Other
// failures (a broker not up yet) are logged and left to the consumer.
func checkKafkaAccess(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, accessCheckTimeout)
	defer cancel()
	err := consumer.CheckAccess(ctx, consumerConfig(cfg))
	if errors.Is(err, consumer.ErrPermanent) {
		return fmt.Errorf("kafka: %w", err)
	}
	if err != nil {
		log.Warn("kafka not reachable yet; the consumer keeps trying", "err", err)
	}
	return nil
}

// startService starts everything but the pipeline's Run. On error what was
// started is stopped.
func startService(ctx context.Context, cfg config.Config, log *slog.Logger, o serviceOptions) (_ *service, err error) {
	s := &service{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			s.close(context.Background())
		}
	}()
	if !cfg.Embedded.Enabled { // before the models load: fail in seconds
		if err := checkKafkaAccess(ctx, cfg, log); err != nil {
			return nil, err
		}
	}
	s.models = func() (*pipeline.Snapshot, error) { return loadSnapshot(s.cfg.Models) }
	if o.identity {
		s.models = func() (*pipeline.Snapshot, error) { return pipeline.IdentitySnapshot(), nil }
	}
	t0 := time.Now()
	snap, err := s.models()
	if err != nil {
		return nil, err
	}
	log.Info("models loaded", "langs", snap.Langs(), "took", time.Since(t0).Round(time.Millisecond))
	if cfg.Embedded.Enabled {
		topics := append([]string(nil), cfg.Kafka.Topics...)
		if cfg.Kafka.FeedbackTopic != "" {
			topics = append(topics, cfg.Kafka.FeedbackTopic)
		}
		s.servers, err = embedded.Start(embedded.Config{
			KafkaAddr: cfg.Embedded.KafkaAddr, NATSAddr: cfg.Embedded.NATSAddr, Topics: topics,
		}, log)
		if err != nil {
			return nil, err
		}
		s.cfg.Kafka.Brokers = s.servers.KafkaBrokers
		s.cfg.NATS.URL = s.servers.NATSURL
	}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := s.newPretrainer(snap, o); err != nil {
		return nil, err
	}
	if o.trainerOnly {
		s.swapper = pipeline.NewModelHolder(snap)
		if s.pretrainer != nil {
			if err := s.startSampler(); err != nil {
				return nil, err
			}
		}
	} else {
		s.pub, err = producer.New(ctx, producerConfig(s.cfg), producer.WithLogger(log))
		if err != nil {
			return nil, err
		}
		s.cons, err = consumer.New(consumerConfig(s.cfg), consumer.WithLogger(log))
		if err != nil {
			return nil, err
		}
		popts := []pipeline.Option{pipeline.WithLogger(log), pipeline.WithRegisterer(s.reg)}
		if s.pretrainer != nil {
			popts = append(popts, pipeline.WithFetchHook(s.pretrainer.Offer))
		}
		s.pipe, err = pipeline.New(pipelineConfig(s.cfg), s.cons, s.pub, snap, popts...)
		if err != nil {
			return nil, err
		}
		s.swapper = s.pipe
	}
	if cfg.Models.Bucket != "" && cfg.NATS.Mode == string(producer.ModeJetStream) && !o.identity {
		s.store, err = producer.OpenModelStore(ctx, producerConfig(s.cfg), cfg.Models.Bucket, producer.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("models.bucket: %w", err)
		}
		s.sync = pipeline.NewModelSync(s.store, s.swapper, log)
	}
	newest := 0
	if s.sync != nil {
		if newest, err = s.sync.LoadNewest(ctx); err != nil {
			log.Warn("model bucket: serving the model files", "err", err)
		}
	}
	if cfg.Finetune.Enabled && cfg.Kafka.FeedbackTopic != "" && !o.identity {
		if err := s.startTrainer(ctx); err != nil {
			return nil, err
		}
		s.trainer.SetGeneration(newest)
		if s.sync != nil {
			s.trainer.OnPromote(s.sync.Publish)
		}
		if s.pretrainer != nil {
			s.trainer.UseEncoders(s.pretrainer)
		}
	}
	if !o.noHTTP {
		if err := s.startHTTP(); err != nil {
			if !o.httpOptional {
				return nil, err
			}
			log.Warn("no HTTP endpoint", "err", err)
		}
	}
	return s, nil
}

// httpAddr is the HTTP listen address, or "off".
func (s *service) httpAddr() string {
	if s.httpLn == nil {
		return "off"
	}
	return "http://" + s.httpLn.Addr().String()
}

// startTrainer sets up online fine-tuning from the feedback topic.
func (s *service) startTrainer(ctx context.Context) error {
	f := s.cfg.Finetune
	original, guard := map[string][]model.LabeledText{}, map[string][]model.LabeledText{}
	for lang, path := range map[string]string{"en": f.DataEN, "zh": f.DataZH} {
		if path == "" {
			s.log.Info("no original data for fine-tuning: candidates are guarded on held-out feedback only", "lang", lang, "key", "finetune.data_"+lang)
			continue
		}
		exs, err := modelfile.ReadLabeled(path)
		if err != nil {
			return fmt.Errorf("finetune.data_%s: %w", lang, err)
		}
		guard[lang] = exs[:min(1000, len(exs))]
		original[lang] = exs[min(1000, len(exs)):min(6000, len(exs))]
	}
	tr, err := pipeline.NewTrainer(pipeline.TrainerConfig{
		MinExamples: f.MinExamples, MaxRegression: f.MaxRegression,
		FineTune: model.FineTuneConfig{Workers: f.MaxProcs},
	}, s.swapper, original, guard, s.log)
	if err != nil {
		return err
	}
	cc := consumerConfig(s.cfg)
	cc.Topics = []string{s.cfg.Kafka.FeedbackTopic}
	cc.Group = s.cfg.Kafka.Group + ".trainer"
	if s.fbCons, err = consumer.New(cc, consumer.WithLogger(s.log)); err != nil {
		return err
	}
	if s.fbPub, err = producer.New(ctx, producerConfig(s.cfg), producer.WithLogger(s.log)); err != nil {
		return err
	}
	if err := tr.Register(s.reg); err != nil {
		return err
	}
	s.trainer = tr
	s.log.Info("online fine-tuning on", "topic", s.cfg.Kafka.FeedbackTopic, "group", cc.Group, "min_examples", f.MinExamples, "interval", f.Interval, "max_procs", f.MaxProcs)
	return nil
}

// ready reports whether the service can do its job: models loaded, the
// pipeline running, NATS connected and the consumer group joined.
func (s *service) ready() error {
	if s.pipe == nil { // stand-alone trainer
		switch {
		case s.fbCons == nil || s.fbCons.Stats().Generations == 0:
			return errors.New("feedback consumer group not joined yet")
		case !s.fbPub.Connected():
			return errors.New("nats not connected")
		}
		if err := s.fbCons.Reachable(context.Background()); err != nil {
			return fmt.Errorf("kafka not reachable: %w", err)
		}
		return nil
	}
	switch {
	case !s.pipe.Running():
		return errors.New("pipeline not running")
	case !s.pub.Connected():
		return errors.New("nats not connected")
	case s.cons.Stats().Generations == 0:
		return errors.New("kafka consumer group not joined yet")
	}
	// The generation count stays up while Kafka is away; ask a broker.
	if err := s.cons.Reachable(context.Background()); err != nil {
		return fmt.Errorf("kafka not reachable: %w", err)
	}
	return nil
}

func (s *service) startHTTP() error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	ln, err := net.Listen("tcp", s.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr %s: %w", s.cfg.HTTP.Addr, err)
	}
	s.httpLn = ln
	s.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.log.Info("http listening", "addr", ln.Addr().String(), "paths", "/healthz /readyz /metrics")
	return nil
}

// run serves until ctx ends, reloading the models on every value from
// reload, then shuts down: the pipeline drains (bounded by
// shutdown_timeout), the consumer commits and leaves the group, the
// publisher and the servers stop.
func (s *service) run(ctx context.Context, reload <-chan os.Signal) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if s.httpSrv != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.httpSrv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server", "err", err)
			}
		}()
	}
	rctx, stopReload := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-rctx.Done():
				return
			case <-reload:
				s.reload()
			}
		}
	}()
	// Everything after the stop signal fits in shutdown_timeout.
	deadline := make(chan time.Time, 1)
	stopDeadline := context.AfterFunc(ctx, func() { deadline <- time.Now().Add(s.cfg.ShutdownTimeout) })
	trainerDone := make(chan struct{})
	if s.trainer == nil {
		close(trainerDone)
	} else {
		go func() { // owned by run: joined below before the consumers close
			defer close(trainerDone)
			st, err := s.trainer.RunFeedback(ctx, s.fbCons, s.fbPub, s.cfg.Finetune.Interval)
			p, r := s.trainer.Stats()
			s.log.Info("fine-tuning stopped", "accepted", st.Accepted, "dead_letters", st.DeadLetters, "with_entities", st.Entities, "promotions", p, "rejections", r, "err", err)
		}()
	}
	syncDone := make(chan struct{})
	if s.sync == nil {
		close(syncDone)
	} else {
		go func() { // owned by run: joined below
			defer close(syncDone)
			if err := s.sync.Run(rctx); err != nil && rctx.Err() == nil {
				s.log.Error("model bucket watch stopped", "err", err)
			}
		}()
	}
	pretrainDone := s.runPretrain(ctx) // joined below
	var err error
	if s.pipe != nil {
		err = s.pipe.Run(ctx)
	} else {
		<-ctx.Done()
	}
	stopReload()
	<-trainerDone
	<-syncDone
	<-pretrainDone
	end := time.Now().Add(s.cfg.ShutdownTimeout)
	if !stopDeadline() { // ctx ended: the clock started then
		end = <-deadline
	}
	cctx, cancel := context.WithDeadline(context.Background(), end)
	defer cancel()
	return errors.Join(err, s.close(cctx))
}

// reload loads the model files again and swaps them in; on error the
// models in service stay.
func (s *service) reload() {
	t0 := time.Now()
	snap, err := s.models()
	if err != nil {
		s.log.Error("reload models: keeping the models in service", "err", err)
		return
	}
	s.swapper.SetModels(snap)
	s.log.Info("models reloaded", "took", time.Since(t0).Round(time.Millisecond))
}

// close stops everything start started, in dependency order.
func (s *service) close(ctx context.Context) error {
	var errs []error
	if s.fbCons != nil {
		if err := s.fbCons.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.fbPub != nil {
		if err := s.fbPub.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.ptCons != nil {
		if err := s.ptCons.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.cons != nil {
		if err := s.cons.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.pub != nil {
		if err := s.pub.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.httpSrv != nil {
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if s.httpLn != nil {
		s.httpLn.Close() // in case Serve never started; closing twice is harmless
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.servers != nil {
		s.servers.Close()
	}
	return errors.Join(errs...)
}

// newLogger builds the process logger from the log config.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
