package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model"
)

// TestPretrainGenerateInit runs the pretraining workflow of the README:
// pretrain on unlabeled text (JSONL and plain lines), resume it, sample from
// it, and fine-tune a classifier and a tagger from it.
func TestPretrainGenerateInit(t *testing.T) {
	dir := t.TempDir()
	// The cycle: every word is followed by the next one.
	words := strings.Fields("red green blue cyan magenta yellow black white")
	var plain strings.Builder
	for i := 0; i < 300; i++ {
		var ws []string
		for j := 0; j < 6; j++ {
			ws = append(ws, words[(i+j)%len(words)])
		}
		plain.WriteString(strings.Join(ws, " ") + "\n")
	}
	textFile := filepath.Join(dir, "text.txt")
	if err := os.WriteFile(textFile, []byte(plain.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	train, dev := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "dev.jsonl")
	writeData(t, train, 200, 1, false)
	writeData(t, dev, 40, 2, false)
	lm := filepath.Join(dir, "en.lm")
	common := []string{"--quiet", "--workers", "1", "--embed", "16", "--hidden", "16", "--buckets", "50", "--samples", "8", "--lr", "0.02", "--dropout", "-1"}
	if _, err := run(t, "", append([]string{"pretrain", "--text", textFile + "," + train, "--epochs", "8", "--out", lm}, common...)...); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(lm)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadLM(f, lm, nil)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var ppl struct{ Forward, Backward float64 }
	if err := json.Unmarshal([]byte(m.Info["dev_perplexity"]), &ppl); err != nil || ppl.Forward <= 1 || ppl.Forward > 50 {
		t.Fatalf("dev_perplexity %q (%v)", m.Info["dev_perplexity"], err)
	}
	if m.Info["epochs"] != "8" || m.Config.Hidden != 16 {
		t.Fatalf("epochs %q, hidden %d", m.Info["epochs"], m.Config.Hidden)
	}
	out, err := run(t, "", "generate", "--model", lm, "--prompt", "red green", "--tokens", "3", "--temperature", "0.05", "--samples", "1")
	if err != nil {
		t.Fatal(err)
	}
	if want := "red green | blue cyan magenta\n"; out != want {
		t.Fatalf("generate printed %q, want %q", out, want)
	}
	// Resume for one more epoch.
	if _, err := run(t, "", "pretrain", "--quiet", "--workers", "1", "--samples", "8", "--text", textFile, "--resume", lm, "--epochs", "1", "--out", lm); err != nil {
		t.Fatal(err)
	}
	if m, err = loadLM(lm, m.Tokenizer); err != nil || m.Info["epochs"] != "9" {
		t.Fatalf("resumed model: epochs %q, %v", m.Info["epochs"], err)
	}
	clf := filepath.Join(dir, "clf.safetensors")
	if _, err := run(t, "", "train", "classifier", "--quiet", "--workers", "1", "--epochs", "12", "--patience", "12", "--lr", "0.01", "--ema", "-1", "--unfreeze=false", "--layer-lr", "1", "--init", lm, "--train", train, "--dev", dev, "--out", clf); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "", "eval", "--model", clf, "--data", dev, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct{ Accuracy float64 }
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Accuracy < 0.8 {
		t.Fatalf("classifier fine-tuned from the LM: %s (%v)", out, err)
	}
	// A words-view LM cannot initialise a tagger (it reads characters).
	ner := filepath.Join(dir, "ner.jsonl")
	if err := os.WriteFile(ner, []byte(`{"tokens":["red","Paris"],"tags":["O","B-LOC"]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "", "train", "ner", "--quiet", "--workers", "1", "--epochs", "1", "--init", lm, "--train", ner, "--dev", ner, "--out", filepath.Join(dir, "ner.safetensors"))
	if err == nil || !strings.Contains(err.Error(), "--view chars") {
		t.Fatalf("train ner --init with a words LM: %v", err)
	}
	// A chars-view LM with --bigrams starts a --bigrams tagger, here with
	// shrink and perturb; both choices are recorded in the files.
	lmc := filepath.Join(dir, "chars.lm")
	if _, err := run(t, "", append([]string{"pretrain", "--view", "chars", "--bigrams", "--text", textFile, "--epochs", "1", "--out", lmc}, common...)...); err != nil {
		t.Fatal(err)
	}
	tagger := filepath.Join(dir, "ner-bi.safetensors")
	if _, err := run(t, "", "train", "ner", "--quiet", "--workers", "1", "--epochs", "1", "--bigrams", "--init", lmc, "--init-shrink", "0.3", "--train", ner, "--dev", ner, "--out", tagger); err != nil {
		t.Fatal(err)
	}
	f, err = os.Open(lmc)
	if err != nil {
		t.Fatal(err)
	}
	m, err = model.LoadLM(f, lmc, nil)
	f.Close()
	if err != nil || !m.Config.Bigrams {
		t.Fatalf("pretrain --bigrams: %v, the LM's config %+v", err, m)
	}
	f, err = os.Open(tagger)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := model.LoadTagger(f, tagger, nil)
	f.Close()
	if err != nil || !tg.Config.Bigrams || tg.Info["init_lm_shrink"] != "0.3" || tg.Info["init_lm"] != m.Checksum {
		t.Fatalf("tagger from the bigram LM: %v, bigrams %v, info %v", err, tg != nil && tg.Config.Bigrams, tg)
	}
	// A classifier file is refused as an LM, naming the file.
	_, err = run(t, "", "generate", "--model", clf, "--prompt", "x")
	if err == nil || !strings.Contains(err.Error(), clf) || !strings.Contains(err.Error(), "language model") {
		t.Fatalf("generate --model classifier: %v", err)
	}
}
