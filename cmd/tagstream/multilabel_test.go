package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeMultiLabelData writes n JSONL records {"text","labels"}: filler
// words with "alpha" marking label a and "beta" label b, each present with
// probability 0.5, and "neutral" when neither is.
func writeMultiLabelData(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	filler := strings.Fields("the a cat sat on mat dog ran far home today big small")
	var b strings.Builder
	for i := 0; i < n; i++ {
		words := make([]string, 3+rng.IntN(5))
		for j := range words {
			words[j] = filler[rng.IntN(len(filler))]
		}
		var labels []string
		for k, marker := range []string{"alpha", "beta"} {
			if rng.IntN(2) == 0 {
				words = slices.Insert(words, rng.IntN(len(words)+1), marker)
				labels = append(labels, string(rune('a'+k)))
			}
		}
		if labels == nil {
			labels = []string{"neutral"}
		}
		line, _ := json.Marshal(map[string]any{"text": strings.Join(words, " "), "labels": labels})
		fmt.Fprintf(&b, "%s\n", line)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMultiLabelCommands: train classifier --multi-label, eval --json with
// the multi-label keys, predict with "labels" and "scores"; without
// --multi-label such data is refused with a hint.
func TestMultiLabelCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	train, dev, mdl := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "dev.jsonl"), filepath.Join(dir, "multi.safetensors")
	writeMultiLabelData(t, train, 1200, 1)
	writeMultiLabelData(t, dev, 200, 2)
	if _, err := run(t, "", "train", "classifier", "--train", train, "--dev", dev, "--out", mdl, "--quiet"); err == nil || !strings.Contains(err.Error(), "--multi-label") {
		t.Fatalf("multi-label data without --multi-label: err %v, want a hint naming --multi-label", err)
	}
	if _, err := run(t, "", "train", "classifier", "--multi-label", "--train", train, "--dev", dev, "--out", mdl, "--quiet",
		"--epochs", "6", "--embed", "16", "--hidden", "16", "--buckets", "100", "--lr", "0.01", "--workers", "2"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "eval", "--model", mdl, "--data", dev, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("eval output %q: %v", out, err)
	}
	for _, k := range []string{"micro_f1", "macro_f1", "subset_accuracy", "hamming_loss", "n", "per_label"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("eval --json lacks %q: %s", k, out)
		}
	}
	per := ev["per_label"].(map[string]any)
	for _, l := range []string{"a", "b", "neutral"} {
		s, ok := per[l].(map[string]any)
		if !ok {
			t.Fatalf("per_label lacks %q: %v", l, per)
		}
		for _, k := range []string{"precision", "recall", "f1", "threshold", "support"} {
			if _, ok := s[k]; !ok {
				t.Errorf("per_label[%s] lacks %q", l, k)
			}
		}
	}
	if f1 := ev["macro_f1"].(float64); f1 < 0.9 || ev["n"].(float64) != 200 {
		t.Errorf("macro_f1 %v, n %v; want >= 0.9 on the marker task and 200", f1, ev["n"])
	}
	out, err = run(t, "alpha the cat beta\nthe cat sat\n", "predict", "--model", mdl)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := [][]string{{"a", "b"}, {"neutral"}}
	for i, l := range lines {
		var p struct {
			Label  string
			Labels *[]string
			Scores map[string]float64
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		if p.Labels == nil || !slices.Equal(*p.Labels, want[i]) || p.Label != "" || len(p.Scores) != 3 {
			t.Errorf("predict line %d = %s, want labels %v, no label, 3 scores", i, l, want[i])
		}
	}
	// A single-label data file is refused by the multi-label model's eval.
	single := filepath.Join(dir, "single.jsonl")
	if err := os.WriteFile(single, []byte(`{"text":"alpha","label":"a"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "eval", "--model", mdl, "--data", single); err == nil || !strings.Contains(err.Error(), `single "label"`) {
		t.Errorf("eval on single-label data: %v", err)
	}
}
