// Package text tokenizes mixed English/Chinese social-media text for the
// tagstream classifiers and taggers.
//
// # Lifecycle
//
// Create one [Tokenizer] at startup with [New]; it loads gse's embedded
// Chinese dictionary (no files, no module cache needed at run time) and is
// immutable afterwards, so all goroutines share it. Each goroutine owns a
// [Buffer] and passes it to [Tokenizer.Tokenize] (classification view) or
// [Tokenizer.Chars] (character view for the NER tagger). Results live in the
// Buffer until its next use; there is nothing to Close.
//
// # Rules
//
// The input is NFKC-normalized (full-width forms, ligatures, circled digits
// and the like become plain text; "…" becomes "...") and scanned left to
// right:
//
//   - Whitespace and stray invisible joiners/variation selectors separate
//     tokens and are dropped.
//   - Runs of Han characters are segmented into words by gse (dictionary
//     shortest path, no HMM). In Chars every Han character is a token whose
//     Seg is its B/M/E/S position within the gse word.
//   - http(s):// and www. URLs, and scheme-less ones like "t.co/x", become
//     "<url>"; a URL stops at whitespace or the first non-ASCII rune, and
//     trailing sentence punctuation is not part of it.
//   - "@name" (not preceded by a letter or digit) becomes "<user>". Names may
//     contain Han (Weibo), so "@张三你好" is one mention: Weibo ends names
//     with a space or colon.
//   - Numbers ("42", "1,000.50", "10:30") become "<num>"; a digit run
//     followed by letters is a word ("7th", "covid19").
//   - "#tag" (body of non-Han letters/digits/'_' with at least one letter)
//     is kept as one Hashtag token "#tag". Tokenize then adds the body as
//     words, split at '_', camelCase, acronym and letter/digit boundaries:
//     "#HappyBirthdayRemus" -> "#happybirthdayremus" "happy" "birthday"
//     "remus"; "#happybirthday" -> "#happybirthday" "happybirthday". The
//     extra words carry their own spans inside the hashtag (not the '#'), so
//     offsets stay exact. Weibo "#话题#" is '#', Han words, '#'.
//   - Emoji sequences (ZWJ sequences, skin tones, flags, keycaps, tag
//     sequences) are one Emoji token; variation selectors are dropped from
//     the text, and so are skin tones unless Options.KeepSkinTone.
//   - ASCII emoticons (":)", ":-(", ":D", "<3", ";)", "xD", "^_^", "T_T", ...)
//     are one Emoticon token, longest match first. Emoticons that begin or
//     end with a letter, digit or bracket need a boundary on that side, so
//     "10:30", "(step 8)" and "boxDrop" are left alone.
//   - Words are runs of non-Han letters, marks and digits. An apostrophe
//     between two letters stays inside the word ("o'brien", "l'amour"), and
//     ’ ‘ ʼ are unified to '. With Options.SplitClitics (what tagstream's
//     training commands set) a final English clitic is its own token, as in
//     the Penn Treebank and CoNLL-2003: "obama's" -> "obama" "'s", "don't"
//     -> "do" "n't", also 're 've 'll 'd 'm; without it (models trained
//     before it existed) "don't" and "it's" stay whole. A letter repeated more
//     than Options.MaxRepeat (default 3) times is squeezed ("soooooo" ->
//     "sooo"), keeping elongation visible but bounding the vocabulary.
//     Hyphens split words.
//   - Punctuation and symbols: a run of the same rune collapses to at most
//     two copies ("!!!!" -> "!!", so emphasis survives as a distinct token
//     but the vocabulary stays bounded); two or more '.' or '。' become "...",
//     so "...", "…" and "。。。" are the same token; a run mixing '!' and '?'
//     becomes "?!".
//   - Anything else (controls, U+FFFD, unassigned) is an Other token of one
//     rune.
//
// Letters are lowercased unless Options.KeepCase; the casing shape before
// lowercasing is kept in Token.Case ([Casing]: none, lower, UPPER, Title,
// mIxed; numbers and Han are CaseNone).
//
// Out-of-vocabulary words are represented by hashed character n-grams,
// see [Subwords].
//
// # Invariants
//
//   - Nothing panics on any input. Invalid UTF-8 bytes are read as U+FFFD,
//     one rune each, exactly as the []rune conversion does.
//   - Token.Start and Token.End are rune offsets into the original (not
//     normalized) input: []rune(s)[Start:End] is the token's source. Start
//     never decreases along the token slice and 0 <= Start < End <= the
//     number of runes. Tokens made from one source rune that NFKC expanded
//     ("⑴" -> "(", "<num>", ")") all carry that rune's span.
//   - For the same input, [Options] and [Version], the output is identical
//     on every run and platform.
//
// # Aliasing and concurrency
//
// A [Tokenizer] is safe for concurrent use. A [Buffer] is not; the token
// slice and Token.Text strings returned by a call alias the Buffer and are
// overwritten by its next use (copy with strings.Clone to keep them). For
// text without Han characters, steady-state calls do not allocate. gse
// allocates a few small slices per Han run.
package text
