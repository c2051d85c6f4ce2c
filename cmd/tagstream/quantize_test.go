package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuantizeCmd quantizes the built-in English classifier and evaluates
// and predicts with the result through the unchanged commands.
func TestQuantizeCmd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "q.safetensors")
	_, stderr, err := runTool(t, "", "quantize", "--model", filepath.Join("..", "..", "models", "sentiment-en.safetensors"), "--out", out)
	if err != nil || !strings.Contains(stderr, "x smaller") {
		t.Fatalf("quantize: %v\n%s", err, stderr)
	}
	st, err := os.Stat(out)
	if err != nil || st.Size()*7 > 7650164*2 { // at least 3.5x smaller
		t.Fatalf("quantized file: %v, %d bytes", err, st.Size())
	}
	data := filepath.Join(dir, "dev.jsonl")
	if err := os.WriteFile(data, []byte(`{"text":"I love this, best day ever!","label":"positive"}
{"text":"worst service, I hate it","label":"negative"}
{"text":"the meeting is at 3pm in room 4","label":"neutral"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	o, stderr, err := runTool(t, "", "eval", "--model", out, "--data", data, "--json")
	var rep struct {
		Accuracy float64 `json:"accuracy"`
		N        int     `json:"n"`
	}
	if err != nil || json.Unmarshal([]byte(o), &rep) != nil || rep.N != 3 || rep.Accuracy < 2.0/3 {
		t.Fatalf("eval of the quantized model: %v %q %+v\n%s", err, o, rep, stderr)
	}
	if _, stderr, err := runTool(t, "", "quantize", "--model", out, "--out", filepath.Join(dir, "qq.safetensors")); err == nil || !strings.Contains(err.Error(), "already quantized") {
		t.Fatalf("quantizing twice: %v\n%s", err, stderr)
	}
}
