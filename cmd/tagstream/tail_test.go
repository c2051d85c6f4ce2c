package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/internal/tailfmt"
)

// TestTail runs tail in human, --raw and dead-letter mode against results
// a producer.Publisher stores in a JetStream stream.
func TestTail(t *testing.T) {
	t.Parallel()
	tn := newToolNATS(t)
	results := []*event.Result{
		tailResult(1, "positive", "en", "I met Ann Lee in Paris", event.Entity{Text: "Ann Lee", Type: "PER", Start: 6, End: 13}, event.Entity{Text: "Paris", Type: "LOC", Start: 17, End: 22}),
		tailResult(2, "negative", "zh", "这家外卖太难吃了"),
		tailResult(3, "neutral", "en", strings.Repeat("abcdefghij", 7)),
	}
	human := startTool(t, strings.NewReader(""), "tail", "--nats", tn.url, "--subject", tn.prefix+".>", "--count", "3")
	raw := startTool(t, strings.NewReader(""), "tail", "--nats", tn.url, "--subject", tn.prefix+".>", "--count", "3", "--raw")
	dlq := startTool(t, strings.NewReader(""), "tail", "--nats", tn.url, "--subject", tn.prefix+".>", "--subject", tn.dlq, "--count", "4")
	for _, r := range []*toolRun{human, raw, dlq} {
		pollUntil(t, 15*time.Second, func() error {
			if !strings.Contains(r.stderr.String(), "subscribed to ") {
				return fmt.Errorf("tail not subscribed yet; stderr %q", r.stderr.String())
			}
			return nil
		})
	}

	var items []event.Item
	for i, res := range results {
		items = append(items, event.Item{Result: res, Token: i})
	}
	items = append(items, event.Item{Token: 3, DeadLetter: &event.DeadLetter{
		Reason: "invalid_json", Err: errors.New("value is not json: invalid character 'o'"),
		Source: event.Source{Topic: "events", Partition: 2, Offset: 17}, Raw: []byte("oops"),
	}})
	tn.publish(t, items)

	wantHuman := []string{
		`positive en ev-1 "I met Ann Lee in Paris" PER:"Ann Lee" LOC:Paris`,
		`negative zh ev-2 "这家外卖太难吃了"`,
		`neutral en ev-3 "` + strings.Repeat("abcdefghij", 6) + `…"`,
	}
	wantDLQ := "DLQ invalid_json events/2/17: value is not json: invalid character 'o'"
	for _, c := range []struct {
		name string
		r    *toolRun
		want []string
	}{
		{"human", human, wantHuman},
		{"dlq", dlq, append(slices.Clone(wantHuman), wantDLQ)},
	} {
		if err := c.r.wait(t, 30*time.Second); err != nil {
			t.Fatalf("%s tail: %v", c.name, err)
		}
		if got := strings.Split(strings.TrimSuffix(c.r.stdout.String(), "\n"), "\n"); !slices.Equal(got, c.want) {
			t.Errorf("%s tail printed\n%s\nwant\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}

	if err := raw.wait(t, 30*time.Second); err != nil {
		t.Fatalf("raw tail: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(raw.stdout.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("raw tail printed %d lines, want 3:\n%s", len(lines), raw.stdout.String())
	}
	for i, l := range lines {
		// Raw lines are the published JSON, untouched.
		if !strings.HasPrefix(l, `{"id":"`+results[i].ID+`","label":"`+results[i].Label+`"`) || !strings.Contains(l, `"model_version":{"classifier":"cls-1","ner":"ner-1",`) {
			t.Errorf("raw line %d = %s, want the result JSON of %s", i, l, results[i].ID)
		}
	}
}

// TestTailUntilCancel checks that without --count tail runs until its
// context ends and then exits cleanly.
func TestTailUntilCancel(t *testing.T) {
	t.Parallel()
	tn := newToolNATS(t)
	r := startTool(t, strings.NewReader(""), "tail", "--nats", tn.url, "--subject", tn.prefix+".>", "--raw")
	pollUntil(t, 15*time.Second, func() error {
		if !strings.Contains(r.stderr.String(), "subscribed to "+tn.prefix+".>") {
			return fmt.Errorf("tail not subscribed yet; stderr %q", r.stderr.String())
		}
		return nil
	})
	tn.publish(t, []event.Item{{Result: tailResult(9, "positive", "en", "x")}})
	pollUntil(t, 15*time.Second, func() error {
		if !strings.Contains(r.stdout.String(), `"id":"ev-9"`) {
			return fmt.Errorf("tail printed %q, want ev-9", r.stdout.String())
		}
		return nil
	})
	r.cancel()
	if err := r.wait(t, 30*time.Second); err != nil {
		t.Fatalf("tail after cancel: %v, want a clean exit", err)
	}
}

func TestTailErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"negative count", []string{"tail", "--count", "-1"}, "--count -1"},
		{"no server", []string{"tail", "--nats", "nats://127.0.0.1:1"}, "connect nats://127.0.0.1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := runTool(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("tail: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestTailFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
	}{
		{
			name: "result without text",
			data: `{"id":"ev-1","label":"positive","scores":{"positive":0.9},"entities":[{"text":"Paris","type":"LOC","start":3,"end":8}],"lang":"en","model_version":{"classifier":"c","ner":"n"},"source":{"topic":"t","partition":0,"offset":1}}`,
			want: `positive en ev-1 LOC:Paris`,
		},
		{
			name: "result with long chinese text",
			data: `{"id":"t/0/5","label":"negative","entities":[],"lang":"zh","text":"` + strings.Repeat("好", 61) + `"}`,
			want: `negative zh t/0/5 "` + strings.Repeat("好", 60) + `…"`,
		},
		{
			name: "text of exactly 60 characters with a newline",
			data: `{"id":"a b","label":"","lang":"","text":"` + strings.Repeat("x", 58) + `\ny"}`,
			want: `- - "a b" "` + strings.Repeat("x", 58) + `\ny"`,
		},
		{
			name: "result with two tasks",
			data: `{"id":"ev-9","label":"positive","tasks":{"sentiment":{"label":"positive","scores":{}},"emotion":{"labels":["joy","love"],"scores":{}},"topic":{"labels":[],"scores":{}}},"entities":[],"lang":"en"}`,
			want: `positive en ev-9 emotion=joy,love sentiment=positive topic=-`,
		},
		{
			name: "dead letter",
			data: `{"reason":"missing_text","error":"text is missing","source":{"topic":"events","partition":3,"offset":42},"raw_base64":"e30="}`,
			want: `DLQ missing_text events/3/42: text is missing`,
		},
		{
			name: "not json",
			data: "hello there",
			want: "subj.x: hello there",
		},
		{
			name: "control characters",
			data: "a\tb\xff",
			want: `subj.x: "a\tb\xff"`,
		},
		{
			name: "json of another shape",
			data: `{"foo":1}`,
			want: `subj.x: {"foo":1}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tailfmt.Line("subj.x", []byte(tc.data)); got != tc.want {
				t.Fatalf("tailfmt.Line(%s)\n got %s\nwant %s", tc.data, got, tc.want)
			}
		})
	}
}
