package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProduce(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("長", 40000) // 120 kB: past bufio's 64 KiB buffer
	tests := []struct {
		name   string
		format []string // extra flags
		in     string
		want   []string
	}{
		{
			name: "json",
			in:   "{\"id\":\"1\",\"text\":\"hello\"}\n\n  {\"text\":\"你好\",\"lang\":\"zh\"}  \r\n   \n{\"text\":\"" + long + "\"}\n{\"text\":\"no newline\"}",
			want: []string{`{"id":"1","text":"hello"}`, `{"text":"你好","lang":"zh"}`, `{"text":"` + long + `"}`, `{"text":"no newline"}`},
		},
		{
			name:   "text",
			format: []string{"--format", "text"},
			in:     "hello world\r\n\n 他在北京 \n{not json}\n" + long + "\n",
			want:   []string{"hello world", " 他在北京 ", "{not json}", long},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			topic := uniqueName("produce")
			k := newToolKafka(t, 1, topic)
			args := append([]string{"produce", "--brokers", k.brokers, "--topic", topic}, tc.format...)
			_, stderr, err := runTool(t, tc.in, args...)
			if err != nil {
				t.Fatalf("produce: %v; stderr:\n%s", err, stderr)
			}
			if want := fmt.Sprintf("produced %d messages to %s in ", len(tc.want), topic); !strings.Contains(stderr, want) || !strings.Contains(stderr, "msg/s)") {
				t.Fatalf("stderr %q, want a summary %q... msg/s)", stderr, want)
			}
			if got := k.readTopic(t, topic); !slices.Equal(got, tc.want) {
				t.Fatalf("topic holds %d messages %.200q, want %d %.200q", len(got), got, len(tc.want), tc.want)
			}
		})
	}
}

func TestProduceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flags   []string
		in      string
		wantErr string
		want    []string // what reached the topic
	}{
		{
			name:    "bad json line",
			in:      "{\"text\":\"a\"}\n{\"text\":\"b\"}\nnot json\n{\"text\":\"c\"}\n",
			wantErr: "line 3: invalid_json: value is not json",
			want:    []string{`{"text":"a"}`, `{"text":"b"}`},
		},
		{
			name:    "json array",
			in:      "\n[1,2]\n",
			wantErr: "line 2: wrong_type: value is a json array, want object",
		},
		{
			name:    "truncated json object",
			in:      "{\"text\":\"a\"}\n{\"text\":\n",
			wantErr: "line 2: invalid_json",
			want:    []string{`{"text":"a"}`},
		},
		{
			name:    "invalid utf-8 text",
			flags:   []string{"--format", "text"},
			in:      "fine\nbad \xff\xfe\n",
			wantErr: "line 2: invalid_utf8",
			want:    []string{"fine"},
		},
		{
			name:    "too large",
			flags:   []string{"--format", "text", "--max-bytes", "10"},
			in:      "short\n0123456789abc\n",
			wantErr: "line 2: too_large: value is 13 bytes, limit 10",
			want:    []string{"short"},
		},
		{
			name:    "event without text",
			in:      "{\"text\":\"a\"}\n{\"id\":\"x\",\"txt\":\"b\"}\n",
			wantErr: "line 2: missing_text",
			want:    []string{`{"text":"a"}`},
		},
		{
			name:    "unknown language",
			in:      "{\"text\":\"hallo\",\"lang\":\"de\"}\n",
			wantErr: `line 1: bad_lang: lang "de"`,
		},
		{
			name:    "bad format",
			flags:   []string{"--format", "csv"},
			in:      "x\n",
			wantErr: `--format "csv"`,
		},
		{
			name:    "partitions without create-topic",
			flags:   []string{"--partitions", "3"},
			in:      "{}\n",
			wantErr: "--partitions needs --create-topic",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			topic := uniqueName("errors")
			k := newToolKafka(t, 1, topic)
			args := append([]string{"produce", "--brokers", k.brokers, "--topic", topic}, tc.flags...)
			_, stderr, err := runTool(t, tc.in, args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("produce: %v, want an error containing %q", err, tc.wantErr)
			}
			if tc.want == nil {
				tc.want = []string{}
			}
			got := k.readTopic(t, topic)
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("topic holds %q, want %q", got, tc.want)
			}
			if strings.Contains(tc.wantErr, "line") {
				if want := fmt.Sprintf("produced %d messages to %s", len(tc.want), topic); !strings.Contains(stderr, want) {
					t.Fatalf("stderr %q, want %q", stderr, want)
				}
			}
		})
	}
}

func TestProduceCreateTopic(t *testing.T) {
	t.Parallel()
	k := newToolKafka(t, 1)
	topic := uniqueName("created")
	in := "{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"text\":\"c\"}\n{\"text\":\"d\"}\n{\"text\":\"e\"}\n{\"text\":\"f\"}\n"

	// Without --create-topic a missing topic is an error that says how to fix it.
	_, _, err := runTool(t, in, "produce", "--brokers", k.brokers, "--topic", topic)
	if err == nil || !strings.Contains(err.Error(), "--create-topic") {
		t.Fatalf("produce to a missing topic: %v, want an error suggesting --create-topic", err)
	}

	_, stderr, err := runTool(t, in, "produce", "--brokers", k.brokers, "--topic", topic, "--create-topic", "--partitions", "3")
	if err != nil {
		t.Fatalf("produce --create-topic: %v; stderr:\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "created topic "+topic+" with 3 partitions") {
		t.Fatalf("stderr %q, want the topic creation reported", stderr)
	}
	if n, err := k.partitions(t, topic); err != nil || n != 3 {
		t.Fatalf("topic %s has %d partitions (%v), want 3", topic, n, err)
	}

	// An existing topic is fine; the messages add up.
	_, stderr, err = runTool(t, in, "produce", "--brokers", k.brokers, "--topic", topic, "--create-topic", "--partitions", "3")
	if err != nil || !strings.Contains(stderr, "already exists") {
		t.Fatalf("produce --create-topic on an existing topic: %v; stderr:\n%s", err, stderr)
	}
	got := k.readTopic(t, topic)
	slices.Sort(got)
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(in), "\n") {
		want = append(want, l, l)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("topic holds %q, want %q", got, want)
	}
}

// TestProduceInterrupt cancels produce while it waits for more input: it
// writes what it read, reports it and returns an error wrapping
// context.Canceled.
func TestProduceInterrupt(t *testing.T) {
	t.Parallel()
	topic := uniqueName("interrupt")
	k := newToolKafka(t, 1, topic)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() }) // ends produce's stdin reader
	r := startTool(t, pr, "produce", "--brokers", k.brokers, "--topic", topic, "--format", "text")
	if _, err := io.WriteString(pw, "one\ntwo\n"); err != nil {
		t.Fatal(err)
	}
	// Interactive input goes out without waiting for a full chunk.
	pollUntil(t, 15*time.Second, func() error {
		if got := k.readTopic(t, topic); len(got) < 2 {
			return fmt.Errorf("topic holds %q, want 2 messages", got)
		}
		return nil
	})
	r.cancel()
	err := r.wait(t, 30*time.Second)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted after 2 lines") {
		t.Fatalf("produce after cancel: %v, want an interruption after line 2 wrapping context.Canceled", err)
	}
	if want := "produced 2 messages to " + topic; !strings.Contains(r.stderr.String(), want) {
		t.Fatalf("stderr %q, want %q", r.stderr.String(), want)
	}
	if got := k.readTopic(t, topic); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("topic holds %q, want [one two]", got)
	}
}

// TestProduceDemo: produce --demo and feedback --demo write the built-in
// events and corrections (what the compose seeder and the tour send).
func TestProduceDemo(t *testing.T) {
	t.Parallel()
	events, fb := uniqueName("demo-events"), uniqueName("demo-feedback")
	k := newToolKafka(t, 1, events, fb)
	if _, stderr, err := runTool(t, "", "produce", "--brokers", k.brokers, "--topic", events, "--demo", "50"); err != nil {
		t.Fatalf("produce --demo: %v\n%s", err, stderr)
	}
	if _, stderr, err := runTool(t, "", "feedback", "--brokers", k.brokers, "--topic", fb, "--demo", "40"); err != nil {
		t.Fatalf("feedback --demo: %v\n%s", err, stderr)
	}
	got := k.readTopic(t, events)
	if len(got) != 50 {
		t.Fatalf("%d events, want 50", len(got))
	}
	for i, v := range got {
		var ev struct{ ID, Text string }
		if err := json.Unmarshal([]byte(v), &ev); err != nil || ev.ID != fmt.Sprintf("seed-%d", i) || ev.Text != demoSamples[i%len(demoSamples)] {
			t.Fatalf("event %d = %s (%v)", i, v, err)
		}
	}
	labels := map[string]int{}
	for _, v := range k.readTopic(t, fb) {
		var c struct{ Text, Label, Lang string }
		if err := json.Unmarshal([]byte(v), &c); err != nil || c.Text == "" || c.Lang != "en" {
			t.Fatalf("correction %s (%v)", v, err)
		}
		labels[c.Label]++
	}
	if labels["positive"] != 20 || labels["negative"] != 10 || labels["neutral"] != 10 {
		t.Fatalf("correction labels %v, want 20 positive, 10 negative, 10 neutral", labels)
	}
	if _, _, err := runTool(t, "", "produce", "--brokers", k.brokers, "--topic", events, "--demo", "0"); err == nil || !strings.Contains(err.Error(), "--demo = 0") {
		t.Fatalf("produce --demo 0: %v, want a range error", err)
	}
}
