package text

import "strconv"

// Kind is the category of a [Token]. Its values are small and dense
// (0..NumKind-1) so a model can embed them.
type Kind uint8

// Token kinds.
const (
	// Word is a run of non-Han letters, marks and digits, possibly with
	// internal apostrophes ("don't"), e.g. Latin, Cyrillic, kana, Hangul.
	Word Kind = iota
	// Han is a Chinese word found by gse ([Tokenizer.Tokenize]) or a single
	// Han character ([Tokenizer.Chars]).
	Han
	// Number is a run of digits with optional internal separators
	// ("1,000.5", "10:30"); its Text is "<num>".
	Number
	// URL is a web address; its Text is "<url>".
	URL
	// Mention is an @user reference; its Text is "<user>".
	Mention
	// Hashtag is a #tag; its Text is "#" followed by the (lowercased) body.
	Hashtag
	// Emoji is one emoji or emoji sequence (ZWJ, flag, keycap, modifiers).
	Emoji
	// Emoticon is an ASCII emoticon such as ":)", ":-(", "<3" or "^_^".
	Emoticon
	// Punct is a punctuation or symbol character, or a collapsed run of
	// them ("!!", "...").
	Punct
	// Other is any other single rune (control characters, U+FFFD, ...).
	Other
	// NumKind is the number of Kind values.
	NumKind
)

var kindNames = [...]string{"Word", "Han", "Number", "URL", "Mention", "Hashtag", "Emoji", "Emoticon", "Punct", "Other"}

// String returns the name of k.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Casing is the letter-case shape of a token in the original (NFKC
// normalized, not lowercased) text, kept as a feature for taggers. Its values
// are small and dense (0..NumCasing-1) so a model can embed them.
type Casing uint8

// Casing values.
const (
	// CaseNone: the token has no cased letters (numbers, Han, emoji,
	// punctuation, placeholders).
	CaseNone Casing = iota
	// CaseLower: all cased letters are lowercase ("hello").
	CaseLower
	// CaseUpper: at least two cased letters, all uppercase ("NASA").
	CaseUpper
	// CaseTitle: the first cased letter is uppercase and the rest are
	// lowercase ("Hello", "I").
	CaseTitle
	// CaseMixed: any other mix ("iPhone", "McDonald").
	CaseMixed
	// NumCasing is the number of Casing values.
	NumCasing
)

var casingNames = [...]string{"none", "lower", "UPPER", "Title", "mIxed"}

// String returns a short name for c.
func (c Casing) String() string {
	if int(c) < len(casingNames) {
		return casingNames[c]
	}
	return "Casing(" + strconv.Itoa(int(c)) + ")"
}

// SegPos is the position of a Han character inside its gse word, reported
// by [Tokenizer.Chars] for the NER tagger (BMES scheme). Its values are small
// and dense (0..NumSegPos-1).
type SegPos uint8

// SegPos values.
const (
	// SegNone: not a Han character (or not produced by Chars).
	SegNone SegPos = iota
	// SegB: first character of a multi-character word.
	SegB
	// SegM: inner character of a word of three or more characters.
	SegM
	// SegE: last character of a multi-character word.
	SegE
	// SegS: single-character word.
	SegS
	// NumSegPos is the number of SegPos values.
	NumSegPos
)

var segNames = [...]string{"-", "B", "M", "E", "S"}

// String returns "B", "M", "E", "S" or "-".
func (p SegPos) String() string {
	if int(p) < len(segNames) {
		return segNames[p]
	}
	return "SegPos(" + strconv.Itoa(int(p)) + ")"
}

// Token is one token of the input.
//
// Start and End are RUNE offsets into the original, un-normalized input:
// []rune(s)[Start:End] is the source span of the token, where invalid UTF-8
// bytes count as one rune each (as in the []rune conversion). When NFKC
// expands one source rune into several (e.g. "⑴" -> "(1)"), every token made
// from those runes carries the span of the whole source rune, so spans of
// consecutive tokens may coincide but Start never decreases.
//
// Text may point into memory owned by the [Buffer] that produced the token;
// it is valid only until the next call with that Buffer. Use strings.Clone to
// keep it longer.
type Token struct {
	// Text is the normalized token text (see [Kind] for placeholders).
	Text string
	// Kind is the token category.
	Kind Kind
	// Case is the casing shape of the token before lowercasing.
	Case Casing
	// Seg is the BMES position of a Han character within its word (Chars
	// only); SegNone otherwise.
	Seg SegPos
	// Start is the first source rune of the token (inclusive).
	Start int
	// End is the end of the source span (exclusive).
	End int
}
