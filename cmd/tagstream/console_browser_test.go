package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
)

// browserEnv, when set, makes the browser tests required: without a
// Chromium they fail instead of skipping (.ci/run sets it after
// installing Debian's chromium).
const browserEnv = "TAGSTREAM_BROWSER"

// chromium returns the browser to drive, skipping (or failing, under
// TAGSTREAM_BROWSER) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("TAGSTREAM_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv(browserEnv) != "" {
		t.Fatalf("%s is set but no Chromium was found (/usr/bin/chromium or TAGSTREAM_CHROMIUM)", browserEnv)
	}
	t.Skipf("no Chromium (apt install chromium; %s=1 makes this test required)", browserEnv)
	return ""
}

// newBrowser starts a headless Chromium; the returned context drives one tab.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser: no timeout on this first call
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// cdp runs chromedp actions with a timeout, failing the test with what.
func cdp(t *testing.T, ctx context.Context, timeout time.Duration, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// js runs a JavaScript statement for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[any](expr)(ctx, tg)
		return chromedp.Void{}, err
	}
}

// waitJS polls a JavaScript boolean expression until it is true.
func waitJS(t *testing.T, ctx context.Context, timeout time.Duration, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 1500)`))
			t.Fatalf("after %v: %s (%s): err %v\npage:\n%s", timeout, what, expr, err, page)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshot saves the page as docs/console-<name>.png when
// TAGSTREAM_SCREENSHOTS is set (how the README's pictures are made).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("TAGSTREAM_SCREENSHOTS") == "" {
		return
	}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join("..", "..", "docs", "console-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

const consoleConfig = `tasks:
  - name: sentiment
    models: {en: builtin:sentiment-en, zh: builtin:sentiment-zh}
  - name: emotion
    models: {en: builtin:emotion-en}
output: {include_text: true}
http: {token: tok-for-tests}
`

// TestConsoleInBrowser drives the web console in Chromium against `run
// --embedded` with two tasks: live results appear within 5 s, event texts
// with markup render as text (no element made from them), try-a-text
// shows labels and a highlighted entity, a review-queue answer arrives on
// the feedback topic with its fields, a write without the token is
// refused, and a promotion and a rollback through the bucket change the
// version the page shows.
func TestConsoleInBrowser(t *testing.T) {
	// Not parallel: it times the page (results within 5 s), so it runs
	// before the package's parallel tests load the machine.
	ctx := newBrowser(t)
	cfg := filepath.Join(t.TempDir(), "console.yaml")
	if err := os.WriteFile(cfg, []byte(consoleConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startTool(t, nil, "run", "--embedded", "--config", cfg,
		"--embedded.kafka_addr", "127.0.0.1:0", "--embedded.nats_addr", "127.0.0.1:0", "--http.addr", "127.0.0.1:0")
	kafkaAddr, httpAddr := loggedAddrs(t, r)
	natsURL := regexp.MustCompile(`nats=(nats://127\.0\.0\.1:\d+)`).FindStringSubmatch(r.stderr.String())[1]
	base := "http://" + httpAddr
	produce := func(lines ...string) {
		t.Helper()
		if _, stderr, err := runTool(t, strings.Join(lines, "\n")+"\n", "produce", "--brokers", kafkaAddr, "--topic", "tagstream.events"); err != nil {
			t.Fatalf("produce: %v\n%s", err, stderr)
		}
	}
	ev := func(id, text string) string {
		b, _ := json.Marshal(map[string]string{"id": id, "text": text})
		return string(b)
	}

	cdp(t, ctx, 30*time.Second, "open the console", chromedp.Navigate(base+"/"), chromedp.WaitVisible("#live"))
	waitJS(t, ctx, 15*time.Second, "event stream connected", `document.getElementById("conn").textContent.includes("connected") && !document.getElementById("conn").textContent.includes("re")`)

	// Live: results produced now appear within 5 seconds, markup as text.
	cdp(t, ctx, 10*time.Second, "results tab", chromedp.Click(`button[data-tab="results"]`))
	injections := []string{
		`<img src=x onerror="document.title='pwned-img'"> Lunch in Paris`,
		`</script><script>document.title='pwned-script'</script> Rain in London`,
		`<b onmouseover=alert(1)>bold</b> and <iframe src="javascript:alert(2)"></iframe> in Berlin`,
	}
	t0 := time.Now()
	produce(ev("live-1", "Angela Merkel visited Paris and loved the food"), ev("x-1", injections[0]), ev("x-2", injections[1]), ev("x-3", injections[2]), ev("zh-1", "北京的烤鸭太好吃了"))
	waitJS(t, ctx, 5*time.Second, "live results on the page within 5 s", `["live-1","x-1","x-2","x-3","zh-1"].every(id => document.querySelector('.result[data-id="'+id+'"]'))`)
	t.Logf("results on the page %v after produce returned", time.Since(t0).Round(time.Millisecond))
	title := eval[string](t, ctx, `document.title`)
	imgs := eval[int](t, ctx, `document.querySelectorAll("img").length`)
	iframes := eval[int](t, ctx, `document.querySelectorAll("iframe").length`)
	bolds := eval[int](t, ctx, `document.querySelectorAll("#results-list b").length`)
	if strings.Contains(title, "pwned") || imgs != 0 || iframes != 0 || bolds != 0 {
		t.Fatalf("markup from events became elements: title %q, %d img, %d iframe, %d b", title, imgs, iframes, bolds)
	}
	for i, want := range injections {
		text := eval[string](t, ctx, fmt.Sprintf(`document.querySelector('.result[data-id="x-%d"]').textContent`, i+1))
		if !strings.Contains(text, strings.Fields(want)[0]) {
			t.Errorf("result x-%d shows %q, want its markup as text (%q)", i+1, text, want)
		}
	}
	screenshot(t, ctx, "results")

	// Try a text: labels of both tasks and a highlighted entity.
	cdp(t, ctx, 20*time.Second, "try a text",
		chromedp.Click(`button[data-tab="try"]`),
		chromedp.SetValue("#try-text", "Angela Merkel is visiting Paris and I am so happy about it"),
		chromedp.Click("#try-run"))
	waitJS(t, ctx, 10*time.Second, "try-a-text answer with an entity", `(() => { const o = document.getElementById("try-out"); return o && [...o.querySelectorAll("mark")].some(m => m.textContent.includes("Paris")) && o.textContent.includes("sentiment") && o.textContent.includes("emotion"); })()`)
	screenshot(t, ctx, "try")

	// Review: accept the model's answer for the least sure result; it
	// reaches the feedback topic.
	cdp(t, ctx, 20*time.Second, "review",
		chromedp.SetValue("#token", "tok-for-tests"),
		js(`sessionStorage.setItem("tagstream.token", "tok-for-tests"); document.getElementById("token").dispatchEvent(new Event("input")); document.getElementById("token").dispatchEvent(new Event("change")); true`),
		chromedp.Click(`button[data-tab="review"]`))
	waitJS(t, ctx, 10*time.Second, "a review item", `document.getElementById("review-text").textContent.trim().length > 0`)
	screenshot(t, ctx, "review")
	reviewed := eval[string](t, ctx, `document.getElementById("review-text").textContent`)
	cdp(t, ctx, 10*time.Second, "accept", chromedp.Click("#review-accept"))
	k := &toolKafka{brokers: kafkaAddr, transport: &kafka.Transport{}}
	var fb map[string]any
	pollUntil(t, 20*time.Second, func() error {
		vals := k.readTopic(t, "tagstream.feedback")
		for _, v := range vals {
			if err := json.Unmarshal([]byte(v), &fb); err == nil {
				return nil
			}
		}
		return fmt.Errorf("no correction on tagstream.feedback yet (%d messages)", len(vals))
	})
	if fb["text"] == "" || fb["task"] != "sentiment" || fb["lang"] == nil || (fb["label"] == nil) == (fb["labels"] == nil) || !strings.Contains(reviewed, fb["text"].(string)) {
		t.Fatalf("correction %v for the reviewed text %q: want text, lang, task and a label", fb, reviewed)
	}

	// An entity span marked by selecting text goes with the next answer.
	waitJS(t, ctx, 10*time.Second, "the next review item", `document.getElementById("review-text").textContent.trim().length > 0`)
	span := eval[string](t, ctx, `(() => {
		const box = document.getElementById("review-text"), text = box.textContent;
		const words = [...text.matchAll(/\b[A-Z][a-z]{2,}\b/g)], han = text.match(/[\u4e00-\u9fff]{2}/);
		const m = words.length ? words[words.length - 1] : han;
		if (!m) return "";
		const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
		let pos = 0, node;
		while ((node = walker.nextNode())) {
			const n = node.textContent.length;
			if (m.index >= pos && m.index + m[0].length <= pos + n) {
				const r = document.createRange();
				r.setStart(node, m.index - pos); r.setEnd(node, m.index - pos + m[0].length);
				const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
				return m[0];
			}
			pos += n;
		}
		return "";
	})()`)
	if span == "" {
		t.Fatalf("no word to mark in the review item %q", eval[string](t, ctx, `document.getElementById("review-text").textContent`))
	}
	cdp(t, ctx, 10*time.Second, "mark it LOC and accept", chromedp.Click(`.mark-ent[data-type="LOC"]`), chromedp.Click("#review-accept"))
	pollUntil(t, 20*time.Second, func() error {
		for _, v := range k.readTopic(t, "tagstream.feedback") {
			var m struct {
				Text     string `json:"text"`
				Entities []struct {
					Start, End int
					Type       string
				} `json:"entities"`
			}
			if json.Unmarshal([]byte(v), &m) != nil {
				continue
			}
			for _, e := range m.Entities {
				if r := []rune(m.Text); e.Type == "LOC" && e.End <= len(r) && string(r[e.Start:e.End]) == span {
					return nil
				}
			}
		}
		return fmt.Errorf("no correction with %q marked LOC on tagstream.feedback yet (page says %q)", span, eval[string](t, ctx, `document.getElementById("review-msg").textContent`))
	})

	// Without the token the page's write is refused (and the API says 401).
	cdp(t, ctx, 10*time.Second, "drop the token",
		js(`document.getElementById("token").value = ""; sessionStorage.removeItem("tagstream.token"); document.getElementById("token").dispatchEvent(new Event("input")); document.getElementById("token").dispatchEvent(new Event("change")); true`))
	waitJS(t, ctx, 10*time.Second, "another review item", `document.getElementById("review-text").textContent.trim().length > 0`)
	cdp(t, ctx, 10*time.Second, "accept without token", chromedp.Click("#review-accept"))
	waitJS(t, ctx, 10*time.Second, "refusal shown", `document.getElementById("review-msg").textContent.toLowerCase().includes("token")`)
	resp, err := http.Post(base+"/api/v1/models/rollback", "application/json", strings.NewReader(`{"task":"emotion","lang":"en"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("rollback without the token: %d, want 401", resp.StatusCode)
	}

	// A promotion through the bucket shows; the page's rollback undoes it.
	var tc model.TokenizerCache
	l, err := models.Load(models.EmotionEN, &tc)
	if err != nil {
		t.Fatal(err)
	}
	builtin := pipeline.Version(models.EmotionEN, l.Classifier.Checksum)
	ft1 := "emotion-en.ft1@" + strings.SplitN(builtin, "@", 2)[1]
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := producer.OpenModelStore(sctx, producer.Config{URL: natsURL}, "tagstream_models")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Put(sctx, event.ModelObject{Lang: "en", Kind: "classifier", Task: "emotion", Seq: 1, Version: ft1, Parent: builtin, Metrics: "test promotion"}, builtinModel(t, models.EmotionEN)); err != nil {
		t.Fatal(err)
	}
	shows := func(version string) string {
		return `document.getElementById("in-service").textContent.includes("` + version + `")`
	}
	cdp(t, ctx, 10*time.Second, "live tab", chromedp.Click(`button[data-tab="live"]`))
	for i := 0; ; i++ {
		produce(ev(fmt.Sprintf("p-%d", i), "what a day in Paris"))
		if eval[bool](t, ctx, shows(ft1)) {
			break
		}
		if i == 20 {
			t.Fatalf("the promoted %s is not shown", ft1)
		}
		time.Sleep(time.Second)
	}
	screenshot(t, ctx, "live")
	cdp(t, ctx, 20*time.Second, "roll back in the page",
		chromedp.SetValue("#token", "tok-for-tests"),
		js(`sessionStorage.setItem("tagstream.token", "tok-for-tests"); document.getElementById("token").dispatchEvent(new Event("input")); document.getElementById("token").dispatchEvent(new Event("change")); true`),
		chromedp.Click(`button[data-tab="models"]`),
		chromedp.WaitVisible(`button[title="roll back emotion / en"]`),
		chromedp.Click(`button[title="roll back emotion / en"]`))
	// The rollback finds the parent's file among the built-in models (it
	// loads them to compare versions): seconds under the race detector
	// beside the package's other tests, hence the long wait.
	waitJS(t, ctx, 60*time.Second, "rollback message", `document.getElementById("models-msg").textContent.includes("promoted `+builtin+`")`)
	cdp(t, ctx, 10*time.Second, "live tab", chromedp.Click(`button[data-tab="live"]`))
	for i := 0; ; i++ {
		produce(ev(fmt.Sprintf("q-%d", i), "back in Paris"))
		if eval[bool](t, ctx, `(() => { const t = document.getElementById("in-service").textContent; return t.includes("`+builtin+`") && !t.includes("`+ft1+`"); })()`) {
			break
		}
		if i == 20 {
			t.Fatalf("after the rollback the page does not show %s alone", builtin)
		}
		time.Sleep(time.Second)
	}
	r.cancel()
	if err := r.wait(t, 60*time.Second); err != nil {
		t.Fatalf("run: %v\n%s", err, lastLines(r.stderr.String(), 20))
	}
}
