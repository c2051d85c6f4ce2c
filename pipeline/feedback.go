package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
)

// Feedback dead-letter reasons, beside the consumer's decode reasons.
const (
	ReasonNoCorrection = "no_correction" // neither label, labels nor entities
	ReasonBadTask      = "bad_task"      // a task unknown, without a model for the language, or with fine-tuning off
	ReasonBadLabel     = "bad_label"     // a label unknown to the task's model of the language, or label/labels not matching the task's kind
	ReasonBadEntities  = "bad_entities"  // entity spans the language's tagger cannot learn: outside the text, overlapping, an unknown type, no whole token, or no tagger
)

// Feedback is one decoded correction from the feedback topic.
type Feedback struct {
	ID   string
	Text string
	Lang string // "en" or "zh"; detected from the text when absent
	// Task is the task the label or labels correct (the route task when
	// the record names none).
	Task string
	// Label is the corrected label of a single-label task, or "".
	Label string
	// Labels are the corrected labels of a multi-label task (possibly
	// none: no label applies); HasLabels says the record carried them.
	Labels    []string
	HasLabels bool
	Entities  []FeedbackEntity
}

// FeedbackEntity is a corrected entity span in rune offsets, End exclusive.
type FeedbackEntity struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Type  string `json:"type"`
}

// ParseFeedback decodes a feedback record: JSON {"id"?, "text", "lang"?,
// "task"?, "label"? or "labels"?, "entities"?: [{"start","end","type"}]}.
// "label" corrects a single-label task, "labels" a multi-label one; "task"
// absent means the route task. The record's Event (the consumer's decoding
// of id, text and lang) must be valid. frozen, when not nil, reports tasks
// with fine-tuning off, whose corrections are refused. It returns a reason
// and an error for feedback to dead-letter.
func ParseFeedback(r event.Record, s *Snapshot, frozen func(task string) bool) (Feedback, string, error) {
	if r.Err != nil {
		return Feedback{}, string(r.Err.Reason), r.Err
	}
	var extra struct {
		Task     *string          `json:"task"`
		Label    *string          `json:"label"`
		Labels   []string         `json:"labels"`
		Entities []FeedbackEntity `json:"entities"`
	}
	if err := json.Unmarshal(r.Value, &extra); err != nil {
		return Feedback{}, string(event.ReasonWrongType), fmt.Errorf("feedback %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	fb := Feedback{ID: r.Event.ID, Text: r.Event.Text, Lang: r.Event.Lang, Entities: extra.Entities, Task: s.Route()}
	if fb.Lang == "" {
		fb.Lang = text.DetectLang(fb.Text)
	}
	if extra.Label != nil {
		fb.Label = *extra.Label
	}
	fb.Labels, fb.HasLabels = extra.Labels, extra.Labels != nil
	where := fmt.Sprintf("feedback %s[%d]@%d", r.Topic, r.Partition, r.Offset)
	if fb.Label == "" && !fb.HasLabels && fb.Entities == nil { // "entities": [] is a correction: no entity in this text
		return fb, ReasonNoCorrection, fmt.Errorf("%s: neither label, labels nor entities", where)
	}
	if extra.Task != nil {
		fb.Task = *extra.Task
		if !slices.Contains(s.tasks, fb.Task) {
			return fb, ReasonBadTask, fmt.Errorf("%s: task %q unknown (tasks: %s)", where, event.Truncate(fb.Task, 64), strings.Join(s.tasks, ", "))
		}
	}
	if fb.Label != "" || fb.HasLabels {
		if reason, err := checkLabels(&fb, s, frozen); err != nil {
			return fb, reason, fmt.Errorf("%s: %w", where, err)
		}
	}
	n := utf8.RuneCountInString(fb.Text)
	for i, e := range fb.Entities {
		if e.Start < 0 || e.End <= e.Start || e.End > n || e.Type == "" {
			return fb, ReasonBadEntities, fmt.Errorf("feedback %s[%d]@%d: entity %d [%d,%d) %q outside the text's %d runes or without a type", r.Topic, r.Partition, r.Offset, i, e.Start, e.End, e.Type, n)
		}
	}
	if fb.Entities != nil {
		// Check against the tagger now: a correction it cannot learn would
		// fail every later round it is replayed in.
		_, lm := s.For(fb.Lang)
		if lm.Tagger == nil {
			return fb, ReasonBadEntities, fmt.Errorf("feedback %s[%d]@%d: entities for %s, which has no tagger", r.Topic, r.Partition, r.Offset, fb.Lang)
		}
		ex := model.EntityExample{Text: fb.Text, Entities: make([]model.EntitySpan, len(fb.Entities))}
		for i, e := range fb.Entities {
			ex.Entities[i] = model.EntitySpan{Start: e.Start, End: e.End, Type: e.Type}
		}
		if err := lm.Tagger.CheckEntities(ex); err != nil {
			return fb, ReasonBadEntities, fmt.Errorf("feedback %s[%d]@%d: %s tagger %s: %w", r.Topic, r.Partition, r.Offset, fb.Lang, lm.NERName, err)
		}
	}
	return fb, "", nil
}

// checkLabels checks fb's label or labels against its task's model of its
// language, returning a dead-letter reason with the error.
func checkLabels(fb *Feedback, s *Snapshot, frozen func(string) bool) (string, error) {
	served, lm := s.For(fb.Lang)
	_, tm := lm.Task(fb.Task)
	switch {
	case tm == nil || served != fb.Lang:
		return ReasonBadTask, fmt.Errorf("task %q has no %s model to correct", fb.Task, fb.Lang)
	case frozen != nil && frozen(fb.Task):
		return ReasonBadTask, fmt.Errorf("task %q has fine-tuning off (tasks[].finetune: false)", fb.Task)
	case tm.MultiLabel && fb.Label != "":
		return ReasonBadLabel, fmt.Errorf("task %q is multi-label: want \"labels\": [...], not \"label\"", fb.Task)
	case !tm.MultiLabel && fb.HasLabels:
		return ReasonBadLabel, fmt.Errorf("task %q is single-label: want \"label\", not a multi-label correction \"labels\"", fb.Task)
	}
	known := tm.Classifier.Labels
	if !tm.MultiLabel {
		if !slices.Contains(known, fb.Label) {
			return ReasonBadLabel, fmt.Errorf("label %q unknown to the %s classifier of task %q", event.Truncate(fb.Label, 64), fb.Lang, fb.Task)
		}
		return "", nil
	}
	for i, l := range fb.Labels {
		if !slices.Contains(known, l) {
			return ReasonBadLabel, fmt.Errorf("labels[%d] %q unknown to the %s classifier of task %q", i, event.Truncate(l, 64), fb.Lang, fb.Task)
		}
		if slices.Contains(fb.Labels[:i], l) {
			return ReasonBadLabel, fmt.Errorf("labels[%d] %q given twice", i, event.Truncate(l, 64))
		}
	}
	return "", nil
}

// FeedbackStats counts what the feedback loop did.
type FeedbackStats struct {
	Accepted, DeadLetters int
	Entities              int // corrections that carried entity spans
}

// RunFeedback consumes corrections from src until ctx ends: each valid one
// with a label is added to the trainer and marked done; an invalid one
// goes to dlq with its reason and is marked done once dlq acknowledged it.
// A round runs for a language when it has MinExamples new examples, or
// every interval when it has any. Entity corrections are validated and
// sent to the tagger's rounds (RunNERRound).
// Rounds run on this goroutine; fetching pauses meanwhile.
func (t *Trainer) RunFeedback(ctx context.Context, src Source, dlq Sink, interval time.Duration) (FeedbackStats, error) {
	var st FeedbackStats
	var wg sync.WaitGroup
	defer wg.Wait()
	ackCtx, stopAcks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAcks()
	var pendingMu sync.Mutex
	pending := 0
	wg.Add(1)
	go func() { // owns the DLQ acks; ends when RunFeedback returns
		defer wg.Done()
		for {
			select {
			case a, ok := <-dlq.Acks():
				if !ok {
					return
				}
				if c, ok := a.Token.(event.Record); ok && a.Err == nil {
					src.MarkDone(c.Topic, c.Partition, c.Offset)
				}
				pendingMu.Lock()
				pending--
				pendingMu.Unlock()
			case <-ackCtx.Done():
				return
			}
		}
	}()
	last := time.Now()
	for {
		fctx, cancel := context.WithTimeout(ctx, interval/4+time.Second)
		recs, err := src.Fetch(fctx, 256)
		cancel()
		if ctx.Err() != nil {
			// Wait (briefly) for the dead letters in flight.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				pendingMu.Lock()
				n := pending
				pendingMu.Unlock()
				if n == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			return st, nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			if errors.Is(err, event.ErrClosed) {
				return st, nil
			}
			t.log.Warn("fetch feedback", "err", err)
		}
		var dead []event.Item
		for _, r := range recs {
			fb, reason, err := ParseFeedback(r, t.models.Models(), t.Frozen)
			if err != nil {
				dead = append(dead, event.Item{Token: r, DeadLetter: &event.DeadLetter{
					Reason: reason, Err: err, Raw: r.Value,
					Source: r.Source(),
				}})
				continue
			}
			if fb.Label != "" || fb.HasLabels {
				t.Add(fb.Task, fb.Lang, model.LabeledText{Text: fb.Text, Label: fb.Label, Labels: fb.Labels})
			}
			if fb.Entities != nil {
				ex := model.EntityExample{Text: fb.Text}
				for _, e := range fb.Entities {
					ex.Entities = append(ex.Entities, model.EntitySpan{Start: e.Start, End: e.End, Type: e.Type})
				}
				t.AddEntities(fb.Lang, ex)
				st.Entities++
			}
			st.Accepted++
			src.MarkDone(r.Topic, r.Partition, r.Offset)
		}
		if len(dead) > 0 {
			pendingMu.Lock()
			pending += len(dead)
			pendingMu.Unlock()
			n, err := dlq.PublishBatch(ctx, dead)
			st.DeadLetters += n
			if err != nil {
				pendingMu.Lock()
				pending -= len(dead) - n
				pendingMu.Unlock()
			}
		}
		due := time.Since(last) >= interval
		snap := t.models.Models()
		for _, lang := range snap.Langs() {
			for _, task := range snap.Tasks() {
				if t.Ready(task, lang) || due && t.hasFresh(TaskKey(task, lang)) {
					if _, err := t.RunRound(ctx, task, lang); err != nil && ctx.Err() == nil {
						t.log.Warn("fine-tuning round", "task", task, "lang", lang, "err", err)
					}
				}
			}
			if t.ReadyNER(lang) || due && t.hasFreshNER(lang) {
				if _, err := t.RunNERRound(ctx, lang); err != nil && ctx.Err() == nil {
					t.log.Warn("tagger fine-tuning round", "lang", lang, "err", err)
				}
			}
		}
		if due {
			last = time.Now()
		}
	}
}

func (t *Trainer) hasFresh(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.langs[key]
	return st != nil && len(st.fresh) > 0
}

func (t *Trainer) hasFreshNER(lang string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.langs[lang]
	return st != nil && len(st.efresh) > 0
}
