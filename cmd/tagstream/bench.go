package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/internal/bench"
)

func newBenchCmd() *cobra.Command {
	bench := &cobra.Command{Use: "bench", Short: "Measure the running system"}
	bench.AddCommand(newBenchE2ECmd(), newBenchCurveCmd(), newBenchDriftCmd())
	return bench
}

func newBenchE2ECmd() *cobra.Command {
	var (
		o       bench.Options
		input   string
		jsonOut bool
	)
	var configTasks bool
	cmd := &cobra.Command{
		Use:   "e2e [--embedded | --brokers B --nats URL] --events N [--rate R] [--model none] [--json]",
		Short: "Produce N timestamped events, run the pipeline, collect the results from NATS",
		Long: `Runs the pipeline in this process against the embedded brokers (--embedded) or real ones
(--brokers, --nats) on a fresh topic, consumer group and JetStream stream, produces N events
(texts from --input, JSONL {"text"} or plain lines; default a built-in mixed English/Chinese
sample) as fast as possible or at --rate events/s, subscribes to the results, and reports
events, results, lost, duplicates, events/s (first event produced to last result received) and
end-to-end latency percentiles (Kafka record timestamp to result received). --model none runs
the identity analyzer to measure the plumbing alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if !configTasks {
				cfg.Tasks = withDemoTasks(cfg.Tasks)
			}
			if o.Texts, err = benchTexts(input); err != nil {
				return fmt.Errorf("bench e2e: --input: %w", err)
			}
			rep, err := bench.E2E(cmd.Context(), cfg, o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				return enc.Encode(rep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "events %d, results %d, dead letters %d, lost %d, duplicates %d\n%.0f events/s, latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
				rep.Events, rep.Results, rep.DeadLetters, rep.Lost, rep.Duplicates, rep.EventsPerSec, rep.LatencyMS.P50, rep.LatencyMS.P95, rep.LatencyMS.P99, rep.LatencyMS.Max)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Embedded, "embedded", false, "start in-process Kafka and NATS (on free ports)")
	f.StringVar(&o.Brokers, "brokers", "", "Kafka brokers (without --embedded), comma-separated")
	f.StringVar(&o.NATSURL, "nats", "", "NATS URL (without --embedded)")
	f.IntVar(&o.Events, "events", 100000, "events to produce")
	f.Float64Var(&o.Rate, "rate", 0, "events per second (0: as fast as possible)")
	f.StringVar(&o.Model, "model", "default", `"default" (built-in or configured models) or "none" (identity analyzer)`)
	f.StringVar(&input, "input", "", "texts to send: JSONL with a text field, or plain lines (default: built-in sample)")
	f.IntVar(&o.Partitions, "partitions", 8, "partitions of the benchmark topic")
	f.BoolVar(&jsonOut, "json", false, "print one JSON object")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", 20*time.Second, "give up when no result arrived for this long")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured part to this file")
	f.StringVar(&o.MemProfile, "memprofile", "", "write an allocation profile (allocs since start, model loading included) to this file when the results are in")
	f.BoolVar(&o.Console, "console", false, "serve the web console and keep one client on its event stream during the run (its overhead)")
	f.DurationVar(&o.SwapEvery, "swap-every", 0, "promote a new English classifier version through the model bucket this often during the run (hot-swap load; 0: none)")
	cmd.Flags().BoolVar(&configTasks, "config-tasks", false, "run the configured tasks only (default: those plus the built-in English emotion task, as the demo does)")
	addConfigFlags(cmd)
	return cmd
}

// benchTexts reads --input, or gives the built-in demo sample without one.
func benchTexts(path string) ([]string, error) {
	if path == "" {
		return demoSamples, nil
	}
	return bench.ReadTexts(path)
}
