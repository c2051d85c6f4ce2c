// Package tailfmt renders published results and dead letters as the one
// line per message that 'tagstream tail' prints.
package tailfmt

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tagstream/tagstream/event"
)

// TextRunes is how much of a result's text a line shows.
const TextRunes = 60

// tailMsg holds the fields of a result or a dead letter that tail prints.
type tailMsg struct {
	// Result fields (event.Result's JSON).
	ID       string         `json:"id"`
	Label    *string        `json:"label"`
	Lang     string         `json:"lang"`
	Text     *string        `json:"text"`
	Entities []event.Entity `json:"entities"`
	Tasks    map[string]struct {
		Label  *string   `json:"label"`
		Labels *[]string `json:"labels"`
	} `json:"tasks"`
	// Dead-letter fields (event.DeadLetter's JSON).
	Reason *string `json:"reason"`
	Error  string  `json:"error"`
	// Both.
	Source event.Source `json:"source"`
}

// Line returns the one-line summary of a message on subject.
func Line(subject string, data []byte) string {
	var m tailMsg
	if err := json.Unmarshal(data, &m); err == nil {
		switch {
		case m.Label != nil:
			return formatResult(&m)
		case m.Reason != nil:
			return fmt.Sprintf("DLQ %s %s: %s", OrDash(*m.Reason), m.Source, m.Error)
		}
	}
	s := truncateRunes(string(data), 200)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) {
		s = strconv.Quote(s)
	}
	return subject + ": " + s
}

// formatResult returns `<label> <lang> <id> "<text>" task=label ...
// TYPE:entity ...`, a multi-label task as task=l1,l2 (task=- for none).
func formatResult(m *tailMsg) string {
	var b strings.Builder
	b.WriteString(OrDash(*m.Label))
	b.WriteByte(' ')
	b.WriteString(OrDash(m.Lang))
	b.WriteByte(' ')
	b.WriteString(quoteIfNeeded(OrDash(m.ID)))
	if m.Text != nil {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(truncateRunes(*m.Text, TextRunes)))
	}
	for _, name := range slices.Sorted(maps.Keys(m.Tasks)) {
		t := m.Tasks[name]
		var v string
		switch {
		case t.Label != nil:
			v = *t.Label
		case t.Labels != nil:
			v = strings.Join(*t.Labels, ",")
		}
		b.WriteByte(' ')
		b.WriteString(quoteIfNeeded(name + "=" + OrDash(v)))
	}
	for _, e := range m.Entities {
		b.WriteByte(' ')
		b.WriteString(OrDash(e.Type))
		b.WriteByte(':')
		b.WriteString(quoteIfNeeded(e.Text))
	}
	return b.String()
}

func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// quoteIfNeeded returns s, or s quoted when it is empty or has spaces,
// quotes or unprintable characters, so every field stays one token.
func quoteIfNeeded(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '"' || r == utf8.RuneError || !unicode.IsPrint(r)
	}) {
		return s
	}
	return strconv.Quote(s)
}

// truncateRunes returns the first n runes of s, with "…" if it cut any.
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
