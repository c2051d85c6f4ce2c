package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model"
)

// TestTrainNERVectors trains a tagger with --vectors (GloVe's text format)
// and checks that the model records them and that a broken vector file is
// refused with its name and line.
func TestTrainNERVectors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	train, dev := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "dev.jsonl")
	writeNERData(t, train, 200, 1)
	writeNERData(t, dev, 40, 2)
	vecs := filepath.Join(dir, "glove.txt")
	if err := os.WriteFile(vecs, []byte("mr 0.1 0.2 0.3\nmary 1 0 0\nwei 1 0.1 0\nparis 0 1 0\noslo 0 1 0.1\nvisited 0 0 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mdl := filepath.Join(dir, "ner.safetensors")
	args := []string{"train", "ner", "--train", train, "--dev", dev, "--out", mdl, "--epochs", "1", "--workers", "1",
		"--embed", "16", "--hidden", "16", "--char-embed", "8", "--char-filters", "8", "--buckets", "64", "--quiet"}
	if _, err := run(t, "", append(args, "--vectors", vecs, "--vectors-top", "3")...); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(mdl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tg, err := model.LoadTagger(f, mdl, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The 3 first words, and the training words of the rest (all of them here).
	if tg.Config.VecDim != 3 || tg.VecWords.Len() != 7 || tg.Info["vectors"] != "glove.txt" || len(tg.Info["vectors_sha256"]) != 64 {
		t.Fatalf("vec_dim %d, %d vector rows, info %q %q", tg.Config.VecDim, tg.VecWords.Len(), tg.Info["vectors"], tg.Info["vectors_sha256"])
	}
	if !tg.Tokenizer.Options().CompoundWords {
		t.Fatal("train ner did not set compound_words by default")
	}

	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("mr 0.1 0.2 0.3\nmary 1 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "", append(args, "--vectors", bad)...)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("broken vector file: %v, want an error naming it and line 2", err)
	}
}
