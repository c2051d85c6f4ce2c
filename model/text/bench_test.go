package text

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// benchSink keeps results alive so the compiler cannot drop the work.
var benchSink int

// synthTweets generates n English tweets from a seeded RNG: words, mentions,
// hashtags, URLs, numbers, emoji, emoticons and punctuation runs, about
// 15 tokens each, similar to TweetEval.
func synthTweets(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the a I you it this that is was so really love hate great bad " +
		"don't can't it's game tonight tomorrow Trump Apple iPhone new best worst day " +
		"happy sad watching going NEVER EVER lol omg thanks people time world sooooo")
	extras := []string{"@user", "#HappyBirthday", "#NHL", "https://t.co/AbC123xyz", "😂", "👍🏽",
		"❤️", ":)", ":-(", "<3", "!!!", "...", "2015", "7th", "?!", ",", "."}
	out := make([]string, n)
	for i := range out {
		var sb strings.Builder
		for j, k := 0, 8+rng.IntN(14); j < k; j++ {
			if j > 0 {
				sb.WriteByte(' ')
			}
			if rng.IntN(4) == 0 {
				sb.WriteString(extras[rng.IntN(len(extras))])
			} else {
				sb.WriteString(words[rng.IntN(len(words))])
			}
		}
		out[i] = sb.String()
	}
	return out
}

// synthZh generates n Chinese review sentences (15..45 Han characters plus
// punctuation, digits and the odd Latin word) from a seeded RNG.
func synthZh(n int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	phrases := []string{"房间", "太小", "其他的", "都一般", "服务", "态度", "很好", "外卖", "送得", "很快",
		"味道", "不错", "下次", "还会", "再来", "价格", "有点贵", "酒店", "位置", "方便", "早餐", "丰富",
		"键盘", "确实", "手机", "电池", "不耐用", "屏幕", "清晰", "物流", "太慢了", "包装", "破损",
		"非常", "满意", "失望", "推荐", "大家", "购买", "质量", "一般般", "iPhone", "2小时"}
	punct := []string{"，", "。", "！", "！！！", "。。。", "～", "?"}
	out := make([]string, n)
	for i := range out {
		var sb strings.Builder
		for j, k := 0, 8+rng.IntN(15); j < k; j++ {
			sb.WriteString(phrases[rng.IntN(len(phrases))])
			if rng.IntN(4) == 0 {
				sb.WriteString(punct[rng.IntN(len(punct))])
			}
		}
		out[i] = sb.String()
	}
	return out
}

// readJSONLText reads the "text" field of up to n lines of a JSONL file
// from /work/shared/data; it returns nil if the file does not exist.
func readJSONLText(tb testing.TB, path string, n int) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(out) < n {
		var rec struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			tb.Fatalf("decode %s line %d: %v", path, len(out)+1, err)
		}
		out = append(out, rec.Text)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return out
}

func BenchmarkTokenize(b *testing.B) {
	tk := testTokenizer(b)
	corpora := []struct {
		name  string
		texts []string
		unit  string
	}{
		{"en", synthTweets(500), "tweets/s"},
		{"en_tweeteval", readJSONLText(b, "/work/shared/data/tweeteval_sentiment/train.jsonl", 500), "tweets/s"},
		{"zh", synthZh(500), "sentences/s"},
		{"zh_chnsenticorp", readJSONLText(b, "/work/shared/data/chnsenticorp/train.jsonl", 500), "sentences/s"},
		{"zh_waimai", readJSONLText(b, "/work/shared/data/waimai_10k/train.jsonl", 500), "sentences/s"},
	}
	for _, c := range corpora {
		b.Run(c.name, func(b *testing.B) {
			if len(c.texts) == 0 {
				b.Skip("corpus file not present")
			}
			var buf Buffer
			for _, s := range c.texts { // size the Buffer outside the timed region
				tk.Tokenize(&buf, s)
			}
			b.ReportAllocs()
			ntok, n := 0, 0
			for b.Loop() {
				toks := tk.Tokenize(&buf, c.texts[n%len(c.texts)])
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
	texts := synthZh(500)
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
