package model

import (
	"fmt"
	"unicode/utf8"

	"github.com/tagstream/tagstream/model/text"
)

// Analyzer runs a sentence classifier and a named-entity tagger (either may
// be nil, not both) over a batch of texts in one call, tokenizing each text
// once: the tagger's character view is derived from the classifier's
// tokens. It is immutable and safe for concurrent use; each goroutine brings
// its own AnalyzerWorkspace.
type Analyzer struct {
	cls *CompiledClassifier
	ner *CompiledTagger
	tok *text.Tokenizer
}

// NewAnalyzer returns an Analyzer. Both models must use the same tokenizer
// settings.
func NewAnalyzer(cls *CompiledClassifier, ner *CompiledTagger) (*Analyzer, error) {
	switch {
	case cls == nil && ner == nil:
		return nil, fmt.Errorf("%w: analyzer needs a classifier or a tagger", ErrConfig)
	case cls != nil && ner != nil && cls.tok.Options() != ner.tg.Tokenizer.Options():
		return nil, fmt.Errorf("%w: classifier and tagger use different tokenizer settings (%+v, %+v)", ErrConfig, cls.tok.Options(), ner.tg.Tokenizer.Options())
	}
	a := &Analyzer{cls: cls, ner: ner}
	if cls != nil {
		a.tok = cls.tok
	} else {
		a.tok = ner.tg.Tokenizer
	}
	return a, nil
}

// Classifier returns the classifier (nil if none).
func (a *Analyzer) Classifier() *CompiledClassifier { return a.cls }

// Tagger returns the tagger (nil if none).
func (a *Analyzer) Tagger() *CompiledTagger { return a.ner }

// AnalyzerWorkspace is one worker's scratch memory for Analyze. After it has
// grown to the largest batch, Analyze allocates nothing. Not safe for
// concurrent use.
type AnalyzerWorkspace struct {
	// MaxTokens, when positive, cuts every text to its first MaxTokens
	// tokens (of the tokenizer's word view) before either model sees it;
	// each model also keeps at most its own max_tokens. 0: the models'
	// limits only.
	MaxTokens int

	truncated []bool
	buf       text.Buffer
	chars     []text.Token
	cls       ClassifierWorkspace
	ner       TaggerWorkspace
	probs     []float32
	best      []int
}

// NewWorkspace returns an empty workspace.
func (a *Analyzer) NewWorkspace() *AnalyzerWorkspace { return &AnalyzerWorkspace{} }

// Analyze classifies and tags texts. Results are read with Label, Probs and
// Entities on ws, valid until the next call with ws.
func (a *Analyzer) Analyze(ws *AnalyzerWorkspace, texts []string) {
	ws.cls.reset()
	ws.ner.reset()
	ws.truncated = ws.truncated[:0]
	for _, s := range texts {
		toks := a.tok.Tokenize(&ws.buf, s)
		cut := false
		if ws.MaxTokens > 0 && len(toks) > ws.MaxTokens {
			toks, cut = toks[:ws.MaxTokens], true
		}
		if a.cls != nil {
			cut = cut || len(toks) > a.cls.cfg.MaxTokens
			a.cls.addText(&ws.cls, toks)
		}
		if a.ner != nil {
			ws.chars = CharView(ws.chars[:0], toks, &ws.buf)
			cut = cut || len(ws.chars) > a.ner.tg.Config.MaxTokens
			a.ner.addText(&ws.ner, s, ws.chars)
		}
		ws.truncated = append(ws.truncated, cut)
	}
	if a.cls != nil {
		nc := len(a.cls.labels)
		ws.probs = growF32(ws.probs, len(texts)*nc)
		if cap(ws.best) < len(texts) {
			ws.best = make([]int, len(texts))
		}
		ws.best = ws.best[:len(texts)]
		a.cls.run(&ws.cls, ws.probs, ws.best)
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
// tokens than MaxTokens or than a model's own limit.
func (ws *AnalyzerWorkspace) Truncated(i int) bool { return ws.truncated[i] }

// Label returns the index of text i's most probable label (-1 without a
// classifier).
func (ws *AnalyzerWorkspace) Label(i int) int {
	if len(ws.best) == 0 {
		return -1
	}
	return ws.best[i]
}

// Probs returns text i's class probabilities in label order (nil without a
// classifier). The slice belongs to ws.
func (ws *AnalyzerWorkspace) Probs(i int) []float32 {
	if len(ws.best) == 0 {
		return nil
	}
	nc := len(ws.probs) / len(ws.best)
	return ws.probs[i*nc : (i+1)*nc]
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
