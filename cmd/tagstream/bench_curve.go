package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tagstream/tagstream/config"
)

type curveOptions struct {
	bench  benchOptions
	sizes  string
	delays string
	rates  string
	out    string
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
			if o.out == "" {
				return errors.New("bench curve: --out is required")
			}
			if !o.replot {
				cfg, err := loadConfig(cmd)
				if err != nil {
					return err
				}
				if err := runCurve(cmd, cfg, o); err != nil {
					return err
				}
			}
			if o.png == "" {
				return nil
			}
			reps, err := readReports(o.out)
			if err != nil {
				return err
			}
			return plotCurve(reps, o.png)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.bench.embedded, "embedded", false, "start in-process Kafka and NATS (on free ports)")
	f.StringVar(&o.bench.brokers, "brokers", "", "Kafka brokers (without --embedded), comma-separated")
	f.StringVar(&o.bench.natsURL, "nats", "", "NATS URL (without --embedded)")
	f.IntVar(&o.bench.events, "events", 20000, "events per run")
	f.StringVar(&o.bench.input, "input", "", "texts to send (see bench e2e)")
	f.IntVar(&o.bench.partitions, "partitions", 8, "partitions of each run's topic")
	f.DurationVar(&o.bench.idleTimeout, "idle-timeout", 20*time.Second, "give up a run when no result arrived for this long")
	f.StringVar(&o.sizes, "sizes", "16,32,64,128,256", "batch.max_size values")
	f.StringVar(&o.delays, "delays", "5ms", "batch.max_delay values")
	f.StringVar(&o.rates, "rates", "1000,2500,4000,0", "offered events/s (0: as fast as possible)")
	f.StringVar(&o.out, "out", "", "JSONL file the reports are appended to")
	f.StringVar(&o.png, "png", "", "plot the curve from every report in --out to this PNG")
	f.BoolVar(&o.replot, "replot", false, "only plot --out to --png, measure nothing")
	addConfigFlags(cmd)
	return cmd
}

// runCurve runs bench e2e for every combination and appends the reports.
func runCurve(cmd *cobra.Command, cfg config.Config, o curveOptions) (err error) {
	sizes, err := parseList(o.sizes, strconv.Atoi)
	if err != nil {
		return fmt.Errorf("bench curve: --sizes: %w", err)
	}
	delays, err := parseList(o.delays, time.ParseDuration)
	if err != nil {
		return fmt.Errorf("bench curve: --delays: %w", err)
	}
	rates, err := parseList(o.rates, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	if err != nil {
		return fmt.Errorf("bench curve: --rates: %w", err)
	}
	f, err := os.OpenFile(o.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	enc := json.NewEncoder(f)
	logw := cmd.ErrOrStderr()
	for _, size := range sizes {
		for _, delay := range delays {
			for _, rate := range rates {
				c := cfg
				c.Batch.MaxSize, c.Batch.MaxDelay = size, delay
				bo := o.bench
				bo.rate, bo.modelName = rate, "default"
				rep, err := benchE2E(cmd.Context(), c, bo, io.Discard)
				if err != nil {
					return fmt.Errorf("bench curve: size %d delay %s rate %g: %w", size, delay, rate, err)
				}
				fmt.Fprintf(logw, "bench curve: size %d delay %s rate %g: %.0f events/s, p50 %.1f ms, p99 %.1f ms, lost %d\n",
					size, delay, rate, rep.EventsPerSec, rep.LatencyMS.P50, rep.LatencyMS.P99, rep.Lost)
				if err := enc.Encode(rep); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func readReports(path string) ([]benchReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var reps []benchReport
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r benchReport
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		reps = append(reps, r)
	}
	return reps, sc.Err()
}

// plotCurve draws p99 latency (log scale) against the throughput reached,
// one line per (max_size, max_delay) through the runs at a fixed offered
// rate (in rate order), and each flood run (rate 0: the setting's
// capacity, latency that of the backlog) as a triangle of the line's
// colour; it writes a PNG.
func plotCurve(reps []benchReport, path string) error {
	type key struct {
		size  int
		delay float64
	}
	groups := map[key][]benchReport{}
	var keys []key
	for _, r := range reps {
		k := key{r.BatchSize, r.BatchDelayMS}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	if len(keys) == 0 {
		return errors.New("bench curve: no reports to plot")
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.size != b.size {
			return a.size - b.size
		}
		return int(a.delay - b.delay)
	})
	p := plot.New()
	p.Title.Text = "tagstream bench e2e: p99 latency against throughput (triangles: flood)"
	p.X.Label.Text = "throughput reached (events/s)"
	p.Y.Label.Text = "p99 latency (ms, log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	palette := []color.RGBA{
		{0x1f, 0x77, 0xb4, 255}, {0xff, 0x7f, 0x0e, 255}, {0x2c, 0xa0, 0x2c, 255}, {0xd6, 0x27, 0x28, 255},
		{0x94, 0x67, 0xbd, 255}, {0x8c, 0x56, 0x4b, 255}, {0xe3, 0x77, 0xc2, 255}, {0x7f, 0x7f, 0x7f, 255},
	}
	for i, k := range keys {
		g := groups[k]
		rank := func(r float64) float64 {
			if r == 0 {
				return 1e18 // flood after every finite rate
			}
			return r
		}
		slices.SortStableFunc(g, func(a, b benchReport) int {
			switch ra, rb := rank(a.Rate), rank(b.Rate); {
			case ra < rb:
				return -1
			case ra > rb:
				return 1
			}
			return 0
		})
		var pts, flood plotter.XYs
		for _, r := range g {
			pt := plotter.XY{X: r.EventsPerSec, Y: max(r.LatencyMS.P99, 0.1)}
			if r.Rate == 0 {
				flood = append(flood, pt)
			} else {
				pts = append(pts, pt)
			}
		}
		col := palette[i%len(palette)]
		label := fmt.Sprintf("max_size %d, max_delay %gms", k.size, k.delay)
		if len(pts) > 0 {
			line, points, err := plotter.NewLinePoints(pts)
			if err != nil {
				return err
			}
			line.Color, points.Color = col, col
			line.Width = vg.Points(1.5)
			points.Shape = draw.CircleGlyph{}
			p.Add(line, points)
			p.Legend.Add(label, line, points)
			label = ""
		}
		if len(flood) > 0 {
			sc, err := plotter.NewScatter(flood)
			if err != nil {
				return err
			}
			sc.Color = col
			sc.Shape = draw.TriangleGlyph{}
			sc.Radius = vg.Points(4)
			p.Add(sc)
			if label != "" {
				p.Legend.Add(label, sc)
			}
		}
	}
	// Room above the highest point for the legend (top left).
	p.Y.Max *= 40
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}
