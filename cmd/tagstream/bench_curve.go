package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/internal/bench"
)

type curveOptions struct {
	bench.CurveOptions
	input  string
	png    string
	replot bool
}

func newBenchCurveCmd() *cobra.Command {
	var o curveOptions
	cmd := &cobra.Command{
		Use:   "curve --embedded --sizes 16,64,256 --rates 1000,4000,0 --out runs.jsonl [--png curve.png]",
		Short: "Measure the throughput-latency curve of batch.max_size / batch.max_delay with bench e2e",
		Long: `Runs bench e2e once per combination of --sizes (batch.max_size), --delays
(batch.max_delay) and --rates (events/s, 0: as fast as possible), each on a fresh topic with
--events events, and appends each report (bench e2e --json, one line) to --out. With --png it
then plots p99 latency against the throughput reached, one line per batch setting, from every
line of --out; --replot only plots an existing --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Out == "" {
				return errors.New("bench curve: --out is required")
			}
			if !o.replot {
				cfg, err := loadConfig(cmd)
				if err != nil {
					return err
				}
				if o.Run.Texts, err = benchTexts(o.input); err != nil {
					return fmt.Errorf("bench curve: --input: %w", err)
				}
				if err := bench.RunCurve(cmd.Context(), cfg, o.CurveOptions, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			if o.png == "" {
				return nil
			}
			reps, err := bench.ReadReports(o.Out)
			if err != nil {
				return err
			}
			return bench.PlotCurve(reps, o.png)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Run.Embedded, "embedded", false, "start in-process Kafka and NATS (on free ports)")
	f.StringVar(&o.Run.Brokers, "brokers", "", "Kafka brokers (without --embedded), comma-separated")
	f.StringVar(&o.Run.NATSURL, "nats", "", "NATS URL (without --embedded)")
	f.IntVar(&o.Run.Events, "events", 20000, "events per run")
	f.StringVar(&o.input, "input", "", "texts to send (see bench e2e)")
	f.IntVar(&o.Run.Partitions, "partitions", 8, "partitions of each run's topic")
	f.DurationVar(&o.Run.IdleTimeout, "idle-timeout", 20*time.Second, "give up a run when no result arrived for this long")
	f.StringVar(&o.Sizes, "sizes", "16,32,64,128,256", "batch.max_size values")
	f.StringVar(&o.Delays, "delays", "5ms", "batch.max_delay values")
	f.StringVar(&o.Rates, "rates", "1000,2500,4000,0", "offered events/s (0: as fast as possible)")
	f.StringVar(&o.Out, "out", "", "JSONL file the reports are appended to")
	f.StringVar(&o.png, "png", "", "plot the curve from every report in --out to this PNG")
	f.BoolVar(&o.replot, "replot", false, "only plot --out to --png, measure nothing")
	addConfigFlags(cmd)
	return cmd
}
