package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
)

// TestTrainEvalLabelMaps trains a three-class model from a binary file and
// an emotion-style file read through a JSON label map (one label partial),
// then evaluates: a binary dev set gets restricted (polarity) scores, a
// map file given to eval is read, partially labelled records are counted
// unscored, and a label the map lacks is an error naming the line.
func TestTrainEvalLabelMaps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	binTrain, binDev := filepath.Join(dir, "bin.jsonl"), filepath.Join(dir, "bindev.jsonl")
	writeData(t, binTrain, 200, 1, false)
	writeData(t, binDev, 40, 2, false)
	var emo strings.Builder
	for i := range 300 {
		text, label := []string{"love great day", "hate awful day", "the train is at nine", "wow what a surprise"}[i%4], []string{"happy", "angry", "neutral", "surprise"}[i%4]
		b, _ := json.Marshal(map[string]string{"text": text, "label": label})
		emo.Write(append(b, '\n'))
	}
	emoFile := filepath.Join(dir, "emo.jsonl")
	mapFile := filepath.Join(dir, "map.json")
	if err := os.WriteFile(emoFile, []byte(emo.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mapFile, []byte(`{"name":"emo-sentiment","labels":{"happy":["positive"],"angry":["negative"],"neutral":["neutral"],"surprise":["negative","positive"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mdl := filepath.Join(dir, "m.safetensors")
	if _, err := run(t, "", "train", "classifier", "--train", binTrain+","+emoFile+"@"+mapFile, "--dev", binDev+","+emoFile+"@"+mapFile,
		"--out", mdl, "--epochs", "8", "--lr", "0.01", "--embed", "16", "--hidden", "16", "--buckets", "16", "--quiet"); err != nil {
		t.Fatal(err)
	}
	m, err := modelfile.LoadClassifier(mdl, new(model.TokenizerCache))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Labels, []string{"negative", "neutral", "positive"}) {
		t.Fatalf("labels %v", m.Labels)
	}
	out, err := run(t, "", "eval", "--json", "--model", mdl, "--data", binDev)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		N          int `json:"n"`
		Restricted *struct {
			Labels   []string `json:"labels"`
			Accuracy float64  `json:"accuracy"`
			N        int      `json:"n"`
		} `json:"restricted"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Restricted == nil || !slices.Equal(r.Restricted.Labels, []string{"negative", "positive"}) || r.Restricted.N != 40 || r.Restricted.Accuracy < 0.9 {
		t.Fatalf("binary dev with a three-class model: %s", out)
	}
	out, err = run(t, "", "eval", "--json", "--model", mdl, "--data", emoFile, "--label-map", mapFile)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		N        int    `json:"n"`
		LabelMap string `json:"label_map"`
		Unscored int    `json:"unscored"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	if e.N != 225 || e.Unscored != 75 || e.LabelMap != "emo-sentiment" {
		t.Fatalf("eval through the map file: %s", out)
	}
	if _, err := run(t, "", "eval", "--model", mdl, "--data", emoFile, "--label-map", "weibo2018-sentiment"); err == nil || !strings.Contains(err.Error(), "line 1: label \"happy\" is not in label map weibo2018-sentiment") {
		t.Fatalf("a label the map lacks: %v", err)
	}
}
