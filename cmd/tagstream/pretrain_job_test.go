package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/pipeline"
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
	var kafkaAddr, httpAddr string
	pollUntil(t, 30*time.Second, func() error {
		logs := r.stderr.String()
		k := regexp.MustCompile(`kafka=\[(127\.0\.0\.1:\d+)\]`).FindStringSubmatch(logs)
		h := regexp.MustCompile(`"http listening" addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(logs)
		if k == nil || h == nil {
			return fmt.Errorf("addresses not logged yet:\n%s", logs)
		}
		kafkaAddr, httpAddr = k[1], h[1]
		return nil
	})
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

// TestPretrainSaveDir: with pretrain.save_dir every refreshed language model
// is written there, the next start continues it instead of pretrain.lm_en,
// and a corrupt saved model is refused with its path.
func TestPretrainSaveDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	textFile := filepath.Join(dir, "text.txt")
	corpus := strings.Repeat("the new phone is great\nthe food was awful today\n", 20)
	if err := os.WriteFile(textFile, []byte(corpus), 0o644); err != nil {
		t.Fatal(err)
	}
	lm := filepath.Join(dir, "en.lm")
	if _, err := run(t, "", "pretrain", "--quiet", "--text", textFile, "--out", lm, "--epochs", "1", "--workers", "1",
		"--embed", "8", "--hidden", "8", "--buckets", "20", "--samples", "4", "--min-count", "1"); err != nil {
		t.Fatal(err)
	}
	saveDir := filepath.Join(dir, "refreshed") // created by the job
	saved := filepath.Join(saveDir, "lm-en.safetensors")
	start := func() (*service, *syncBuffer, error) {
		cfg := config.Default()
		cfg.Finetune.Enabled = true
		cfg.Pretrain = config.Pretrain{Enabled: true, LMEN: lm, SaveDir: saveDir, Sample: 1, Buffer: 1000,
			Interval: time.Hour, MinTexts: 1, Duty: 1}
		logs := &syncBuffer{}
		s := &service{cfg: cfg, log: slog.New(slog.NewTextHandler(logs, nil)), reg: prometheus.NewRegistry()}
		snap, err := pipeline.NewSnapshot(map[string]*pipeline.LangModels{"en": {}})
		if err != nil {
			t.Fatal(err)
		}
		return s, logs, s.newPretrainer(snap, serviceOptions{})
	}

	s, _, err := start()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(saved); !os.IsNotExist(err) {
		t.Fatalf("a model saved before any round: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(corpus), "\n") {
		s.pretrainer.OfferText("en", line)
	}
	// Rounds on the same sample until one is kept (its held-out
	// perplexity did not rise).
	kept := false
	for i := 0; i < 5 && !kept; i++ {
		r, err := s.pretrainer.RunRound(context.Background(), "en")
		if err != nil {
			t.Fatal(err)
		}
		kept = r.Kept
	}
	if !kept {
		t.Fatal("no round kept its model in 5")
	}
	inService := s.pretrainer.Encoder("en")
	f, err := os.Open(saved)
	if err != nil {
		t.Fatalf("refreshed model not saved: %v", err)
	}
	got, err := model.LoadLM(f, saved, model.NewTokenizerCache())
	_ = f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got.Info["epochs"] != inService.Info["epochs"] || got.Info["epochs"] == "1" {
		t.Fatalf("saved model has %q epochs, the one in service %q (lm_en had 1)", got.Info["epochs"], inService.Info["epochs"])
	}
	if _, fwd, _ := got.Perplexity([]string{"the new phone is great"}); fwd <= 0 {
		t.Fatal("saved model unusable")
	}

	// A restart continues the saved model.
	s2, logs, err := start()
	if err != nil {
		t.Fatal(err)
	}
	if e := s2.pretrainer.Encoder("en").Info["epochs"]; e != got.Info["epochs"] {
		t.Fatalf("restart serves a model of %q epochs, want the saved one's %q", e, got.Info["epochs"])
	}
	if !strings.Contains(logs.String(), "continuing the refreshed language model") {
		t.Fatalf("restart did not say it continues the saved model:\n%s", logs.String())
	}

	// A corrupt saved model stops the start with its path.
	raw, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 0xff
	if err := os.WriteFile(saved, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = start()
	if err == nil || !strings.Contains(err.Error(), "pretrain.save_dir") || !strings.Contains(err.Error(), saved) {
		t.Fatalf("corrupt saved model: %v", err)
	}
	t.Logf("corrupt saved model refused: %v", err)
}
