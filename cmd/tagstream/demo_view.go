package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// demoView accumulates results for the live view.
type demoView struct {
	mu        sync.Mutex
	started   time.Time
	results   int
	dead      int
	labels    map[string]int
	latest    []string
	lastCount int
	lastTime  time.Time
	lat       []float64         // ms, since the last render
	versions  map[string]string // lang → newest classifier version seen
}

func (v *demoView) handle(m *nats.Msg) {
	now := time.Now()
	var r struct {
		ID        string    `json:"id"`
		Label     string    `json:"label"`
		Lang      string    `json:"lang"`
		Text      string    `json:"text"`
		EventTime time.Time `json:"event_time"`
		Entities  []struct {
			Text, Type string
		} `json:"entities"`
		Reason string `json:"reason"`
		Error  string `json:"error"`
		Source struct {
			Partition int   `json:"partition"`
			Offset    int64 `json:"offset"`
		} `json:"source"`
		ModelVersion struct {
			Classifier string `json:"classifier"`
		} `json:"model_version"`
		Tasks map[string]struct {
			Labels []string `json:"labels"`
		} `json:"tasks"`
	}
	if json.Unmarshal(m.Data, &r) != nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	var line string
	if r.Reason != "" {
		v.dead++
		line = fmt.Sprintf("DLQ %-12s partition %d offset %d: %s", r.Reason, r.Source.Partition, r.Source.Offset, cut(r.Error, 60))
	} else {
		v.results++
		v.labels[r.Label]++
		v.lat = append(v.lat, float64(now.Sub(r.EventTime).Microseconds())/1000)
		var ents []string
		for _, e := range r.Entities {
			ents = append(ents, e.Type+":"+e.Text)
		}
		// Beside the route label, the labels of every multi-label task
		// (the emotions), in brackets.
		var other []string
		for _, name := range slices.Sorted(maps.Keys(r.Tasks)) {
			if ls := r.Tasks[name].Labels; len(ls) > 0 {
				other = append(other, "["+strings.Join(ls, " ")+"]")
			}
		}
		line = fmt.Sprintf("%-8s %s  %-50s %s %s", r.Label, r.Lang, cut(r.Text, 50), strings.Join(other, " "), strings.Join(ents, " "))
		if old, ok := v.versions[r.Lang]; ok && old != r.ModelVersion.Classifier {
			v.latest = append(v.latest, fmt.Sprintf("MODEL %s classifier now %s (was %s)", r.Lang, r.ModelVersion.Classifier, old))
		}
		v.versions[r.Lang] = r.ModelVersion.Classifier
	}
	v.latest = append(v.latest, line)
	if len(v.latest) > 8 {
		v.latest = v.latest[len(v.latest)-8:]
	}
}

func cut(s string, n int) string {
	r := []rune(strings.ReplaceAll(s, "\n", " "))
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (v *demoView) render(w io.Writer, final, plain bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now()
	rate := 0.0
	if !v.lastTime.IsZero() {
		rate = float64(v.results+v.dead-v.lastCount) / now.Sub(v.lastTime).Seconds()
	}
	v.lastCount, v.lastTime = v.results+v.dead, now
	slices.Sort(v.lat)
	p := func(q float64) float64 {
		if len(v.lat) == 0 {
			return 0
		}
		return v.lat[min(len(v.lat)-1, int(q*float64(len(v.lat))))]
	}
	var mix []string
	for l, n := range v.labels {
		mix = append(mix, fmt.Sprintf("%s %.0f%%", l, 100*float64(n)/float64(max(v.results, 1))))
	}
	slices.Sort(mix)
	var vers []string
	for l, ver := range v.versions {
		vers = append(vers, l+" "+ver)
	}
	slices.Sort(vers)
	status := fmt.Sprintf("up %s | results %d | dead letters %d | %.0f/s | latency p50 %.1f ms p99 %.1f ms | %s | models: %s",
		now.Sub(v.started).Round(time.Second), v.results, v.dead, rate, p(0.5), p(0.99), strings.Join(mix, ", "), strings.Join(vers, ", "))
	v.lat = v.lat[:0]
	if plain {
		fmt.Fprintln(w, status)
		if final || len(v.latest) == 0 {
			return
		}
		fmt.Fprintln(w, "  latest: "+v.latest[len(v.latest)-1])
		return
	}
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J")
	b.WriteString("tagstream demo — Ctrl-C to stop\n\n" + status + "\n\nlatest results:\n")
	for _, l := range v.latest {
		b.WriteString("  " + l + "\n")
	}
	fmt.Fprint(w, b.String())
}
