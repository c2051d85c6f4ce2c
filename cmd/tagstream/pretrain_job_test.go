package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunPretrainJob runs `tagstream run` and `tagstream trainer`, each
// embedded, with pretrain.enabled and a small English language model: the
// events reach the job's sample (its metric counts them), the job logs its
// start, and the command stops within its shutdown with the job.
func TestRunPretrainJob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	textFile := filepath.Join(dir, "text.txt")
	if err := os.WriteFile(textFile, []byte(strings.Repeat("the new phone is great\nthe food was awful today\n", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	lm := filepath.Join(dir, "en.lm")
	if _, err := run(t, "", "pretrain", "--quiet", "--text", textFile, "--out", lm, "--epochs", "1", "--workers", "1",
		"--embed", "8", "--hidden", "8", "--buckets", "20", "--samples", "4", "--min-count", "1"); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "tagstream.yaml")
	yaml := fmt.Sprintf(`embedded: {enabled: true, kafka_addr: "127.0.0.1:0", nats_addr: "127.0.0.1:0"}
http: {addr: "127.0.0.1:0"}
finetune: {enabled: true}
shutdown_timeout: 10s
pretrain: {enabled: true, lm_en: %q, sample: 1}
`, lm)
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, command := range []string{"run", "trainer"} {
		t.Run(command, func(t *testing.T) { runPretrainJob(t, command, conf, lm) })
	}
}

// runPretrainJob runs command with the configuration conf, produces events
// until the job has sampled some, and stops it. The stand-alone trainer
// samples through its own consumer group, which starts at the latest
// offsets: events are produced until it has joined.
func runPretrainJob(t *testing.T, command, conf, lm string) {
	r := startTool(t, strings.NewReader(""), command, "--config", conf)
	kafkaAddr, httpAddr := loggedAddrs(t, r)
	if !strings.Contains(r.stderr.String(), `"live-stream pretraining on" lm_en=`+lm) {
		t.Fatalf("job start not logged:\n%s", r.stderr.String())
	}
	produced := 0
	produce := func() {
		var in strings.Builder
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&in, `{"id":"p%d","text":"the new phone is great, day %d"}`+"\n", produced+i, i)
		}
		in.WriteString(`{"id":"zh","text":"北京的烤鸭太好吃了"}` + "\n") // no Chinese LM: not sampled
		if _, stderr, err := runTool(t, in.String(), "produce", "--brokers", kafkaAddr, "--topic", "tagstream.events"); err != nil {
			t.Fatalf("produce: %v\n%s", err, stderr)
		}
		produced += 10
	}
	metric := func() float64 {
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body := string(b)
		if zh := sumMetric(body, `tagstream_pretrain_texts_sampled_total{lang="zh"}`); zh != 0 {
			t.Fatalf("zh sampled %v", zh)
		}
		return sumMetric(body, `tagstream_pretrain_texts_sampled_total{lang="en"}`)
	}
	// Until the sampler has joined its group (at once for run, which
	// reads the topic from the start).
	produce()
	last := time.Now()
	pollUntil(t, 60*time.Second, func() error {
		n := metric()
		switch {
		case command == "run" && n != 10:
			return fmt.Errorf("run sampled %v of the first 10 events", n)
		case n <= 0:
			if time.Since(last) > time.Second {
				produce()
				last = time.Now()
			}
			return fmt.Errorf("nothing sampled of %d events", produced)
		}
		return nil
	})
	// Wait until the count settles (the events produced so far are all
	// consumed), then every new English event is sampled.
	base, since := -1.0, time.Now()
	pollUntil(t, 30*time.Second, func() error {
		if n := metric(); n != base {
			base, since = n, time.Now()
			return fmt.Errorf("sampled count still changing: %v", n)
		}
		if time.Since(since) < time.Second {
			return fmt.Errorf("sampled count settling at %v", base)
		}
		return nil
	})
	produce()
	pollUntil(t, 30*time.Second, func() error {
		if n := metric(); n != base+10 {
			return fmt.Errorf("sampled %v, want %v", n, base+10)
		}
		return nil
	})
	start := time.Now()
	r.cancel()
	if err := r.wait(t, 30*time.Second); err != nil {
		t.Fatalf("%s: %v\n%s", command, err, r.stderr.String())
	}
	t.Logf("%s stopped %v after cancel", command, time.Since(start))
}
