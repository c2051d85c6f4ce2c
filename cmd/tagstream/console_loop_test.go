package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// loopConfig: corrections of English sentiment start a fine-tuning round
// once 48 reach training; every fifth goes to the held-out set, so the 60th
// correction completes the round's data (48 to train on, 12 to judge).
const loopConfig = `finetune:
  min_examples: 48
  interval: 1h
http:
  token: tok-loop
`

// TestConsoleReviewLoop is issue 23's review-loop measurement: `demo` runs;
// events in gamer slang whose praise the built-in English model reads as
// negative ("the new map slaps") join the demo's stream; the test answers
// the console's review queue in the browser as a person would (the slang
// posts labelled positive with the label buttons, every other post
// skipped) until 60 corrections are sent; the trainer fine-tunes, guards
// and promotes; two open pages must show the promoted version within 5 s
// of the promotion. It logs the time from the last correction to the
// promotion.
func TestConsoleReviewLoop(t *testing.T) {
	browser := newBrowser(t)
	cfg := filepath.Join(t.TempDir(), "loop.yaml")
	if err := os.WriteFile(cfg, []byte(loopConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startTool(t, nil, "demo", "--plain", "--rate", "4", "--config", cfg,
		"--embedded.kafka_addr", "127.0.0.1:0", "--embedded.nats_addr", "127.0.0.1:0", "--http.addr", "127.0.0.1:0")
	var kafkaAddr, base string
	pollUntil(t, 60*time.Second, func() error {
		m := regexp.MustCompile(`Kafka (127\.0\.0\.1:\d+) .* HTTP (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(r.stdout.String())
		if m == nil {
			return fmt.Errorf("demo addresses not printed yet:\n%s", r.stdout.String())
		}
		kafkaAddr, base = m[1], m[2]
		return nil
	})

	// Slang praise, each text once: subject × praise × tail.
	slang := map[string]bool{}
	var next int
	produceSlang := func(n int) {
		t.Helper()
		var lines []string
		for range n {
			i := next
			next++
			text := driftSubjects[i%len(driftSubjects)] + " " + driftPraise[(i/len(driftSubjects))%len(driftPraise)] + driftTails[(i/(len(driftSubjects)*len(driftPraise)))%len(driftTails)]
			slang[text] = true
			b, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("slang-%d", i), "text": text})
			lines = append(lines, string(b))
		}
		if _, stderr, err := runTool(t, strings.Join(lines, "\n")+"\n", "produce", "--brokers", kafkaAddr, "--topic", "tagstream.events"); err != nil {
			t.Fatalf("produce: %v\n%s", err, stderr)
		}
	}

	// Two pages: one reviews, one watches the live view.
	review, watch := browser, newBrowser(t) // two browsers, as two people would
	token := `sessionStorage.setItem("tagstream.token", "tok-loop"); document.getElementById("token").value = "tok-loop"; document.getElementById("token").dispatchEvent(new Event("input")); document.getElementById("token").dispatchEvent(new Event("change")); true`
	for _, p := range []context.Context{review, watch} {
		cdp(t, p, 30*time.Second, "open the console", chromedp.Navigate(base+"/"), chromedp.WaitVisible("#live"), js(token))
	}
	produceSlang(30)
	cdp(t, review, 10*time.Second, "review tab", chromedp.Click(`button[data-tab="review"]`))

	const want = 60
	sent, skipped := 0, 0
	var last time.Time
	deadline := time.Now().Add(4 * time.Minute)
	for sent < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d corrections sent (%d posts skipped) after 4 minutes, want %d", sent, skipped, want)
		}
		ok := eval[bool](t, review, `document.getElementById("review-text").textContent.trim().length > 0 && document.getElementById("review-msg").textContent === ""`)
		if !ok {
			if eval[bool](t, review, `document.getElementById("review-meta").textContent.includes("nothing to review")`) {
				produceSlang(10)
				time.Sleep(time.Second)
				cdp(t, review, 10*time.Second, "check again", js(`document.querySelector("#review-meta button") && document.querySelector("#review-meta button").click(); true`))
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		id := eval[string](t, review, `document.querySelector("#review-meta code").textContent`)
		text := eval[string](t, review, `document.getElementById("review-text").textContent`)
		if !slang[text] {
			cdp(t, review, 10*time.Second, "skip", chromedp.Click("#review-skip"))
			skipped++
		} else {
			cdp(t, review, 10*time.Second, "label positive", chromedp.Click(`#review-labels .review-label[data-label="positive"]`))
			waitJS(t, review, 20*time.Second, "correction "+id+" sent", `(() => { const c = document.querySelector("#review-history li button code"); return c && c.textContent === `+jsString(id)+` && !document.getElementById("review-msg").textContent; })()`)
			sent++
			last = time.Now()
			if sent%10 == 0 && sent < want {
				produceSlang(10)
			}
		}
		waitJS(t, review, 20*time.Second, "the next item loaded", `!document.getElementById("review-meta").textContent.includes("loading")`)
	}
	t.Logf("%d corrections sent through the review page (%d other posts skipped)", sent, skipped)

	// The round runs on the 60th correction; wait for its decision.
	type round struct {
		Task, Lang, Decision, Reason, Version string
		At                                    time.Time
	}
	var promoted round
	pollUntil(t, 3*time.Minute, func() error {
		var st struct{ Rounds []round }
		if err := getJSON(base+"/api/v1/state", &st); err != nil {
			return err
		}
		for _, rd := range st.Rounds {
			if rd.Task == "sentiment" && rd.Lang == "en" {
				if rd.Decision != "promoted" {
					t.Fatalf("round decision %q: %s", rd.Decision, rd.Reason)
				}
				promoted = rd
				return nil
			}
		}
		return fmt.Errorf("no sentiment/en round yet")
	})
	t.Logf("promoted %s %v after the last correction (%s)", promoted.Version, promoted.At.Sub(last).Round(time.Millisecond), promoted.Reason)
	for name, p := range map[string]struct {
		ctx  context.Context
		expr string
	}{
		"review page": {review, `document.getElementById("review-promo").textContent.includes(` + jsString(promoted.Version) + `)`},
		"live page":   {watch, `document.getElementById("in-service").textContent.includes(` + jsString(promoted.Version) + `)`},
	} {
		for !eval[bool](t, p.ctx, p.expr) {
			if time.Since(promoted.At) > 10*time.Second {
				t.Fatalf("%s does not show %s %v after the promotion", name, promoted.Version, time.Since(promoted.At).Round(time.Millisecond))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if d := time.Since(promoted.At); d > 5*time.Second {
			t.Errorf("%s shows %s %v after the promotion, want within 5 s", name, promoted.Version, d.Round(time.Millisecond))
		} else {
			t.Logf("%s shows %s within %v of the promotion", name, promoted.Version, d.Round(time.Millisecond))
		}
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// getJSON decodes the JSON answer of a GET.
func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
