package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeNERData writes generated NER sentences: "mr <Name> visited <City>".
func writeNERData(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 5))
	names := strings.Fields("John Mary Ahmed Wei Olga")
	cities := strings.Fields("Paris Lagos Osaka Lima Oslo")
	var b strings.Builder
	for i := 0; i < n; i++ {
		toks := []string{"mr", names[rng.IntN(len(names))], "visited", cities[rng.IntN(len(cities))], "today"}
		tags := []string{"O", "B-PER", "O", "B-LOC", "O"}
		js, _ := json.Marshal(map[string][]string{"tokens": toks, "tags": tags})
		b.Write(js)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTrainEvalPredictNER(t *testing.T) {
	dir := t.TempDir()
	train, dev := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "dev.jsonl")
	writeNERData(t, train, 300, 1)
	writeNERData(t, dev, 60, 2)
	// A CoNLL copy of the dev data, with a DOCSTART line.
	conll := filepath.Join(dir, "dev.conll")
	var cb strings.Builder
	cb.WriteString("-DOCSTART- O\n\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&cb, "mr O\nWei B-PER\nvisited O\nOslo B-LOC\ntoday O\n\n")
	}
	if err := os.WriteFile(conll, []byte(cb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mdl := filepath.Join(dir, "ner.safetensors")
	if _, err := run(t, "", "train", "ner", "--train", train, "--dev", dev, "--out", mdl, "--epochs", "5",
		"--embed", "16", "--hidden", "16", "--char-embed", "8", "--char-filters", "8", "--buckets", "64", "--lr", "0.01", "--quiet", "--ema", "-1"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "eval", "--model", mdl, "--data", dev, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("eval --json output %q: %v", out, err)
	}
	for _, k := range []string{"precision", "recall", "f1", "n", "per_type", "token_accuracy"} {
		if _, ok := obj[k]; !ok {
			t.Fatalf("eval --json on a tagger lacks key %q: %s", k, out)
		}
	}
	var res struct {
		F1      float64 `json:"f1"`
		N       int     `json:"n"`
		PerType map[string]struct {
			Support int `json:"support"`
		} `json:"per_type"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.N != 60 || res.F1 < 0.9 || res.PerType["PER"].Support != 60 || res.PerType["LOC"].Support != 60 {
		t.Fatalf("tagger eval %+v: want n=60, f1 >= 0.9, 60 PER and 60 LOC", res)
	}
	out, err = run(t, "", "eval", "--model", mdl, "--data", conll, "--json")
	if err != nil || !strings.Contains(out, `"n":60`) {
		t.Fatalf("eval on CoNLL: %v %q", err, out)
	}

	// predict with the tagger alone: entity offsets are rune offsets into
	// the input, which has multi-byte characters before the entities.
	in := "😀 éé mr Mary visited Lima today\n"
	out, err = run(t, in, "predict", "--ner", mdl)
	if err != nil {
		t.Fatal(err)
	}
	var p prediction
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("predict output %q: %v", out, err)
	}
	if p.Entities == nil || p.Label != "" {
		t.Fatalf("tagger-only prediction %+v: want entities and no label", p)
	}
	runes := []rune(strings.TrimSpace(in))
	found := map[string]string{}
	for _, e := range *p.Entities {
		if got := string(runes[e.Start:e.End]); got != e.Text {
			t.Fatalf("entity %+v: runes[%d:%d] = %q", e, e.Start, e.End, got)
		}
		found[e.Text] = e.Type
	}
	if found["Mary"] != "PER" || found["Lima"] != "LOC" {
		t.Fatalf("entities %+v, want Mary/PER and Lima/LOC", *p.Entities)
	}
	// A tagger file given as --model is refused with a clear message.
	if _, err := run(t, "x\n", "predict", "--model", mdl); err == nil || !strings.Contains(err.Error(), "want a classifier") {
		t.Fatalf("predict --model TAGGER: %v", err)
	}
}
