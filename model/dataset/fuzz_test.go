package dataset

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzReadClassification checks that ReadClassification never panics and
// that every example it returns satisfies the documented invariants.
func FuzzReadClassification(f *testing.F) {
	f.Add([]byte("{\"text\":\"a\",\"label\":\"b\"}\n"), uint8(0))
	f.Add([]byte("text,label\n\"a,\nb\",c\r\n"), uint8(2))
	f.Add([]byte("\xef\xbb\xbf{\"text\":1}\n\n{"), uint8(1))
	f.Add([]byte("label,text\nx\n\"y"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opts := Options{Strict: mode&4 != 0, MaxLineBytes: 64}
		switch mode % 4 {
		case 1:
			opts.Format = FormatJSONL
		case 2:
			opts.Format = FormatCSV
		case 3:
			opts.Format = FormatCoNLL
		}
		got, rep, err := ReadClassification(bytes.NewReader(data), "fuzz", opts)
		if err != nil {
			if got != nil {
				t.Fatal("examples returned with an error")
			}
			return
		}
		if rep.Read != len(got) || len(rep.Errors) > MaxReportedErrors || rep.Skipped < len(rep.Errors) {
			t.Fatalf("inconsistent report %+v for %d examples", rep, len(got))
		}
		for _, ex := range got {
			if ex.Line < 1 || ex.Text == "" || ex.Label == "" || !utf8.ValidString(ex.Text) || !utf8.ValidString(ex.Label) {
				t.Fatalf("invalid example %+v", ex)
			}
		}
		_, _, _ = ReadNER(bytes.NewReader(data), "fuzz", opts)
	})
}
