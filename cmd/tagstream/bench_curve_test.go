package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/internal/bench"
)

// TestBenchCurve runs one point of the curve (batch 16, flood, 200 events)
// on the embedded brokers, appends its report to --out and plots it, then
// replots a file of synthetic reports (two settings, three rates each).
func TestBenchCurve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, png := filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "curve.png")
	_, stderr, err := runTool(t, "", "bench", "curve", "--embedded", "--sizes", "16", "--delays", "2ms", "--rates", "0",
		"--events", "200", "--idle-timeout", "30s", "--out", out, "--png", png)
	if err != nil {
		t.Fatalf("bench curve: %v\n%s", err, stderr)
	}
	reps, err := bench.ReadReports(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].BatchSize != 16 || reps[0].BatchDelayMS != 2 || reps[0].Lost != 0 || reps[0].Results != 200 {
		t.Fatalf("reports %+v: want one with batch 16, delay 2 ms, 200 results, none lost", reps)
	}
	checkPNG(t, png)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, size := range []int{32, 128} {
		for _, rate := range []float64{0, 1000, 4000} {
			rep := bench.Report{BatchSize: size, BatchDelayMS: 5, Rate: rate, EventsPerSec: min(rate, 6000) + 1}
			rep.LatencyMS.P99 = 10 + rate/100
			if err := enc.Encode(rep); err != nil {
				t.Fatal(err)
			}
		}
	}
	synth := filepath.Join(dir, "synth.jsonl")
	if err := os.WriteFile(synth, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	png2 := filepath.Join(dir, "synth.png")
	if _, stderr, err := runTool(t, "", "bench", "curve", "--replot", "--out", synth, "--png", png2); err != nil {
		t.Fatalf("bench curve --replot: %v\n%s", err, stderr)
	}
	checkPNG(t, png2)

	if _, _, err := runTool(t, "", "bench", "curve", "--replot", "--png", png2); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("without --out: err = %v, want one naming --out", err)
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 1000 {
		t.Fatalf("%s: %d bytes, not a PNG", path, len(b))
	}
}
