package text

// URL, mention and hashtag recognition.

// maxHostLen is the longest DNS name (RFC 1035), in runes.
const maxHostLen = 253

// hasPrefixFold reports whether rs[p:] starts with the lowercase ASCII
// string pre, ignoring ASCII case.
func hasPrefixFold(rs []rune, p int, pre string) bool {
	if len(rs)-p < len(pre) {
		return false
	}
	for i := 0; i < len(pre); i++ {
		r := rs[p+i]
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if r != rune(pre[i]) {
			return false
		}
	}
	return true
}

// isURLRune reports runes that may appear in a URL as written in social
// text: printable ASCII except space, quotes and angle brackets. Non-ASCII
// ends a URL ("看这个https://t.co/x很好").
func isURLRune(r rune) bool {
	return r > ' ' && r < 0x7F && r != '"' && r != '<' && r != '>' && r != '`'
}

// urlEnd returns the end of an http(s):// or www. URL starting at rs[p],
// or p.
func urlEnd(rs []rune, p int) int {
	r := rs[p] | 0x20
	if r != 'h' && r != 'w' {
		return p
	}
	if p > 0 && isWordRune(rs[p-1]) {
		return p
	}
	var q int
	switch {
	case hasPrefixFold(rs, p, "https://"):
		q = p + len("https://")
	case hasPrefixFold(rs, p, "http://"):
		q = p + len("http://")
	case hasPrefixFold(rs, p, "www."):
		q = p + len("www.")
	default:
		return p
	}
	if q >= len(rs) || !isASCIIAlnum(rs[q]) {
		return p
	}
	return pathEnd(rs, p, q)
}

// pathEnd extends a URL starting at rs[p] from rs[q] over URL runes and then
// drops trailing punctuation that more likely ends the sentence.
func pathEnd(rs []rune, p, q int) int {
	open := 0 // '(' minus ')'
	for q < len(rs) && isURLRune(rs[q]) {
		switch rs[q] {
		case '(':
			open++
		case ')':
			open--
		}
		q++
	}
	for q > p+1 {
		switch rs[q-1] {
		case '.', ',', '!', '?', ';', ':', '\'', ']', '}', '*':
			q--
			continue
		case ')':
			if open < 0 {
				open++
				q--
				continue
			}
		}
		break
	}
	return q
}

// bareURLEnd returns the end of a scheme-less URL such as "t.co/abc" or
// "bit.ly/x" whose first label is rs[p:q], or q if there is none. A host of
// ASCII labels with at least one dot must be directly followed by '/'.
func bareURLEnd(rs []rune, p, q int) int {
	n := len(rs)
	if q >= n || rs[q] != '.' {
		return q
	}
	for i := p; i < q; i++ {
		if !isASCIIAlnum(rs[i]) {
			return q
		}
	}
	i := q
	// The host scan is capped at the DNS name limit so a long "a.a.a..."
	// chain costs linear, not quadratic, time.
	for i+1 < n && i-p < maxHostLen && rs[i] == '.' && isASCIIAlnum(rs[i+1]) {
		i += 2
		for i < n && (isASCIIAlnum(rs[i]) || rs[i] == '-') {
			i++
		}
	}
	if i == q || i >= n || rs[i] != '/' {
		return q
	}
	return pathEnd(rs, p, i)
}

// mentionEnd returns the end of an @mention starting at rs[p] (rs[p] ==
// '@'), or p. The name is letters (Han included, for Weibo), digits, '_' and
// '-'; it needs at least one rune.
func mentionEnd(rs []rune, p int) int {
	q := p + 1
	for q < len(rs) && (isWordRune(rs[q]) || IsHan(rs[q]) || rs[q] == '_' || rs[q] == '-') {
		q++
	}
	for q > p+1 && rs[q-1] == '-' {
		q--
	}
	if q == p+1 {
		return p
	}
	return q
}

// hashtagEnd returns the end of a #hashtag starting at rs[p] (rs[p] == '#'),
// or p. The body is non-Han letters, marks, digits and '_' with at least one
// letter, so "#1" and the Weibo "#话题#" form are not hashtags.
func hashtagEnd(rs []rune, p int) int {
	q := p + 1
	letter := false
	for q < len(rs) && (isWordRune(rs[q]) || rs[q] == '_') {
		letter = letter || isLetter(rs[q])
		q++
	}
	if !letter {
		return p
	}
	return q
}

// hashtag emits the hashtag rs[p:q] and, in Tokenize mode, its parts: the
// body split at '_', lower-to-upper and letter/digit transitions and before
// the last capital of an acronym ("NHLPlayoffs" -> "nhl", "playoffs"). Each
// part is a Word (or a Number for digits) with its own precise span; a body
// without inner boundaries yields one part, the whole body.
func (sc *scanner) hashtag(p, q int) {
	rs := sc.rs
	sc.emit(Hashtag, sc.text(p, q, false), casing(rs[p+1:q]), SegNone, p, q)
	if sc.chars || sc.t.opts.NoSplitHashtags {
		return
	}
	a := p + 1
	for i := p + 1; i <= q; i++ {
		if i < q && rs[i] != '_' && (i == a || !partBoundary(rs, i, q)) {
			continue
		}
		if i > a {
			sc.part(a, i)
		}
		a = i
		if i < q && rs[i] == '_' {
			a = i + 1
		}
	}
}

// partBoundary reports whether a hashtag part boundary lies before rs[i]
// (i < q, rs[i-1] within the body).
func partBoundary(rs []rune, i, q int) bool {
	prev, cur := rs[i-1], rs[i]
	switch {
	case isDigit(prev) != isDigit(cur):
		return true
	case isLower(prev) && isUpper(cur):
		return true
	case isUpper(prev) && isUpper(cur) && i+1 < q && isLower(rs[i+1]):
		return true
	}
	return false
}

func (sc *scanner) part(a, b int) {
	allDigits := true
	for _, r := range sc.rs[a:b] {
		if !isDigit(r) {
			allDigits = false
			break
		}
	}
	if allDigits {
		sc.emit(Number, placeNum, CaseNone, SegNone, a, b)
		return
	}
	sc.word(Word, a, b)
}
