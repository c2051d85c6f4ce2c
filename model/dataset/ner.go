package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

var nerExts = map[string]Format{
	".jsonl": FormatJSONL, ".json": FormatJSONL, ".ndjson": FormatJSONL,
	".conll": FormatCoNLL, ".conllu": FormatCoNLL, ".bio": FormatCoNLL, ".iob": FormatCoNLL, ".txt": FormatCoNLL, ".tsv": FormatCoNLL,
}

// docStart marks a document boundary in CoNLL files.
const docStart = "-DOCSTART-"

// ReadNER reads tagged sentences from r, in JSON Lines or CoNLL as described
// in the package documentation. name identifies the input in errors and,
// with FormatAuto, selects the format by extension (".jsonl", ".json" and
// ".ndjson" are JSON Lines; ".conll", ".bio", ".iob", ".txt", ".tsv" are
// CoNLL); otherwise '{' as the first non-space byte means JSON Lines and
// anything else CoNLL.
//
// Every sentence has at least one token, as many tags as tokens, no empty
// token and only tags accepted by ValidTag. A bad CoNLL line makes its whole
// sentence bad; it is reported at that line. Bad records are skipped and
// reported, or with opts.Strict fail the read with an error wrapping a
// *LineError. The error is also non-nil for I/O errors and FormatCSV
// (ErrFormat).
func ReadNER(r io.Reader, name string, opts Options) ([]NERExample, Report, error) {
	br, format, err := prepare(r, name, opts.Format, nerExts, FormatCoNLL)
	rep := Report{Format: format}
	if err != nil {
		return nil, rep, err
	}
	var out []NERExample
	lr := newLineReader(br, opts.MaxLineBytes)
	switch format {
	case FormatJSONL:
		out, err = readNERJSONL(lr, name, opts.Strict, &rep)
	case FormatCoNLL:
		out, err = readCoNLL(lr, name, opts.Strict, &rep)
	default:
		return nil, rep, fmt.Errorf("read %s: format %q for ner data: %w", name, string(format), ErrFormat)
	}
	if err != nil {
		return nil, rep, err
	}
	rep.Read = len(out)
	return out, rep, nil
}

// ValidTag reports whether tag is "O" or "B-TYPE"/"I-TYPE" with a
// non-empty TYPE free of white space.
func ValidTag(tag string) bool {
	if tag == "O" {
		return true
	}
	if len(tag) < 3 || (tag[0] != 'B' && tag[0] != 'I') || tag[1] != '-' {
		return false
	}
	return strings.IndexFunc(tag[2:], unicode.IsSpace) < 0
}

// checkSentence validates a sentence's tokens and tags.
func checkSentence(tokens, tags []string) error {
	if len(tokens) == 0 {
		return fmt.Errorf("no tokens: %w", ErrField)
	}
	if len(tokens) != len(tags) {
		return fmt.Errorf("%d tokens, %d tags: %w", len(tokens), len(tags), ErrTag)
	}
	for i, tok := range tokens {
		if tok == "" {
			return fmt.Errorf("token %d is empty: %w", i, ErrField)
		}
		if !ValidTag(tags[i]) {
			return fmt.Errorf("token %d: tag %q: %w", i, tags[i], ErrTag)
		}
	}
	return nil
}

func readNERJSONL(lr *lineReader, name string, strict bool, rep *Report) ([]NERExample, error) {
	var out []NERExample
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: line %d: %w", name, lr.line+1, err)
		}
		var bad error
		var ex NERExample
		switch {
		case tooLong:
			bad = fmt.Errorf("longer than %d bytes: %w", lr.max, ErrLineTooLong)
		case isBlank(line):
			continue
		default:
			ex, bad = parseNERJSON(line)
		}
		if bad != nil {
			if err := rep.add(name, strict, lr.line, bad); err != nil {
				return nil, err
			}
			continue
		}
		ex.Line = lr.line
		out = append(out, ex)
	}
}

func parseNERJSON(line []byte) (NERExample, error) {
	obj, err := parseObject(line)
	if err != nil {
		return NERExample{}, err
	}
	var ex NERExample
	for _, f := range []struct {
		key string
		dst *[]string
	}{{"tokens", &ex.Tokens}, {"tags", &ex.Tags}} {
		raw, ok := obj[f.key]
		if !ok || string(raw) == "null" {
			return NERExample{}, fmt.Errorf("missing %q: %w", f.key, ErrField)
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return NERExample{}, fmt.Errorf("%q is not an array of strings: %w", f.key, ErrField)
		}
		*f.dst = make([]string, len(elems))
		for i, e := range elems {
			if len(e) == 0 || e[0] != '"' || json.Unmarshal(e, &(*f.dst)[i]) != nil {
				return NERExample{}, fmt.Errorf("%q is not an array of strings: %w", f.key, ErrField)
			}
		}
	}
	if err := checkSentence(ex.Tokens, ex.Tags); err != nil {
		return NERExample{}, err
	}
	return ex, nil
}

func readCoNLL(lr *lineReader, name string, strict bool, rep *Report) ([]NERExample, error) {
	var (
		out  []NERExample
		cur  NERExample
		bad  error // first problem of the current sentence
		badL int
	)
	flush := func() error {
		defer func() { cur, bad = NERExample{}, nil }()
		if bad == nil && len(cur.Tokens) == 0 {
			return nil
		}
		if bad == nil {
			bad, badL = checkSentence(cur.Tokens, cur.Tags), cur.Line
		}
		if bad != nil {
			return rep.add(name, strict, badL, bad)
		}
		out = append(out, cur)
		return nil
	}
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			if err := flush(); err != nil {
				return nil, err
			}
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: line %d: %w", name, lr.line+1, err)
		}
		if !tooLong && isBlank(line) {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		var lineErr error
		var fields [][]byte
		switch {
		case tooLong:
			lineErr = fmt.Errorf("longer than %d bytes: %w", lr.max, ErrLineTooLong)
		case !utf8.Valid(line):
			lineErr = ErrEncoding
		default:
			fields = bytes.Fields(line)
			if string(fields[0]) == docStart {
				if err := flush(); err != nil {
					return nil, err
				}
				continue
			}
			if len(fields) < 2 {
				lineErr = fmt.Errorf("one column, want a token and a tag: %w", ErrField)
			}
		}
		if cur.Line == 0 {
			cur.Line = lr.line
		}
		if lineErr != nil {
			if bad == nil {
				bad, badL = lineErr, lr.line
			}
			if strict {
				return nil, rep.add(name, strict, badL, bad)
			}
			continue
		}
		cur.Tokens = append(cur.Tokens, string(fields[0]))
		cur.Tags = append(cur.Tags, string(fields[len(fields)-1]))
		if bad == nil && !ValidTag(cur.Tags[len(cur.Tags)-1]) {
			bad, badL = fmt.Errorf("tag %q: %w", cur.Tags[len(cur.Tags)-1], ErrTag), lr.line
			if strict {
				return nil, rep.add(name, strict, badL, bad)
			}
		}
	}
}
