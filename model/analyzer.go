package model

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/tagstream/tagstream/model/text"
)

// Analyzer runs any number of sentence classifiers (tasks: say a
// sentiment and a multi-label emotion classifier) and a named-entity
// tagger over a batch of texts in one call, tokenizing each text once per
// distinct tokenizer setting: models with the same settings (the built-in
// models of a language all have them) build their embedding bags from the
// same tokens, and the tagger's character view is derived from its
// tokenizer's. It is immutable and safe for concurrent use; each goroutine
// brings its own AnalyzerWorkspace.
type Analyzer struct {
	cls []*CompiledClassifier
	ner *CompiledTagger
	// toks are the distinct tokenizers, the primary one (the tagger's, or
	// classifier 0's without a tagger) first; group[k] is classifier k's.
	toks  []*text.Tokenizer
	group []int
}

// NewAnalyzer returns an Analyzer of one classifier and one tagger (either
// may be nil, not both): NewTaskAnalyzer with cls as the only classifier,
// or none when cls is nil.
func NewAnalyzer(cls *CompiledClassifier, ner *CompiledTagger) (*Analyzer, error) {
	if cls == nil {
		return NewTaskAnalyzer(nil, ner)
	}
	return NewTaskAnalyzer([]*CompiledClassifier{cls}, ner)
}

// NewTaskAnalyzer returns an Analyzer of the classifiers, in that order
// (the task index of ClassProbs and ClassBest), and the tagger ner (nil
// for none). Without a tagger there must be at least one classifier. Each
// text is tokenized once per distinct tokenizer setting among the models.
// It returns an error wrapping ErrConfig when there is no model or a
// classifier is nil (naming its index). The Analyzer keeps its own copy of
// the slice.
func NewTaskAnalyzer(classifiers []*CompiledClassifier, ner *CompiledTagger) (*Analyzer, error) {
	if len(classifiers) == 0 && ner == nil {
		return nil, fmt.Errorf("%w: analyzer needs a classifier or a tagger", ErrConfig)
	}
	for i, c := range classifiers {
		if c == nil {
			return nil, fmt.Errorf("%w: analyzer classifier %d is nil", ErrConfig, i)
		}
	}
	a := &Analyzer{cls: slices.Clone(classifiers), ner: ner, group: make([]int, len(classifiers))}
	if ner != nil {
		a.toks = append(a.toks, ner.tg.Tokenizer)
	}
	for k, c := range a.cls {
		g := slices.IndexFunc(a.toks, func(t *text.Tokenizer) bool { return t.Options() == c.tok.Options() })
		if g < 0 {
			g = len(a.toks)
			a.toks = append(a.toks, c.tok)
		}
		a.group[k] = g
	}
	return a, nil
}

// Classifier returns the first classifier (nil if none).
func (a *Analyzer) Classifier() *CompiledClassifier {
	if len(a.cls) == 0 {
		return nil
	}
	return a.cls[0]
}

// Classifiers returns the classifiers in task order (empty if none). The
// slice is the Analyzer's own: read it, never modify it.
func (a *Analyzer) Classifiers() []*CompiledClassifier { return a.cls }

// Tagger returns the tagger (nil if none).
func (a *Analyzer) Tagger() *CompiledTagger { return a.ner }

// AnalyzerWorkspace is one worker's scratch memory for Analyze. After it has
// grown to the largest batch, Analyze allocates nothing. Not safe for
// concurrent use.
type AnalyzerWorkspace struct {
	// MaxTokens, when positive, cuts every text to its first MaxTokens
	// tokens (of the tokenizer's word view) before any model sees it;
	// each model also keeps at most its own max_tokens. 0: the models'
	// limits only.
	MaxTokens int

	truncated []bool
	bufs      []text.Buffer // one per tokenizer of the Analyzer
	chars     []text.Token
	tasks     []taskResult // one per classifier of the last Analyze
	scratch   clsScratch   // shared by the classifiers, run one at a time
	ner       TaggerWorkspace
}

// taskResult is one classifier's part of an AnalyzerWorkspace.
type taskResult struct {
	bags  clsBags
	nc    int // labels
	probs []float32
	best  []int
}

// NewWorkspace returns an empty workspace.
func (a *Analyzer) NewWorkspace() *AnalyzerWorkspace {
	return &AnalyzerWorkspace{tasks: make([]taskResult, len(a.cls))}
}

// Analyze classifies and tags texts. Results are read with ClassProbs,
// ClassBest, Label, Probs and Entities on ws, valid until the next call
// with ws. ws may have served another Analyzer before.
func (a *Analyzer) Analyze(ws *AnalyzerWorkspace, texts []string) {
	if cap(ws.tasks) < len(a.cls) {
		grown := make([]taskResult, len(a.cls))
		copy(grown, ws.tasks[:cap(ws.tasks)])
		ws.tasks = grown
	}
	ws.tasks = ws.tasks[:len(a.cls)]
	for k := range ws.tasks {
		ws.tasks[k].bags.reset()
	}
	ws.ner.reset()
	ws.truncated = ws.truncated[:0]
	if len(ws.bufs) < len(a.toks) {
		ws.bufs = append(ws.bufs, make([]text.Buffer, len(a.toks)-len(ws.bufs))...)
	}
	for _, s := range texts {
		cut := false
		for g, tok := range a.toks {
			toks := tok.Tokenize(&ws.bufs[g], s)
			if ws.MaxTokens > 0 && len(toks) > ws.MaxTokens {
				toks, cut = toks[:ws.MaxTokens], true
			}
			for k, c := range a.cls {
				if a.group[k] == g {
					cut = cut || len(toks) > c.cfg.MaxTokens
					c.addText(&ws.tasks[k].bags, toks)
				}
			}
			if g == 0 && a.ner != nil {
				ws.chars = CharView(ws.chars[:0], toks, &ws.bufs[0])
				cut = cut || len(ws.chars) > a.ner.tg.Config.MaxTokens
				a.ner.addText(&ws.ner, s, ws.chars)
			}
		}
		ws.truncated = append(ws.truncated, cut)
	}
	for k, c := range a.cls {
		r := &ws.tasks[k]
		r.nc = len(c.labels)
		r.probs = growF32(r.probs, len(texts)*r.nc)
		if cap(r.best) < len(texts) {
			r.best = make([]int, len(texts))
		}
		r.best = r.best[:len(texts)]
		c.run(&r.bags, &ws.scratch, r.probs, r.best)
	}
	if a.ner != nil {
		a.ner.run(&ws.ner, texts)
	}
}

func growF32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Truncated reports whether a model saw only a head of text i: it had more
// tokens than MaxTokens or than some model's own limit.
func (ws *AnalyzerWorkspace) Truncated(i int) bool { return ws.truncated[i] }

// Tasks returns the number of classifiers of the last Analyze.
func (ws *AnalyzerWorkspace) Tasks() int { return len(ws.tasks) }

// ClassProbs returns classifier t's probabilities for text i in label
// order: a sigmoid per label for a multi-label classifier (independent;
// CompiledClassifier.LabelsOver applies its thresholds), a softmax over
// the labels otherwise. The slice belongs to ws. It panics if t or i is
// out of range.
func (ws *AnalyzerWorkspace) ClassProbs(t, i int) []float32 {
	r := &ws.tasks[t]
	return r.probs[i*r.nc : (i+1)*r.nc]
}

// ClassBest returns the index of classifier t's most probable label for
// text i (for a multi-label classifier the most probable, whether or not
// it reaches its threshold). It panics if t or i is out of range.
func (ws *AnalyzerWorkspace) ClassBest(t, i int) int { return ws.tasks[t].best[i] }

// Label returns the index of text i's most probable label under classifier
// 0 (-1 without a classifier): ClassBest(0, i).
func (ws *AnalyzerWorkspace) Label(i int) int {
	if len(ws.tasks) == 0 {
		return -1
	}
	return ws.ClassBest(0, i)
}

// Probs returns text i's class probabilities under classifier 0 in label
// order (nil without a classifier): ClassProbs(0, i). The slice belongs to
// ws.
func (ws *AnalyzerWorkspace) Probs(i int) []float32 {
	if len(ws.tasks) == 0 {
		return nil
	}
	return ws.ClassProbs(0, i)
}

// Entities returns text i's entities (nil without a tagger). The slice and
// the entity texts (substrings of the input) belong to ws.
func (ws *AnalyzerWorkspace) Entities(i int) []Entity {
	if len(ws.ner.entStart) <= i+1 {
		return nil
	}
	return ws.ner.Entities(i)
}

// CharView appends to dst the tokenizer's character view derived from its
// word view toks (Tokenizer.Tokenize): each Han word becomes one token per
// character with its position in the word (B/M/E/S) and its lexicon mask
// (Token.Lex, read from buf), and the extra word tokens split from a
// #hashtag are dropped; other tokens are kept. buf must be the Buffer of the
// Tokenize call that returned toks (toks may be a prefix of its result), or
// nil to leave every Lex 0. The result equals Tokenizer.Chars on the same
// text (a test checks it) without tokenizing again. Token texts share toks'
// memory.
func CharView(dst []text.Token, toks []text.Token, buf *text.Buffer) []text.Token {
	hashEnd := -1
	han := 0 // Han characters so far: the index of the next one's mask in buf
	for _, tk := range toks {
		if tk.Kind == text.Hashtag {
			hashEnd = tk.End
		} else if tk.End <= hashEnd && tk.Kind != text.Hashtag && tk.Start < hashEnd {
			continue // a word split out of the preceding hashtag
		}
		if tk.Kind != text.Han {
			dst = append(dst, tk)
			continue
		}
		n := utf8.RuneCountInString(tk.Text)
		exact := n == tk.End-tk.Start
		pos := 0
		for i := 0; i < n; i++ {
			_, size := utf8.DecodeRuneInString(tk.Text[pos:])
			c := tk
			c.Text = tk.Text[pos : pos+size]
			pos += size
			switch {
			case n == 1:
				c.Seg = text.SegS
			case i == 0:
				c.Seg = text.SegB
			case i == n-1:
				c.Seg = text.SegE
			default:
				c.Seg = text.SegM
			}
			if exact {
				c.Start, c.End = tk.Start+i, tk.Start+i+1
			}
			if buf != nil {
				c.Lex = buf.HanLex(han)
			}
			han++
			dst = append(dst, c)
		}
	}
	return dst
}
