package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/safetensors"
	"github.com/tagstream/tagstream/model/text"
)

var updateLoadSeeds = flag.Bool("update-load-seeds", false, "rewrite testdata/fuzz/FuzzLoad seed files")

// fuzzTokenizerCache returns a cache holding, for every valid tokenizer
// setting, a dictionary-free tokenizer with the same other settings: a
// mutated "dict" must not load gse's 130 MB dictionary, and tokenization
// details do not matter to the loader.
func fuzzTokenizerCache(tb testing.TB) *TokenizerCache {
	tb.Helper()
	tc := &TokenizerCache{toks: map[text.Options]*text.Tokenizer{}}
	for rep := -1; rep <= 64; rep++ {
		for bits := range 8 {
			o := text.Options{KeepCase: bits&1 != 0, NoSplitHashtags: bits&2 != 0, KeepSkinTone: bits&4 != 0, MaxRepeat: rep, Dict: text.DictChars}
			tok, err := text.New(o)
			if err != nil {
				tb.Fatal(err)
			}
			for _, dict := range []string{"", "zh", "zh_s", "zh_t", text.DictChars} {
				o.Dict = dict
				tc.toks[o] = tok
			}
		}
	}
	return tc
}

// reforge rewrites a model file with metadata key set to value (deleted if
// value is "") and tensor name replaced by t (if t.Name != ""), with a
// fresh checksum: a forged file that passes the layout checks.
func reforge(tb testing.TB, file []byte, key, value string, t safetensors.Tensor) []byte {
	tb.Helper()
	f, err := safetensors.Read(bytes.NewReader(file), MaxModelBytes)
	if err != nil {
		tb.Fatal(err)
	}
	delete(f.Meta, safetensors.ChecksumKey)
	if key != "" {
		if value == "" {
			delete(f.Meta, key)
		} else {
			f.Meta[key] = value
		}
	}
	ts := slices.Clone(f.Tensors)
	for i := range ts {
		if t.Name != "" && ts[i].Name == t.Name {
			ts[i] = t
		}
	}
	var b bytes.Buffer
	if err := safetensors.Write(&b, ts, f.Meta); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// resign replaces the "sha256" metadata value of a file by the checksum of
// its byte buffer (same length, so nothing moves), letting mutations of the
// weights reach the checks behind the checksum. Unparseable input is
// returned unchanged.
func resign(data []byte) []byte {
	if len(data) < 8 {
		return data
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8) {
		return data
	}
	key := []byte(`"` + safetensors.ChecksumKey + `":"`)
	i := bytes.Index(data[8:8+n], key)
	if i < 0 || uint64(i+len(key)+64) > n {
		return data
	}
	sum := sha256.Sum256(data[8+n:])
	out := bytes.Clone(data)
	at := 8 + i + len(key)
	hex.Encode(out[at:at+64], sum[:])
	return out
}

// tinyModels returns the smallest real models of each kind the loaders
// accept, so that mutation and minimization stay fast: a classifier (bias
// towards its last label) and an English tagger with a character CNN and
// a Chinese one without, both biased towards entity tags.
func tinyModels(tb testing.TB) (cls *Classifier, en, zh *Tagger) {
	tb.Helper()
	tok := charsTokenizer(tb)
	rng := rand.New(rand.NewPCG(7, 7))
	cls, err := NewClassifier(ClassifierConfig{Embed: 4, Hidden: 4, Buckets: 4, MaxTokens: 16, PoolInputs: true},
		[]string{"neg", "pos"}, NewVocab(strings.Fields("good bad 好")), tok, rng)
	if err != nil {
		tb.Fatal(err)
	}
	cls.net.out.B.W[1] = 0.5
	tags := []string{"B-LOC", "B-PER", "I-LOC", "I-PER", "O"}
	for _, lang := range []string{"en", "zh"} {
		cfg := TaggerConfig{Embed: 4, Hidden: 4, CharEmbed: 2, CharFilters: 2, CharWindow: 3, Buckets: 4, MaxTokens: 32, MaxWordChars: 8, NoCharCNN: lang == "zh", Bigrams: lang == "zh"}
		tg, err := NewTagger(cfg, lang, tags, NewVocab(strings.Fields("北 new york")), NewVocab(strings.Fields("a N 北")), tok, rng)
		if err != nil {
			tb.Fatal(err)
		}
		for j := range 4 {
			tg.net.out.B.W[j] = 1.5
		}
		tg.TypeMap = map[string]string{"GPE": "LOC"}
		if lang == "en" {
			en = tg
		} else {
			zh = tg
		}
	}
	return cls, en, zh
}

// loadSeeds are the named seed files of FuzzLoad: tiny real models of both
// kinds and forged variants of them.
func loadSeeds(tb testing.TB) map[string][]byte {
	tb.Helper()
	save := func(write func(io.Writer) error) []byte {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			tb.Fatal(err)
		}
		return b.Bytes()
	}
	c, en, zh := tinyModels(tb)
	cls, ner, nerZh := save(c.Save), save(en.Save), save(zh.Save)
	none := safetensors.Tensor{}
	big := safetensors.NewF64("out.b", []int{2}, []float64{1e300, -1})
	return map[string][]byte{
		"classifier":          cls,
		"tagger_en":           ner,
		"tagger_zh":           nerZh,
		"classifier_cut":      cls[:len(cls)/2],
		"classifier_huge_cfg": reforge(tb, cls, metaConfig, `{"embed":1024,"hidden":1024,"buckets":4194304,"max_tokens":4096}`, none),
		"classifier_f64_huge": reforge(tb, cls, "", "", big),
		"classifier_labels":   reforge(tb, cls, metaLabels, `["a","\u202e\u200d"]`, none),
		"tagger_i_only":       reforge(tb, ner, metaTags, `["I-LOC","I-PER","I-X","I-Y","I-Z"]`, none),
		"tagger_empty_types":  reforge(tb, ner, metaTags, `["B-","I-","O","B-PER","I-PER"]`, none),
		"tagger_no_typemap":   reforge(tb, ner, metaTypeMap, "", none),
		"tagger_lang":         reforge(tb, nerZh, metaLang, `"fr"`, none),
		"tagger_tokenizer":    reforge(tb, ner, metaTokenizer, `{"dict":"zh","max_repeat":-1,"keep_case":true}`, none),
		"nested_json":         reforge(tb, cls, metaVocab, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, none),
		"huge_header_len":     append([]byte{0xf0, 0xff, 0xff, 0xff, 0, 0, 0, 0}, cls[8:64]...),
	}
}

// loadBases returns the seed files of FuzzLoad in name order.
func loadBases(tb testing.TB) (names []string, files [][]byte) {
	tb.Helper()
	m := loadSeeds(tb)
	names = slices.Sorted(maps.Keys(m))
	for _, n := range names {
		files = append(files, m[n])
	}
	return names, files
}

// loadMutant is one FuzzLoad input: base file index, offset, replacement
// bytes, number of bytes replaced, and whether to recompute the checksum.
type loadMutant struct {
	name   string
	base   uint8
	at     uint16
	patch  []byte
	del    uint16
	resign bool
}

// loadCorpus lists the corpus entries kept in testdata/fuzz/FuzzLoad:
// every base file as is and re-signed, and patches that reach the checks
// behind the layout (a forged header length, NaN and float32-max weights
// with a valid checksum).
func loadCorpus(tb testing.TB) []loadMutant {
	tb.Helper()
	names, files := loadBases(tb)
	var out []loadMutant
	for i, n := range names {
		out = append(out, loadMutant{name: n, base: uint8(i)}, loadMutant{name: n + "_resign", base: uint8(i), resign: true})
	}
	maxes := bytes.Repeat([]byte{0xff, 0xff, 0x7f, 0x7f}, 16) // float32 max, little-endian
	for i, n := range names {
		f := files[i]
		if n != "classifier" && n != "tagger_en" && n != "tagger_zh" {
			continue
		}
		payload := 8 + int(binary.LittleEndian.Uint64(f))
		out = append(out,
			loadMutant{name: n + "_header_len", base: uint8(i), patch: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, del: 8},
			loadMutant{name: n + "_nan", base: uint8(i), at: uint16(payload + 4), patch: []byte{0, 0, 0xc0, 0x7f}, del: 4, resign: true},
			loadMutant{name: n + "_max_out", base: uint8(i), at: uint16(len(f) - len(maxes)), patch: maxes, del: uint16(len(maxes)), resign: true},
			loadMutant{name: n + "_max_first", base: uint8(i), at: uint16(payload), patch: maxes, del: uint16(len(maxes)), resign: true},
		)
	}
	return out
}

// TestLoadSeedCorpus keeps testdata/fuzz/FuzzLoad in sync with loadCorpus;
// run with -update-load-seeds to regenerate it.
func TestLoadSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzLoad")
	for _, m := range loadCorpus(t) {
		path := filepath.Join(dir, m.name)
		content := fmt.Appendf(nil, "go test fuzz v1\nbyte(%q)\nuint16(%d)\n[]byte(%q)\nuint16(%d)\nbool(%v)\n", m.base, m.at, m.patch, m.del, m.resign)
		if *updateLoadSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s is stale or missing (%v); run go test -run TestLoadSeedCorpus -update-load-seeds", path, err)
		}
	}
}

// heapAllocs returns the bytes allocated on the heap so far.
func heapAllocs(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// FuzzLoad loads mutants of tiny real model files of both kinds and of
// forged ones (see loadSeeds): base picks the file, and del bytes from
// offset at are replaced by patch (overwrite, insert or cut); with resigned
// the checksum is recomputed, so mutated weights get past it. The inputs
// stay small, which keeps the fuzzer's quadratic minimization short (whole
// KB-sized files as the fuzzed []byte spent most of a run minimizing).
//
// Load must return an error or a usable model, never panic, and never
// allocate more than a small multiple of the input (a forged header must
// not reserve memory for weights the file does not hold). An accepted model
// must label and tag any text with in-range results and survive Save and
// Load.
func FuzzLoad(f *testing.F) {
	for _, m := range loadCorpus(f) {
		f.Add(m.base, m.at, m.patch, m.del, m.resign)
	}
	_, bases := loadBases(f)
	tc := fuzzTokenizerCache(f)
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	texts := []string{nerTexts[0], nerTexts[1], "", "\xff\u202e\u200d👩‍👩‍👧 北京", "a"}
	f.Fuzz(func(t *testing.T, base uint8, at uint16, patch []byte, del uint16, resigned bool) {
		file := bases[int(base)%len(bases)]
		pos := min(int(at), len(file))
		end := min(pos+int(del), len(file))
		data := make([]byte, 0, len(file)-(end-pos)+len(patch))
		data = append(append(append(data, file[:pos]...), patch...), file[end:]...)
		if resigned {
			data = resign(data)
		}
		before := heapAllocs(sample)
		l, err := Load(bytes.NewReader(data), "fuzz", tc)
		if used, limit := heapAllocs(sample)-before, 64*uint64(len(data))+16<<20; used > limit {
			t.Fatalf("Load of %d bytes allocated %d bytes (limit %d), error %v", len(data), used, limit, err)
		}
		if err != nil {
			if l.Classifier != nil || l.Tagger != nil {
				t.Fatalf("Load returned a model and error %v", err)
			}
			return
		}
		var saved bytes.Buffer
		switch {
		case l.Classifier != nil && l.Tagger == nil:
			c := l.Classifier
			m := c.Compile()
			nc := len(m.Labels())
			probs := make([]float32, len(texts)*nc)
			best := make([]int, len(texts))
			m.ClassifyBatch(m.NewWorkspace(), texts, probs, best)
			for i, b := range best {
				if b < 0 || b >= nc {
					t.Fatalf("text %d: best label %d of %d", i, b, nc)
				}
			}
			if err := c.Save(&saved); err != nil {
				t.Fatalf("save loaded classifier: %v", err)
			}
		case l.Tagger != nil && l.Classifier == nil:
			tg := l.Tagger
			m := tg.Compile()
			ws := m.NewWorkspace()
			m.TagBatch(ws, texts)
			for i, s := range texts {
				for _, e := range ws.Entities(i) {
					if got, ok := runeSlice(s, e.Start, e.End); !ok || got != e.Text || e.Type == "" {
						t.Fatalf("entity %+v does not match the runes of %q", e, s)
					}
				}
			}
			if err := tg.Save(&saved); err != nil {
				t.Fatalf("save loaded tagger: %v", err)
			}
		default:
			t.Fatalf("Load returned %+v without error", l)
		}
		again, err := Load(bytes.NewReader(saved.Bytes()), "fuzz-again", tc)
		if err != nil {
			t.Fatalf("reload of a saved accepted model: %v", err)
		}
		if (again.Classifier == nil) != (l.Classifier == nil) {
			t.Fatalf("reload changed the kind")
		}
	})
}
