package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/console"
	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/internal/embedded"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
)

// Server is one tagstream processor: optional embedded brokers, the NATS
// publisher, the Kafka consumer, the pipeline, online fine-tuning,
// live-stream pretraining, model distribution and the HTTP endpoint. New
// starts everything but the processing; Run processes until its ctx ends
// and then drains and closes everything within shutdown_timeout. A Server
// that New returned but that never ran is released with Close.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	servers *embedded.Servers // nil unless embedded
	pub     *producer.Publisher
	cons    *consumer.Consumer
	pipe    *pipeline.Pipeline
	reg     *prometheus.Registry
	httpSrv *http.Server
	httpLn  net.Listener
	models  func() (*pipeline.Snapshot, error) // loads the models (New, Reload)

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

	// The web console (http.console) and its writer of corrections to
	// the feedback topic.
	console  *console.Console
	fbWriter *kafka.Writer
}

// Options adjust a Server for the trainer command, the demo and the
// benchmarks. The zero value is the run command's server.
type Options struct {
	// Identity labels with the identity analyzer instead of the models
	// (the transport benchmark); fine-tuning and pretraining stay off.
	Identity bool
	// TrainerOnly runs no serving pipeline: the stand-alone trainer, which
	// fine-tunes from the feedback topic and publishes to the model bucket.
	TrainerOnly bool
	// NoHTTP starts no HTTP endpoint.
	NoHTTP bool
	// HTTPOptional goes on without the HTTP endpoint when its address is
	// taken (the demo), instead of failing.
	HTTPOptional bool
}

// AccessCheckTimeout bounds the start-up check of the Kafka credentials.
const AccessCheckTimeout = 15 * time.Second

// checkKafkaAccess returns an error when a broker rejects the configured
// credentials or is not trusted. The consumer would report that only from
// Fetch, which the pipeline retries forever, so run would never end. Other
// failures (a broker not up yet) are logged and left to the consumer.
func checkKafkaAccess(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, AccessCheckTimeout)
	defer cancel()
	err := consumer.CheckAccess(ctx, ConsumerConfig(cfg))
	if errors.Is(err, consumer.ErrPermanent) {
		return fmt.Errorf("kafka: %w", err)
	}
	if err != nil {
		log.Warn("kafka not reachable yet; the consumer keeps trying", "err", err)
	}
	return nil
}

// New loads the models, starts the embedded brokers when configured,
// connects to Kafka and NATS, joins the consumer groups in the background
// and listens on http.addr, but processes nothing until Run. On error what
// was started is stopped.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, o Options) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			s.Close(context.Background())
		}
	}()
	if !cfg.Embedded.Enabled { // before the models load: fail in seconds
		if err := checkKafkaAccess(ctx, cfg, log); err != nil {
			return nil, err
		}
	}
	s.models = func() (*pipeline.Snapshot, error) { return LoadSnapshot(s.cfg) }
	if o.Identity {
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
	if o.TrainerOnly {
		s.swapper = pipeline.NewModelHolder(snap)
		if s.pretrainer != nil {
			if err := s.startSampler(); err != nil {
				return nil, err
			}
		}
	} else {
		s.pub, err = producer.New(ctx, ProducerConfig(s.cfg), producer.WithLogger(log))
		if err != nil {
			return nil, err
		}
		s.cons, err = consumer.New(ConsumerConfig(s.cfg), consumer.WithLogger(log))
		if err != nil {
			return nil, err
		}
		popts := []pipeline.Option{pipeline.WithLogger(log), pipeline.WithRegisterer(s.reg)}
		if s.pretrainer != nil {
			popts = append(popts, pipeline.WithFetchHook(s.pretrainer.Offer))
		}
		s.pipe, err = pipeline.New(PipelineConfig(s.cfg), s.cons, s.pub, snap, popts...)
		if err != nil {
			return nil, err
		}
		s.swapper = s.pipe
	}
	if cfg.Models.Bucket != "" && cfg.NATS.Mode == string(producer.ModeJetStream) && !o.Identity {
		s.store, err = producer.OpenModelStore(ctx, ProducerConfig(s.cfg), cfg.Models.Bucket, producer.WithLogger(log))
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
	if cfg.Finetune.Enabled && cfg.Kafka.FeedbackTopic != "" && !o.Identity {
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
	if !o.NoHTTP {
		if err := s.startHTTP(); err != nil {
			if !o.HTTPOptional {
				return nil, err
			}
			log.Warn("no HTTP endpoint", "err", err)
		}
	}
	return s, nil
}

// HTTPAddr is the HTTP endpoint's URL, or "off".
func (s *Server) HTTPAddr() string {
	if s.httpLn == nil {
		return "off"
	}
	return "http://" + s.httpLn.Addr().String()
}

// Ready reports why the server cannot do its job yet, or nil when it can:
// models loaded, the pipeline running, NATS connected and the consumer
// group joined (for a stand-alone trainer, the feedback consumer's). It is
// what /readyz answers.
func (s *Server) Ready() error {
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

// Run processes until ctx ends, then shuts down: the pipeline drains
// (bounded by 4/5 of shutdown_timeout), the consumers commit what was
// delivered and leave their groups, the publishers, the HTTP endpoint and
// the embedded servers stop; all of it within shutdown_timeout of ctx's end.
// Run is called once; it closes the Server.
func (s *Server) Run(ctx context.Context) error {
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
	rctx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	// Everything after the stop signal fits in shutdown_timeout.
	deadline := make(chan time.Time, 1)
	stopDeadline := context.AfterFunc(ctx, func() { deadline <- time.Now().Add(s.cfg.ShutdownTimeout) })
	trainerDone := make(chan struct{})
	if s.trainer == nil {
		close(trainerDone)
	} else {
		go func() { // owned by Run: joined below before the consumers close
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
		go func() { // owned by Run: joined below
			defer close(syncDone)
			if err := s.sync.Run(rctx); err != nil && rctx.Err() == nil {
				s.log.Error("model bucket watch stopped", "err", err)
			}
		}()
	}
	pretrainDone := s.runPretrain(ctx) // joined below
	stopConsole := s.subscribeConsole(ctx)
	defer stopConsole()
	var err error
	if s.pipe != nil {
		err = s.pipe.Run(ctx)
	} else {
		<-ctx.Done()
	}
	stopSync()
	<-trainerDone
	<-syncDone
	<-pretrainDone
	end := time.Now().Add(s.cfg.ShutdownTimeout)
	if !stopDeadline() { // ctx ended: the clock started then
		end = <-deadline
	}
	cctx, cancel := context.WithDeadline(context.Background(), end)
	defer cancel()
	return errors.Join(err, s.Close(cctx))
}

// Reload loads the model files again and swaps them in without a pause;
// on error the models in service stay (the error is logged and returned).
// Safe to call from any goroutine while Run runs.
func (s *Server) Reload() error {
	t0 := time.Now()
	snap, err := s.models()
	if err != nil {
		s.log.Error("reload models: keeping the models in service", "err", err)
		return err
	}
	s.swapper.SetModels(snap)
	s.log.Info("models reloaded", "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// Close stops everything New started, in dependency order, bounded by ctx.
// Run calls it; call it only for a Server that never ran.
func (s *Server) Close(ctx context.Context) error {
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
	if s.console != nil {
		s.console.Close() // ends the event streams, which Shutdown would wait for
	}
	if s.fbWriter != nil {
		if err := s.fbWriter.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close console feedback writer: %w", err))
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

// Config returns the configuration the server runs with: the one given to
// New, with the embedded brokers' addresses filled in.
func (s *Server) Config() config.Config { return s.cfg }

// Joined reports whether the serving consumer has joined its group (at
// least one assignment seen); a stand-alone trainer reports its feedback
// consumer.
func (s *Server) Joined() bool {
	c := s.cons
	if c == nil {
		c = s.fbCons
	}
	return c != nil && c.Stats().Generations > 0
}

// Models returns the models in service.
func (s *Server) Models() *pipeline.Snapshot { return s.swapper.Models() }

// ModelBucket returns the model bucket promotions go through, or nil
// without one (models.bucket empty, core NATS, or the identity models).
func (s *Server) ModelBucket() pipeline.ModelBucket {
	if s.store == nil {
		return nil
	}
	return s.store
}

// Handler returns the HTTP endpoint's handler (/healthz, /readyz,
// /metrics), or nil without HTTP.
func (s *Server) Handler() http.Handler {
	if s.httpSrv == nil {
		return nil
	}
	return s.httpSrv.Handler
}

// Registry returns the registry of every metric the server exports on
// /metrics; a caller may register its own collectors on it.
func (s *Server) Registry() *prometheus.Registry { return s.reg }
