package dataset

import (
	"strings"
	"testing"
)

func TestHashExamples(t *testing.T) {
	t.Parallel()
	jsonl := "{\"text\":\"a,b\",\"label\":\"x\"}\n{\"text\":\"c\",\"label\":\"y\"}\n"
	csv := "label,text\nx,\"a,b\"\n\ny,c\n"
	a, _, err := ReadClassification(strings.NewReader(jsonl), "a.jsonl", Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := ReadClassification(strings.NewReader(csv), "a.csv", Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if HashExamples(a) != HashExamples(b) {
		t.Error("the same data in JSONL and CSV hashes differently")
	}
	tests := []struct {
		name string
		x, y []Example
	}{
		{"boundary shift", []Example{{Text: "ab", Label: "c"}}, []Example{{Text: "a", Label: "bc"}}},
		{"order", []Example{{Text: "a", Label: "x"}, {Text: "b", Label: "x"}}, []Example{{Text: "b", Label: "x"}, {Text: "a", Label: "x"}}},
		{"empty vs one", nil, []Example{{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if HashExamples(tt.x) == HashExamples(tt.y) {
				t.Errorf("%v and %v hash the same", tt.x, tt.y)
			}
		})
	}
	if h := HashExamples(nil); len(h) != 64 {
		t.Errorf("hash %q is not 64 hex digits", h)
	}
}

func TestHashNERExamples(t *testing.T) {
	t.Parallel()
	x := []NERExample{{Tokens: []string{"a", "b"}, Tags: []string{"O", "O"}}}
	y := []NERExample{{Tokens: []string{"a"}, Tags: []string{"O"}}, {Tokens: []string{"b"}, Tags: []string{"O"}}}
	z := []NERExample{{Tokens: []string{"a", "b"}, Tags: []string{"O", "O"}, Line: 7}}
	if HashNERExamples(x) == HashNERExamples(y) {
		t.Error("sentence boundaries do not change the hash")
	}
	if HashNERExamples(x) != HashNERExamples(z) {
		t.Error("line numbers change the hash")
	}
}
