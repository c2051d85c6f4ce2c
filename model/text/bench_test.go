package text

import (
	"path/filepath"
	"testing"
)

// benchSink keeps results alive so the compiler cannot drop the work.
var benchSink int

// benchTexts returns n texts of ../shared/data/<set>/<split>.jsonl (the
// data set README's train/dev splits), cycled when the split is shorter,
// and logs what it read. It skips the benchmark loudly without the data:
// benchmarks run on real text only.
func benchTexts(b *testing.B, set, split string, n int) []string {
	b.Helper()
	path := filepath.Join(dataRoot, set, split+".jsonl")
	texts := readDataTexts(b, path, n)
	if len(texts) == 0 {
		b.Skipf("SKIP: no texts in %s (benchmarks read real data only; see ../shared/data)", path)
	}
	read := len(texts)
	for i := 0; len(texts) < n; i++ {
		texts = append(texts, texts[i])
	}
	b.Logf("%s: %d texts read, cycled to %d", path, read, len(texts))
	return texts
}

func BenchmarkTokenize(b *testing.B) {
	tk := testTokenizer(b)
	corpora := []struct{ name, set, unit string }{
		{"en_tweeteval", "tweeteval_sentiment", "tweets/s"},
		{"zh_weibo2018", "weibo2018", "posts/s"},
		{"zh_chnsenticorp", "chnsenticorp", "sentences/s"},
		{"zh_waimai", "waimai_10k", "sentences/s"},
	}
	for _, c := range corpora {
		b.Run(c.name, func(b *testing.B) {
			texts := benchTexts(b, c.set, "dev", 500)
			var buf Buffer
			for _, s := range texts { // size the Buffer outside the timed region
				tk.Tokenize(&buf, s)
			}
			b.ReportAllocs()
			ntok, n := 0, 0
			for b.Loop() {
				toks := tk.Tokenize(&buf, texts[n%len(texts)])
				ntok += len(toks)
				n++
			}
			benchSink += ntok
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(n)/sec, c.unit)
			b.ReportMetric(float64(ntok)/sec, "tokens/s")
		})
	}
}

func BenchmarkChars(b *testing.B) {
	tk := testTokenizer(b)
	texts := benchTexts(b, "weibo2018", "dev", 500)
	var buf Buffer
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		benchSink += len(tk.Chars(&buf, texts[n%len(texts)]))
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "sentences/s")
}

func BenchmarkSubwords(b *testing.B) {
	dst := make([]int32, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = Subwords(dst[:0], "wonderful", Word, 2000000)
		benchSink += len(dst)
	}
}

// BenchmarkNew measures loading the embedded gse dictionary (what a
// process pays once at startup).
func BenchmarkNew(b *testing.B) {
	if testing.Short() {
		b.Skip("loads the dictionary each iteration")
	}
	b.ReportAllocs()
	for b.Loop() {
		tk, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		benchSink += tk.seg.Dict.NumTokens()
	}
}
