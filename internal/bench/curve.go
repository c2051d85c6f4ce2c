package bench

import (
	"bufio"
	"context"
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

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tagstream/tagstream/config"
)

// CurveOptions configure RunCurve: the runs' common options and the
// comma-separated lists of settings to measure.
type CurveOptions struct {
	Run                  Options
	Sizes, Delays, Rates string
	Out                  string
}

// RunCurve runs E2E once per combination of o.Sizes (batch.max_size),
// o.Delays (batch.max_delay) and o.Rates (events/s, 0: as fast as
// possible), each on a fresh topic, and appends each report as one JSON
// line to o.Out; progress goes to logw.
func RunCurve(ctx context.Context, cfg config.Config, o CurveOptions, logw io.Writer) (err error) {
	sizes, err := parseList(o.Sizes, strconv.Atoi)
	if err != nil {
		return fmt.Errorf("bench curve: --sizes: %w", err)
	}
	delays, err := parseList(o.Delays, time.ParseDuration)
	if err != nil {
		return fmt.Errorf("bench curve: --delays: %w", err)
	}
	rates, err := parseList(o.Rates, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	if err != nil {
		return fmt.Errorf("bench curve: --rates: %w", err)
	}
	f, err := os.OpenFile(o.Out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	enc := json.NewEncoder(f)
	for _, size := range sizes {
		for _, delay := range delays {
			for _, rate := range rates {
				c := cfg
				c.Batch.MaxSize, c.Batch.MaxDelay = size, delay
				bo := o.Run
				bo.Rate, bo.Model = rate, "default"
				rep, err := E2E(ctx, c, bo, io.Discard)
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

// ReadReports reads the reports of a RunCurve output file.
func ReadReports(path string) ([]Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var reps []Report
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r Report
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		reps = append(reps, r)
	}
	return reps, sc.Err()
}

// PlotCurve draws p99 latency (log scale) against the throughput reached,
// one line per (max_size, max_delay) through the runs at a fixed offered
// rate (in rate order), and each flood run (rate 0: the setting's
// capacity, latency that of the backlog) as a triangle of the line's
// colour; it writes a PNG.
func PlotCurve(reps []Report, path string) error {
	type key struct {
		size  int
		delay float64
	}
	groups := map[key][]Report{}
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
		slices.SortStableFunc(g, func(a, b Report) int {
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
