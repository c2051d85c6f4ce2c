package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagstream/tagstream/internal/bench"
)

func TestBenchE2E(t *testing.T) {
	t.Parallel()
	type tc struct {
		name string
		args []string
	}
	tests := []tc{
		{"embedded identity", []string{"--embedded", "--events", "3000", "--model", "none"}},
		{"embedded default models", []string{"--embedded", "--events", "300"}},
		{"embedded hot swaps", []string{"--embedded", "--events", "400", "--rate", "100", "--swap-every", "1s"}},
		{"embedded identity with the console watched", []string{"--embedded", "--events", "3000", "--model", "none", "--console", "--http.addr", "127.0.0.1:0"}},
	}
	if b, n := os.Getenv("TAGSTREAM_KAFKA_BROKERS"), os.Getenv("TAGSTREAM_NATS_URL"); b != "" && n != "" {
		tests = append(tests, tc{"real brokers identity", []string{"--brokers", b, "--nats", n, "--events", "3000", "--model", "none", "--partitions", "4"}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"bench", "e2e", "--json", "--idle-timeout", "30s"}, tc.args...)
			out, stderr, err := runTool(t, "", args...)
			if err != nil {
				t.Fatalf("bench e2e: %v\n%s", err, stderr)
			}
			var rep bench.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if rep.Lost != 0 || rep.Duplicates != 0 || rep.Results != rep.Events || rep.EventsPerSec <= 0 || rep.LatencyMS.P50 <= 0 || rep.LatencyMS.Max < rep.LatencyMS.P99 {
				t.Fatalf("report %+v: want every event delivered once with positive rates and ordered latencies\n%s", rep, stderr)
			}
			if rep.PeakRSSMB <= 0 {
				t.Errorf("peak_rss_mb %v, want the process's peak RSS", rep.PeakRSSMB)
			}
			if rep.NoVersion != 0 {
				t.Errorf("%d results without a model version", rep.NoVersion)
			}
			if !strings.Contains(strings.Join(tc.args, " "), "--model none") && (strings.Join(rep.Tasks, ",") != "emotion,sentiment" || rep.TaskGaps != 0) {
				t.Errorf("tasks %v, %d results lacking a task of their language; want emotion and sentiment, none lacking", rep.Tasks, rep.TaskGaps)
			}
			if strings.Contains(strings.Join(tc.args, " "), "--swap-every") && (rep.Swaps < 3 || rep.Versions < 2) {
				t.Errorf("%d swaps, %d versions seen in results; want >= 3 swaps and >= 2 versions", rep.Swaps, rep.Versions)
			}
			t.Logf("%s: %.0f events/s, p50 %.1f ms, p99 %.1f ms, %d swaps, %d versions, %d stale after a swap, peak RSS %.0f MiB", tc.name, rep.EventsPerSec, rep.LatencyMS.P50, rep.LatencyMS.P99, rep.Swaps, rep.Versions, rep.StaleAfterSwap, rep.PeakRSSMB)
		})
	}
}

// TestRunEmbedded runs `tagstream run --embedded` on free ports, feeds it
// with `tagstream produce`, checks /healthz, /readyz and /metrics, reloads
// the models with SIGHUP and stops it with a cancel (what SIGINT does).
func TestRunEmbedded(t *testing.T) {
	// Not parallel: it sends SIGHUP to the test process.
	r := startTool(t, strings.NewReader(""), "run", "--embedded",
		"--embedded.kafka_addr", "127.0.0.1:0", "--embedded.nats_addr", "127.0.0.1:0", "--http.addr", "127.0.0.1:0")
	kafkaAddr, httpAddr := loggedAddrs(t, r)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	pollUntil(t, 30*time.Second, func() error {
		if code, body := get("/readyz"); code != 200 {
			return fmt.Errorf("/readyz = %d %s", code, body)
		}
		return nil
	})
	var in strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&in, `{"id":"r%d","text":"Angela Merkel visited Paris, day %d"}`+"\n", i, i)
	}
	in.WriteString("{broken\n")
	// --format text sends every line as is, so the broken one reaches the pipeline.
	if _, stderr, err := runTool(t, in.String(), "produce", "--brokers", kafkaAddr, "--topic", "tagstream.events", "--format", "text"); err != nil {
		t.Fatalf("produce: %v\n%s", err, stderr)
	}
	pollUntil(t, 30*time.Second, func() error {
		_, body := get("/metrics")
		published := sumMetric(body, "tagstream_results_published_total")
		dead := sumMetric(body, `tagstream_dead_letters_total{reason="invalid_json"}`)
		if published != 50 || dead != 1 {
			return fmt.Errorf("published %v, dead letters %v; want 50 and 1", published, dead)
		}
		return nil
	})
	_, body := get("/metrics")
	for _, want := range []string{`tagstream_model_info{kind="classifier",lang="en",task="sentiment",version="sentiment-en@`, "tagstream_batch_size_bucket", "tagstream_end_to_end_latency_seconds_bucket", "tagstream_inference_seconds_bucket", "tagstream_uncommitted_offsets", "tagstream_in_flight_events 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, 30*time.Second, func() error {
		if !strings.Contains(r.stderr.String(), "models reloaded") {
			return fmt.Errorf("no reload logged")
		}
		return nil
	})
	r.cancel()
	if err := r.wait(t, 30*time.Second); err != nil {
		t.Fatalf("run: %v\n%s", err, r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "stopped cleanly") {
		t.Fatalf("no clean stop logged:\n%s", r.stderr.String())
	}
}

// sumMetric adds the values of every sample line starting with prefix.
func sumMetric(body, prefix string) float64 {
	var sum float64
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			var v float64
			if _, err := fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v); err == nil {
				sum += v
			}
		}
	}
	return sum
}

func TestDemo(t *testing.T) {
	t.Parallel()
	out, stderr, err := runTool(t, "", "demo", "--plain", "--duration", "6s", "--rate", "50",
		"--embedded.kafka_addr", "127.0.0.1:0", "--embedded.nats_addr", "127.0.0.1:0", "--http.addr", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`results (\d+) \| dead letters (\d+)`).FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("no status line:\n%s", out)
	}
	last := m[len(m)-1]
	if last[1] == "0" || !strings.Contains(out, "latest: ") || !strings.Contains(out, "stopped: every delivered result is committed") {
		t.Fatalf("demo showed no results or did not stop cleanly:\n%s\nstderr:\n%s", out, stderr)
	}
}

// TestRunStoppedDuringStart stops `tagstream run --embedded` while it is
// still loading its models: the stop is clean (no error), like a stop
// after the start, and says so.
func TestRunStoppedDuringStart(t *testing.T) {
	t.Parallel()
	r := startTool(t, strings.NewReader(""), "run", "--embedded",
		"--embedded.kafka_addr", "127.0.0.1:0", "--embedded.nats_addr", "127.0.0.1:0", "--http.addr", "127.0.0.1:0")
	time.Sleep(50 * time.Millisecond) // the built-in models take seconds to load
	r.cancel()
	if err := r.wait(t, 60*time.Second); err != nil {
		t.Fatalf("run stopped during its start: %v\n%s", err, r.stderr.String())
	}
	if logs := r.stderr.String(); !strings.Contains(logs, "stopped during start") {
		t.Fatalf("no stop during start logged:\n%s", logs)
	}
}
