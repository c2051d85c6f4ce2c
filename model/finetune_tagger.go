package model

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/tagstream/tagstream/model/text"
)

// EntitySpan is an entity in rune offsets of its text (End exclusive), with
// a unified type (PER, LOC, ORG, MISC) as results report it.
type EntitySpan struct {
	Start, End int
	Type       string
}

// EntityExample is a text with its corrected entities (all of them: a text
// with no span says it has no entity).
type EntityExample struct {
	Text     string
	Entities []EntitySpan
}

// rawType returns the tagger's own type for a unified type: the type whose
// mapped base equals it, preferring a named (.NAM) or unmarked one.
func (tg *Tagger) rawType(unified string) (string, bool) {
	best, found := "", false
	for _, t := range tg.Tags {
		if len(t) < 3 || t[0] != 'B' || t[1] != '-' {
			continue
		}
		raw := t[2:]
		base, nominal, _ := splitType(raw)
		if m, ok := tg.TypeMap[base]; ok {
			base = m
		}
		if base != unified {
			continue
		}
		if !nominal {
			return raw, true
		}
		if !found {
			best, found = raw, true
		}
	}
	return best, found
}

// encodeEntities encodes ex with the tagger's inference tokenization and
// BIO tags from its spans: a token inside a span gets B- (the first) or I-.
func (tg *Tagger) encodeEntities(ex EntityExample, buf *text.Buffer, runes []rune, tagIdx map[string]int32) (taggedEncoded, []rune, error) {
	var e taggedEncoded
	toks := tg.Tokenizer.Chars(buf, ex.Text)
	if len(toks) == 0 {
		return e, runes, fmt.Errorf("no tokens")
	}
	var spans []tokSpan
	e.f.reset()
	runes = tg.encodeTokens(&e.f, runes, ex.Text, toks, &spans)
	n := e.len()
	e.tags = make([]int32, n)
	o := tagIdx["O"]
	for j := range e.tags {
		e.tags[j] = o
	}
	for _, s := range ex.Entities {
		raw, ok := tg.rawType(s.Type)
		if !ok {
			return e, runes, fmt.Errorf("entity type %q unknown to the tagger (tags %v)", s.Type, tg.Tags)
		}
		first := true
		for j := 0; j < n; j++ {
			sp := spans[j]
			if int(sp.start) >= s.Start && int(sp.end) <= s.End {
				tag := "I-" + raw
				if first {
					tag, first = "B-"+raw, false
				}
				e.tags[j] = tagIdx[tag]
			}
		}
		if first {
			return e, runes, fmt.Errorf("entity [%d,%d) covers no whole token", s.Start, s.End)
		}
	}
	if err := tg.mask.CheckPath(len(tg.Tags), e.tags); err != nil {
		return e, runes, err
	}
	return e, runes, nil
}

// CheckEntities reports whether ex can train tg: every span has a unified
// type the tagger has, covers at least one whole token of the inference
// tokenization, and overlaps no other span, and the resulting tags form a
// valid BIO path. It is what FineTuneTagger requires of each example, so
// feedback checked here never makes a round fail.
func (tg *Tagger) CheckEntities(ex EntityExample) error {
	spans := slices.Clone(ex.Entities)
	slices.SortFunc(spans, func(a, b EntitySpan) int { return cmp.Compare(a.Start, b.Start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].Start < spans[i-1].End {
			return fmt.Errorf("entities [%d,%d) and [%d,%d) overlap", spans[i-1].Start, spans[i-1].End, spans[i].Start, spans[i].End)
		}
	}
	tagIdx := make(map[string]int32, len(tg.Tags))
	for i, t := range tg.Tags {
		tagIdx[t] = int32(i)
	}
	var buf text.Buffer
	_, _, err := tg.encodeEntities(ex, &buf, nil, tagIdx)
	return err
}

// FineTuneTagger is FineTuneClassifier for the NER tagger: a copy of base
// trained on corrected entities (encoded with the tokenization used at
// inference) mixed with replay sentences, pulled toward base's weights;
// base is never written. An example whose spans do not fit the tokens or
// whose types the tagger lacks is an error.
func FineTuneTagger(ctx context.Context, base *Tagger, feedback []EntityExample, replay []TaggedSentence, cfg FineTuneConfig) (*Tagger, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(feedback) == 0 {
		return nil, fmt.Errorf("%w: no entity feedback", ErrData)
	}
	tagIdx := make(map[string]int32, len(base.Tags))
	for i, t := range base.Tags {
		tagIdx[t] = int32(i)
	}
	var buf text.Buffer
	var runes []rune
	data := make([]taggedEncoded, 0, len(feedback)+len(replay))
	for i, ex := range feedback {
		e, r, err := base.encodeEntities(ex, &buf, runes, tagIdx)
		runes = r
		if err != nil {
			return nil, fmt.Errorf("%w: entity feedback %d: %v", ErrData, i+1, err)
		}
		data = append(data, e)
	}
	nfb := len(data)
	for i, s := range replay {
		var e taggedEncoded
		e.f.reset()
		base.encodeGold(&e.f, &buf, s.Tokens)
		n := e.len()
		e.tags = make([]int32, n)
		for j, t := range s.Tags[:n] {
			id, ok := tagIdx[t]
			if !ok {
				return nil, fmt.Errorf("%w: replay sentence %d has tag %q", ErrData, i+1, t)
			}
			e.tags[j] = id
		}
		data = append(data, e)
	}
	cand := base.clone()
	settings := Settings{
		Epochs: 1, Batch: cfg.Batch, LR: cfg.LR, LRDecay: 1, Clip: cfg.Clip, Dropout: cfg.Dropout,
		WordDropout: cfg.WordDropout, EMA: -1, Seed: cfg.Seed, Patience: 1, Workers: cfg.Workers,
	}
	tr := newTagTrainer(cand, TaggerTrainConfig{Model: cand.Config, Settings: settings, Lang: cand.Lang})
	if err := fineTuneLoop(ctx, cfg, nfb, len(data)-nfb, tr.master, base.net.params(), func(idx []int) float64 { return tr.step(data, idx) }); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := cand.Save(&b); err != nil {
		return nil, err
	}
	return LoadTagger(bytes.NewReader(b.Bytes()), "fine-tuned tagger candidate", NewTokenizerCache(base.Tokenizer))
}

// GuardTagger is Guard for taggers: a held-out example counts as right when
// the tagger finds exactly its entities (type, start, end); the candidate
// must win significantly (McNemar, p < 0.01) on holdout.
func GuardTagger(cur, cand *CompiledTagger, holdout []EntityExample) GuardDecision {
	var d GuardDecision
	right := func(m *CompiledTagger) []bool {
		ws := m.NewWorkspace()
		out := make([]bool, len(holdout))
		for i := 0; i < len(holdout); i += 32 {
			j := min(i+32, len(holdout))
			texts := make([]string, j-i)
			for k := range texts {
				texts[k] = holdout[i+k].Text
			}
			m.TagBatch(ws, texts)
			for k := range texts {
				out[i+k] = sameEntities(ws.Entities(k), holdout[i+k].Entities)
			}
		}
		return out
	}
	rc, rn := right(cur), right(cand)
	for i := range rc {
		switch {
		case rn[i] && !rc[i]:
			d.Wins++
		case rc[i] && !rn[i]:
			d.Losses++
		}
		if rc[i] {
			d.CurrentHoldout++
		}
		if rn[i] {
			d.CandidateHoldout++
		}
	}
	if n := float64(len(holdout)); n > 0 {
		d.CurrentHoldout /= n
		d.CandidateHoldout /= n
	}
	d.Chi2 = mcNemar(d.Wins, d.Losses)
	switch {
	case len(holdout) == 0:
		d.Reason = "no held-out entity feedback"
	case d.Wins <= d.Losses:
		d.Reason = fmt.Sprintf("not better on held-out entity feedback (%.3f -> %.3f exact)", d.CurrentHoldout, d.CandidateHoldout)
	case d.Chi2 < mcNemarCritical:
		d.Reason = fmt.Sprintf("gain on held-out entity feedback not significant (%d wins, %d losses, chi2 %.2f < %.2f)", d.Wins, d.Losses, d.Chi2, mcNemarCritical)
	default:
		d.Promote = true
		d.Reason = fmt.Sprintf("held-out exact match %.3f -> %.3f (chi2 %.1f)", d.CurrentHoldout, d.CandidateHoldout, d.Chi2)
	}
	return d
}

func sameEntities(got []Entity, want []EntitySpan) bool {
	if len(got) != len(want) {
		return false
	}
	w := append([]EntitySpan(nil), want...)
	sort.Slice(w, func(i, j int) bool { return w[i].Start < w[j].Start })
	for i, e := range got {
		if e.Start != w[i].Start || e.End != w[i].End || e.Type != w[i].Type {
			return false
		}
	}
	return true
}
