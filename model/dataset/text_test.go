package dataset

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestReadTexts(t *testing.T) {
	in := strings.Join([]string{
		`{"text": "Great game!", "label": "positive"}`,
		``,
		`{"tokens": ["EU", "rejects", "German", "call"], "tags": ["B-ORG", "O", "B-MISC", "O"]}`,
		`{"tokens": ["我", "在", "北", "京", "用", "iPhone", "拍", "照"], "tags": ["O", "O", "O", "O", "O", "O", "O", "O"]}`,
		`just a plain line`,
		`{"label": "x"}`,
		`{"tokens": "not an array"}`,
		`{"text": 3}`,
		`{broken`,
	}, "\n")
	got, rep, err := ReadTexts(strings.NewReader(in), "mixed.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Great game!", "EU rejects German call", "我在北京用 iPhone 拍照", "just a plain line"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("texts %q, want %q", got, want)
	}
	if rep.Skipped != 4 || rep.Read != 4 {
		t.Fatalf("report: read %d, skipped %d; want 4 and 4 (%v)", rep.Read, rep.Skipped, rep.Errors)
	}
	_, _, err = ReadTexts(strings.NewReader(in), "mixed.jsonl", Options{Strict: true})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 6 {
		t.Fatalf("strict read: %v, want a LineError at line 6", err)
	}
}
