package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/internal/testutil"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
	"github.com/tagstream/tagstream/pipeline"
)

// TestPretrainSaveDir: with pretrain.save_dir every refreshed language model
// is written there, the next start continues it instead of pretrain.lm_en,
// and a corrupt saved model is refused with its path.
func TestPretrainSaveDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corpus := strings.Repeat("the new phone is great\nthe food was awful today\n", 20)
	lm := writeTinyLM(t, dir, corpus)
	saveDir := filepath.Join(dir, "refreshed") // created by the job
	saved := filepath.Join(saveDir, "lm-en.safetensors")
	start := func() (*Server, *testutil.SyncBuffer, error) {
		cfg := config.Default()
		cfg.Finetune.Enabled = true
		cfg.Pretrain = config.Pretrain{Enabled: true, LMEN: lm, SaveDir: saveDir, Sample: 1, Buffer: 1000,
			Interval: time.Hour, MinTexts: 1, Duty: 1}
		logs := &testutil.SyncBuffer{}
		s := &Server{cfg: cfg, log: slog.New(slog.NewTextHandler(logs, nil)), reg: prometheus.NewRegistry()}
		snap, err := pipeline.NewSnapshot(map[string]*pipeline.LangModels{"en": {}})
		if err != nil {
			t.Fatal(err)
		}
		return s, logs, s.newPretrainer(snap, Options{})
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

// writeTinyLM trains a one-epoch English language model of width 8 on the
// lines of corpus and writes it to dir.
func writeTinyLM(t *testing.T, dir, corpus string) string {
	t.Helper()
	tok, err := text.New(text.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.DefaultLMTrainConfig()
	cfg.Epochs, cfg.Workers, cfg.MinCount = 1, 1, 1
	cfg.Model.Embed, cfg.Model.Hidden, cfg.Model.Buckets, cfg.Samples = 8, 8, 20, 4
	lines := strings.Split(strings.TrimSpace(corpus), "\n")
	lm, _, err := model.TrainLM(context.Background(), tok, lines[2:], lines[:2], cfg, model.LMHooks{})
	if lm == nil {
		t.Fatalf("train lm: %v", err)
	}
	path := filepath.Join(dir, "en.lm")
	if err := modelfile.Write(path, lm.Save); err != nil {
		t.Fatal(err)
	}
	return path
}
