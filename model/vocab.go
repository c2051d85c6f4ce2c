package model

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tagstream/tagstream/model/text"
)

// Vocab maps words to embedding rows. Row 0 is reserved for unknown tokens
// that have no sub-word features either; words take rows 1..Len()-1.
type Vocab struct {
	words []string
	index map[string]int32
}

// NewVocab returns a vocabulary over words (row i+1 for words[i]).
// Duplicates keep their first row.
func NewVocab(words []string) *Vocab {
	v := &Vocab{words: make([]string, 0, len(words)+1), index: make(map[string]int32, len(words))}
	v.words = append(v.words, "<unk>")
	for _, w := range words {
		if _, ok := v.index[w]; ok || w == "<unk>" {
			continue
		}
		v.index[w] = int32(len(v.words))
		v.words = append(v.words, w)
	}
	return v
}

// BuildVocab keeps the words seen at least minCount times, the most frequent
// first (ties by word, for a deterministic order), at most maxWords of them.
func BuildVocab(counts map[string]int, minCount, maxWords int) *Vocab {
	type wc struct {
		w string
		c int
	}
	var all []wc
	for w, c := range counts {
		if c >= minCount {
			all = append(all, wc{w, c})
		}
	}
	slices.SortFunc(all, func(a, b wc) int {
		if a.c != b.c {
			return cmp.Compare(b.c, a.c)
		}
		return cmp.Compare(a.w, b.w)
	})
	if maxWords > 0 && len(all) > maxWords {
		all = all[:maxWords]
	}
	words := make([]string, len(all))
	for i, x := range all {
		words[i] = x.w
	}
	return NewVocab(words)
}

// Len returns the number of rows including <unk>.
func (v *Vocab) Len() int { return len(v.words) }

// ID returns the row of w and whether w is known.
func (v *Vocab) ID(w string) (int32, bool) {
	id, ok := v.index[w]
	return id, ok
}

// Words returns the words in row order, without <unk>. The caller must not
// modify the slice.
func (v *Vocab) Words() []string { return v.words[1:] }

// countTokens counts the token texts of texts as tokens gives them. Token
// text lives in buf only until the next call, so map keys must own their
// bytes. Counting through pointers means a key is stored once, by the
// cloning insert: assigning m[k] for an existing string key would replace
// the stored key with k.
func countTokens(buf *text.Buffer, texts []string, tokens func(*text.Buffer, string) []text.Token) map[string]int {
	seen := map[string]*int{}
	for _, s := range texts {
		for _, tk := range tokens(buf, s) {
			if n, ok := seen[tk.Text]; ok {
				*n++
			} else {
				one := 1
				seen[strings.Clone(tk.Text)] = &one
			}
		}
	}
	counts := make(map[string]int, len(seen))
	for w, n := range seen {
		counts[w] = *n
	}
	return counts
}
