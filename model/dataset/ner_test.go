package dataset

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func nerEqual(a, b []NERExample) bool {
	return slices.EqualFunc(a, b, func(x, y NERExample) bool {
		return x.Line == y.Line && slices.Equal(x.Tokens, y.Tokens) && slices.Equal(x.Tags, y.Tags)
	})
}

func TestReadNER(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		file      string
		input     string
		want      []NERExample
		format    Format
		badLines  []int
		badErrors []error
	}{
		{
			name: "jsonl", file: "train.jsonl",
			input: `{"tokens": ["EU", "rejects", "German"], "tags": ["B-ORG", "O", "B-MISC"]}` + "\n" +
				`{"tokens": ["Empire", "State"], "tags": ["B-creative-work", "I-creative-work"]}` + "\n",
			format: FormatJSONL,
			want: []NERExample{
				{[]string{"EU", "rejects", "German"}, []string{"B-ORG", "O", "B-MISC"}, 1},
				{[]string{"Empire", "State"}, []string{"B-creative-work", "I-creative-work"}, 2},
			},
		},
		{
			name: "jsonl bad lines", file: "x.jsonl",
			input: strings.Join([]string{
				`{"tokens": ["a"], "tags": ["O"]}`,
				`{"tokens": ["a", "b"], "tags": ["O"]}`,
				`{"tokens": [], "tags": []}`,
				`{"tokens": ["a"], "tags": ["X-PER"]}`,
				`{"tokens": ["a"], "tags": ["B-"]}`,
				`{"tokens": ["a"], "tags": [1]}`,
				`{"tokens": [null], "tags": ["O"]}`,
				`{"tokens": ["a"]}`,
				`{"tokens": "a", "tags": "O"}`,
				`{"tokens": [""], "tags": ["O"]}`,
				`{"tokens": ["z"], "tags": ["I-LOC"]}`,
			}, "\n"),
			format:    FormatJSONL,
			want:      []NERExample{{[]string{"a"}, []string{"O"}, 1}, {[]string{"z"}, []string{"I-LOC"}, 11}},
			badLines:  []int{2, 3, 4, 5, 6, 7, 8, 9, 10},
			badErrors: []error{ErrTag, ErrField, ErrTag, ErrTag, ErrField, ErrField, ErrField, ErrField, ErrField},
		},
		{
			name: "conll", file: "eng.train",
			input: "\xef\xbb\xbf-DOCSTART- -X- -X- O\r\n\r\n" +
				"EU NNP B-NP B-ORG\r\n" +
				"rejects VBZ B-VP O\r\n" +
				"\r\n\r\n" +
				"Peter\tB-PER\n" +
				"Blackburn\tI-PER\n" +
				"-DOCSTART- O\n" +
				"BRUSSELS B-LOC", // no final newline
			format: FormatCoNLL,
			want: []NERExample{
				{[]string{"EU", "rejects"}, []string{"B-ORG", "O"}, 3},
				{[]string{"Peter", "Blackburn"}, []string{"B-PER", "I-PER"}, 7},
				{[]string{"BRUSSELS"}, []string{"B-LOC"}, 10},
			},
		},
		{
			name: "conll bad sentences", file: "x.conll",
			input: "a O\nb\nc O\n\n" + // line 2 lacks a tag: sentence skipped
				"d B-X\ne Q-X\n\n" + // line 6 bad tag
				"f O\n\xff O\n\n" + // line 9 bad utf-8
				"g O\n",
			format:    FormatCoNLL,
			want:      []NERExample{{[]string{"g"}, []string{"O"}, 11}},
			badLines:  []int{2, 6, 9},
			badErrors: []error{ErrField, ErrTag, ErrEncoding},
		},
		{
			name: "sniffed conll", file: "data",
			input:  "\n\nx O\n",
			format: FormatCoNLL,
			want:   []NERExample{{[]string{"x"}, []string{"O"}, 3}},
		},
		{
			name: "sniffed jsonl", file: "data",
			input:  `{"tokens":["x"],"tags":["O"]}`,
			format: FormatJSONL,
			want:   []NERExample{{[]string{"x"}, []string{"O"}, 1}},
		},
		{name: "empty", file: "x.conll", format: FormatCoNLL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, rep, err := ReadNER(iotest.HalfReader(strings.NewReader(tt.input)), tt.file, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !nerEqual(got, tt.want) {
				t.Errorf("examples = %+v, want %+v", got, tt.want)
			}
			if rep.Format != tt.format || rep.Read != len(tt.want) || rep.Skipped != len(tt.badLines) {
				t.Errorf("report = %+v; want format %q, %d read, %d skipped", rep, tt.format, len(tt.want), len(tt.badLines))
			}
			for i, le := range rep.Errors {
				if i >= len(tt.badLines) || le.Line != tt.badLines[i] || !errors.Is(&le, tt.badErrors[i]) {
					t.Errorf("error %d = %v, want line %d: %v", i, &le, tt.badLines[i], tt.badErrors[i])
				}
			}
		})
	}
}

func TestReadNERStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, input string
		wantErr           error
		wantMsg           string
	}{
		{"jsonl", "dev.jsonl", "{\"tokens\":[\"a\"],\"tags\":[\"O\"]}\n{\"tokens\":[\"a\"],\"tags\":[\"B-\"]}", ErrTag, `read dev.jsonl: line 2: token 0: tag "B-"`},
		{"conll tag", "dev.conll", "a O\nb B-X\n\nc I_X\n", ErrTag, `read dev.conll: line 4: tag "I_X"`},
		{"conll column", "dev.conll", "a O\nb\n", ErrField, `read dev.conll: line 2: one column`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := ReadNER(strings.NewReader(tt.input), tt.file, Options{Strict: true})
			var le *LineError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &le) || !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want %v starting with %q", err, tt.wantErr, tt.wantMsg)
			}
			if got != nil {
				t.Errorf("got examples with an error")
			}
		})
	}
	if _, _, err := ReadNER(strings.NewReader(""), "x.csv", Options{Format: FormatCSV}); !errors.Is(err, ErrFormat) {
		t.Errorf("csv ner: err = %v, want ErrFormat", err)
	}
}

func TestValidTag(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]bool{
		"O": true, "B-PER": true, "I-PER.NAM": true, "B-creative-work": true, "I-x": true,
		"": false, "o": false, "B": false, "B-": false, "E-PER": false, "S-PER": false, "BPER": false, "B-P R": false, "O-": false,
	} {
		if got := ValidTag(tag); got != want {
			t.Errorf("ValidTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
