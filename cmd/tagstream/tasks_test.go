package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// tasksConfig runs two tasks: sentiment (en, zh; the route task) and the
// multi-label emotions (en only), with fine-tuning from feedback.
const tasksConfig = `tasks:
  - name: sentiment
    models: {en: builtin:sentiment-en, zh: builtin:sentiment-zh}
  - name: emotion
    models: {en: builtin:emotion-en}
finetune:
  enabled: true
  min_examples: 120
  interval: 1m
`

// taskResult is the part of a published result this test reads.
type taskResult struct {
	ID    string `json:"id"`
	Lang  string `json:"lang"`
	Label string `json:"label"`
	Tasks map[string]struct {
		Label  *string   `json:"label"`
		Labels *[]string `json:"labels"`
	} `json:"tasks"`
	ModelVersion struct {
		Classifier string            `json:"classifier"`
		Tasks      map[string]string `json:"tasks"`
	} `json:"model_version"`
}

// TestTasksEndToEnd is issue 22's acceptance run: `run --embedded` with the
// tasks sentiment (en+zh) and emotion (en); 1,000 mixed events, each with
// exactly one result, every English one with both tasks and every Chinese
// one with sentiment only; feedback for emotion promotes a new emotion-en
// version while sentiment-en's stays; `model rollback --task emotion
// --lang en` brings the built-in back.
func TestTasksEndToEnd(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "tasks.yaml")
	if err := os.WriteFile(cfg, []byte(tasksConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startTool(t, nil, "run", "--embedded", "--config", cfg,
		"--embedded.kafka_addr", "127.0.0.1:0", "--embedded.nats_addr", "127.0.0.1:0", "--http.addr", "127.0.0.1:0")
	kafkaAddr, _ := loggedAddrs(t, r)
	natsURL := regexp.MustCompile(`nats=(nats://127\.0\.0\.1:\d+)`).FindStringSubmatch(r.stderr.String())
	if natsURL == nil {
		t.Fatalf("no NATS URL logged:\n%s", r.stderr.String())
	}
	nc, err := nats.Connect(natsURL[1])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	byID := map[string][]taskResult{}
	sub, err := nc.Subscribe("tagstream.results.>", func(m *nats.Msg) {
		var res taskResult
		if err := json.Unmarshal(m.Data, &res); err != nil {
			t.Errorf("result %s: %v", m.Data, err)
			return
		}
		mu.Lock()
		byID[res.ID] = append(byID[res.ID], res)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	produce := func(prefix string, n int, text func(i int) string) {
		t.Helper()
		var in strings.Builder
		for i := range n {
			b, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("%s%d", prefix, i), "text": text(i)})
			in.Write(append(b, '\n'))
		}
		if _, stderr, err := runTool(t, in.String(), "produce", "--brokers", kafkaAddr, "--topic", "tagstream.events"); err != nil {
			t.Fatalf("produce: %v\n%s", err, stderr)
		}
	}
	waitResults := func(prefix string, n int) []taskResult {
		t.Helper()
		var out []taskResult
		pollUntil(t, 3*time.Minute, func() error {
			mu.Lock()
			defer mu.Unlock()
			out = out[:0]
			for i := range n {
				rs := byID[fmt.Sprintf("%s%d", prefix, i)]
				if len(rs) == 0 {
					return fmt.Errorf("%d of %d %s results so far", len(out), n, prefix)
				}
				out = append(out, rs[0])
			}
			return nil
		})
		return out
	}

	// 1,000 mixed events.
	produce("e", 1000, func(i int) string { return fmt.Sprintf("%s (%d)", demoSamples[i%len(demoSamples)], i) })
	results := waitResults("e", 1000)
	langs := map[string]int{}
	var sentimentEN, emotionEN string
	for _, res := range results {
		langs[res.Lang]++
		var want []string
		switch res.Lang {
		case "en":
			want = []string{"emotion", "sentiment"}
			sentimentEN, emotionEN = res.ModelVersion.Tasks["sentiment"], res.ModelVersion.Tasks["emotion"]
		case "zh":
			want = []string{"sentiment"}
		default:
			t.Fatalf("%s: language %q", res.ID, res.Lang)
		}
		var got []string
		for name := range res.Tasks {
			got = append(got, name)
		}
		if strings.Join(slices.Sorted(slices.Values(got)), ",") != strings.Join(want, ",") {
			t.Fatalf("%s (%s): tasks %v, want %v", res.ID, res.Lang, got, want)
		}
		if s := res.Tasks["sentiment"]; s.Label == nil || *s.Label != res.Label || s.Labels != nil {
			t.Fatalf("%s: sentiment %+v, want a single label equal to the result's %q", res.ID, s, res.Label)
		}
		if res.Lang == "en" {
			if e := res.Tasks["emotion"]; e.Labels == nil || e.Label != nil {
				t.Fatalf("%s: emotion %+v, want a list of labels", res.ID, e)
			}
		}
		if res.ModelVersion.Classifier != res.ModelVersion.Tasks["sentiment"] {
			t.Fatalf("%s: model_version %+v: classifier is not the route task's", res.ID, res.ModelVersion)
		}
	}
	if langs["en"] < 300 || langs["zh"] < 100 {
		t.Fatalf("languages %v: want a mix", langs)
	}
	if !strings.HasPrefix(emotionEN, "emotion-en@") || !strings.HasPrefix(sentimentEN, "sentiment-en@") {
		t.Fatalf("versions emotion %q, sentiment %q: want the built-ins", emotionEN, sentimentEN)
	}

	// Feedback for emotion: a marker word the built-in model cannot know
	// means surprise and nothing else.
	var fb strings.Builder
	for i := range 300 {
		b, _ := json.Marshal(map[string]any{"text": fmt.Sprintf("%s, the zorblat thing again (%d)", demoSamples[i%len(demoSamples)], i), "lang": "en", "task": "emotion", "labels": []string{"surprise"}})
		fb.Write(append(b, '\n'))
	}
	if _, stderr, err := runTool(t, fb.String(), "feedback", "--brokers", kafkaAddr); err != nil {
		t.Fatalf("feedback: %v\n%s", err, stderr)
	}
	promoted := regexp.MustCompile(`msg="fine-tuned model promoted" task=emotion lang=en version=(emotion-en\.ft\d+@[0-9a-f]{12})`)
	var newVersion string
	pollUntil(t, 4*time.Minute, func() error {
		m := promoted.FindStringSubmatch(r.stderr.String())
		if m == nil {
			return fmt.Errorf("no emotion promotion logged yet")
		}
		newVersion = m[1]
		return nil
	})
	produce("f", 50, func(i int) string { return fmt.Sprintf("what a zorblat day in London (%d)", i) })
	for _, res := range waitResults("f", 50) {
		if res.ModelVersion.Tasks["emotion"] != newVersion || res.ModelVersion.Tasks["sentiment"] != sentimentEN {
			t.Fatalf("%s after the promotion: versions %v, want emotion %s and sentiment unchanged %s", res.ID, res.ModelVersion.Tasks, newVersion, sentimentEN)
		}
	}
	listed := regexp.MustCompile(`(?m)^en\s+classifier\s+emotion\s+\d+\s+` + regexp.QuoteMeta(newVersion) + `\s+` + regexp.QuoteMeta(emotionEN))
	pollUntil(t, 60*time.Second, func() error {
		out, stderr, err := runTool(t, "", "model", "list", "--nats", natsURL[1], "--config", cfg)
		if err != nil || !listed.MatchString(out) {
			return fmt.Errorf("model list: %v\n%s\n%s", err, out, stderr)
		}
		return nil
	})

	// Roll the emotion model back: the built-in serves again, sentiment
	// untouched.
	if out, stderr, err := runTool(t, "", "model", "rollback", "--task", "emotion", "--lang", "en", "--nats", natsURL[1], "--config", cfg); err != nil || !strings.Contains(out, "promoted "+emotionEN) {
		t.Fatalf("model rollback: %v\n%s\n%s", err, out, stderr)
	}
	for k := 0; ; k++ {
		prefix := fmt.Sprintf("g%d.", k)
		produce(prefix, 10, func(i int) string { return fmt.Sprintf("back to normal in Paris (%d)", i) })
		rs := waitResults(prefix, 10)
		last := rs[len(rs)-1].ModelVersion.Tasks
		if last["emotion"] == emotionEN && last["sentiment"] == sentimentEN {
			break
		}
		if k == 30 {
			t.Fatalf("after the rollback results still carry %v, want emotion %s", last, emotionEN)
		}
		time.Sleep(time.Second)
	}

	t.Logf("emotion-en %s -> %s -> rolled back; sentiment-en %s throughout; languages %v", emotionEN, newVersion, sentimentEN, langs)
	// Exactly one result per event throughout.
	mu.Lock()
	for id, rs := range byID {
		if len(rs) != 1 {
			t.Errorf("%s: %d results", id, len(rs))
		}
	}
	mu.Unlock()
	r.cancel()
	if err := r.wait(t, 60*time.Second); err != nil {
		t.Fatalf("run: %v\n%s", err, r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "stopped cleanly") {
		t.Fatalf("no clean stop:\n%s", lastLines(r.stderr.String(), 10))
	}
}
