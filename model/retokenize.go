package model

import (
	"strings"
	"unicode/utf8"

	"github.com/tagstream/tagstream/model/text"
)

// retokenize returns s cut into the tokens the tagger's tokenizer gives
// its joined text (tokens joined with sep, tokenSep of the language), which are the tokens predict tags: a run of Latin letters in
// Chinese text ("LewisCarroll", one gold token per letter) becomes one
// token, a gold token the tokenizer cuts ("#SlideShare,") several. Each
// token takes the gold tag of the gold token holding its first rune; a
// token that starts inside a gold token of an entity continues it (I-),
// unless it is punctuation, an emoji or a clitic ("'s" of "Obama's"),
// which the entity does not take.
// Tags are then made valid BIO (an I-X that follows no X starts one). Set
// and Map are kept; a sentence the tokenizer leaves no token of is
// returned with no tokens.
func retokenize(tok *text.Tokenizer, buf *text.Buffer, s TaggedSentence, sep string) TaggedSentence {
	if len(s.Tags) != len(s.Tokens) {
		return s // malformed: refused later with its index
	}
	var joined strings.Builder
	// goldAt[r]: the gold token holding rune r of joined, -1 for a separator.
	goldAt := make([]int32, 0, len(s.Tokens)*4)
	starts := make([]int32, len(s.Tokens))
	for k, t := range s.Tokens {
		if k > 0 {
			joined.WriteString(sep)
			for range utf8.RuneCountInString(sep) {
				goldAt = append(goldAt, -1)
			}
		}
		starts[k] = int32(len(goldAt))
		joined.WriteString(t)
		for range utf8.RuneCountInString(t) {
			goldAt = append(goldAt, int32(k))
		}
	}
	js := joined.String()
	runes := []rune(js)
	out := TaggedSentence{Set: s.Set, Map: s.Map}
	// dropped[i]: token i starts inside gold token inside[i] of an entity
	// and was left out of it (punctuation, clitic); it rejoins the entity
	// when a later piece of the same gold token continues it.
	var dropped []bool
	var inside []int32
	for _, tk := range tok.Chars(buf, js) {
		if tk.Start >= len(goldAt) || goldAt[tk.Start] < 0 {
			continue
		}
		k := goldAt[tk.Start]
		tag := s.Tags[k]
		drop, in := false, int32(-1)
		if int32(tk.Start) != starts[k] && len(tag) > 2 && tag[1] == '-' {
			tag, in = "I-"+tag[2:], k
			switch tk.Kind {
			case text.Word, text.Han, text.Number, text.Hashtag, text.Mention, text.URL, text.Other:
				drop = strings.HasPrefix(tk.Text, "'") // a clitic: "Obama" of "Obama's"
			default: // punctuation, emoji: "#SlideShare" of "#SlideShare,"
				drop = true
			}
			if drop {
				tag = "O"
			}
		}
		out.Tokens = append(out.Tokens, string(runes[tk.Start:tk.End]))
		out.Tags = append(out.Tags, tag)
		dropped, inside = append(dropped, drop), append(inside, in)
	}
	for i := len(out.Tags) - 2; i >= 0; i-- {
		if dropped[i] && inside[i+1] == inside[i] && strings.HasPrefix(out.Tags[i+1], "I-") {
			out.Tags[i] = out.Tags[i+1]
		}
	}
	for i, t := range out.Tags {
		if strings.HasPrefix(t, "I-") && (i == 0 || len(out.Tags[i-1]) < 2 || out.Tags[i-1][2:] != t[2:]) {
			out.Tags[i] = "B-" + t[2:]
		}
	}
	return out
}

// retokenizeAll applies retokenize to every sentence of data, dropping
// those left without tokens.
func retokenizeAll(tok *text.Tokenizer, data []TaggedSentence, lang string) []TaggedSentence {
	sep := tokenSep(lang)
	var buf text.Buffer
	out := make([]TaggedSentence, 0, len(data))
	for _, s := range data {
		if r := retokenize(tok, &buf, s, sep); len(r.Tokens) > 0 {
			out = append(out, r)
		}
	}
	return out
}
