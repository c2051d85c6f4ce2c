package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
)

// fakeBackend records what the console asks of it.
type fakeBackend struct {
	mu       sync.Mutex
	feedback [][]byte
	promoted []string
	objects  []event.ModelObject
}

func (f *fakeBackend) Tasks() (string, map[string]TaskInfo) {
	return "sentiment", map[string]TaskInfo{
		"sentiment": {Langs: map[string][]string{"en": {"negative", "neutral", "positive"}, "zh": {"negative", "positive"}}},
		"emotion": {MultiLangs: map[string]bool{"en": true, "zh": false},
			Langs: map[string][]string{"en": {"anger", "joy", "love"}, "zh": {"angry", "happy", "neutral"}}},
	}
}

func (f *fakeBackend) Analyze(_ context.Context, text, lang string) (*event.Result, error) {
	return &event.Result{Lang: "en", Label: "positive", Scores: map[string]float64{"positive": 0.9, "negative": 0.1},
		Tasks:    map[string]event.TaskResult{"sentiment": {Label: "positive", Scores: map[string]float64{"positive": 0.9, "negative": 0.1}}, "emotion": {MultiLabel: true, Scores: map[string]float64{"joy": 0.2}}},
		Entities: []event.Entity{{Text: "Paris", Type: "LOC", Start: 0, End: 5}}}, nil
}

func (f *fakeBackend) SendFeedback(_ context.Context, value []byte) error {
	var fb struct {
		Task  string `json:"task"`
		Label string `json:"label"`
	}
	_ = json.Unmarshal(value, &fb)
	if fb.Task == "topic" {
		return fmt.Errorf("%w: bad_task: task %q unknown", ErrBadInput, fb.Task)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feedback = append(f.feedback, value)
	return nil
}

func (f *fakeBackend) Models(context.Context) ([]event.ModelObject, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]event.ModelObject(nil), f.objects...), nil
}

func (f *fakeBackend) Promote(_ context.Context, version, task string) (string, error) {
	if version == "nope" {
		return "", fmt.Errorf("%w: no promoted model %q", ErrBadInput, version)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.promoted = append(f.promoted, task+" "+version)
	f.objects = append(f.objects, event.ModelObject{Name: "en.classifier-" + task + ".00000009", Task: task, Lang: "en", Kind: "classifier", Seq: 9, Version: version, Created: time.Now()})
	return "promoted " + version, nil
}

func (f *fakeBackend) Rounds() []Round {
	return []Round{{Task: "emotion", Lang: "en", Kind: "classifier", Decision: "rejected", Reason: "not better on held-out feedback", Examples: 60}}
}

func (f *fakeBackend) Rollback(_ context.Context, task, lang string) (string, error) {
	return "rolled back " + task + " " + lang, nil
}

// result returns a published result's JSON.
func result(id, lang, text, label string, scores map[string]float64, emotion []string) []byte {
	tasks := map[string]any{"sentiment": map[string]any{"label": label, "scores": scores}}
	versions := map[string]string{"sentiment": "s@1"}
	if lang == "en" {
		if emotion == nil {
			emotion = []string{}
		}
		tasks["emotion"] = map[string]any{"labels": emotion, "scores": map[string]float64{"joy": 0.7, "anger": 0.45}}
		versions["emotion"] = "e@1"
	}
	b, _ := json.Marshal(map[string]any{
		"id": id, "lang": lang, "text": text, "label": label, "scores": scores, "tasks": tasks,
		"entities":      []map[string]any{{"text": "Paris", "type": "LOC", "start": 0, "end": 5}},
		"model_version": map[string]any{"classifier": "s@1", "ner": "n@1", "tasks": versions},
		"source":        map[string]any{"topic": "t", "partition": 0, "offset": 1},
		"event_time":    time.Now().Add(-20 * time.Millisecond).Format(time.RFC3339Nano),
	})
	return b
}

func newTestConsole(t *testing.T, token string) (*Console, *fakeBackend, *httptest.Server) {
	t.Helper()
	be := &fakeBackend{}
	c := New(be, Options{Instance: "test", Fleet: true, ScopeNote: "fleet", TextShown: true, Token: token})
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(func() { c.Close(); srv.Close() })
	return c, be, srv
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConsoleStateAndLists(t *testing.T) {
	t.Parallel()
	c, _, srv := newTestConsole(t, "")
	c.Observe(result("a", "en", "I love Paris", "positive", map[string]float64{"positive": 0.9, "negative": 0.1}, []string{"love"}))
	c.Observe(result("b", "zh", "巴黎太挤了", "negative", map[string]float64{"positive": 0.2, "negative": 0.8}, nil))
	c.Observe([]byte(`{"reason":"invalid_json","error":"bad","source":{"topic":"t","partition":1,"offset":7},"raw_base64":"PGltZyBzcmM9eCBvbmVycm9yPWFsZXJ0KDEpPv8=","raw_bytes":27}`))
	c.Observe([]byte(`not json`))
	code, body := do(t, "GET", srv.URL+"/api/v1/state", "", "")
	if code != 200 {
		t.Fatalf("state: %d %s", code, body)
	}
	var st State
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	events, dead := 0, 0
	for i := range st.Series.T {
		events += st.Series.Events[i]
		dead += st.Series.Dead[i]
	}
	if len(st.Rounds) != 1 || st.Rounds[0].Decision != "rejected" || st.Rounds[0].Reason == "" {
		t.Errorf("rounds %+v", st.Rounds)
	}
	if events != 2 || dead != 1 || st.Totals.Results != 2 || st.Totals.Dead != 1 || st.Route != "sentiment" || st.Scope != "fleet" || st.Write {
		t.Fatalf("state %+v", st)
	}
	if p := st.Series.P50MS[len(st.Series.P50MS)-1]; p == nil || *p < 10 {
		t.Errorf("latency p50 %v, want about 20 ms", p)
	}
	if n := st.LabelMix.Tasks["emotion"]["love"]; n == nil || n[len(n)-1] != 1 || st.EntityTypes["LOC"] != 2 {
		t.Errorf("label mix %v, entity types %v", st.LabelMix.Tasks, st.EntityTypes)
	}
	if len(st.InService) != 5 { // sentiment en+zh, emotion en, ner en+zh
		t.Errorf("in service %+v", st.InService)
	}
	_, body = do(t, "GET", srv.URL+"/api/v1/results?task=emotion&label=love", "", "")
	var rs []Result
	if err := json.Unmarshal([]byte(body), &rs); err != nil || len(rs) != 1 || rs[0].ID != "a" {
		t.Fatalf("results filtered: %v %s", err, body)
	}
	_, body = do(t, "GET", srv.URL+"/api/v1/results?lang=zh", "", "")
	if err := json.Unmarshal([]byte(body), &rs); err != nil || len(rs) != 1 || rs[0].ID != "b" {
		t.Fatalf("results by lang: %v %s", err, body)
	}
	_, body = do(t, "GET", srv.URL+"/api/v1/deadletters", "", "")
	var ds []DeadLetter
	if err := json.Unmarshal([]byte(body), &ds); err != nil || len(ds) != 1 || ds[0].Preview != "<img src=x onerror=alert(1)>\uFFFD" {
		t.Fatalf("dead letters: %v %s", err, body)
	}
}

func TestConsoleWrites(t *testing.T) {
	t.Parallel()
	_, _, off := newTestConsole(t, "")
	if code, body := do(t, "POST", off.URL+"/api/v1/feedback", "x", `{"text":"a","label":"positive"}`); code != 403 || !strings.Contains(body, "writes are disabled: set http.token") {
		t.Fatalf("write without a configured token: %d %s", code, body)
	}
	_, be, srv := newTestConsole(t, "s3cret")
	for _, tc := range []struct {
		path, token, body string
		code              int
		want              string
	}{
		{"/api/v1/feedback", "", `{"text":"a","label":"positive"}`, 401, "token missing or wrong"},
		{"/api/v1/feedback", "wrong", `{"text":"a","label":"positive"}`, 401, "token missing or wrong"},
		{"/api/v1/feedback", "s3cret", `{"text":"a",`, 400, "bad JSON"},
		{"/api/v1/feedback", "s3cret", `{"text":"a","label":"x","labels":["y"]}`, 400, `not both`},
		{"/api/v1/feedback", "s3cret", `{"text":"a","task":"topic","label":"x"}`, 400, `bad_task: task \"topic\" unknown`},
		{"/api/v1/feedback", "s3cret", `{"text":"` + strings.Repeat("x", 70<<10) + `"}`, 400, "body over"},
		{"/api/v1/feedback", "s3cret", `{"id":"a","text":"a","lang":"en","task":"emotion","labels":["joy"],"entities":[{"start":0,"end":1,"type":"PER"}]}`, 202, `"waiting":1`},
		{"/api/v1/models/promote", "s3cret", `{"version":"nope"}`, 400, "no promoted model"},
		{"/api/v1/models/promote", "s3cret", `{"version":"e.ft2@1","task":"emotion"}`, 200, "promoted e.ft2@1"},
		{"/api/v1/models/rollback", "", `{"task":"emotion","lang":"en"}`, 401, "token"},
		{"/api/v1/models/rollback", "s3cret", `{"task":"emotion","lang":"en"}`, 200, "rolled back emotion en"},
	} {
		code, body := do(t, "POST", srv.URL+tc.path, tc.token, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %.60s: %d %.200s; want %d with %q", tc.path, tc.body, code, body, tc.code, tc.want)
		}
	}
	if len(be.feedback) != 1 || !strings.Contains(string(be.feedback[0]), `"labels":["joy"],"entities":[{"start":0,"end":1,"type":"PER"}]`) || len(be.promoted) != 1 {
		t.Fatalf("feedback %q, promoted %v", be.feedback, be.promoted)
	}
}

func TestConsoleTryText(t *testing.T) {
	t.Parallel()
	_, _, srv := newTestConsole(t, "")
	code, body := do(t, "POST", srv.URL+"/api/v1/analyze", "", `{"text":"Paris is lovely"}`)
	if code != 200 || !strings.Contains(body, `"emotion":{"labels":[],`) || !strings.Contains(body, `"sentiment":{"label":"positive"`) || !strings.Contains(body, `"text":"Paris is lovely"`) {
		t.Fatalf("analyze: %d %s", code, body)
	}
	for _, b := range []string{`{}`, `{"text":"  "}`, `{"text":"x","lang":"fr"}`, `[1]`, `{"text":"x"} {}`} {
		if code, body := do(t, "POST", srv.URL+"/api/v1/analyze", "", b); code != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("analyze %s: %d %s, want 400 with a message", b, code, body)
		}
	}
}

func TestConsoleReviewQueue(t *testing.T) {
	t.Parallel()
	c, _, srv := newTestConsole(t, "tok")
	c.Observe(result("sure", "en", "great!", "positive", map[string]float64{"positive": 0.95, "neutral": 0.03, "negative": 0.02}, nil))
	c.Observe(result("unsure", "en", "hmm ok", "neutral", map[string]float64{"positive": 0.4, "neutral": 0.42, "negative": 0.18}, nil))
	c.Observe(result("unsure-again", "en", "hmm ok", "neutral", map[string]float64{"positive": 0.41, "neutral": 0.42, "negative": 0.17}, nil))
	c.Observe(result("middling", "en", "fine I guess", "positive", map[string]float64{"positive": 0.6, "neutral": 0.3, "negative": 0.1}, nil))
	next := func(q string) Review {
		t.Helper()
		code, body := do(t, "GET", srv.URL+"/api/v1/review/next"+q, "", "")
		var r Review
		if code != 200 || json.Unmarshal([]byte(body), &r) != nil {
			t.Fatalf("review: %d %s", code, body)
		}
		return r
	}
	r := next("?task=sentiment")
	if r.Item == nil || r.Item.ID != "unsure-again" || r.Suggestion["label"] != "neutral" || len(r.Labels) != 3 || r.Multi {
		t.Fatalf("first review item %+v (margin %v)", r.Item, r.Margin)
	}
	// The same text is offered once; a skipped one is not offered again.
	if r := next("?task=sentiment&skip=unsure-again"); r.Item == nil || r.Item.ID != "middling" {
		t.Fatalf("after a skip: %+v", r.Item)
	}
	if code, body := do(t, "POST", srv.URL+"/api/v1/feedback", "tok", `{"id":"unsure-again","text":"hmm ok","lang":"en","label":"neutral"}`); code != 202 {
		t.Fatalf("answer: %d %s", code, body)
	}
	if r := next("?task=sentiment"); r.Item == nil || r.Item.ID != "middling" {
		t.Fatalf("after an answer: %+v", r.Item)
	}
	if r := next("?task=emotion"); r.Item == nil || !r.Multi || r.Suggestion["labels"] == nil {
		t.Fatalf("emotion review %+v", r)
	}
	// A task whose zh model is single-label: a zh item is offered as such,
	// with the zh labels.
	c.Observe([]byte(`{"id":"zh-1","lang":"zh","text":"今天好开心","label":"positive","scores":{"positive":0.9,"negative":0.1},` +
		`"tasks":{"sentiment":{"label":"positive","scores":{"positive":0.9,"negative":0.1}},"emotion":{"label":"happy","scores":{"happy":0.34,"neutral":0.33,"angry":0.33}}},` +
		`"entities":[],"model_version":{"classifier":"s@1","ner":"n@1","tasks":{"sentiment":"s@1","emotion":"ez@1"}}}`))
	if r := next("?task=emotion"); r.Item == nil || r.Item.ID != "zh-1" || r.Multi || r.Suggestion["label"] != "happy" || strings.Join(r.Labels, ",") != "angry,happy,neutral" {
		t.Fatalf("zh emotion review %+v, labels %v, multi %v", r.Item, r.Labels, r.Multi)
	}
	if code, _ := do(t, "GET", srv.URL+"/api/v1/review/next?task=topic", "", ""); code != 400 {
		t.Fatalf("unknown task: %d", code)
	}
}

// TestConsoleEventsStream: the event stream sends the state, then new
// results, and ends at Close (a server's Shutdown must not wait on it).
func TestConsoleEventsStream(t *testing.T) {
	t.Parallel()
	c, _, srv := newTestConsole(t, "")
	resp, err := http.Get(srv.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	c.Observe(result("live", "en", "hello", "positive", map[string]float64{"positive": 1}, nil))
	seen := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			seen[ev] = true
		}
		if strings.HasPrefix(sc.Text(), "data: [") && strings.Contains(sc.Text(), `"id":"live"`) {
			break
		}
	}
	if !seen["state"] || !seen["results"] {
		t.Fatalf("events seen %v", seen)
	}
	done := make(chan struct{})
	go func() {
		for sc.Scan() {
		}
		close(done)
	}()
	c.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end at Close")
	}
}

func TestConsoleSecurityHeadersAndRemoteReads(t *testing.T) {
	t.Parallel()
	c := New(&fakeBackend{}, Options{Token: "tok"})
	for _, tc := range []struct {
		remote, token string
		code          int
	}{
		{"127.0.0.1:5000", "", 200},
		{"[::1]:5000", "", 200},
		{"10.1.2.3:5000", "", 403},
		{"10.1.2.3:5000", "tok", 200},
	} {
		req := httptest.NewRequest("GET", "/api/v1/state", nil)
		req.RemoteAddr = tc.remote
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		w := httptest.NewRecorder()
		c.Handler().ServeHTTP(w, req)
		if w.Code != tc.code {
			t.Errorf("read from %s with token %q: %d, want %d", tc.remote, tc.token, w.Code, tc.code)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q", csp)
		}
	}
	open := New(&fakeBackend{}, Options{Open: true})
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.1.2.3:5000"
	w := httptest.NewRecorder()
	open.Handler().ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "/static/app.js") {
		t.Fatalf("page with console_open: %d %.200s", w.Code, w.Body.String())
	}
}

// TestStaticAssetsSafe: the page has no inline script, handler or style,
// and the script never turns a string into markup or code.
func TestStaticAssetsSafe(t *testing.T) {
	t.Parallel()
	html, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAll(html, -1) {
		if !strings.Contains(string(tag), "src=") {
			t.Errorf("index.html has an inline script %q", tag)
		}
	}
	for _, re := range []string{`(?i)\son[a-z]+\s*=`, `(?i)\sstyle\s*=`} {
		if m := regexp.MustCompile(re).Find(html); m != nil {
			t.Errorf("index.html has %q", m)
		}
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"on", "setAttribute('on"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}

// TestConsoleHidesTexts: with HideTexts no event text reaches the console's
// memory or its API (results, review queue, dead-letter previews).
func TestConsoleHidesTexts(t *testing.T) {
	t.Parallel()
	c := New(&fakeBackend{}, Options{Instance: "test", TextShown: false, HideTexts: true, Token: "tok"})
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(func() { c.Close(); srv.Close() })
	c.Observe(result("1", "en", "my secret text about Paris", "positive", map[string]float64{"positive": 0.5, "negative": 0.45, "neutral": 0.05}, nil))
	c.Observe([]byte(`{"reason":"invalid_json","error":"bad","source":{"topic":"t","partition":1,"offset":7},"raw_base64":"c2VjcmV0IHJhdyB2YWx1ZQ==","raw_bytes":16}`))
	for _, path := range []string{"/api/v1/results", "/api/v1/deadletters", "/api/v1/review/next", "/api/v1/state"} {
		code, body := do(t, "GET", srv.URL+path, "", "")
		if code != http.StatusOK && code != http.StatusNoContent {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if strings.Contains(body, "secret") {
			t.Errorf("%s shows an event text with HideTexts: %s", path, body)
		}
		if path == "/api/v1/state" && !strings.Contains(body, `"texts_hidden":true`) {
			t.Errorf("state does not say texts are hidden: %s", body)
		}
		if path == "/api/v1/results" && !strings.Contains(body, `"id":"1"`) {
			t.Errorf("the result itself is missing: %s", body)
		}
	}
}

// TestConsoleCountsAFlood: beyond DecodePerSec results a second the
// console counts results without decoding them; the rate and totals stay
// exact, the label mix is scaled from the decoded ones, the recent list
// holds only decoded results.
func TestConsoleCountsAFlood(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	c := New(&fakeBackend{}, Options{Instance: "test", DecodePerSec: 10, Now: func() time.Time { return now }})
	for i := range 100 {
		label := "positive"
		if i%4 == 0 {
			label = "negative"
		}
		c.ObserveResult(result(fmt.Sprint(i), "zh", "t", label, map[string]float64{label: 1}, nil))
	}
	c.ObserveResult([]byte(`not json`)) // counted, never decoded: the budget is spent
	c.ObserveDeadLetter([]byte(`{"reason":"invalid_json","error":"bad","source":{"topic":"t","partition":0,"offset":1},"raw_base64":"","raw_bytes":0}`))
	st := c.state(context.Background())
	last := len(st.Series.Events) - 1
	if st.Series.Events[last] != 101 || st.Totals.Results != 101 || st.Series.Dead[last] != 1 || st.Totals.Dead != 1 {
		t.Fatalf("events %d (totals %d), dead %d (totals %d): want 101 and 1", st.Series.Events[last], st.Totals.Results, st.Series.Dead[last], st.Totals.Dead)
	}
	c.mu.Lock()
	kept := len(c.results)
	c.mu.Unlock()
	if kept != 10 {
		t.Errorf("%d results kept, want the 10 decoded", kept)
	}
	mix := st.LabelMix.Tasks["sentiment"]
	var neg, pos int
	for _, n := range mix["negative"] {
		neg += n
	}
	for _, n := range mix["positive"] {
		pos += n
	}
	// The first 10 hold 3 negative (0, 4, 8) and 7 positive: scaled to 101.
	if neg != 30 || pos != 71 {
		t.Errorf("label mix negative %d positive %d, want 30 and 71 (scaled from the 10 decoded)", neg, pos)
	}
}
