package model

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/text"
)

// benchData returns n texts: the "text" field of the lines of a data set's
// dev split in ../shared/data (beside the repository), cycled when there are
// fewer than n (so batches of 64 tile them exactly); it skips the benchmark,
// saying so, when it is absent: benchmarks measure real text only. The
// benchmark logs what it read.
func benchData(b *testing.B, set string, n int) []string {
	b.Helper()
	path := filepath.Join("..", "..", "shared", "data", set, "dev.jsonl")
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("SKIP: no benchmark data: %v (benchmarks read real text only; put ../shared/data beside the repository)", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ex struct{ Text string }
		if json.Unmarshal(sc.Bytes(), &ex) == nil && ex.Text != "" {
			out = append(out, ex.Text)
		}
	}
	if err := sc.Err(); err != nil || len(out) == 0 {
		b.Fatalf("read %s: %d texts, %v", path, len(out), err)
	}
	read := len(out)
	for i := 0; len(out) < n; i++ {
		out = append(out, out[i])
	}
	b.Logf("read %d texts of %s; %d used (cycled)", read, path, n)
	return out[:n]
}

// benchTweets returns 2,048 tweets: the 2,000 tweeteval dev tweets, cycled.
func benchTweets(b *testing.B) []string { return benchData(b, "tweeteval_sentiment", 2048) }

// benchChinese returns 2,048 Chinese posts: the 984 weibo2018 dev posts
// (everyday Weibo text), cycled.
func benchChinese(b *testing.B) []string { return benchData(b, "weibo2018", 2048) }

// benchModel loads the built-in English sentiment model.
func benchModel(b *testing.B) *CompiledClassifier {
	b.Helper()
	f, err := os.Open(filepath.Join("..", "models", "sentiment-en.safetensors"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var tc TokenizerCache
	c, err := LoadClassifier(f, "sentiment-en.safetensors", &tc)
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
			tweets := benchTweets(b)
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

// loadModelFile loads model file name from dir, failing the test or benchmark if
// it is missing or bad.
func loadModelFile(b testing.TB, dir, name string, tc *TokenizerCache) Loaded {
	b.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	l, err := Load(f, name, tc)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkAnalyze measures the joint classifier + tagger of a language on
// batches of 64 real posts (run with -cpu 1,2): en runs the built-in English
// models on tweeteval dev tweets, zh the Chinese ones on weibo2018 dev
// posts. en_tasks runs the English tasks analyzer on the same tweets as en:
// sentiment-en and the multi-label emotion-en classifiers and ner-en over
// one tokenization (NewTaskAnalyzer); it sorts after en so -bench
// 'Analyze/en' runs both. With TAGSTREAM_BENCH_BASELINE set to a directory
// holding another build's sentiment-{en,zh}.safetensors and
// ner-{en,zh}.safetensors (e.g. from git show
// REV:models/ner-en.safetensors), en_baseline and zh_baseline run those on
// the same texts in the same run, so benchstat can set them side by side.
// Reported: sentences/s, tokens/s (the tagger's tokens), the GFLOP/s of the
// matrix work of all the models (every classifier's input and recurrent
// GEMMs, the tagger's and its output layer) and CPU time per sentence.
func BenchmarkAnalyze(b *testing.B) {
	baseDir := os.Getenv("TAGSTREAM_BENCH_BASELINE")
	for _, name := range []string{"en", "en_tasks", "zh", "zh_tasks", "en_baseline", "zh_baseline"} {
		lang, baseline := strings.CutSuffix(name, "_baseline")
		lang, tasks := strings.CutSuffix(lang, "_tasks")
		b.Run(name, func(b *testing.B) {
			dir := filepath.Join("..", "models")
			if baseline {
				if baseDir == "" {
					b.Skip("TAGSTREAM_BENCH_BASELINE is not set")
				}
				dir = baseDir
			}
			var texts []string
			if lang == "en" {
				texts = benchTweets(b)
			} else {
				texts = benchChinese(b)
			}
			var tc TokenizerCache
			clsNames := []string{"sentiment-" + lang + ".safetensors"}
			if tasks {
				clsNames = append(clsNames, "emotion-"+lang+".safetensors")
			}
			var cls []*Classifier
			var compiled []*CompiledClassifier
			for _, n := range clsNames {
				cl := loadModelFile(b, dir, n, &tc).Classifier
				if cl == nil {
					b.Fatalf("%s in %s: want a classifier", n, dir)
				}
				cls, compiled = append(cls, cl), append(compiled, cl.Compile())
			}
			tl := loadModelFile(b, dir, "ner-"+lang+".safetensors", &tc).Tagger
			if tl == nil {
				b.Fatalf("%s: want a tagger", dir)
			}
			b.Logf("models from %s: %v and a tagger", dir, clsNames)
			tok := tl.Tokenizer
			a, err := NewTaskAnalyzer(compiled, tl.Compile())
			if err != nil {
				b.Fatal(err)
			}
			// Count tokens and FLOPs of one pass over texts: per
			// classifier 2 directions × words × (2·D·4H + 2·H·4H); the
			// tagger's the same over characters plus its output layer.
			var buf text.Buffer
			var chars int
			words := make([]int, len(cls))
			for _, s := range texts {
				toks := tok.Tokenize(&buf, s)
				for k, cl := range cls {
					words[k] += min(len(toks), cl.Config.MaxTokens)
				}
				chars += min(len(CharView(nil, toks, nil)), tl.Config.MaxTokens)
			}
			var flops float64
			for k, cl := range cls {
				cc := cl.Config
				flops += 2 * float64(words[k]) * (2*float64(cc.Embed)*4*float64(cc.Hidden) + 2*float64(cc.Hidden)*4*float64(cc.Hidden))
			}
			tcfg := tl.Config
			in := float64(tcfg.features())
			flops += 2*float64(chars)*(2*in*4*float64(tcfg.Hidden)+2*float64(tcfg.Hidden)*4*float64(tcfg.Hidden)) +
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
