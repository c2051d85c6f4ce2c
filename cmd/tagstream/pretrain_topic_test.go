package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/safetensors"
)

// runStderr executes the CLI in-process and returns its stderr.
func runStderr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return errOut.String(), err
}

// TestPretrainFromTopic produces events (valid and malformed) to a Kafka
// topic and pretrains from it and a text file, with the brokers from the
// configuration file. It checks the counts reported and the LM file
// written, and that --brokers and --max-events reach the scan.
func TestPretrainFromTopic(t *testing.T) {
	topic := fmt.Sprintf("pretrain-topic-%d", time.Now().UnixNano()%1e9)
	k := newToolKafka(t, 2, topic)
	dir := t.TempDir()
	words := strings.Fields("red green blue cyan magenta yellow black white")
	var events, plain strings.Builder
	for i := 0; i < 200; i++ {
		var ws []string
		for j := 0; j < 6; j++ {
			ws = append(ws, words[(i+j)%len(words)])
		}
		fmt.Fprintf(&events, `{"id":"p%d","text":%q}`+"\n", i, strings.Join(ws, " "))
		if i < 40 {
			plain.WriteString(strings.Join(ws, " ") + "\n")
		}
	}
	if _, err := run(t, events.String(), "produce", "--brokers", k.brokers, "--topic", topic); err != nil {
		t.Fatal(err)
	}
	// Malformed events: not JSON, and JSON without text.
	if _, err := run(t, "not json at all\n{\"id\":\"no text\"}\n{\"text\":\"  \"}\n", "produce", "--brokers", k.brokers, "--topic", topic, "--format", "text"); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "tagstream.yaml")
	if err := os.WriteFile(conf, []byte("kafka:\n  brokers: ["+strconv.Quote(k.brokers)+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	textFile := filepath.Join(dir, "text.txt")
	if err := os.WriteFile(textFile, []byte(plain.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The brokers come from the configuration file; the topic's texts and
	// a file's are combined.
	lm := filepath.Join(dir, "lm.safetensors")
	stderr, err := runStderr(t, "pretrain", "--out", lm, "--config", conf, "--from-topic", topic, "--text", textFile,
		"--quiet", "--workers", "1", "--embed", "8", "--hidden", "8", "--buckets", "20", "--samples", "4", "--epochs", "1", "--min-count", "1")
	t.Logf("stderr: %s", stderr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"read 200 texts from topic " + topic + " (2 of 2 partitions",
		"skipped 3 malformed events (empty_text 1, invalid_json 1, missing_text 1)",
		"pretrain on 228 texts, dev 12", // 200 + 40, every 20th held out
	} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("stderr lacks %q", want)
		}
	}
	f, err := os.Open(lm)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := safetensors.Read(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Meta["kind"] != model.KindLM || st.Meta["train_texts"] != "228" {
		t.Fatalf("LM file: kind %q, train_texts %q", st.Meta["kind"], st.Meta["train_texts"])
	}
	// --brokers and --max-events reach the scan (both fail before any
	// training).
	if _, err := runStderr(t, "pretrain", "--out", lm, "--from-topic", topic, "--max-events", "-1"); err == nil || !strings.Contains(err.Error(), "--max-events -1") {
		t.Fatalf("--max-events -1: %v", err)
	}
	if _, err := runStderr(t, "pretrain", "--out", lm, "--config", conf, "--from-topic", topic, "--brokers", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "brokers 127.0.0.1:1") {
		t.Fatalf("--brokers 127.0.0.1:1: %v", err)
	}
	// Neither --text nor --from-topic.
	if _, err := runStderr(t, "pretrain", "--out", filepath.Join(dir, "x")); err == nil || !strings.Contains(err.Error(), "--from-topic") {
		t.Fatalf("pretrain without input: %v", err)
	}
}
