package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/server"
)

// configFlags are the config keys offered as flags of run, demo and bench
// (every key can also be set in the file or as TAGSTREAM_* variables). They
// are strings: config.Load parses them like values from the file.
var configFlags = []struct{ key, usage string }{
	{"kafka.brokers", "Kafka bootstrap brokers, comma-separated"},
	{"kafka.topics", "input topics, comma-separated"},
	{"kafka.group", "consumer group"},
	{"nats.url", "NATS server URL"},
	{"nats.mode", "jetstream or core"},
	{"http.addr", "metrics and health listen address"},
	{"workers", "labelling workers (0: GOMAXPROCS)"},
	{"batch.max_size", "largest micro-batch, in events"},
	{"batch.max_delay", "longest wait for a micro-batch to fill, e.g. 5ms"},
	{"log.level", "debug, info, warn or error"},
	{"embedded.kafka_addr", "embedded Kafka listen address (with --embedded)"},
	{"embedded.nats_addr", "embedded NATS listen address (with --embedded)"},
}

func addConfigFlags(cmd *cobra.Command) {
	for _, f := range configFlags {
		cmd.Flags().String(f.key, "", f.usage)
	}
}

// loadConfig loads the configuration of cmd (--config, environment, flags).
func loadConfig(cmd *cobra.Command) (config.Config, error) {
	path, err := cmd.Flags().GetString("config")
	if err != nil {
		return config.Config{}, err
	}
	return config.Load(path, cmd.Flags())
}

func newRunCmd() *cobra.Command {
	var embeddedMode bool
	cmd := &cobra.Command{
		Use:   "run [--embedded]",
		Short: "Run the stream processor: Kafka in, labels, NATS out",
		Long: `Consume text events from Kafka, label them with the classifier and the NER tagger of their
language, and publish one result per event to NATS; offsets are committed once the result is
acknowledged. --embedded starts an in-process Kafka-protocol broker and NATS server first
(embedded.kafka_addr, embedded.nats_addr). SIGINT/SIGTERM drain and stop within
shutdown_timeout; SIGHUP reloads the model files. HTTP: /healthz, /readyz, /metrics.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if embeddedMode {
				cfg.Embedded.Enabled = true
			}
			log := server.NewLogger(cfg.Log, cmd.ErrOrStderr())
			ctx := cmd.Context()
			s, err := server.New(ctx, cfg, log, server.Options{})
			if err != nil {
				return stoppedDuringStart(ctx, log, err)
			}
			rc := s.Config()
			log.Info("running", "brokers", rc.Kafka.Brokers, "topics", rc.Kafka.Topics, "group", rc.Kafka.Group,
				"nats", rc.Redacted().NATS.URL, "mode", rc.NATS.Mode, "workers", rc.Workers)
			stopReload := reloadOnHangup(ctx, s)
			defer stopReload()
			if err := s.Run(ctx); err != nil {
				return err
			}
			log.Info("stopped cleanly")
			return nil
		},
	}
	cmd.Flags().BoolVar(&embeddedMode, "embedded", false, "start in-process Kafka and NATS servers")
	addConfigFlags(cmd)
	return cmd
}

func newTrainerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trainer [--config FILE]",
		Short: "Run only the online trainer: feedback topic in, promoted models to the model bucket",
		Long: `For larger deployments: one trainer, many serving instances. It consumes the feedback topic
(group <kafka.group>.trainer), fine-tunes and guards candidates exactly as 'run' with finetune.enabled
does, and stores promotions in the model bucket (models.bucket, required), from which every serving
instance swaps them in. Serving instances then run with finetune.enabled false. HTTP /healthz,
/readyz and /metrics as for run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if cfg.Models.Bucket == "" || cfg.Kafka.FeedbackTopic == "" || cfg.NATS.Mode != "jetstream" {
				return fmt.Errorf("trainer: needs models.bucket, kafka.feedback_topic and nats.mode jetstream")
			}
			cfg.Finetune.Enabled = true
			log := server.NewLogger(cfg.Log, cmd.ErrOrStderr())
			s, err := server.New(cmd.Context(), cfg, log, server.Options{TrainerOnly: true})
			if err != nil {
				return stoppedDuringStart(cmd.Context(), log, err)
			}
			log.Info("trainer running", "feedback", cfg.Kafka.FeedbackTopic, "bucket", cfg.Models.Bucket)
			return s.Run(cmd.Context())
		},
	}
	addConfigFlags(cmd)
	return cmd
}

// stoppedDuringStart is the outcome of a start that failed with err: nil
// when the failure is only the stop signal (SIGINT/SIGTERM) arriving while
// the service was still starting, which has consumed and delivered nothing
// yet, and err otherwise.
func stoppedDuringStart(ctx context.Context, log *slog.Logger, err error) error {
	if ctx.Err() == nil {
		return err
	}
	log.Info("stopped during start", "err", err)
	return nil
}

// reloadOnHangup reloads s's model files on every SIGHUP until ctx ends or
// the returned stop is called; stop returns once the goroutine has.
func reloadOnHangup(ctx context.Context, s *server.Server) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { // owned by the caller: stopped and joined by stop
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = s.Reload() // logged; the models in service stay
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}
