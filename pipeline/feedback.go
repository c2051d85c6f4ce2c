package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
)

// Feedback dead-letter reasons, beside the consumer's decode reasons.
const (
	ReasonNoCorrection = "no_correction" // neither label nor entities
	ReasonBadLabel     = "bad_label"     // label unknown to the model of the language
	ReasonBadEntities  = "bad_entities"  // entity spans the language's tagger cannot learn: outside the text, overlapping, an unknown type, no whole token, or no tagger
)

// Feedback is one decoded correction from the feedback topic.
type Feedback struct {
	ID       string
	Text     string
	Lang     string // "en" or "zh"; detected from the text when absent
	Label    string // corrected class label, or ""
	Entities []FeedbackEntity
}

// FeedbackEntity is a corrected entity span in rune offsets, End exclusive.
type FeedbackEntity struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Type  string `json:"type"`
}

// ParseFeedback decodes a feedback record: JSON {"id"?, "text", "label"?,
// "entities"?: [{"start","end","type"}], "lang"?}. The record's Event (the
// consumer's decoding of id, text and lang) must be valid. It returns a
// reason and an error for feedback to dead-letter.
func ParseFeedback(r event.Record, s *Snapshot) (Feedback, string, error) {
	if r.Err != nil {
		return Feedback{}, string(r.Err.Reason), r.Err
	}
	var extra struct {
		Label    *string          `json:"label"`
		Entities []FeedbackEntity `json:"entities"`
	}
	if err := json.Unmarshal(r.Value, &extra); err != nil {
		return Feedback{}, string(event.ReasonWrongType), fmt.Errorf("feedback %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	fb := Feedback{ID: r.Event.ID, Text: r.Event.Text, Lang: r.Event.Lang, Entities: extra.Entities}
	if fb.Lang == "" {
		fb.Lang = text.DetectLang(fb.Text)
	}
	if extra.Label != nil {
		fb.Label = *extra.Label
	}
	if fb.Label == "" && fb.Entities == nil { // "entities": [] is a correction: no entity in this text
		return fb, ReasonNoCorrection, fmt.Errorf("feedback %s[%d]@%d: neither label nor entities", r.Topic, r.Partition, r.Offset)
	}
	if fb.Label != "" {
		_, lm := s.For(fb.Lang)
		ok := false
		if lm.Analyzer != nil && lm.Analyzer.Classifier() != nil {
			for _, l := range lm.Analyzer.Classifier().Labels() {
				ok = ok || l == fb.Label
			}
		}
		if !ok {
			return fb, ReasonBadLabel, fmt.Errorf("feedback %s[%d]@%d: label %q unknown to the %s classifier", r.Topic, r.Partition, r.Offset, fb.Label, fb.Lang)
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
			fb, reason, err := ParseFeedback(r, t.models.Models())
			if err != nil {
				dead = append(dead, event.Item{Token: r, DeadLetter: &event.DeadLetter{
					Reason: reason, Err: err, Raw: r.Value,
					Source: r.Source(),
				}})
				continue
			}
			if fb.Label != "" {
				t.Add(fb.Lang, model.LabeledText{Text: fb.Text, Label: fb.Label})
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
		for _, lang := range t.models.Models().Langs() {
			if t.Ready(lang) || due && t.hasFresh(lang) {
				if _, err := t.RunRound(ctx, lang); err != nil && ctx.Err() == nil {
					t.log.Warn("fine-tuning round", "lang", lang, "err", err)
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

func (t *Trainer) hasFresh(lang string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.langs[lang]
	return st != nil && len(st.fresh) > 0
}

func (t *Trainer) hasFreshNER(lang string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.langs[lang]
	return st != nil && len(st.efresh) > 0
}
