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

// LexCat is the category of a gse dictionary word, from its part-of-speech
// tag (the jieba tag set), in a lexicon mask ([LexBit]). Its values are small
// and dense (0..NumLexCat-1).
type LexCat uint8

// LexCat values.
const (
	// LexWord: any word that is not a proper noun below (n, v, a, ...).
	LexWord LexCat = iota
	// LexPerson: a person's name (nr, nrt transliterated, nrfg).
	LexPerson
	// LexPlace: a place name (ns, nsf).
	LexPlace
	// LexOrg: an organisation name (nt).
	LexOrg
	// LexProper: another proper noun (nz).
	LexProper
	// NumLexCat is the number of LexCat values.
	NumLexCat
)

// NumLexBits is the number of bits of a lexicon mask (Token.Lex):
// NumLexCat categories × 4 positions (B, M, E, S).
const NumLexBits = int(NumLexCat) * 4

var lexCatNames = [...]string{"word", "person", "place", "org", "proper"}

// String returns "word", "person", "place", "org" or "proper".
func (c LexCat) String() string {
	if int(c) < len(lexCatNames) {
		return lexCatNames[c]
	}
	return "LexCat(" + strconv.Itoa(int(c)) + ")"
}

// LexBit returns the bit of a lexicon mask ([Token.Lex]) that says "a
// dictionary word of category c covers this character at position p" (p is
// SegB, SegM or SegE in a word of two or more characters, SegS for a
// one-character word): bit 4·c + p - 1, so bits 0..3 are B, M, E, S of
// common words (LexWord), bits 4..7 those of person names, then places
// (8..11), organisations (12..15) and other proper nouns (16..19). Returns
// 0 for SegNone or out-of-range values.
//
// The mask is the lexicon feature of SoftLexicon (Ma et al. 2020, "Simplify
// the Usage of Lexicon in Chinese NER"), reduced to sets without word
// vectors: every dictionary word that the segmenter's scan finds over the
// Han run, of any length and however the run is finally segmented, sets
// the bit of its category and of each covered character's position. A
// character that is no one-character dictionary word gets no S bit (gse's
// pseudo word is not in the dictionary).
//
// The S × LexWord bit (bit 3) is kept although most characters have it
// (94% of the Han characters of weibo_ner's dev split): a character's own
// dictionary entry has one tag, so the bit is off exactly when the
// character alone is a name (S × person, e.g. the surname 杭) or is not in
// the dictionary, and that is informative: it is off for 41% of the
// characters of named person mentions against 5% of the characters outside
// entities (TestLexiconWeiboRates logs the rates). The layout is part of
// the tokenization rules: changing it changes [Version].
func LexBit(c LexCat, p SegPos) uint32 {
	if c >= NumLexCat || p == SegNone || p >= NumSegPos {
		return 0
	}
	return 1 << (4*uint(c) + uint(p) - 1)
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
	// Lex is the lexicon mask of a Han character (Chars only; see
	// [LexBit] for the layout): the positions and categories of the gse
	// dictionary words that cover it. 0 for other tokens, for Han word
	// tokens of Tokenize (read their characters' masks with
	// [Buffer.HanLex]) and with the DictChars dictionary.
	Lex uint32
	// Start is the first source rune of the token (inclusive).
	Start int
	// End is the end of the source span (exclusive).
	End int
}
