package text

import (
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/go-ego/gse"
	"golang.org/x/text/unicode/norm"
)

// Tokenizer splits mixed English/Chinese social text into [Token]s. It holds
// a gse segmenter loaded from gse's embedded dictionary (no files are read)
// and is immutable after [New]: one Tokenizer is safe for concurrent use by
// any number of goroutines, each with its own [Buffer].
type Tokenizer struct {
	opts     Options
	seg      *gse.Segmenter
	logTotal float32 // log2 of the dictionary's total frequency, as gse rounds it
}

// New returns a Tokenizer for opts, loading the gse dictionary named by
// opts.Dict from the data embedded in the binary. Loading takes about 1.4 s
// and 130 MB of heap for "zh_s" (2 s and 190 MB for "zh"), so create one
// Tokenizer at startup and share it. It returns an error wrapping
// [ErrInvalidOption] if opts does not validate.
func New(opts Options) (*Tokenizer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if opts.Dict == DictChars {
		return &Tokenizer{opts: opts}, nil
	}
	// NotLoadHMM: the HMM model lives in gse package globals and loading it
	// writes them, which would race with other Tokenizers; the shortest-path
	// Segment used here never needs it.
	seg := &gse.Segmenter{NotLoadHMM: true, SkipLog: true}
	if err := seg.LoadDictEmbed(opts.Dict); err != nil {
		return nil, fmt.Errorf("load gse dictionary %q: %w", opts.Dict, err)
	}
	if seg.Dict == nil || seg.Dict.NumTokens() == 0 {
		return nil, fmt.Errorf("load gse dictionary %q: empty dictionary", opts.Dict)
	}
	return &Tokenizer{opts: opts, seg: seg, logTotal: float32(math.Log2(seg.Dict.TotalFreq()))}, nil
}

// WithOptions returns a Tokenizer for opts that shares t's loaded
// dictionary, so tokenizers that differ only in options other than Dict cost
// no second load. opts must name the same dictionary as t (after defaults);
// otherwise, or if opts does not validate, it returns an error wrapping
// [ErrInvalidOption].
func (t *Tokenizer) WithOptions(opts Options) (*Tokenizer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if opts.Dict != t.opts.Dict {
		return nil, fmt.Errorf("%w: dictionary %q, want the tokenizer's %q", ErrInvalidOption, opts.Dict, t.opts.Dict)
	}
	return &Tokenizer{opts: opts, seg: t.seg, logTotal: t.logTotal}, nil
}

// Options returns the options of t with every default filled in, suitable
// for recording in a model file.
func (t *Tokenizer) Options() Options { return t.opts }

// Buffer is per-goroutine scratch space for [Tokenizer.Tokenize] and
// [Tokenizer.Chars]. The zero value is ready to use. A Buffer must not be
// used by two goroutines at once; reusing it between calls makes steady-state
// tokenization of non-Han text allocation free. Token slices and Token.Text
// strings returned by a call are owned by the Buffer and are valid only until
// the next call with the same Buffer.
type Buffer struct {
	runes []rune    // NFKC-normalized input
	start []int32   // source span start per normalized rune
	end   []int32   // source span end per normalized rune
	iter  norm.Iter // normalization of non-trivial segments
	arena []byte    // backing store of Token.Text strings
	toks  []Token
	// segmentation of a Han run (segment)
	hanOff   []int32
	hanJump  []hanJump
	hanWords []int32
}

// Tokenize splits s into tokens for classification: Han runs become gse
// words, hashtags are followed by their word parts (unless
// Options.NoSplitHashtags). See the package documentation for the rules.
// Invalid UTF-8 is treated as U+FFFD, one rune per bad byte. The result and
// its strings are owned by buf (see [Buffer]). Tokenize never panics.
func (t *Tokenizer) Tokenize(buf *Buffer, s string) []Token {
	return t.run(buf, s, false)
}

// Chars is the character view of s for a sequence tagger: like Tokenize, but
// every Han character is its own token with Seg set to its B/M/E/S position
// within the gse word, and hashtags are not split. Ownership is as for
// Tokenize.
func (t *Tokenizer) Chars(buf *Buffer, s string) []Token {
	return t.run(buf, s, true)
}

func (t *Tokenizer) run(buf *Buffer, s string, chars bool) []Token {
	buf.normalize(s)
	buf.arena = buf.arena[:0]
	buf.toks = buf.toks[:0]
	sc := scanner{t: t, b: buf, rs: buf.runes, chars: chars}
	sc.scan()
	return buf.toks
}

// scanner holds the state of one tokenization call. Positions are indices
// into the normalized runes rs.
type scanner struct {
	t     *Tokenizer
	b     *Buffer
	rs    []rune
	chars bool
}

func isSpace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || r >= '\t' && r <= '\r'
	}
	switch r {
	case 0x200B, 0x200C, zwj, 0x2060, 0xFEFF, vs15, vs16:
		return true // invisible joiners/selectors outside an emoji
	}
	return unicode.IsSpace(r)
}

func (sc *scanner) scan() {
	rs := sc.rs
	n := len(rs)
	for p := 0; p < n; {
		r := rs[p]
		switch {
		case isSpace(r):
			p++
			continue
		case IsHan(r):
			q := p + 1
			for q < n && IsHan(rs[q]) {
				q++
			}
			sc.han(p, q)
			p = q
			continue
		}
		if q := urlEnd(rs, p); q > p {
			sc.emit(URL, placeURL, CaseNone, SegNone, p, q)
			p = q
			continue
		}
		if q := emojiEnd(rs, p); q > p {
			sc.emoji(p, q)
			p = q
			continue
		}
		if q := matchEmoticon(rs, p); q > p {
			txt := heart
			if rs[p] != '<' || rs[p+1] != '3' {
				txt = sc.text(p, q, false)
			}
			sc.emit(Emoticon, txt, CaseNone, SegNone, p, q)
			p = q
			continue
		}
		switch {
		case r == '@' && sc.afterBoundary(p):
			if q := mentionEnd(rs, p); q > p {
				sc.emit(Mention, placeUser, CaseNone, SegNone, p, q)
				p = q
				continue
			}
		case r == '#' && sc.afterBoundary(p):
			if q := hashtagEnd(rs, p); q > p {
				sc.hashtag(p, q)
				p = q
				continue
			}
		}
		switch {
		case isDigit(r):
			p = sc.number(p)
		case isWordRune(r) || r == '_' && sc.underscoreWord(p):
			q := sc.wordEnd(p)
			if u := bareURLEnd(rs, p, q); u > q {
				sc.emit(URL, placeURL, CaseNone, SegNone, p, u)
				p = u
				continue
			}
			sc.splitWord(p, q)
			p = q
		case isApostrophe(r) && sc.t.opts.SplitClitics && sc.cliticStart(p):
			q := wordEnd(rs, p+1)
			sc.word(Word, p, q)
			p = q
		case r < 0x80 && r != 0x7F && r >= ' ' || r != replaceChr && (unicode.IsPunct(r) || unicode.IsSymbol(r)):
			p = sc.punct(p)
		default:
			sc.emit(Other, sc.text(p, p+1, false), CaseNone, SegNone, p, p+1)
			p++
		}
	}
}

// afterBoundary reports whether rs[p] is at the start of the text or after
// a rune that cannot be part of a word (so "me@example" is no mention).
func (sc *scanner) afterBoundary(p int) bool {
	return p == 0 || !isWordRune(sc.rs[p-1]) && sc.rs[p-1] != '_'
}

func isDigit(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9'
	}
	return unicode.IsDigit(r)
}

func isLetter(r rune) bool {
	if r < 0x80 {
		return r|0x20 >= 'a' && r|0x20 <= 'z'
	}
	return unicode.IsLetter(r) && !IsHan(r)
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == 0x2019 || r == 0x2018 || r == 0x02BC
}

// wordEnd returns the end of the word starting at rs[p]: letters (not Han),
// marks and digits, plus apostrophes between two letters ("don't").
func wordEnd(rs []rune, p int) int {
	q := p
	for q < len(rs) {
		r := rs[q]
		if isWordRune(r) {
			q++
			continue
		}
		if isApostrophe(r) && q > p && q+1 < len(rs) && isLetter(rs[q-1]) && isLetter(rs[q+1]) {
			q++
			continue
		}
		break
	}
	return q
}

// wordEnd returns the end of the word starting at rs[p] (see wordEnd);
// with Options.CompoundWords, underscores (between word runes, before the
// first and after the last), single hyphens between word runes and the
// periods of an abbreviation ("u.s.", "p.") belong to the word.
func (sc *scanner) wordEnd(p int) int {
	rs := sc.rs
	n := len(rs)
	q := wordEnd(rs, p)
	if !sc.t.opts.CompoundWords {
		return q
	}
	if q-p == 1 && isLetter(rs[p]) && q < n && rs[q] == '.' {
		return abbrevEnd(rs, p)
	}
	for q < n {
		switch {
		case rs[q] == '_':
			u := q
			for u < n && rs[u] == '_' {
				u++
			}
			if u == n || !isWordRune(rs[u]) {
				return u // trailing underscores ("theresaaang_")
			}
			q = wordEnd(rs, u)
		case isHyphen(rs[q]) && q > p && q+1 < n && isWordRune(rs[q+1]):
			q = wordEnd(rs, q+1)
		default:
			return q
		}
	}
	return q
}

// abbrevEnd returns the end of the abbreviation at rs[p], a letter followed
// by a period: pairs of a letter and a period ("u.s.", "e.g.", "p.").
func abbrevEnd(rs []rune, p int) int {
	q := p
	for q+1 < len(rs) && isLetter(rs[q]) && rs[q+1] == '.' && (q == p || !isWordRune(rs[q-1])) {
		q += 2
		if q < len(rs) && isWordRune(rs[q]) && (q+1 >= len(rs) || rs[q+1] != '.') {
			break // "t.o'gorman": the abbreviation is "t."
		}
	}
	return q
}

func isHyphen(r rune) bool { return r == '-' || r == 0x2010 || r == 0x2011 }

// underscoreWord reports whether rs[p], an underscore, starts a word of
// Options.CompoundWords: underscores, then a word rune.
func (sc *scanner) underscoreWord(p int) bool {
	if !sc.t.opts.CompoundWords {
		return false
	}
	rs := sc.rs
	for p < len(rs) && rs[p] == '_' {
		p++
	}
	return p < len(rs) && isWordRune(rs[p])
}

// number emits a number (or an alphanumeric word like "2nd") at rs[p] and
// returns its end.
func (sc *scanner) number(p int) int {
	rs := sc.rs
	n := len(rs)
	q := p
	for q < n && isDigit(rs[q]) {
		q++
	}
	sep := false
	compound := sc.t.opts.CompoundWords
	for q+1 < n && (rs[q] == '.' || rs[q] == ',' || rs[q] == ':' || compound && isHyphen(rs[q])) && isDigit(rs[q+1]) {
		q += 2
		for q < n && isDigit(rs[q]) {
			q++
		}
		sep = true
	}
	if !sep && q < n && (isWordRune(rs[q]) || isApostrophe(rs[q]) && q+1 < n && isLetter(rs[q+1]) ||
		compound && (rs[q] == '_' || isHyphen(rs[q]) && q+1 < n && isLetter(rs[q+1]))) {
		e := sc.wordEnd(p)
		if u := bareURLEnd(rs, p, e); u > e {
			sc.emit(URL, placeURL, CaseNone, SegNone, p, u)
			return u
		}
		sc.splitWord(p, e)
		return e
	}
	sc.emit(Number, placeNum, CaseNone, SegNone, p, q)
	return q
}

// punct emits a run of punctuation starting at rs[p] and returns its end.
// Runs of the same rune collapse to two copies ("!!!!" -> "!!"); runs of
// '.' or '。' of two or more become "..."; mixed runs of '!' and '?' become
// "?!".
func (sc *scanner) punct(p int) int {
	rs := sc.rs
	r := rs[p]
	q := p + 1
	switch r {
	case '!', '?':
		mixed := false
		for q < len(rs) && (rs[q] == '!' || rs[q] == '?') {
			mixed = mixed || rs[q] != r
			q++
		}
		if mixed {
			sc.emit(Punct, bangQuery, CaseNone, SegNone, p, q)
			return q
		}
	case '.', '。':
		for q < len(rs) && (rs[q] == '.' || rs[q] == '。') {
			q++
		}
		if q-p >= 2 {
			sc.emit(Punct, ellipsis, CaseNone, SegNone, p, q)
			return q
		}
	default:
		for q < len(rs) && rs[q] == r {
			q++
		}
	}
	end := q
	if end-p > 2 {
		end = p + 2
	}
	sc.emit(Punct, sc.text(p, end, false), CaseNone, SegNone, p, q)
	return q
}

// emoji emits the emoji sequence rs[p:q], dropping variation selectors and
// (unless KeepSkinTone) skin-tone modifiers that follow a base.
func (sc *scanner) emoji(p, q int) {
	b := sc.b
	off := len(b.arena)
	for i := p; i < q; i++ {
		r := sc.rs[i]
		if r == vs15 || r == vs16 || (i > p && isSkin(r) && !sc.t.opts.KeepSkinTone) {
			continue
		}
		b.arena = utf8.AppendRune(b.arena, r)
	}
	sc.emit(Emoji, sc.arenaString(off), CaseNone, SegNone, p, q)
}

// isClitic reports whether rs (the letters after an apostrophe) is an
// English clitic: s, re, ve, ll, d or m, in any case.
func isClitic(rs []rune) bool {
	lower := func(r rune) rune { return r | 0x20 }
	switch len(rs) {
	case 1:
		r := lower(rs[0])
		return r == 's' || r == 'd' || r == 'm'
	case 2:
		a, b := lower(rs[0]), lower(rs[1])
		return a == 'r' && b == 'e' || a == 'v' && b == 'e' || a == 'l' && b == 'l'
	}
	return false
}

// cliticStart reports whether the apostrophe rs[p] starts a stand-alone
// clitic ("Obama 's", or "'s" alone): clitic letters follow up to a word
// end, and rs[p] starts the text or follows a space or a word rune.
func (sc *scanner) cliticStart(p int) bool {
	rs := sc.rs
	if p+1 >= len(rs) || !isLetter(rs[p+1]) {
		return false
	}
	if p > 0 && !isSpace(rs[p-1]) && !isWordRune(rs[p-1]) && rs[p-1] != '_' {
		return false
	}
	q := wordEnd(rs, p+1)
	return isClitic(rs[p+1 : q])
}

// splitWord emits the word rs[p:q], split before a final clitic when
// Options.SplitClitics is set: "obama's" -> "obama" "'s", "don't" -> "do"
// "n't" (Penn Treebank). A word that is only a clitic ("n't") stays whole.
func (sc *scanner) splitWord(p, q int) {
	if sc.t.opts.SplitClitics {
		if c := cliticSplit(sc.rs[p:q]); c > 0 {
			sc.word(Word, p, p+c)
			sc.word(Word, p+c, q)
			return
		}
	}
	sc.word(Word, p, q)
}

// cliticSplit returns the index in w where a final clitic starts, or 0.
func cliticSplit(w []rune) int {
	for i := len(w) - 2; i >= 1 && i >= len(w)-3; i-- {
		if !isApostrophe(w[i]) {
			continue
		}
		if isClitic(w[i+1:]) {
			return i
		}
		// n't: the n belongs to the clitic ("do" "n't", "ca" "n't").
		if len(w)-i == 2 && w[i+1]|0x20 == 't' && w[i-1]|0x20 == 'n' && i-1 >= 1 {
			return i - 1
		}
		return 0
	}
	return 0
}

// word emits rs[p:q] as a word of the given kind.
func (sc *scanner) word(kind Kind, p, q int) {
	sc.emit(kind, sc.text(p, q, true), casing(sc.rs[p:q]), SegNone, p, q)
}

// text appends the normalized text of rs[p:q] to the arena and returns it:
// lowercased unless KeepCase; for words also with apostrophes unified to '
// and letter runs squeezed to MaxRepeat.
func (sc *scanner) text(p, q int, isWord bool) string {
	b := sc.b
	off := len(b.arena)
	lower := !sc.t.opts.KeepCase
	maxRep := sc.t.opts.MaxRepeat
	if !isWord {
		maxRep = -1
	}
	var prev rune = -1
	rep := 0
	for _, r := range sc.rs[p:q] {
		if lower {
			if r < 0x80 {
				if r >= 'A' && r <= 'Z' {
					r += 'a' - 'A'
				}
			} else {
				r = unicode.ToLower(r)
			}
		}
		if isWord && r != '\'' && isApostrophe(r) {
			r = '\''
		}
		if r == prev {
			rep++
		} else {
			prev, rep = r, 1
		}
		if maxRep > 0 && rep > maxRep && isLetter(r) {
			continue
		}
		if r < utf8.RuneSelf {
			b.arena = append(b.arena, byte(r))
		} else {
			b.arena = utf8.AppendRune(b.arena, r)
		}
	}
	return sc.arenaString(off)
}

// arenaString returns the arena bytes from off to the end as a string that
// aliases the arena. Later appends may move the arena but never rewrite
// bytes already handed out within the same call.
func (sc *scanner) arenaString(off int) string {
	a := sc.b.arena[off:]
	if len(a) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(a), len(a))
}

// emit appends a token covering normalized runes [p, q).
func (sc *scanner) emit(kind Kind, text string, c Casing, seg SegPos, p, q int) {
	sc.b.toks = append(sc.b.toks, Token{
		Text:  text,
		Kind:  kind,
		Case:  c,
		Seg:   seg,
		Start: int(sc.b.start[p]),
		End:   int(sc.b.end[q-1]),
	})
}

// casing classifies the cased letters of rs.
func casing(rs []rune) Casing {
	nUpper, nLower := 0, 0
	firstUpper, seenCased, restLower := false, false, true
	for _, r := range rs {
		var up, low bool
		if r < 0x80 {
			up, low = r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z'
		} else {
			up, low = unicode.IsUpper(r) || unicode.IsTitle(r), unicode.IsLower(r)
		}
		if !up && !low {
			continue
		}
		if !seenCased {
			seenCased, firstUpper = true, up
		} else if up {
			restLower = false
		}
		if up {
			nUpper++
		} else {
			nLower++
		}
	}
	switch {
	case !seenCased:
		return CaseNone
	case nUpper == 0:
		return CaseLower
	case nLower == 0 && nUpper >= 2:
		return CaseUpper
	case firstUpper && restLower:
		return CaseTitle
	}
	return CaseMixed
}

func isUpper(r rune) bool {
	if r < 0x80 {
		return r >= 'A' && r <= 'Z'
	}
	return unicode.IsUpper(r) || unicode.IsTitle(r)
}

func isLower(r rune) bool {
	if r < 0x80 {
		return r >= 'a' && r <= 'z'
	}
	return unicode.IsLower(r)
}
