package main

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/server"
)

// withDemoTasks adds the built-in emotion task (emotion-en, multi-label;
// emotion-zh, six classes) to tasks unless a task of that name is
// configured: the demo shows two tasks.
func withDemoTasks(tasks []config.Task) []config.Task {
	for _, t := range tasks {
		if t.Name == "emotion" {
			return tasks
		}
	}
	return append(slices.Clone(tasks), config.Task{Name: "emotion", Models: map[string]string{
		"en": server.BuiltinPrefix + "emotion-en", "zh": server.BuiltinPrefix + "emotion-zh"}})
}

func newDemoCmd() *cobra.Command {
	var rate float64
	var plain bool
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "demo [--rate R]",
		Short: "Embedded Kafka and NATS, the pipeline, a feeder of sample messages and a live view",
		Long: `Starts everything in this process: a Kafka-protocol broker and a NATS server (embedded.kafka_addr,
embedded.nats_addr; default 127.0.0.1:9092 and 127.0.0.1:4222), the pipeline with the built-in models
(two tasks: sentiment, and the multi-label English emotions), and a feeder that sends built-in English and Chinese sample messages (and now and then a malformed
one, which goes to the dead-letter subject) at --rate events/s. The terminal shows the rate, the
end-to-end latency, the label mix and the latest results with their entities. Other terminals can
use 'tagstream produce --topic tagstream.events' and 'tagstream tail' meanwhile. Ctrl-C stops it
cleanly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if rate <= 0 || rate > 100000 {
				return fmt.Errorf("demo: --rate = %v, want (0, 100000]", rate)
			}
			cfg.Embedded.Enabled = true
			cfg.Output.IncludeText = true
			cfg.Tasks = withDemoTasks(cfg.Tasks)
			if cfg.HTTP.Token == "" { // the console's writes need one: a fresh one per demo
				cfg.HTTP.Token = crand.Text()
			}
			cfg.Finetune.Enabled = true // corrections sent with 'tagstream feedback' fine-tune live
			out := cmd.OutOrStdout()
			if f, ok := out.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
				plain = true
			}
			if !cmd.Flags().Changed("log.level") && os.Getenv("TAGSTREAM_LOG_LEVEL") == "" {
				cfg.Log.Level = "warn" // the live view is the output
			}
			log := server.NewLogger(cfg.Log, cmd.ErrOrStderr())
			ctx := cmd.Context()
			s, err := server.New(ctx, cfg, log, server.Options{HTTPOptional: true})
			if err != nil {
				return err
			}
			if duration > 0 { // counted from when the service is up
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			var wg sync.WaitGroup
			defer wg.Wait()
			runErr := make(chan error, 1)
			wg.Add(1)
			go func() { defer wg.Done(); runErr <- s.Run(ctx) }()

			view := &demoView{started: time.Now(), labels: map[string]int{}, versions: map[string]string{}}
			nc, err := nats.Connect(s.Config().NATS.URL)
			if err != nil {
				return fmt.Errorf("demo: connect to nats: %w", err)
			}
			defer nc.Close()
			for _, subj := range []string{s.Config().Output.SubjectPrefix + ".>", s.Config().Output.DLQSubject} {
				if _, err := nc.Subscribe(subj, view.handle); err != nil {
					return fmt.Errorf("demo: subscribe %s: %w", subj, err)
				}
			}
			fmt.Fprintf(out, "tagstream demo: Kafka %s (topic %s), NATS %s, results on %s.>, HTTP %s\n",
				strings.Join(s.Config().Kafka.Brokers, ","), s.Config().Kafka.Topics[0], s.Config().NATS.URL, s.Config().Output.SubjectPrefix, s.HTTPAddr())
			if s.Config().HTTP.Console && s.HTTPAddr() != "off" {
				fmt.Fprintf(out, "console: %s/ (token for corrections, promote and rollback: %s)\n", s.HTTPAddr(), s.Config().HTTP.Token)
			}
			fmt.Fprintln(out, "Ctrl-C to stop.")

			fctx, stopFeed := context.WithCancel(ctx)
			defer stopFeed()
			feedErr := make(chan error, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				feedErr <- feedDemo(fctx, s.Config().Kafka.Brokers, s.Config().Kafka.Topics[0], rate)
			}()

			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					stopFeed()
					<-feedErr
					err := <-runErr
					view.render(out, true, plain)
					fmt.Fprintln(out, "stopped: every delivered result is committed")
					return err
				case err := <-feedErr:
					if err != nil && ctx.Err() == nil {
						log.Warn("demo feeder stopped", "err", err)
					}
					feedErr = nil
				case <-tick.C:
					view.render(out, false, plain)
				}
			}
		},
	}
	cmd.Flags().Float64Var(&rate, "rate", 20, "sample events per second")
	cmd.Flags().BoolVar(&plain, "plain", false, "print a status line per second instead of redrawing the screen")
	cmd.Flags().DurationVar(&duration, "duration", 0, "stop after this long (0: until Ctrl-C)")
	addConfigFlags(cmd)
	return cmd
}

// feedDemo sends the sample messages at rate events/s until ctx ends; one
// in 40 is malformed on purpose.
func feedDemo(ctx context.Context, brokers []string, topic string, rate float64) error {
	w := &kafka.Writer{
		Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond,
	}
	defer w.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	interval := time.Duration(float64(time.Second) / rate)
	per := 1
	if interval < 10*time.Millisecond {
		per = int(10*time.Millisecond/interval) + 1
		interval = time.Duration(float64(time.Second) / rate * float64(per))
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 0; ; {
		msgs := make([]kafka.Message, per)
		for i := range msgs {
			n++
			var v []byte
			if n%40 == 0 {
				v = []byte(`{"id":"demo-bad","text": 12345}`)
			} else {
				v, _ = json.Marshal(map[string]string{"id": fmt.Sprintf("demo-%d", n), "text": demoSamples[rng.IntN(len(demoSamples))]})
			}
			msgs[i] = kafka.Message{Value: v, Time: time.Now()}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
