package dataset

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/tagstream/tagstream/model/text"
)

// ReadTexts reads unlabeled text for language-model pretraining, one text
// per line: a JSON object with a string "text" (any other fields, such as a
// label, are ignored) or a "tokens" array (NER data; tokens are joined with
// a space, except between two Han characters), or else the line itself as
// plain text. Blank lines are skipped; a line that starts with '{' but is
// not such an object, or is not valid UTF-8, is a bad record (skipped and
// reported, or with opts.Strict an error).
func ReadTexts(r io.Reader, name string, opts Options) ([]string, Report, error) {
	br, _, err := prepare(r, name, FormatJSONL, nil, FormatJSONL)
	rep := Report{Format: FormatJSONL}
	if err != nil {
		return nil, rep, err
	}
	lr := newLineReader(br, opts.MaxLineBytes)
	var out []string
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			rep.Read = len(out)
			return out, rep, nil
		}
		if err != nil {
			return nil, rep, fmt.Errorf("read %s: line %d: %w", name, lr.line+1, err)
		}
		if isBlank(line) {
			continue
		}
		var s string
		var bad error
		if tooLong {
			bad = fmt.Errorf("longer than %d bytes: %w", lr.max, ErrLineTooLong)
		} else {
			s, bad = parseTextLine(line)
		}
		if bad != nil {
			if err := rep.add(name, opts.Strict, lr.line, bad); err != nil {
				return nil, rep, err
			}
			continue
		}
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
}

func parseTextLine(line []byte) (string, error) {
	trimmed := strings.TrimSpace(string(line))
	if !strings.HasPrefix(trimmed, "{") {
		if !utf8.ValidString(trimmed) {
			return "", fmt.Errorf("not valid UTF-8")
		}
		return trimmed, nil
	}
	obj, err := parseObject(line)
	if err != nil {
		return "", err
	}
	if _, ok := obj["text"]; ok {
		return stringField(obj, "text")
	}
	raw, ok := obj["tokens"]
	if !ok {
		return "", fmt.Errorf(`no "text" or "tokens" field`)
	}
	var toks []string
	if err := json.Unmarshal(raw, &toks); err != nil {
		return "", fmt.Errorf(`"tokens" is not an array of strings`)
	}
	return JoinTokens(toks), nil
}

// JoinTokens joins tokens with a space, except between two Han characters
// (Chinese NER data has one token per character; a language model's
// generated words are shown the same way).
func JoinTokens(toks []string) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			last, _ := utf8.DecodeLastRuneInString(toks[i-1])
			first, _ := utf8.DecodeRuneInString(t)
			if !text.IsHan(last) || !text.IsHan(first) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(t)
	}
	return b.String()
}
