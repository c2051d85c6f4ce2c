package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
)

// pending is one record handed to the sink: the item to republish if its
// publish fails, and what to mark done once it is acknowledged.
type pending struct {
	item     event.Item // Token points back to this pending
	topic    string
	part     int
	offset   int64
	start    time.Time // the record's timestamp, for the end-to-end latency
	attempts int
	label    string // metric label: result label or dead-letter reason
	dead     bool
	raw      []byte // the record value, for a result the sink refuses
	size     int64  // len of the record value, for the in-flight bytes
}

// worker labels batches. It owns one model workspace per analyzer of the
// Snapshot in service, and reusable per-batch scratch.
type worker struct {
	p     *Pipeline
	snap  *Snapshot
	ws    map[*model.Analyzer]*model.AnalyzerWorkspace
	items []event.Item
	raws  [][]byte // record value of items[i] (results only)
	texts []string
	idx   []int
	langs []string
	over  []int // label indices over threshold, scratch
}

func newWorker(p *Pipeline) *worker {
	return &worker{p: p, ws: map[*model.Analyzer]*model.AnalyzerWorkspace{}}
}

// workspace returns the worker's workspace for a, dropping those of
// analyzers no longer in service when the Snapshot changed.
func (w *worker) workspace(s *Snapshot, a *model.Analyzer) *model.AnalyzerWorkspace {
	if s != w.snap {
		for k := range w.ws {
			keep := false
			for _, m := range s.langs {
				keep = keep || m.Analyzer == k
			}
			if !keep {
				delete(w.ws, k)
			}
		}
		w.snap = s
	}
	ws, ok := w.ws[a]
	if !ok {
		ws = a.NewWorkspace()
		ws.MaxTokens = w.p.cfg.MaxTokens
		w.ws[a] = ws
	}
	return ws
}

func (w *worker) run(hard context.Context, batches <-chan []event.Record) {
	for b := range batches {
		w.process(hard, b)
	}
}

// process labels one batch and hands every record to the sink.
func (w *worker) process(hard context.Context, batch []event.Record) {
	p := w.p
	p.m.batchSize.Observe(float64(len(batch)))
	snap := p.models.Load() // once per batch: a swap never splits a batch
	now := p.now()
	w.items, w.raws = w.items[:0], w.raws[:0]
	if cap(w.langs) < len(batch) {
		w.langs = make([]string, len(batch))
	}
	w.langs = w.langs[:len(batch)]
	// Dead letters first, and each record's language.
	for i := range batch {
		r := &batch[i]
		if r.Err != nil {
			w.langs[i] = ""
			continue
		}
		lang := r.Event.Lang
		if lang == "" {
			lang = text.DetectLang(r.Event.Text)
		}
		lang, _ = snap.For(lang)
		w.langs[i] = lang
	}
	for _, lang := range snap.order {
		m := snap.langs[lang]
		w.idx, w.texts = w.idx[:0], w.texts[:0]
		for i := range batch {
			if w.langs[i] == lang {
				w.idx = append(w.idx, i)
				w.texts = append(w.texts, batch[i].Event.Text)
			}
		}
		if len(w.idx) == 0 {
			continue
		}
		var ws *model.AnalyzerWorkspace
		if m.Analyzer != nil {
			ws = w.workspace(snap, m.Analyzer)
			t0 := time.Now()
			m.Analyzer.Analyze(ws, w.texts)
			p.m.inference.WithLabelValues(lang).Observe(time.Since(t0).Seconds())
			for _, task := range snap.missing[lang] {
				p.m.taskMissing.WithLabelValues(task, lang).Add(float64(len(w.idx)))
			}
		}
		for k, i := range w.idx {
			w.items = append(w.items, event.Item{Result: w.result(&batch[i], lang, snap, m, ws, k, now)})
			w.raws = append(w.raws, batch[i].Value)
		}
	}
	for i := range batch {
		if r := &batch[i]; r.Err != nil {
			w.items = append(w.items, event.Item{DeadLetter: &event.DeadLetter{
				Reason: string(r.Err.Reason),
				Err:    r.Err,
				Source: r.Source(),
				Raw:    r.Value,
			}})
		}
	}
	for i := range w.items {
		it := &w.items[i]
		pd := &pending{item: *it}
		if it.Result != nil {
			pd.raw = w.raws[i]
			pd.size = int64(len(pd.raw))
		} else {
			pd.size = int64(len(it.DeadLetter.Raw))
		}
		if it.Result != nil {
			s := it.Result.Source
			pd.topic, pd.part, pd.offset, pd.label = s.Topic, s.Partition, s.Offset, it.Result.Label
			pd.start = it.Result.EventTime
		} else {
			s := it.DeadLetter.Source
			pd.topic, pd.part, pd.offset, pd.label, pd.dead = s.Topic, s.Partition, s.Offset, it.DeadLetter.Reason, true
			pd.start = now
		}
		pd.item.Token = pd
		it.Token = pd
	}
	n, err := p.sink.PublishBatch(hard, w.items)
	if err != nil && n < len(w.items) {
		if hard.Err() == nil && !errors.Is(err, context.Canceled) {
			// The sink refused the rest (closed): retry them.
			for i := n; i < len(w.items); i++ {
				p.retry(w.items[i].Token.(*pending), err)
			}
		} else {
			var bytes int64
			for _, it := range w.items[n:] {
				bytes += it.Token.(*pending).size
			}
			p.done(int64(len(w.items)-n), bytes)
		}
	}
	clear(w.items) // drop references for the GC; the pendings hold what they need
	clear(w.raws)
}

// result builds the Result of record r, text k of the analyzed group.
func (w *worker) result(r *event.Record, lang string, snap *Snapshot, m *LangModels, ws *model.AnalyzerWorkspace, k int, now time.Time) *event.Result {
	res := &event.Result{
		ID:           r.Event.ID,
		Lang:         lang,
		ModelVersion: event.ModelVersion{Classifier: m.Versions[snap.route], NER: m.NERVersion, Tasks: m.Versions},
		Source:       r.Source(),
		EventTime:    r.Time,
		ProcessedAt:  now,
		Meta:         r.Event.Meta,
	}
	if w.p.cfg.IncludeText {
		res.Text = r.Event.Text
	}
	if ws == nil {
		res.Label = IdentityLabel
		res.ModelVersion.Classifier = IdentityLabel
		return res
	}
	fillResult(res, snap, m, ws, k, &w.over)
	return res
}

// fillResult sets the labels, tasks, entities and truncation of res from
// text k of ws, which m's analyzer filled. over is scratch.
func fillResult(res *event.Result, snap *Snapshot, m *LangModels, ws *model.AnalyzerWorkspace, k int, over *[]int) {
	a := m.Analyzer
	res.Truncated = ws.Truncated(k)
	res.Label = IdentityLabel
	if len(m.Tasks) > 0 {
		res.Tasks = make(map[string]event.TaskResult, len(m.Tasks))
	}
	for t, cls := range a.Classifiers() {
		tm := &m.Tasks[t]
		labels := cls.Labels()
		probs := ws.ClassProbs(t, k)
		tr := event.TaskResult{MultiLabel: tm.MultiLabel, Scores: make(map[string]float64, len(labels))}
		for j, l := range labels {
			tr.Scores[l] = float64(probs[j])
		}
		if tm.MultiLabel {
			*over = cls.LabelsOver((*over)[:0], probs)
			tr.Labels = make([]string, len(*over))
			for j, li := range *over {
				tr.Labels[j] = labels[li]
			}
		} else {
			tr.Label = labels[ws.ClassBest(t, k)]
		}
		res.Tasks[tm.Task] = tr
		if tm.Task == snap.route {
			res.Label, res.Scores = tr.Label, tr.Scores
		}
	}
	if a.Tagger() != nil {
		ents := ws.Entities(k)
		res.Entities = make([]event.Entity, len(ents))
		for j, e := range ents {
			res.Entities[j] = event.Entity{Text: e.Text, Type: e.Type, Start: e.Start, End: e.End, Nominal: e.Nominal}
		}
	}
}

// Analyze labels one text with the models of s as a worker labels an
// event (lang "" detects the language; at most maxTokens tokens, 0 for
// the models' own limits), for trying a text outside the stream. It uses
// a workspace of its own: it never waits for the workers.
func Analyze(s *Snapshot, txt, lang string, maxTokens int) *event.Result {
	if lang == "" {
		lang = text.DetectLang(txt)
	}
	lang, m := s.For(lang)
	res := &event.Result{Lang: lang, Text: txt, ModelVersion: event.ModelVersion{Classifier: m.Versions[s.route], NER: m.NERVersion, Tasks: m.Versions}}
	if m.Analyzer == nil {
		res.Label = IdentityLabel
		return res
	}
	ws := m.Analyzer.NewWorkspace()
	ws.MaxTokens = maxTokens
	m.Analyzer.Analyze(ws, []string{txt})
	var over []int
	fillResult(res, s, m, ws, 0, &over)
	return res
}
