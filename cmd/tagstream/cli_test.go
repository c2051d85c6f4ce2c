package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
)

// run executes the CLI in-process with args and stdin, returning stdout.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	if err != nil {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

// writeData writes a small generated sentiment data set: positive texts use
// words from one list, negative from another.
func writeData(t *testing.T, path string, n int, seed uint64, csv bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	pos := strings.Fields("love great happy awesome good nice 好 棒")
	neg := strings.Fields("hate awful sad terrible bad ugly 差 烂")
	filler := strings.Fields("the movie phone day food is was really so")
	var b strings.Builder
	if csv {
		b.WriteString("text,label\n")
	}
	for i := 0; i < n; i++ {
		label, words := "positive", pos
		if i%2 == 1 {
			label, words = "negative", neg
		}
		var ws []string
		for j := 0; j < 4+rng.IntN(6); j++ {
			ws = append(ws, filler[rng.IntN(len(filler))])
		}
		ws[rng.IntN(len(ws))] = words[rng.IntN(len(words))]
		text := strings.Join(ws, " ")
		if csv {
			fmt.Fprintf(&b, "\"%s, ok\",%s\n", text, label)
		} else {
			js, _ := json.Marshal(map[string]string{"text": text, "label": label})
			b.Write(js)
			b.WriteByte('\n')
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTrainEvalPredict(t *testing.T) {
	dir := t.TempDir()
	train, dev, devCSV := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "dev.jsonl"), filepath.Join(dir, "dev.csv")
	writeData(t, train, 400, 1, false)
	writeData(t, dev, 100, 2, false)
	writeData(t, devCSV, 100, 2, true)
	mdl := filepath.Join(dir, "m.safetensors")
	if _, err := run(t, "", "train", "classifier", "--train", train, "--dev", dev, "--out", mdl,
		"--epochs", "4", "--embed", "8", "--hidden", "8", "--buckets", "64", "--quiet", "--lr", "0.01", "--ema", "-1"); err != nil {
		t.Fatal(err)
	}

	out, err := run(t, "", "eval", "--model", mdl, "--data", dev, "--json")
	if err != nil {
		t.Fatal(err)
	}
	// --json prints exactly one JSON object with the documented keys.
	dec := json.NewDecoder(strings.NewReader(out))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("eval --json output %q: %v", out, err)
	}
	if dec.More() {
		t.Fatalf("eval --json printed more than one value: %q", out)
	}
	var keys []string
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"accuracy", "confusion", "macro_f1", "macro_precision", "macro_recall", "n", "per_class"}
	if !slices.Equal(keys, want) {
		t.Fatalf("eval --json keys %v, want %v", keys, want)
	}
	var res struct {
		Accuracy float64 `json:"accuracy"`
		N        int     `json:"n"`
		PerClass map[string]struct {
			Precision, Recall, F1 float64
			Support               int
		} `json:"per_class"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.N != 100 || res.Accuracy < 0.9 || res.Accuracy > 1 || res.PerClass["positive"].Support != 50 {
		t.Fatalf("eval result %+v: want n=100, accuracy in [0.9,1], 50 positive", res)
	}
	// CSV data gives the same numbers as the same rows in JSONL... up to
	// the appended ", ok" words, so only check it parses and counts.
	out, err = run(t, "", "eval", "--model", mdl, "--data", devCSV, "--json")
	if err != nil || !strings.Contains(out, `"n":100`) {
		t.Fatalf("eval on CSV: %v %q", err, out)
	}
	// Human-readable report mentions the confusion matrix.
	out, err = run(t, "", "eval", "--model", mdl, "--data", dev)
	if err != nil || !strings.Contains(strings.ToLower(out), "confusion") {
		t.Fatalf("eval report: %v %q", err, out)
	}

	in := "the phone was really great\n{\"text\": \"the food was so terrible\"}\n{\"nope\": 1}\n\n"
	out, err = run(t, in, "predict", "--model", mdl)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("predict wrote %d lines for 4 inputs: %q", len(lines), out)
	}
	var p [4]prediction
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &p[i]); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
	}
	if p[0].Label != "positive" || p[1].Label != "negative" || p[1].Text != "the food was so terrible" {
		t.Fatalf("predictions %+v %+v", p[0], p[1])
	}
	if sum := p[0].Scores["positive"] + p[0].Scores["negative"]; sum < 0.999 || sum > 1.001 || len(p[0].Scores) != 2 {
		t.Fatalf("scores %v do not cover every class with probabilities summing to 1", p[0].Scores)
	}
	if p[2].Error == "" || p[2].Label != "" {
		t.Fatalf("JSON without text: %+v, want an error and no label", p[2])
	}

	// Bad inputs are refused with clear errors.
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"text\":\"a\",\"label\":\"positive\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "", "eval", "--model", mdl, "--data", bad, "--strict")
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("strict eval on a bad line: %v, want an error naming line 2", err)
	}
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	if err := os.WriteFile(corrupt, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "", "eval", "--model", corrupt, "--data", dev)
	if err == nil || !strings.Contains(err.Error(), corrupt) {
		t.Fatalf("eval with a corrupt model: %v, want an error naming the file", err)
	}
}

func TestPredictDefaultModels(t *testing.T) {
	out, err := run(t, "I love this so much, best day ever!\n这家外卖太难吃了，再也不点了\n", "predict")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %q", len(lines), out)
	}
	var en, zh prediction
	if err := json.Unmarshal([]byte(lines[0]), &en); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &zh); err != nil {
		t.Fatal(err)
	}
	if en.Lang != "en" || zh.Lang != "zh" {
		t.Fatalf("routing: %q -> %s, %q -> %s", en.Text, en.Lang, zh.Text, zh.Lang)
	}
	if en.Label != "positive" || zh.Label != "negative" {
		t.Fatalf("default models: %q -> %s, %q -> %s", en.Text, en.Label, zh.Text, zh.Label)
	}
}

func TestConfigPrintRedacts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("kafka:\n  sasl:\n    mechanism: PLAIN\n    username: u\n    password: hunter2-secret\nbatch:\n  max_size: 32\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "config", "print", "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "hunter2-secret") || !strings.Contains(out, "REDACTED") || !strings.Contains(out, "max_size: 32") {
		t.Fatalf("config print output:\n%s\nwant the password redacted and max_size 32", out)
	}
	if err := os.WriteFile(path, []byte("batch:\n  max_size: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "config", "print", "--config", path); err == nil || !strings.Contains(err.Error(), "batch.max_size") {
		t.Fatalf("invalid config: %v, want an error naming batch.max_size", err)
	}
}

// TestTrainRepeatedFileOversamples pins that a --train file given twice is
// read twice: models/train.sh oversamples chnsenticorp that way.
func TestTrainRepeatedFileOversamples(t *testing.T) {
	dir := t.TempDir()
	train, dev := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "dev.jsonl")
	writeData(t, train, 40, 1, false)
	writeData(t, dev, 20, 2, false)
	for _, tc := range []struct {
		files string
		want  string
	}{{train, "40"}, {train + "," + train, "80"}} {
		mdl := filepath.Join(dir, "m.safetensors")
		if _, err := run(t, "", "train", "classifier", "--train", tc.files, "--dev", dev, "--out", mdl,
			"--epochs", "1", "--embed", "8", "--hidden", "8", "--buckets", "16", "--quiet"); err != nil {
			t.Fatal(err)
		}
		m, err := modelfile.LoadClassifier(mdl, new(model.TokenizerCache))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Info["train_examples"]; got != tc.want {
			t.Fatalf("--train %s: train_examples %q, want %q", tc.files, got, tc.want)
		}
	}
}

// TestPredictPossessiveOutsideEntity: predict with the built-in models
// finds the name of a possessive, typed PER, the 's outside its span.
func TestPredictPossessiveOutsideEntity(t *testing.T) {
	out, err := run(t, "Barack Obama's new podcast episode is really thoughtful\n", "predict")
	if err != nil {
		t.Fatal(err)
	}
	var p prediction
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &p); err != nil {
		t.Fatal(err)
	}
	if p.Entities == nil {
		t.Fatalf("no entities in %s", out)
	}
	for _, e := range *p.Entities {
		if e.Text == "Barack Obama" && e.Type == "PER" && e.Start == 0 && e.End == 12 {
			return
		}
	}
	t.Fatalf("entities %+v, want {Barack Obama PER 0 12}", *p.Entities)
}
