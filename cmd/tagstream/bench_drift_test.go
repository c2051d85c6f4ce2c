package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeDriftData writes a small data directory in the layout bench drift
// reads (ag_news and tweeteval_sentiment, train and dev JSONL): news
// headlines of the four topics and tweets of the three sentiments, made
// from templates (the real splits are large; this checks the command).
func writeDriftData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	news := map[string][]string{
		"world":    {"Talks between the two governments stall over border dispute", "Election results delayed in the capital after protests"},
		"business": {"Shares of the retailer fall after weak quarterly earnings", "Central bank holds interest rates steady amid inflation"},
		"sci_tech": {"New smartphone chip promises longer battery life", "Researchers publish results on a distant exoplanet"},
		"sports":   {"Home team wins the final in extra time", "Star striker signs a new contract with the club"},
	}
	tweets := map[string][]string{
		"positive": {"loving this sunny day with friends", "best concert ever, thank you all"},
		"negative": {"worst service I have ever had", "my flight got cancelled again, so annoyed"},
		"neutral":  {"the meeting is moved to 3pm tomorrow", "watching the news tonight"},
	}
	write := func(set, split string, src map[string][]string, n int) {
		var b strings.Builder
		i := 0
		for i < n {
			for label, texts := range src {
				for _, text := range texts {
					line, err := json.Marshal(map[string]string{"text": fmt.Sprintf("%s (%d)", text, i), "label": label})
					if err != nil {
						t.Fatal(err)
					}
					b.Write(line)
					b.WriteByte('\n')
					i++
				}
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, set), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, set, split+".jsonl"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ag_news", "train", news, 240)
	write("ag_news", "dev", news, 40)
	write("tweeteval_sentiment", "train", tweets, 120)
	write("tweeteval_sentiment", "dev", tweets, 30)
	return dir
}

// TestBenchDrift runs bench drift --json on a small data directory: the
// keys the README documents are there, the counts follow the flags, the
// accuracies are proportions and each round ended in a decision.
func TestBenchDrift(t *testing.T) {
	t.Parallel()
	data := writeDriftData(t)
	out, stderr, err := runTool(t, "", "bench", "drift", "--data", data, "--json", "--events", "200",
		"--feedback-every", "2", "--min-examples", "25", "--steps", "5", "--max-procs", "1")
	if err != nil {
		t.Fatalf("bench drift: %v\n%s", err, stderr)
	}
	var keys map[string]any
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	for _, k := range []string{"new_domain_before", "new_domain_after", "original_before", "original_after", "promotions", "rejections", "events", "feedback", "version", "seconds", "peak_rss_mb"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("output lacks %q: %s", k, out)
		}
	}
	var rep struct {
		NewBefore, NewAfter, OrigBefore, OrigAfter float64
		Promotions, Rejections, Events, Feedback   int
		Version                                    string
	}
	rep.NewBefore, rep.NewAfter = keys["new_domain_before"].(float64), keys["new_domain_after"].(float64)
	rep.OrigBefore, rep.OrigAfter = keys["original_before"].(float64), keys["original_after"].(float64)
	rep.Promotions, rep.Rejections = int(keys["promotions"].(float64)), int(keys["rejections"].(float64))
	rep.Events, rep.Feedback = int(keys["events"].(float64)), int(keys["feedback"].(float64))
	rep.Version, _ = keys["version"].(string)
	if rep.Events != 200 || rep.Feedback != 100 {
		t.Errorf("events %d, feedback %d; want 200 and 100 (--events 200, --feedback-every 2)", rep.Events, rep.Feedback)
	}
	for name, v := range map[string]float64{"new_domain_before": rep.NewBefore, "new_domain_after": rep.NewAfter, "original_before": rep.OrigBefore, "original_after": rep.OrigAfter} {
		if v < 0 || v > 1 {
			t.Errorf("%s = %v, not a proportion", name, v)
		}
	}
	if rep.Promotions+rep.Rejections == 0 {
		t.Errorf("no round decided on 100 corrections with --min-examples 25: %s", out)
	}
	if !strings.HasPrefix(rep.Version, "sentiment-en") {
		t.Errorf("version %q, want the English sentiment model's", rep.Version)
	}
	// Two tasks serve (the drift is sentiment's); emotion-en is untouched.
	if tasks := fmt.Sprint(keys["tasks"]); tasks != "[emotion sentiment]" || keys["other_tasks_unchanged"] != true {
		t.Errorf("tasks %s, other_tasks_unchanged %v; want [emotion sentiment] and true", tasks, keys["other_tasks_unchanged"])
	}
	t.Logf("drift on the fixture: %s", strings.TrimSpace(out))
}
