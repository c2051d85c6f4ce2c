package model

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/text"
)

// benchTweets returns n tweets: the tweeteval dev split when ../shared/data
// is beside the repository, otherwise generated tweet-like texts.
func benchTweets(b *testing.B, n int) []string {
	b.Helper()
	var out []string
	if f, err := os.Open(filepath.Join("..", "..", "shared", "data", "tweeteval_sentiment", "dev.jsonl")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() && len(out) < n {
			var ex struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &ex) == nil {
				out = append(out, ex.Text)
			}
		}
	}
	if len(out) == n {
		return out
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("i love the new iphone but battery life is terrible today @user http://t.co/x #apple so happy 😍 lol can't wait for the weekend game was great not bad at all")
	for len(out) < n {
		l := 8 + rng.IntN(25)
		w := make([]string, l)
		for i := range w {
			w[i] = words[rng.IntN(len(words))]
		}
		out = append(out, strings.Join(w, " "))
	}
	return out
}

// benchModel loads the default English model, or a random one of the same
// shape when the file is missing.
func benchModel(b *testing.B) *CompiledClassifier {
	b.Helper()
	f, err := os.Open(filepath.Join("..", "models", "sentiment-en.safetensors"))
	if err == nil {
		defer f.Close()
		var tc TokenizerCache
		c, err := LoadClassifier(f, "sentiment-en.safetensors", &tc)
		if err != nil {
			b.Fatal(err)
		}
		return c.Compile()
	}
	c, err := NewClassifier(DefaultClassifierConfig(), []string{"negative", "neutral", "positive"}, NewVocab(nil), tokenizer(b), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	return c.Compile()
}

// BenchmarkClassify measures batched classification of tweets with one
// workspace per goroutine (run with -cpu 1,2). It reports sentences/s and
// the GFLOP/s of the model's matrix work (input and recurrent GEMMs, output
// layer), counted from the actual token counts, and the process's CPU time
// per sentence (steadier than wall time on a shared machine).
func BenchmarkClassify(b *testing.B) {
	for _, batch := range []int{64} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			m := benchModel(b)
			tweets := benchTweets(b, 2048)
			// FLOPs per pass over the tweets: 2 directions × tokens × (2·D·4H +
			// 2·H·4H) plus pooling output 2·4H·C per sentence.
			ws := m.NewWorkspace()
			var tokens int
			for _, s := range tweets {
				tokens += min(len(m.tok.Tokenize(&ws.buf, s)), m.cfg.MaxTokens)
			}
			d, h, c := float64(m.d), float64(m.h), float64(m.c)
			flopsPerPass := 2*float64(tokens)*(2*d*4*h+2*h*4*h) + float64(len(tweets))*2*4*h*c
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				ws := m.NewWorkspace()
				probs := make([]float32, batch*len(m.labels))
				best := make([]int, batch)
				i := 0
				for pb.Next() {
					lo := (i * batch) % len(tweets)
					hi := min(lo+batch, len(tweets))
					m.ClassifyBatch(ws, tweets[lo:hi], probs, best)
					i++
				}
			})
			sent := float64(b.N*batch) / b.Elapsed().Seconds()
			b.ReportMetric(sent, "sentences/s")
			b.ReportMetric(float64(processCPU()-cpu0)/1e3/float64(b.N*batch), "cpu-us/sentence")
			b.ReportMetric(sent*flopsPerPass/float64(len(tweets))/1e9, "GFLOP/s")
		})
	}
}

// benchChinese returns n Chinese sentences: the chnsenticorp dev split when
// ../shared/data is present, otherwise generated ones.
func benchChinese(b *testing.B, n int) []string {
	b.Helper()
	var out []string
	if f, err := os.Open(filepath.Join("..", "..", "shared", "data", "waimai_10k", "dev.jsonl")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() && len(out) < n {
			var ex struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &ex) == nil {
				out = append(out, ex.Text)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("我 今天 在 北京 吃 了 一家 很 好吃 的 外卖 送餐 太 慢 了 张三 说 上海 的 天气 不错")
	for len(out) < n {
		var sb strings.Builder
		for range 8 + rng.IntN(20) {
			sb.WriteString(words[rng.IntN(len(words))])
		}
		out = append(out, sb.String())
	}
	return out
}

// loadDefault loads a built-in model file by name, or returns nil.
func loadDefault(b *testing.B, name string, tc *TokenizerCache) Loaded {
	b.Helper()
	f, err := os.Open(filepath.Join("..", "models", name))
	if err != nil {
		return Loaded{}
	}
	defer f.Close()
	l, err := Load(f, name, tc)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkAnalyze measures the joint classifier + tagger on batches of 64
// (run with -cpu 1,2): English tweets with the default English models and
// Chinese sentences with the Chinese ones (random models of the default
// shapes where a file is missing); zh_lexicon is zh with a tagger of the
// same shapes and vocabularies plus lexicon features (random weights).
// Reported: sentences/s, tokens/s, the GFLOP/s of the matrix work of both
// models and CPU time per sentence.
func BenchmarkAnalyze(b *testing.B) {
	for _, name := range []string{"en", "zh", "zh_lexicon"} {
		lang, lexicon := strings.CutSuffix(name, "_lexicon")
		b.Run(name, func(b *testing.B) {
			var tc TokenizerCache
			var texts []string
			if lang == "en" {
				texts = benchTweets(b, 2048)
			} else {
				texts = benchChinese(b, 2048)
			}
			cl := loadDefault(b, "sentiment-"+lang+".safetensors", &tc).Classifier
			tl := loadDefault(b, "ner-"+lang+".safetensors", &tc).Tagger
			tok, err := tc.Get(text.DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			if cl == nil {
				cl, err = NewClassifier(DefaultClassifierConfig(), []string{"negative", "positive"}, NewVocab(nil), tok, rand.New(rand.NewPCG(1, 1)))
				if err != nil {
					b.Fatal(err)
				}
			}
			if tl == nil {
				cfg := DefaultTaggerConfig()
				cfg.NoCharCNN = lang == "zh"
				tl, err = NewTagger(cfg, lang, []string{"B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"}, NewVocab(nil), NewVocab(strings.Split("abcdefghijklmnopqrstuvwxyz", "")), tok, rand.New(rand.NewPCG(1, 1)))
				if err != nil {
					b.Fatal(err)
				}
			}
			if lexicon {
				cfg := tl.Config
				cfg.Lexicon = true
				tl, err = NewTagger(cfg, lang, tl.Tags, tl.Vocab, tl.Chars, tok, rand.New(rand.NewPCG(1, 1)))
				if err != nil {
					b.Fatal(err)
				}
			}
			a, err := NewAnalyzer(cl.Compile(), tl.Compile())
			if err != nil {
				b.Fatal(err)
			}
			// Count tokens and FLOPs of one pass over texts.
			var buf text.Buffer
			var words, chars int
			for _, s := range texts {
				toks := tok.Tokenize(&buf, s)
				words += min(len(toks), cl.Config.MaxTokens)
				chars += min(len(CharView(nil, toks, nil)), tl.Config.MaxTokens)
			}
			cc, tcfg := cl.Config, tl.Config
			in := float64(tcfg.features())
			flops := 2*float64(words)*(2*float64(cc.Embed)*4*float64(cc.Hidden)+2*float64(cc.Hidden)*4*float64(cc.Hidden)) +
				2*float64(chars)*(2*in*4*float64(tcfg.Hidden)+2*float64(tcfg.Hidden)*4*float64(tcfg.Hidden)) +
				float64(chars)*2*2*float64(tcfg.Hidden)*float64(len(tl.Tags))
			const batch = 64
			// One workspace per RunParallel goroutine, grown to its
			// steady-state size before the timer starts: what is
			// measured is the steady state, not the warm-up.
			wss := make(chan *AnalyzerWorkspace, runtime.GOMAXPROCS(0))
			for range cap(wss) {
				ws := a.NewWorkspace()
				for lo := 0; lo < len(texts); lo += batch {
					a.Analyze(ws, texts[lo:min(lo+batch, len(texts))])
				}
				wss <- ws
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				ws := <-wss
				i := 0
				for pb.Next() {
					lo := (i * batch) % len(texts)
					a.Analyze(ws, texts[lo:min(lo+batch, len(texts))])
					i++
				}
			})
			perPass := float64(b.N*batch) / float64(len(texts))
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N*batch)/secs, "sentences/s")
			b.ReportMetric(float64(processCPU()-cpu0)/1e3/float64(b.N*batch), "cpu-us/sentence")
			b.ReportMetric(perPass*float64(chars)/secs, "tokens/s")
			b.ReportMetric(perPass*flops/secs/1e9, "GFLOP/s")
		})
	}
}
