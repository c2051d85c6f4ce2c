package console

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tagstream/tagstream/event"
)

const (
	maxResults = 300 // recent results kept
	maxDead    = 100 // recent dead letters kept
	seriesSecs = 300 // seconds of live series
	mixBucket  = 10  // seconds per label-mix bucket
	mixBuckets = 30
	latSamples = 256 // latency samples kept per second
	// decodePerSec is how many results a second the console decodes (the
	// default of Options.DecodePerSec). Beyond it a flood is counted, not
	// read: rates and totals stay exact; the recent list, the review
	// queue, latency, the label mix and entity types come from the first
	// decodePerSec results of each second, the mix and types scaled to
	// the second's count.
	decodePerSec = 200
	previewRune  = 200
)

// taskOut is one task's output in a result, as published. Its scores stay
// raw JSON until something needs them (the review queue): decoding every
// result's maps would cost the console more than all else it does.
type taskOut struct {
	Label  *string         `json:"label,omitempty"`
	Labels *[]string       `json:"labels,omitempty"`
	Scores json.RawMessage `json:"scores"`
}

// scores decodes t's scores (nil if they do not decode).
func (t taskOut) scores() map[string]float64 {
	var m map[string]float64
	_ = json.Unmarshal(t.Scores, &m)
	return m
}

func rawScores(m map[string]float64) json.RawMessage {
	if m == nil {
		return json.RawMessage(`{}`)
	}
	b, _ := json.Marshal(m)
	return b
}

// Result is a published result as the console keeps and serves it.
type Result struct {
	ID           string             `json:"id"`
	Lang         string             `json:"lang"`
	Text         *string            `json:"text,omitempty"`
	Label        string             `json:"label"`
	Scores       json.RawMessage    `json:"scores"`
	Tasks        map[string]taskOut `json:"tasks"`
	Entities     []event.Entity     `json:"entities"`
	ModelVersion event.ModelVersion `json:"model_version"`
	Source       *event.Source      `json:"source,omitempty"`
	EventTime    *time.Time         `json:"event_time,omitempty"`
	Received     *time.Time         `json:"received,omitempty"`

	seq int64
}

// DeadLetter is a published dead letter as the console serves it: the raw
// value only as a text preview.
type DeadLetter struct {
	Reason   string       `json:"reason"`
	Error    string       `json:"error"`
	Source   event.Source `json:"source"`
	Preview  string       `json:"preview"`
	RawBytes int          `json:"raw_bytes"`
	Received time.Time    `json:"received"`

	seq int64
}

// second is one second of the live series.
type second struct {
	at          int64 // unix second this slot holds
	events      int
	decoded     int // results of events decoded (at most Options.DecodePerSec)
	dead        int
	latenciesMS []float64
}

// mix is one label-mix bucket: counts of the decoded results, scaled by
// results/decoded when served.
type mix struct {
	at       int64 // unix second / mixBucket
	labels   map[string]map[string]int
	entities map[string]int
	results  int
	decoded  int
}

// modelSlot is one model's place: a task's classifier or the tagger ("" task)
// of a language.
type modelSlot struct{ task, lang, kind string }

type served struct {
	version  string
	lastSeen int64
}

// slot returns the series slot of unix second sec, reset if it held an
// older second. Call with c.mu held.
func (c *Console) slot(sec int64) *second {
	s := &c.secs[sec%seriesSecs]
	if s.at != sec {
		*s = second{at: sec, latenciesMS: s.latenciesMS[:0]}
	}
	return s
}

// bucket returns the label-mix bucket of unix second sec, reset if it held
// an older one. Call with c.mu held.
func (c *Console) bucket(sec int64) *mix {
	b := &c.mix[(sec/mixBucket)%mixBuckets]
	if b.at != sec/mixBucket {
		*b = mix{at: sec / mixBucket, labels: map[string]map[string]int{}, entities: map[string]int{}}
	}
	return b
}

// scale turns a count among b's decoded results into an estimate among
// all its results.
func (b *mix) scale(n int) int {
	if b.decoded == 0 || b.decoded == b.results {
		return n
	}
	return int(math.Round(float64(n) * float64(b.results) / float64(b.decoded)))
}

// countResult counts one result at now and says whether to decode it (the
// second's budget is not spent). Call with c.mu held.
func (c *Console) countResult(now time.Time) bool {
	sec := now.Unix()
	slot := c.slot(sec)
	slot.events++
	c.totalResults++
	b := c.bucket(sec)
	b.results++
	if slot.decoded >= c.opt.DecodePerSec {
		return false
	}
	slot.decoded++
	b.decoded++
	return true
}

// observe records one published message (a result or a dead letter) at
// now. Call with c.mu held.
func (c *Console) observe(data []byte, now time.Time) {
	var probe struct {
		Reason *string `json:"reason"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return
	}
	if probe.Reason == nil {
		if r := decodeResult(data); r != nil && c.countResult(now) {
			c.storeResult(r, now)
		}
		return
	}
	c.observeDead(data, now)
}

// observeDead records a dead letter. Call with c.mu held.
func (c *Console) observeDead(data []byte, now time.Time) {
	var w struct {
		Reason    string       `json:"reason"`
		Error     string       `json:"error"`
		Source    event.Source `json:"source"`
		RawBase64 string       `json:"raw_base64"`
		RawBytes  int          `json:"raw_bytes"`
	}
	if json.Unmarshal(data, &w) != nil {
		return
	}
	var pv string
	if !c.opt.HideTexts {
		raw, _ := base64.StdEncoding.DecodeString(w.RawBase64)
		pv = preview(raw)
	}
	c.seq++
	d := &DeadLetter{Reason: w.Reason, Error: w.Error, Source: w.Source, Preview: pv, RawBytes: w.RawBytes, Received: now, seq: c.seq}
	c.dead = append(c.dead, d)
	if len(c.dead) > maxDead {
		c.dead = slices.Delete(c.dead, 0, len(c.dead)-maxDead)
	}
	c.slot(now.Unix()).dead++
	c.totalDead++
}

// decodeResult decodes a published result, or returns nil.
func decodeResult(data []byte) *Result {
	r := &Result{}
	if json.Unmarshal(data, r) != nil || r.Tasks == nil && r.Label == "" {
		return nil
	}
	return r
}

// storeResult keeps a decoded result (nil: one that did not decode) and
// adds it to the latency, label-mix and model series. Call with c.mu held.
func (c *Console) storeResult(r *Result, now time.Time) {
	if r == nil {
		return
	}
	if c.opt.HideTexts {
		r.Text = nil
	}
	sec := now.Unix()
	slot := c.slot(sec)
	c.seq++
	r.seq, r.Received = c.seq, &now
	c.results = append(c.results, r)
	if len(c.results) > maxResults {
		c.results = slices.Delete(c.results, 0, len(c.results)-maxResults)
	}
	if r.EventTime != nil && len(slot.latenciesMS) < latSamples {
		slot.latenciesMS = append(slot.latenciesMS, float64(now.Sub(*r.EventTime).Microseconds())/1000)
	}
	b := c.bucket(sec)
	for task, t := range r.Tasks {
		m := b.labels[task]
		if m == nil {
			m = map[string]int{}
			b.labels[task] = m
		}
		switch {
		case t.Label != nil:
			m[*t.Label]++
		case t.Labels != nil && len(*t.Labels) == 0:
			m["none"]++
		case t.Labels != nil:
			for _, l := range *t.Labels {
				m[l]++
			}
		}
	}
	for _, e := range r.Entities {
		b.entities[e.Type]++
	}
	for task, v := range r.ModelVersion.Tasks {
		c.inService[modelSlot{task, r.Lang, "classifier"}] = served{v, sec}
	}
	if r.ModelVersion.NER != "" {
		c.inService[modelSlot{"", r.Lang, "ner"}] = served{r.ModelVersion.NER, sec}
	}
}

// preview returns the head of a raw value as text: at most previewRune
// runes, invalid UTF-8 replaced.
func preview(raw []byte) string {
	s := strings.ToValidUTF8(string(raw[:min(len(raw), 4*previewRune)]), "\uFFFD")
	if utf8.RuneCountInString(s) > previewRune {
		s = string([]rune(s)[:previewRune]) + "…"
	}
	return s
}

// percentile returns the q-quantile of xs (sorted in place), or NaN.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	return xs[min(len(xs)-1, int(q*float64(len(xs))))]
}

// margin is how sure task t of r is: the gap between the two best scores
// of a single-label task; for a multi-label one, the smallest distance of
// a score to 0.5 (its thresholds are not published). Lower is less sure.
func margin(t taskOut) float64 {
	if t.Label != nil {
		a, b := 0.0, 0.0
		for _, p := range t.scores() {
			switch {
			case p > a:
				a, b = p, a
			case p > b:
				b = p
			}
		}
		return a - b
	}
	m := 1.0
	for _, p := range t.scores() {
		m = min(m, math.Abs(p-0.5))
	}
	return m
}
