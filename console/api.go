package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tagstream/tagstream/event"
)

// State is the page's view of the stream (GET /api/v1/state, and every
// second on /api/v1/events).
type State struct {
	Instance    string              `json:"instance"`
	Scope       string              `json:"scope"`
	ScopeNote   string              `json:"scope_note"`
	TextShown   bool                `json:"text_shown"`
	TextsHidden bool                `json:"texts_hidden"`
	Write       bool                `json:"write"`
	Route       string              `json:"route"`
	Tasks       map[string]TaskInfo `json:"tasks"`
	Series      Series              `json:"series"`
	LabelMix    LabelMix            `json:"label_mix"`
	EntityTypes map[string]int      `json:"entity_types"`
	InService   []InService         `json:"in_service"`
	Feedback    struct {
		Sent               int `json:"sent"`
		SinceLastPromotion int `json:"since_last_promotion"`
	} `json:"feedback"`
	Promotions []Object `json:"promotions"`
	// Rounds are this process's fine-tuning decisions, newest first
	// (promoted or rejected, with the guard's reason).
	Rounds []Round `json:"rounds"`
	Totals struct {
		Results int `json:"results"`
		Dead    int `json:"dead"`
	} `json:"totals"`
}

// Series are the last five minutes, one value per second.
type Series struct {
	T      []int64    `json:"t"`
	Events []int      `json:"events"`
	Dead   []int      `json:"dead"`
	P50MS  []*float64 `json:"p50_ms"`
	P99MS  []*float64 `json:"p99_ms"`
}

// LabelMix counts labels per task in 10-second buckets.
type LabelMix struct {
	T     []int64                     `json:"t"`
	Tasks map[string]map[string][]int `json:"tasks"`
}

// InService is a model seen in results of the last minutes.
type InService struct {
	Task     string `json:"task"`
	Lang     string `json:"lang"`
	Kind     string `json:"kind"`
	Version  string `json:"version"`
	LastSeen int64  `json:"last_seen"`
}

// Object is a model-bucket object as the page shows it.
type Object struct {
	Name    string    `json:"name"`
	Task    string    `json:"task"`
	Lang    string    `json:"lang"`
	Kind    string    `json:"kind"`
	Seq     int       `json:"seq"`
	Version string    `json:"version"`
	Parent  string    `json:"parent"`
	Created time.Time `json:"created"`
	Metrics string    `json:"metrics"`
	Bytes   uint64    `json:"bytes"`
}

func objectOf(o event.ModelObject) Object {
	return Object{Name: o.Name, Task: o.Task, Lang: o.Lang, Kind: o.Kind, Seq: o.Seq, Version: o.Version, Parent: o.Parent, Created: o.Created, Metrics: o.Metrics, Bytes: o.Size}
}

// bucketObjects lists the bucket, newest first, and notes a new
// promotion (resetting the corrections counted since the last one).
func (c *Console) bucketObjects(ctx context.Context) ([]Object, error) {
	objs, err := c.be.Models(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Object, len(objs))
	for i, o := range objs {
		out[i] = objectOf(o)
	}
	slices.SortFunc(out, func(a, b Object) int { return b.Created.Compare(a.Created) })
	if len(out) > 0 {
		c.mu.Lock()
		if out[0].Name != c.newest {
			c.newest, c.sinceSent = out[0].Name, 0
		}
		c.mu.Unlock()
	}
	return out, nil
}

func (c *Console) state(ctx context.Context) *State {
	route, tasks := c.be.Tasks()
	st := &State{
		Instance: c.opt.Instance, Scope: "instance", ScopeNote: c.opt.ScopeNote, TextShown: c.opt.TextShown, TextsHidden: c.opt.HideTexts,
		Write: c.opt.Token != "", Route: route, Tasks: tasks,
	}
	if c.opt.Fleet {
		st.Scope = "fleet"
	}
	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	objs, err := c.bucketObjects(bctx)
	cancel()
	if err != nil {
		c.opt.Log.Debug("console: model bucket", "err", err)
	}
	st.Promotions = objs[:min(len(objs), 10)]
	if st.Promotions == nil {
		st.Promotions = []Object{}
	}
	st.Rounds = c.be.Rounds()
	if st.Rounds == nil {
		st.Rounds = []Round{}
	}
	now := c.opt.Now().Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := now - seriesSecs + 1; s <= now; s++ {
		slot := &c.secs[s%seriesSecs]
		st.Series.T = append(st.Series.T, s)
		if slot.at != s {
			st.Series.Events, st.Series.Dead = append(st.Series.Events, 0), append(st.Series.Dead, 0)
			st.Series.P50MS, st.Series.P99MS = append(st.Series.P50MS, nil), append(st.Series.P99MS, nil)
			continue
		}
		st.Series.Events, st.Series.Dead = append(st.Series.Events, slot.events), append(st.Series.Dead, slot.dead)
		lat := slices.Clone(slot.latenciesMS)
		st.Series.P50MS, st.Series.P99MS = append(st.Series.P50MS, num(percentile(lat, 0.5))), append(st.Series.P99MS, num(percentile(lat, 0.99)))
	}
	st.LabelMix.Tasks = map[string]map[string][]int{}
	st.EntityTypes = map[string]int{}
	cur := now / mixBucket
	for k := int64(mixBuckets - 1); k >= 0; k-- {
		at := cur - k
		st.LabelMix.T = append(st.LabelMix.T, at*mixBucket)
	}
	for i, at := range st.LabelMix.T {
		b := &c.mix[(at/mixBucket)%mixBuckets]
		if b.at != at/mixBucket {
			continue
		}
		for task, labels := range b.labels {
			m := st.LabelMix.Tasks[task]
			if m == nil {
				m = map[string][]int{}
				st.LabelMix.Tasks[task] = m
			}
			for l, n := range labels {
				if m[l] == nil {
					m[l] = make([]int, len(st.LabelMix.T))
				}
				m[l][i] += b.scale(n)
			}
		}
		for t, n := range b.entities {
			st.EntityTypes[t] += b.scale(n)
		}
	}
	st.InService = []InService{}
	for k, s := range c.inService {
		if now-s.lastSeen > seriesSecs {
			continue
		}
		st.InService = append(st.InService, InService{Task: k.task, Lang: k.lang, Kind: k.kind, Version: s.version, LastSeen: s.lastSeen})
	}
	slices.SortFunc(st.InService, func(a, b InService) int {
		return strings.Compare(a.Kind+a.Task+a.Lang, b.Kind+b.Task+b.Lang)
	})
	st.Feedback.Sent, st.Feedback.SinceLastPromotion = c.sent, c.sinceSent
	st.Totals.Results, st.Totals.Dead = c.totalResults, c.totalDead
	return st
}

func num(x float64) *float64 {
	if math.IsNaN(x) {
		return nil
	}
	return &x
}

// maxPush is the most results one event-stream push carries.
const maxPush = 50

// events streams the state every second and new results and dead letters
// as Server-Sent Events until the client goes.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeJSON(w, http.StatusInternalServerError, errorBody("streaming unsupported"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	c.mu.Lock()
	cursor := c.seq
	c.mu.Unlock()
	send := func(name string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if !send("state", c.state(r.Context())) {
			return
		}
		c.mu.Lock()
		var rs []*Result
		for _, x := range c.results {
			if x.seq > cursor {
				rs = append(rs, x)
			}
		}
		if len(rs) > maxPush { // a page shows a few hundred: the newest
			rs = rs[len(rs)-maxPush:]
		}
		var ds []*DeadLetter
		for _, x := range c.dead {
			if x.seq > cursor {
				ds = append(ds, x)
			}
		}
		cursor = c.seq
		c.mu.Unlock()
		if len(rs) > 0 && !send("results", rs) || len(ds) > 0 && !send("dead", ds) {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

// limit reads ?limit= (default def, at most max).
func limit(r *http.Request, def, most int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, most)
}

func (c *Console) listResults(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	task, label, lang := q.Get("task"), q.Get("label"), q.Get("lang")
	n := limit(r, maxResults, maxResults)
	out := []*Result{}
	c.mu.Lock()
	for i := len(c.results) - 1; i >= 0 && len(out) < n; i-- {
		x := c.results[i]
		if lang != "" && x.Lang != lang {
			continue
		}
		if task != "" {
			t, ok := x.Tasks[task]
			if !ok || label != "" && !hasLabel(t, label) {
				continue
			}
		} else if label != "" && x.Label != label {
			continue
		}
		out = append(out, x)
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func hasLabel(t taskOut, l string) bool {
	if t.Label != nil {
		return *t.Label == l
	}
	return t.Labels != nil && slices.Contains(*t.Labels, l)
}

func (c *Console) listDead(w http.ResponseWriter, r *http.Request) {
	n := limit(r, maxDead, maxDead)
	out := []*DeadLetter{}
	c.mu.Lock()
	for i := len(c.dead) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, c.dead[i])
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// resultOf renders a Result computed by the Backend as the page reads
// published ones.
func resultOf(res *event.Result) *Result {
	out := &Result{ID: res.ID, Lang: res.Lang, Label: res.Label, Scores: rawScores(res.Scores), Entities: res.Entities, ModelVersion: res.ModelVersion, Tasks: map[string]taskOut{}}
	if res.Text != "" {
		out.Text = &res.Text
	}
	for name, t := range res.Tasks {
		o := taskOut{Scores: rawScores(t.Scores)}
		if t.MultiLabel {
			labels := t.Labels
			if labels == nil {
				labels = []string{}
			}
			o.Labels = &labels
		} else {
			l := t.Label
			o.Label = &l
		}
		out.Tasks[name] = o
	}
	if out.Entities == nil {
		out.Entities = []event.Entity{}
	}
	return out
}

// tryText runs the models on a typed text, never more than MaxAnalyze at
// once (the workers are not waited for: the Backend runs its own
// analyzer).
func (c *Console) tryText(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
		Lang string `json:"lang"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case strings.TrimSpace(req.Text) == "":
		writeJSON(w, http.StatusBadRequest, errorBody("text is empty"))
		return
	case !utf8.ValidString(req.Text):
		writeJSON(w, http.StatusBadRequest, errorBody("text is not valid UTF-8"))
		return
	case req.Lang != "" && req.Lang != "en" && req.Lang != "zh":
		writeJSON(w, http.StatusBadRequest, errorBody(fmt.Sprintf("lang %q: want en, zh or none", event.Truncate(req.Lang, 16))))
		return
	}
	select {
	case c.analyze <- struct{}{}:
		defer func() { <-c.analyze }()
	default:
		writeJSON(w, http.StatusTooManyRequests, errorBody("busy: try again"))
		return
	}
	res, err := c.be.Analyze(r.Context(), req.Text, req.Lang)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody(err.Error()))
		return
	}
	res.Text = req.Text
	writeJSON(w, http.StatusOK, resultOf(res))
}

// Review is one item of the review queue.
type Review struct {
	Item       *Result        `json:"item"`
	Task       string         `json:"task"`
	Multi      bool           `json:"multi"`
	Labels     []string       `json:"labels"`
	Suggestion map[string]any `json:"suggestion"`
	Margin     float64        `json:"margin"`
}

// reviewNext offers the recent result the task's model was least sure of,
// not answered here, not in ?skip=, with a text, one per distinct text.
func (c *Console) reviewNext(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	task := q.Get("task")
	route, tasks := c.be.Tasks()
	if task == "" {
		task = route
	}
	info, ok := tasks[task]
	if !ok {
		writeJSON(w, http.StatusBadRequest, errorBody(fmt.Sprintf("task %q unknown", event.Truncate(task, 64))))
		return
	}
	skip := map[string]bool{}
	for s := range strings.SplitSeq(q.Get("skip"), ",") {
		skip[s] = true
	}
	var best *Result
	bestM := math.Inf(1)
	seen := map[string]bool{} // texts offered, answered or skipped
	c.mu.Lock()
	for _, x := range c.results {
		if x.Text != nil && (c.answered[x.ID] || skip[x.ID]) {
			seen[*x.Text] = true
		}
	}
	for i := len(c.results) - 1; i >= 0; i-- {
		x := c.results[i]
		t, ok := x.Tasks[task]
		if !ok || x.Text == nil || seen[*x.Text] {
			continue
		}
		seen[*x.Text] = true
		if m := margin(t); m < bestM {
			best, bestM = x, m
		}
	}
	c.mu.Unlock()
	rev := Review{Task: task, Multi: info.Multi, Labels: []string{}}
	if best != nil {
		rev.Item, rev.Margin = best, bestM
		rev.Labels = info.Langs[best.Lang]
		rev.Multi = best.Tasks[task].Labels != nil // this language's model's kind
		t := best.Tasks[task]
		if t.Label != nil {
			rev.Suggestion = map[string]any{"label": *t.Label}
		} else if t.Labels != nil {
			rev.Suggestion = map[string]any{"labels": *t.Labels}
		}
	}
	writeJSON(w, http.StatusOK, rev)
}

// feedback writes one correction to the feedback topic.
func (c *Console) feedback(w http.ResponseWriter, r *http.Request) {
	var fb struct {
		ID       string    `json:"id,omitempty"`
		Text     string    `json:"text"`
		Lang     string    `json:"lang,omitempty"`
		Task     string    `json:"task,omitempty"`
		Label    *string   `json:"label,omitempty"`
		Labels   *[]string `json:"labels,omitempty"`
		Entities *[]struct {
			Start int    `json:"start"`
			End   int    `json:"end"`
			Type  string `json:"type"`
		} `json:"entities,omitempty"`
	}
	if !decode(w, r, &fb) {
		return
	}
	if fb.Label != nil && fb.Labels != nil {
		writeJSON(w, http.StatusBadRequest, errorBody(`give "label" or "labels", not both`))
		return
	}
	value, err := json.Marshal(fb)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody(err.Error()))
		return
	}
	if err := c.be.SendFeedback(r.Context(), value); err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrBadInput) {
			code = http.StatusBadRequest
		}
		writeJSON(w, code, errorBody(err.Error()))
		return
	}
	c.mu.Lock()
	if fb.ID != "" {
		c.answered[fb.ID] = true
	}
	c.sent++
	c.sinceSent++
	waiting := c.sinceSent
	c.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{"ok": true, "waiting": waiting})
}

func (c *Console) models(w http.ResponseWriter, r *http.Request) {
	objs, err := c.bucketObjects(r.Context())
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, errorBody(err.Error()))
		return
	}
	if objs == nil {
		objs = []Object{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"objects": objs, "in_service": c.state(r.Context()).InService})
}

func (c *Console) promote(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Version string `json:"version"`
		Task    string `json:"task"`
	}
	if !decode(w, r, &req) {
		return
	}
	c.answer(w, func() (string, error) { return c.be.Promote(r.Context(), req.Version, req.Task) })
}

func (c *Console) rollback(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Task string `json:"task"`
		Lang string `json:"lang"`
	}
	if !decode(w, r, &req) {
		return
	}
	c.answer(w, func() (string, error) { return c.be.Rollback(r.Context(), req.Task, req.Lang) })
}

func (c *Console) answer(w http.ResponseWriter, fn func() (string, error)) {
	msg, err := fn()
	switch {
	case errors.Is(err, ErrBadInput):
		writeJSON(w, http.StatusBadRequest, errorBody(err.Error()))
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, errorBody(err.Error()))
	default:
		writeJSON(w, http.StatusOK, map[string]string{"message": msg})
	}
}
