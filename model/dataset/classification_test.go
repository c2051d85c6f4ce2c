package dataset

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		file      string
		input     string
		opts      Options
		want      []Example
		format    Format
		badLines  []int
		badErrors []error
	}{
		{
			name: "jsonl", file: "train.jsonl",
			input:  "{\"text\": \"good food\", \"label\": \"positive\"}\n\n   \n{\"label\":\"negative\",\"text\":\"cold\",\"extra\":1}\n",
			format: FormatJSONL,
			want:   []Example{{"good food", "positive", 1, nil}, {"cold", "negative", 4, nil}},
		},
		{
			name: "jsonl bad lines", file: "x.jsonl",
			input: strings.Join([]string{
				`{"text": "ok", "label": "a"}`,
				`{"text": "no label"}`,
				`{"text": 3, "label": "a"}`,
				`{"text": "", "label": "a"}`,
				`{"text": "x", "label": "  "}`,
				`not json`,
				`["text", "label"]`,
				`null`,
				"{\"text\": \"bad \xff utf8\", \"label\": \"a\"}",
				`{"text": "trailing", "label": "a"} {}`,
				`{"text": "ok2", "label": "b"}`,
			}, "\n"),
			format:    FormatJSONL,
			want:      []Example{{"ok", "a", 1, nil}, {"ok2", "b", 11, nil}},
			badLines:  []int{2, 3, 4, 5, 6, 7, 8, 9, 10},
			badErrors: []error{ErrField, ErrField, ErrField, ErrField, ErrSyntax, ErrSyntax, ErrSyntax, ErrEncoding, ErrSyntax},
		},
		{
			name: "jsonl multi-label", file: "goemotions.jsonl",
			input: strings.Join([]string{
				`{"text": "yay thanks", "labels": ["joy", "gratitude"]}`,
				`{"text": "empty", "labels": []}`,
				`{"text": "twice", "labels": ["joy", "joy"]}`,
				`{"text": "blank", "labels": ["joy", " "]}`,
				`{"text": "not strings", "labels": [1]}`,
				`{"text": "both", "label": "joy", "labels": ["joy"]}`,
				`{"text": "one", "labels": ["neutral"]}`,
			}, "\n"),
			format:    FormatJSONL,
			want:      []Example{{Text: "yay thanks", Line: 1, Labels: []string{"joy", "gratitude"}}, {Text: "one", Line: 7, Labels: []string{"neutral"}}},
			badLines:  []int{2, 3, 4, 5, 6},
			badErrors: []error{ErrField, ErrField, ErrField, ErrField, ErrField},
		},
		{
			name: "jsonl crlf and bom", file: "data",
			input:  "\xef\xbb\xbf{\"text\":\"a\",\"label\":\"l\"}\r\n\r\n{\"text\":\"b\",\"label\":\"m\"}\r\n",
			format: FormatJSONL,
			want:   []Example{{"a", "l", 1, nil}, {"b", "m", 3, nil}},
		},
		{
			name: "jsonl sniffed", file: "data.txt",
			input:  "\n  {\"text\":\"a\",\"label\":\"l\"}",
			format: FormatJSONL,
			want:   []Example{{"a", "l", 2, nil}},
		},
		{
			name: "jsonl line too long", file: "x.jsonl", opts: Options{MaxLineBytes: 30},
			input:     `{"text":"short","label":"a"}` + "\n" + `{"text":"this one is far too long","label":"a"}` + "\n" + `{"text":"s2","label":"a"}`,
			format:    FormatJSONL,
			want:      []Example{{"short", "a", 1, nil}, {"s2", "a", 3, nil}},
			badLines:  []int{2},
			badErrors: []error{ErrLineTooLong},
		},
		{
			name: "csv quoted", file: "train.csv",
			input: "label,id,text\n" +
				"pos,1,\"hello, world\"\n" +
				"neg,2,\"two\nlines with \"\"quotes\"\"\"\n" +
				"\n" +
				"pos,3,plain\n",
			format: FormatCSV,
			want:   []Example{{"hello, world", "pos", 2, nil}, {"two\nlines with \"quotes\"", "neg", 3, nil}, {"plain", "pos", 6, nil}},
		},
		{
			name: "csv crlf bom header case", file: "a.CSV",
			input:  "\xef\xbb\xbf Text ,Label\r\n\"a\r\nb\",x\r\nc,y\r\n",
			format: FormatCSV,
			want:   []Example{{"a\nb", "x", 2, nil}, {"c", "y", 4, nil}},
		},
		{
			name: "csv bad records", file: "a.csv",
			input:     "text,label\nok,a\nshort\n,a\nb,\nbad \"quote,a\n\xff,a\nfine,b\n",
			format:    FormatCSV,
			want:      []Example{{"ok", "a", 2, nil}, {"fine", "b", 8, nil}},
			badLines:  []int{3, 4, 5, 6, 7},
			badErrors: []error{ErrField, ErrField, ErrField, ErrSyntax, ErrEncoding},
		},
		{
			name: "csv sniffed", file: "data",
			input:  "text,label\nhi,a\n",
			format: FormatCSV,
			want:   []Example{{"hi", "a", 2, nil}},
		},
		{name: "empty", file: "x.jsonl", input: "", format: FormatJSONL},
		{name: "empty csv", file: "x.csv", input: "", format: FormatCSV},
		{name: "blank auto", file: "x", input: " \n\n", format: FormatJSONL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, rep, err := ReadClassification(iotest.HalfReader(strings.NewReader(tt.input)), tt.file, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b Example) bool {
				return a.Text == b.Text && a.Label == b.Label && a.Line == b.Line && slices.Equal(a.Labels, b.Labels)
			}) {
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

func TestReadClassificationStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, input string
		wantErr           error
		wantMsg           string
	}{
		{"jsonl", "train.jsonl", "{\"text\":\"a\",\"label\":\"b\"}\n\n{\"text\":\"a\"}\n", ErrField, `read train.jsonl: line 3: missing "label"`},
		{"csv", "dev.csv", "text,label\na,b\n\"x\ny\",\n", ErrField, `read dev.csv: line 3: empty "label"`},
		{"csv syntax", "dev.csv", "text,label\na,b\nc,d\"\n", ErrSyntax, `read dev.csv: line 3:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := ReadClassification(strings.NewReader(tt.input), tt.file, Options{Strict: true})
			var le *LineError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &le) || !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want %v starting with %q", err, tt.wantErr, tt.wantMsg)
			}
			if got != nil {
				t.Errorf("got examples with an error: %v", got)
			}
		})
	}
}

func TestReadClassificationFatal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, input string
		opts              Options
		wantErr           error
	}{
		{"csv without label column", "a.csv", "text,category\na,b\n", Options{}, ErrFormat},
		{"csv bad header", "a.csv", "te\"xt,label\n", Options{}, ErrFormat},
		{"conll format", "a.conll", "a O\n", Options{Format: FormatCoNLL}, ErrFormat},
		{"unknown format", "a", "", Options{Format: "xml"}, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := ReadClassification(strings.NewReader(tt.input), tt.file, tt.opts); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	boom := errors.New("boom")
	if _, _, err := ReadClassification(iotest.ErrReader(boom), "x.jsonl", Options{}); !errors.Is(err, boom) {
		t.Errorf("reader error: err = %v, want boom", err)
	}
	if _, _, err := ReadClassification(iotest.ErrReader(boom), "x.csv", Options{}); !errors.Is(err, boom) {
		t.Errorf("reader error (csv): err = %v, want boom", err)
	}
}

func TestReportKeepsFirstErrors(t *testing.T) {
	t.Parallel()
	input := strings.Repeat("bad\n", 50) + `{"text":"a","label":"b"}`
	got, rep, err := ReadClassification(strings.NewReader(input), "x.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || rep.Skipped != 50 || len(rep.Errors) != MaxReportedErrors || rep.Errors[19].Line != 20 {
		t.Errorf("got %d examples, report %d skipped, %d errors", len(got), rep.Skipped, len(rep.Errors))
	}
}

func TestLongLine(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("字", 100_000) // 300 kB, beyond bufio's and Scanner's default sizes
	input := `{"text":"` + text + `","label":"a"}` + "\n" + `{"text":"b","label":"c"}`
	got, _, err := ReadClassification(strings.NewReader(input), "x.jsonl", Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Text != text || got[1].Line != 2 {
		t.Errorf("long line read wrongly: %d examples", len(got))
	}
}
