package model

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/text"
)

// nerTask makes sentences from templates with person and city names; names
// are Title-case, so casing and the char CNN both carry signal, and the
// context word before a name tells its type.
func nerTask(rng *rand.Rand, n int) []TaggedSentence {
	first := strings.Fields("John Mary Ahmed Wei Olga Pierre Sara Tom")
	last := strings.Fields("Smith Chen Novak Garcia Okafor Berg")
	cities := strings.Fields("Paris Lagos Osaka Lima Oslo Austin Kyiv")
	filler := strings.Fields("today we saw that it was very nice and then left")
	out := make([]TaggedSentence, n)
	for i := range out {
		var toks, tags []string
		add := func(w, t string) { toks, tags = append(toks, w), append(tags, t) }
		for range rng.IntN(3) {
			add(filler[rng.IntN(len(filler))], "O")
		}
		add("mr", "O")
		add(first[rng.IntN(len(first))], "B-PER")
		if rng.IntN(2) == 0 {
			add(last[rng.IntN(len(last))], "I-PER")
		}
		add("visited", "O")
		add(cities[rng.IntN(len(cities))], "B-LOC")
		for range rng.IntN(3) {
			add(filler[rng.IntN(len(filler))], "O")
		}
		out[i] = TaggedSentence{Tokens: toks, Tags: tags}
	}
	return out
}

func smallTaggerConfig() TaggerTrainConfig {
	return TaggerTrainConfig{
		Model:    TaggerConfig{Embed: 16, Hidden: 16, CharEmbed: 8, CharFilters: 8, Buckets: 200},
		Settings: Settings{Epochs: 6, Batch: 16, LR: 1e-2, Patience: 6, Seed: 4, Workers: 2, Dropout: 0.1},
	}
}

func TestTaggerLearnsSyntheticNER(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 22))
	train, dev := nerTask(rng, 1200), nerTask(rng, 200)
	tg, reports, err := TrainTagger(context.Background(), tokenizer(t), train, dev, smallTaggerConfig(), TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	best := reports[0]
	for _, r := range reports {
		if r.Best {
			best = r
		}
	}
	t.Logf("synthetic NER task: dev entity F1 %.4f (best of %d epochs)", best.DevNER.F1, len(reports))
	if best.DevNER.F1 < 0.95 {
		t.Fatalf("dev entity F1 %.4f after %d epochs, want >= 0.95", best.DevNER.F1, len(reports))
	}
	if tg.Lang != "en" || tg.net.cnn == nil {
		t.Fatalf("lang %q, char CNN %v: want an English tagger with a char CNN", tg.Lang, tg.net.cnn != nil)
	}
	// Raw text through the tokenizer finds the entities with exact offsets.
	m := tg.Compile()
	ws := m.NewWorkspace()
	in := "today mr Mary Chen visited Oslo 🎉"
	m.TagBatch(ws, []string{in})
	got := ws.Entities(0)
	want := []Entity{{Text: "Mary Chen", Type: "PER", Start: 9, End: 18}, {Text: "Oslo", Type: "LOC", Start: 27, End: 31}}
	if len(got) != len(want) {
		t.Fatalf("entities %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entity %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// biasedTagger returns an untrained tagger whose emissions favour entity
// tags, so decoding produces many entities of all lengths.
func biasedTagger(t testing.TB, lang string) *Tagger {
	t.Helper()
	return biasedTaggerWith(t, lang, tokenizer(t))
}

func biasedTaggerWith(t testing.TB, lang string, tok *text.Tokenizer) *Tagger {
	t.Helper()
	tags := []string{"B-LOC", "B-PER", "I-LOC", "I-PER", "O"}
	v := NewVocab(strings.Fields("北 京 new york <url> <user>"))
	chars := NewVocab(strings.Fields("a b c N Y 北"))
	cfg := TaggerConfig{Embed: 8, Hidden: 6, CharEmbed: 4, CharFilters: 5, Buckets: 50, NoCharCNN: lang == "zh"}
	tg, err := NewTagger(cfg, lang, tags, v, chars, tok, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 4; j++ {
		tg.net.out.B.W[j] = 1.5 // entity tags win often
	}
	return tg
}

var nerTexts = []string{
	"I ❤️ 北京 and New York! see https://x.co/a?b=1 @bob #NYC 👩‍👩‍👧 ok",
	"ﬁne Ｔｏｋｙｏ ① 上海浦东机场 😀😀 Paris",
	"",
	"a",
	"\xff\xfe broken utf8 北京",
	strings.Repeat("北京欢迎你 ", 80),
}

func TestTaggerOffsetsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		m := biasedTagger(t, lang).Compile()
		ws := m.NewWorkspace()
		m.TagBatch(ws, nerTexts)
		total := 0
		for i, s := range nerTexts {
			for _, e := range ws.Entities(i) {
				total++
				if got, ok := runeSlice(s, e.Start, e.End); !ok || got != e.Text {
					t.Fatalf("%s text %d: runes [%d:%d] of %q = %q (in range %v), entity text %q", lang, i, e.Start, e.End, s, got, ok, e.Text)
				}
			}
		}
		if total < 10 {
			t.Fatalf("%s: only %d entities decoded: the test checks too little", lang, total)
		}
	}
}

func TestTagBatchAllocatesNothing(t *testing.T) {
	m := biasedTagger(t, "en").Compile()
	ws := m.NewWorkspace()
	en := []string{"New York is big", "I met Bob in Paris :)", "ok"}
	m.TagBatch(ws, en)
	if allocs := testing.AllocsPerRun(50, func() { m.TagBatch(ws, en) }); allocs != 0 {
		t.Fatalf("TagBatch allocates %.1f times per batch, want 0", allocs)
	}
}

func TestTaggerSaveLoad(t *testing.T) {
	t.Parallel()
	tg := biasedTagger(t, "en")
	tg.Info["dev_metrics"] = `{"f1":0.5}`
	var buf bytes.Buffer
	if err := tg.Save(&buf); err != nil {
		t.Fatal(err)
	}
	tc := testTokenizerCache(t)
	l, err := Load(bytes.NewReader(buf.Bytes()), "t.safetensors", tc)
	if err != nil {
		t.Fatal(err)
	}
	if l.Tagger == nil || l.Classifier != nil {
		t.Fatalf("Load returned %+v, want a tagger", l)
	}
	if _, err := LoadClassifier(bytes.NewReader(buf.Bytes()), "t.safetensors", tc); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Fatalf("LoadClassifier on a tagger file: %v, want a kind error", err)
	}
	sameEntitiesAfterLoad(t, tg, l.Tagger, nerTexts)
}

// saveAndLoad writes tg and reads the file back with LoadTagger; it
// returns the loaded tagger and the file.
func saveAndLoad(t *testing.T, tg *Tagger, name string) (*Tagger, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := tg.Save(&buf); err != nil {
		t.Fatal(err)
	}
	l, err := LoadTagger(bytes.NewReader(buf.Bytes()), name, testTokenizerCache(t))
	if err != nil {
		t.Fatal(err)
	}
	return l, buf.Bytes()
}

// sameEntitiesAfterLoad tags texts with the saved tagger a and the loaded b and
// fails at the first text whose entities differ; it returns how many
// entities a found.
func sameEntitiesAfterLoad(t *testing.T, a, b *Tagger, texts []string) int {
	t.Helper()
	ca, cb := a.Compile(), b.Compile()
	wa, wb := ca.NewWorkspace(), cb.NewWorkspace()
	ca.TagBatch(wa, texts)
	cb.TagBatch(wb, texts)
	total := 0
	for i := range texts {
		if ea, eb := wa.Entities(i), wb.Entities(i); !slices.Equal(ea, eb) {
			t.Fatalf("text %d %q: entities %+v before save, %+v after load", i, texts[i], ea, eb)
		}
		total += len(wa.Entities(i))
	}
	return total
}

func FuzzTagBatch(f *testing.F) {
	for _, s := range nerTexts {
		f.Add(s)
	}
	tok := charsTokenizer(f)
	m := biasedTaggerWith(f, "en", tok).Compile()
	mz := biasedTaggerWith(f, "zh", tok).Compile()
	f.Fuzz(func(t *testing.T, s string) {
		for _, mm := range []*CompiledTagger{m, mz} {
			ws := mm.NewWorkspace()
			mm.TagBatch(ws, []string{s, "x"})
			for _, e := range ws.Entities(0) {
				if got, ok := runeSlice(s, e.Start, e.End); !ok || got != e.Text {
					t.Fatalf("entity %+v does not match runes of %q", e, s)
				}
			}
		}
	})
}

// runeSlice returns the bytes of s from rune start to rune end (counting
// runes as range does: an invalid byte is one rune), and whether
// 0 <= start < end <= rune count. For valid UTF-8 it is string([]rune(s)[start:end]).
func runeSlice(s string, start, end int) (string, bool) {
	var at []int
	for i := range s {
		at = append(at, i)
	}
	at = append(at, len(s))
	if start < 0 || start >= end || end >= len(at) {
		return "", false
	}
	return s[at[start]:at[end]], true
}

func TestTaggerTypeMap(t *testing.T) {
	t.Parallel()
	tags := []string{"B-GPE.NOM", "B-PER.NAM", "I-GPE.NOM", "I-PER.NAM", "O"}
	tg, err := NewTagger(TaggerConfig{Embed: 8, Hidden: 6, NoCharCNN: true, Buckets: 50}, "zh", tags, NewVocab(nil), NewVocab(nil), tokenizer(t), rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	tg.TypeMap = DefaultTypeMap()
	for j := 0; j < 4; j++ {
		tg.net.out.B.W[j] = 2
	}
	var buf bytes.Buffer
	if err := tg.Save(&buf); err != nil {
		t.Fatal(err)
	}
	tc := testTokenizerCache(t)
	loaded, err := LoadTagger(bytes.NewReader(buf.Bytes()), "w.safetensors", tc)
	if err != nil {
		t.Fatal(err)
	}
	m := loaded.Compile()
	ws := m.NewWorkspace()
	m.TagBatch(ws, []string{"北京上海广州深圳的朋友们你们好"})
	ents := ws.Entities(0)
	if len(ents) == 0 {
		t.Fatal("no entities decoded")
	}
	seen := map[string]bool{}
	for _, e := range ents {
		if e.Nominal == nil {
			t.Fatalf("entity %+v has no nominal flag", e)
		}
		switch {
		case e.Type == "LOC" && *e.Nominal, e.Type == "PER" && !*e.Nominal:
			seen[e.Type] = true
		default:
			t.Fatalf("entity %+v: want LOC (from GPE.NOM, nominal) or PER (from PER.NAM, named)", e)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no mapped entity checked")
	}
}

// TestNumParams pins the loaders' size formulas to the constructors.
func TestNumParams(t *testing.T) {
	t.Parallel()
	count := paramCount
	for _, pool := range []bool{false, true} {
		cfg := ClassifierConfig{Embed: 8, Hidden: 6, Buckets: 50, MaxTokens: 20, PoolInputs: pool}
		c, err := NewClassifier(cfg, []string{"a", "b", "c"}, NewVocab([]string{"x", "y"}), tokenizer(t), rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.numParams(3, 3), count(c.net.params()); got != want {
			t.Fatalf("classifier (pool %v): formula %d, constructed %d", pool, got, want)
		}
	}
	for _, lang := range []string{"en", "zh"} {
		tg := biasedTagger(t, lang)
		if got, want := tg.Config.numParams(tg.Vocab.Len(), tg.Chars.Len(), len(tg.Tags), 0), count(tg.net.params()); got != want {
			t.Fatalf("tagger %s: formula %d, constructed %d", lang, got, want)
		}
	}
}

// TestGoldAndRawFeaturesAgree checks that a pre-tokenized Chinese sentence
// (training data) and the same raw text (inference) give the same features,
// including word positions and character bigrams.
func TestGoldAndRawFeaturesAgree(t *testing.T) {
	t.Parallel()
	tg := biasedTagger(t, "zh")
	tg.Config.Bigrams = true
	sent := "我在北京大学见到了张三"
	var gold, raw tagFeatures
	gold.reset()
	raw.reset()
	var buf text.Buffer
	tokens := strings.Split(sent, "")
	tg.encodeGold(&gold, &buf, tokens)
	var spans []tokSpan
	tg.encodeTokens(&raw, nil, sent, tg.Tokenizer.Chars(&buf, sent), &spans)
	if !slices.Equal(gold.ids, raw.ids) || !slices.Equal(gold.offs, raw.offs) || !slices.Equal(gold.seg, raw.seg) || !slices.Equal(gold.cas, raw.cas) {
		t.Fatalf("features differ:\ngold ids %v offs %v seg %v\nraw  ids %v offs %v seg %v", gold.ids, gold.offs, gold.seg, raw.ids, raw.offs, raw.seg)
	}
	if len(gold.ids) <= 2*len(tokens) {
		t.Fatalf("only %d rows for %d characters: bigram rows missing", len(gold.ids), len(tokens))
	}
}
