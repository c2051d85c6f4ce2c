package model

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/text"
)

// lexNameBits is the mask of the person, place and organisation bits.
var lexNameBits = func() uint32 {
	var m uint32
	for _, c := range []text.LexCat{text.LexPerson, text.LexPlace, text.LexOrg} {
		for p := text.SegB; p < text.NumSegPos; p++ {
			m |= text.LexBit(c, p)
		}
	}
	return m
}()

// TestCharViewLexMatchesChars requires the lexicon masks of the derived
// character view (CharView over Tokenize, the Analyzer's path) to equal
// those of Tokenizer.Chars, token for token, on mixed text: NFKC-changed
// input (full-width letters, ㍻ → 平成, ㋀ → 1月, compatibility
// ideographs), emoji, Latin words, mentions and URLs holding Han, long Han
// runs, and the shared corpora when present; also for a cut word view (the
// Analyzer's MaxTokens) and with a Buffer reused across texts.
func TestCharViewLexMatchesChars(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	texts := append(viewTexts(t),
		"马云在杭州创办了阿里巴巴 Jack Ma founded Alibaba 😂👍🏽 @马云 http://例子.cn/阿里 #阿里巴巴# ＡＢＣ公司",
		"㍻三十年㋀ 北京大学⑴ 中国人民银行 豈更 Ｉｐｈｏｎｅ手机 ﬁne café",
		strings.Repeat("中华人民共和国国务院总理李克强在人民大会堂会见了来访的外国领导人", 12),
	)
	var b1, b2 text.Buffer
	names := 0
	for _, s := range texts {
		want := slices.Clone(tok.Chars(&b1, s))
		words := tok.Tokenize(&b2, s)
		for _, cut := range []int{len(words), len(words) / 2} {
			got := CharView(nil, words[:cut], &b2)
			if len(got) > len(want) {
				t.Fatalf("%q cut %d: derived %d tokens, Chars %d", s, cut, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%q (cut %d) token %d: derived %+v, Chars %+v", s, cut, i, got[i], want[i])
				}
			}
		}
		for _, c := range want {
			if c.Lex&lexNameBits != 0 {
				names++
			}
		}
	}
	if names < 20 {
		t.Fatalf("only %d characters with a name bit: the test checks too little", names)
	}
	// Without a Buffer the masks are 0.
	for _, c := range CharView(nil, tok.Tokenize(&b2, texts[len(texts)-1]), nil) {
		if c.Lex != 0 {
			t.Fatalf("CharView without a Buffer: %q has Lex %#x", c.Text, c.Lex)
		}
	}
}

// zhNERTask makes Chinese character-tokenized sentences with person, city
// and company names from gse's dictionary, so the lexicon bits are on.
func zhNERTask(rng *rand.Rand, n int) []TaggedSentence {
	people := strings.Fields("马云 张三 李明 王芳 刘德华")
	places := strings.Fields("杭州 北京 上海 深圳 成都")
	orgs := strings.Fields("阿里巴巴 腾讯 百度 华为")
	filler := strings.Fields("今天 我们 看到 他 很 高兴 然后 离开")
	out := make([]TaggedSentence, n)
	for i := range out {
		var toks, tags []string
		add := func(w, typ string) {
			for j, r := range []rune(w) {
				tag := "O"
				if typ != "" {
					tag = "I-" + typ
					if j == 0 {
						tag = "B-" + typ
					}
				}
				toks, tags = append(toks, string(r)), append(tags, tag)
			}
		}
		for range rng.IntN(3) {
			add(filler[rng.IntN(len(filler))], "")
		}
		add(people[rng.IntN(len(people))], "PER")
		add("在", "")
		add(places[rng.IntN(len(places))], "LOC")
		add("创办了", "")
		add(orgs[rng.IntN(len(orgs))], "ORG")
		out[i] = TaggedSentence{Tokens: toks, Tags: tags}
	}
	return out
}

// TestTaggerLexiconSaveLoad trains a tiny Chinese tagger with lexicon
// features, saves and loads it, and requires the loaded model to have the
// setting and tag raw text identically; a tagger without the setting writes
// no "lexicon" field, so files stay readable by older builds.
func TestTaggerLexiconSaveLoad(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(31, 32))
	train, dev := zhNERTask(rng, 240), zhNERTask(rng, 40)
	cfg := TaggerTrainConfig{
		Model:    TaggerConfig{Embed: 8, Hidden: 8, Buckets: 50, Lexicon: true},
		Settings: Settings{Epochs: 3, Batch: 16, LR: 1e-2, Patience: 3, Seed: 4, Workers: 1, Dropout: 0.1},
	}
	tg, reports, err := TrainTagger(context.Background(), tokenizer(t), train, dev, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dev F1 %.3f after %d epochs", reports[len(reports)-1].DevNER.F1, len(reports))
	if !tg.Config.Lexicon || tg.net.fwd.In != tg.Config.features() || tg.Config.features() != tg.Config.Embed+int(text.NumCasing)+int(text.NumSegPos)+text.NumLexBits {
		t.Fatalf("Lexicon %v, LSTM input %d, features %d: want the lexicon columns", tg.Config.Lexicon, tg.net.fwd.In, tg.Config.features())
	}
	l, _ := saveAndLoad(t, tg, "lex.safetensors")
	if !l.Config.Lexicon {
		t.Fatal("loaded tagger has Lexicon off")
	}
	texts := []string{"马云在杭州创办了阿里巴巴", "今天张三在北京 and Jack Ma 😂 在上海创办了腾讯", "", strings.Repeat("李明在深圳创办了华为。", 10)}
	if total := sameEntitiesAfterLoad(t, tg, l, texts); total == 0 {
		t.Fatal("no entities tagged: the comparison checks too little")
	}
	// The Analyzer (CharView path) tags as TagBatch (Chars path).
	b := l.Compile()
	wb := b.NewWorkspace()
	b.TagBatch(wb, texts)
	an, err := NewAnalyzer(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	ws := an.NewWorkspace()
	an.Analyze(ws, texts)
	for i := range texts {
		if !slices.Equal(ws.Entities(i), wb.Entities(i)) {
			t.Fatalf("text %d: analyzer entities %+v, TagBatch %+v", i, ws.Entities(i), wb.Entities(i))
		}
	}
	// Without the setting the file has no lexicon field.
	var buf bytes.Buffer
	if err := biasedTagger(t, "zh").Save(&buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("lexicon")) {
		t.Fatal("a tagger without lexicon features writes a lexicon field")
	}
}

// TestTagBatchLexiconAllocatesNothing extends the zero-allocation contract
// of TagBatch and Analyze to a tagger with lexicon features, on Chinese and
// mixed text.
func TestTagBatchLexiconAllocatesNothing(t *testing.T) {
	tags := []string{"B-LOC", "B-PER", "I-LOC", "I-PER", "O"}
	tg, err := NewTagger(TaggerConfig{Embed: 8, Hidden: 6, Buckets: 50, NoCharCNN: true, Lexicon: true}, "zh", tags, NewVocab(strings.Fields("北 京 马 云")), NewVocab(nil), tokenizer(t), rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	m := tg.Compile()
	texts := []string{"马云在杭州创办了阿里巴巴", "I met 张三 in 北京 :) #NYC @李四 😂", "ok"}
	ws := m.NewWorkspace()
	m.TagBatch(ws, texts)
	if allocs := testing.AllocsPerRun(50, func() { m.TagBatch(ws, texts) }); allocs != 0 {
		t.Fatalf("TagBatch allocates %.1f times per batch, want 0", allocs)
	}
	a, err := NewAnalyzer(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	aws := a.NewWorkspace()
	a.Analyze(aws, texts)
	if allocs := testing.AllocsPerRun(50, func() { a.Analyze(aws, texts) }); allocs != 0 {
		t.Fatalf("Analyze allocates %.1f times per batch, want 0", allocs)
	}
}

func TestTaggerLexiconNeedsDictionary(t *testing.T) {
	t.Parallel()
	_, err := NewTagger(TaggerConfig{Embed: 8, Hidden: 6, NoCharCNN: true, Buckets: 50, Lexicon: true}, "zh", []string{"B-PER", "I-PER", "O"}, NewVocab(nil), NewVocab(nil), charsTokenizer(t), rand.New(rand.NewPCG(1, 1)))
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("NewTagger with lexicon and the chars tokenizer: %v, want ErrConfig", err)
	}
}

// TestGoldAndRawLexiconAgree: a pre-tokenized sentence (training data) and
// the same raw text (inference) give the same lexicon masks, some with name
// bits, and an English token none.
func TestGoldAndRawLexiconAgree(t *testing.T) {
	t.Parallel()
	tg := biasedTagger(t, "zh")
	tg.Config.Lexicon = true
	sent := "马云在杭州创办了阿里巴巴"
	var gold, raw tagFeatures
	gold.reset()
	raw.reset()
	var buf text.Buffer
	tg.encodeGold(&gold, &buf, strings.Split(sent, ""))
	var spans []tokSpan
	tg.encodeTokens(&raw, nil, sent, tg.Tokenizer.Chars(&buf, sent), &spans)
	if len(gold.lex) != len([]rune(sent)) || !slices.Equal(gold.lex, raw.lex) || !slices.Equal(gold.seg, raw.seg) {
		t.Fatalf("lexicon masks differ:\ngold %x\nraw  %x", gold.lex, raw.lex)
	}
	if gold.lex[0]&lexNameBits == 0 || gold.lex[3]&lexNameBits == 0 {
		t.Fatalf("马 and 杭 have no name bits: %x", gold.lex)
	}
	tg.Lang = "en"
	var en tagFeatures
	en.reset()
	tg.encodeGold(&en, &buf, []string{"Jack", "Ma", "马"})
	if en.lex[0] != 0 || en.lex[1] != 0 || en.lex[2] == 0 {
		t.Fatalf("English tokens' masks %x, want 0 0 and a Han mask", en.lex)
	}
}

// TestTaggerLexiconGradient checks the analytic gradient of the training
// loss (forwardBackward, dropout off) against central finite differences
// for every weight of the lexicon columns' LSTM input rows and every third
// other weight of a tiny tagger with lexicon features; the tolerance is
// that of TestLMGradient.
func TestTaggerLexiconGradient(t *testing.T) {
	t.Parallel()
	tags := []string{"B-LOC", "B-PER", "I-LOC", "I-PER", "O"}
	tok := tokenizer(t)
	cfg := TaggerConfig{Embed: 4, Hidden: 4, Buckets: 7, NoCharCNN: true, Lexicon: true}
	tg, err := NewTagger(cfg, "zh", tags, NewVocab(strings.Fields("马 在 杭")), NewVocab(nil), tok, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int32{}
	for i, s := range tg.Tags {
		idx[s] = int32(i)
	}
	var buf text.Buffer
	var data []taggedEncoded
	for _, s := range zhNERTask(rand.New(rand.NewPCG(9, 9)), 3) {
		var e taggedEncoded
		e.f.reset()
		tg.encodeGold(&e.f, &buf, s.Tokens)
		for _, tag := range s.Tags {
			if tag == "B-ORG" || tag == "I-ORG" {
				tag = "O"
			}
			e.tags = append(e.tags, idx[tag])
		}
		data = append(data, e)
	}
	w := &tagWorker{tg: tg, net: tg.net.gradView(), rng: rand.New(rand.NewPCG(1, 1)), vocab: int32(tg.Vocab.Len())}
	loss := func() float64 {
		for _, p := range w.net.params() {
			p.ZeroGrad()
		}
		w.forwardBackward(data, []int{0, 1, 2}, 0, 0)
		return w.loss
	}
	// The analytic gradients at the unperturbed weights, before any
	// finite-difference call overwrites them.
	loss()
	var grads [][]float64
	for _, p := range w.net.params() {
		grads = append(grads, slices.Clone(p.G))
	}
	masters := tg.net.params()
	lexRows := 0
	for k, p := range w.net.params() {
		g := grads[k]
		master := masters[k]
		const h = 1e-5
		lexFrom := -1 // first weight of the lexicon input rows of an LSTM
		if p.Name == "fwd.wx" || p.Name == "bwd.wx" {
			lexFrom = (cfg.Embed + int(text.NumCasing) + int(text.NumSegPos)) * p.Cols
		}
		for i := range master.W {
			if i%3 != 0 && (lexFrom < 0 || i < lexFrom) {
				continue // every weight of the lexicon rows, a third of the others
			}
			old := master.W[i]
			master.W[i] = old + h
			fp := loss()
			master.W[i] = old - h
			fm := loss()
			master.W[i] = old
			num := (fp - fm) / (2 * h)
			if d := math.Abs(num - g[i]); d > 1e-6*math.Max(1, math.Abs(num)+math.Abs(g[i])) {
				t.Fatalf("%s[%d]: analytic %.10g, numeric %.10g", p.Name, i, g[i], num)
			}
		}
		if p == w.net.fwd.Wx {
			// Rows of the lexicon columns: the last NumLexBits input rows.
			cols := p.Cols
			for r := cfg.Embed + int(text.NumCasing) + int(text.NumSegPos); r < tg.Config.features(); r++ {
				if slices.ContainsFunc(g[r*cols:(r+1)*cols], func(v float64) bool { return v != 0 }) {
					lexRows++
				}
			}
		}
	}
	if lexRows < 3 {
		t.Fatalf("only %d lexicon input rows of fwd.Wx have a gradient: the columns are not wired in", lexRows)
	}
}
