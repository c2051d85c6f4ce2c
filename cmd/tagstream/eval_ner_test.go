package main

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/metrics"
)

// typeMapSchemes gives, per data set style, the tags of the five roles of
// a writeTypeMapData sentence: name, city, language, the two tokens of a
// nominal mention ("the president") and the rest.
var typeMapSchemes = map[string][5][]string{
	// what the test tagger learns: Weibo-style named/nominal marks and a
	// CoNLL-style MISC
	"train":   {{"B-PER.NAM"}, {"B-LOC.NAM"}, {"B-MISC"}, {"B-PER.NOM", "I-PER.NOM"}, {"O"}},
	"btc":     {{"B-PER"}, {"B-LOC"}, {"O"}, {"O", "O"}, {"O"}},
	"cluener": {{"B-name"}, {"B-address"}, {"O"}, {"B-position", "I-position"}, {"O"}},
}

// writeTypeMapData writes n sentences "[pre] mr <name> visited <city>
// speaking <language> with the <title> today" tagged in scheme. The
// optional first word has accented letters, so rune and byte offsets
// differ before the entities.
func writeTypeMapData(t *testing.T, path, scheme string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	pick := func(s string) string { f := strings.Fields(s); return f[rng.IntN(len(f))] }
	sc := typeMapSchemes[scheme]
	var b strings.Builder
	for range n {
		var toks, tags []string
		add := func(tt []string, words ...string) {
			toks, tags = append(toks, words...), append(tags, tt...)
		}
		if pre := pick("- éé ñandú so"); pre != "-" {
			add(sc[4], pre)
		}
		add(sc[4], "mr")
		add(sc[0], pick("John Mary Ahmed Wei Olga"))
		add(sc[4], "visited")
		add(sc[1], pick("Paris Lagos Osaka Lima Oslo"))
		add(sc[4], "speaking")
		add(sc[2], pick("German French Swahili Hindi"))
		add(sc[4], "with")
		add(sc[3], "the", pick("president mayor coach"))
		add(sc[4], "today")
		js, err := json.Marshal(map[string][]string{"tokens": toks, "tags": tags})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(js)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// evalResult is the part of eval --json the tests read.
type evalResult struct {
	metrics.NER
	TypeMap string `json:"type_map"`
	Mode    string `json:"mode"`
}

func runEvalJSON(t *testing.T, args ...string) evalResult {
	t.Helper()
	out, err := run(t, "", append([]string{"eval", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("eval %v: %v", args, err)
	}
	var r evalResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("eval %v output %q: %v", args, out, err)
	}
	return r
}

// TestEvalTypeMap trains a small tagger whose raw types are PER.NAM,
// PER.NOM, LOC.NAM and MISC and scores it with eval --type-map and --text.
func TestEvalTypeMap(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	writeTypeMapData(t, path("train.jsonl"), "train", 300, 1)
	writeTypeMapData(t, path("dev.jsonl"), "train", 40, 2)
	const n = 50
	writeTypeMapData(t, path("btc.jsonl"), "btc", n, 3)
	writeTypeMapData(t, path("cluener.jsonl"), "cluener", n, 3)
	mdl := path("ner.safetensors")
	if _, err := run(t, "", "train", "ner", "--train", path("train.jsonl"), "--dev", path("dev.jsonl"), "--out", mdl, "--epochs", "6",
		"--embed", "16", "--hidden", "16", "--char-embed", "8", "--char-filters", "8", "--buckets", "64", "--lr", "0.01", "--quiet", "--ema", "-1"); err != nil {
		t.Fatal(err)
	}
	// The model must have learnt its own data, or nothing below means much.
	if r := runEvalJSON(t, "--model", mdl, "--data", path("dev.jsonl")); r.F1 != 1 || r.Mode != evalModeTokens || r.TypeMap != "" {
		t.Fatalf("raw eval on the training style: f1 %v, mode %q, type map %q; want 1, tokens, none", r.F1, r.Mode, r.TypeMap)
	}

	t.Run("btc drops predicted MISC and nominal mentions", func(t *testing.T) {
		// Gold: n PER and n LOC. The model also finds n MISC and n nominal
		// PER; btc annotates no MISC and nominal mentions are never scored.
		var byMode [2]evalResult
		for i, mode := range []string{evalModeTokens, evalModeText} {
			args := []string{"--model", mdl, "--data", path("btc.jsonl"), "--type-map", "btc"}
			if mode == evalModeText {
				args = append(args, "--text")
			}
			r := runEvalJSON(t, args...)
			if r.Mode != mode || r.TypeMap != "btc" {
				t.Errorf("%s: mode %q, type map %q", mode, r.Mode, r.TypeMap)
			}
			if r.Gold != 2*n || r.Predicted != 2*n || r.Correct != 2*n || r.F1 != 1 {
				t.Errorf("%s: gold %d predicted %d correct %d f1 %v; want %d, %d, %d, 1", mode, r.Gold, r.Predicted, r.Correct, r.F1, 2*n, 2*n, 2*n)
			}
			if types := slices.Sorted(maps.Keys(r.PerType)); !slices.Equal(types, []string{"LOC", "PER"}) {
				t.Errorf("%s: per-type keys %v, want [LOC PER]", mode, types)
			}
			byMode[i] = r
		}
		// Same tokenization both ways: the same figures (text mode has no
		// token counts). Rune offsets matter: the sentences may start with
		// "éé".
		tok, txt := byMode[0].NER, byMode[1].NER
		tok.Tokens, tok.TokenAccuracy = 0, 0
		if !reflect.DeepEqual(tok, txt) {
			t.Errorf("tokens mode %+v, text mode %+v: want equal", tok, txt)
		}
		// --text without a map: the model's reported types, nominal PER and
		// MISC included, against the gold types as they are.
		r := runEvalJSON(t, "--model", mdl, "--data", path("btc.jsonl"), "--text")
		if r.Mode != evalModeText || r.TypeMap != "" || r.Predicted != 4*n || r.Correct != 2*n || r.PerType["MISC"].Precision != 0 {
			t.Errorf("--text without --type-map: %+v; want %d predicted (MISC and nominal kept), %d correct", r, 4*n, 2*n)
		}
	})

	t.Run("gold types only drops types the data never has", func(t *testing.T) {
		// The dev data with its MISC spans turned to O: raw scoring counts
		// the model's (right) MISC as errors, --gold-types-only does not.
		b, err := os.ReadFile(path("dev.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		noMisc := strings.NewReplacer(`"B-MISC"`, `"O"`, `"I-MISC"`, `"O"`).Replace(string(b))
		if noMisc == string(b) {
			t.Fatal("dev data has no MISC to remove")
		}
		if err := os.WriteFile(path("nomisc.jsonl"), []byte(noMisc), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := runEvalJSON(t, "--model", mdl, "--data", path("nomisc.jsonl")); r.F1 == 1 || r.PerType["MISC"].Precision != 0 {
			t.Errorf("raw: f1 %v, MISC %+v; want MISC predictions counted as errors", r.F1, r.PerType["MISC"])
		}
		r := runEvalJSON(t, "--model", mdl, "--data", path("nomisc.jsonl"), "--gold-types-only")
		if _, ok := r.PerType["MISC"]; r.F1 != 1 || ok {
			t.Errorf("--gold-types-only: f1 %v, per type %v; want 1 and no MISC", r.F1, r.PerType)
		}
	})

	t.Run("cluener position is not scored", func(t *testing.T) {
		// Gold: n name (PER), n address (LOC), n position (dropped). The
		// model's MISC is kept (CLUENER has MISC: books, games, films) and
		// wrong here; its nominal "the president" is dropped.
		for _, extra := range [][]string{nil, {"--text"}} {
			args := append([]string{"--model", mdl, "--data", path("cluener.jsonl"), "--type-map", "cluener"}, extra...)
			r := runEvalJSON(t, args...)
			if r.Gold != 2*n || r.Predicted != 3*n || r.Correct != 2*n || r.Recall != 1 {
				t.Errorf("%v: gold %d predicted %d correct %d recall %v; want %d, %d, %d, 1", extra, r.Gold, r.Predicted, r.Correct, r.Recall, 2*n, 3*n, 2*n)
			}
			if types := slices.Sorted(maps.Keys(r.PerType)); !slices.Equal(types, []string{"LOC", "MISC", "PER"}) {
				t.Errorf("%v: per-type keys %v, want [LOC MISC PER]", extra, types)
			}
		}
	})

	t.Run("unknown gold type", func(t *testing.T) {
		bad := path("unknown.jsonl")
		data := `{"tokens": ["mr", "Wei"], "tags": ["O", "B-PER"]}
{"tokens": ["mr", "Wei"], "tags": ["O", "B-PERSON"]}
`
		if err := os.WriteFile(bad, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := run(t, "", "eval", "--model", mdl, "--data", bad, "--type-map", "btc", "--text")
		if err == nil {
			t.Fatal("no error for gold type PERSON")
		}
		for _, want := range []string{`"PERSON"`, bad, "line 2", "btc"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})

	t.Run("bad map", func(t *testing.T) {
		notJSON, badType := path("map-syntax.json"), path("map-type.json")
		if err := os.WriteFile(notJSON, []byte(`{"types": {"PER": "PER"`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(badType, []byte(`{"types": {"person": "PERSON"}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ arg, want string }{
			{notJSON, notJSON},
			{badType, badType},
			{path("missing.json"), "cluener"}, // lists the built-in maps
		} {
			_, err := run(t, "", "eval", "--model", mdl, "--data", path("btc.jsonl"), "--type-map", tt.arg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.arg) {
				t.Errorf("--type-map %s: error %v, want one naming %q", tt.arg, err, tt.want)
			}
		}
	})

	t.Run("file map equals built-in", func(t *testing.T) {
		file := path("btc-copy.json")
		if err := os.WriteFile(file, []byte(`{"types": {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runEvalJSON(t, "--model", mdl, "--data", path("btc.jsonl"), "--type-map", file)
		if r.TypeMap != file || r.Predicted != 2*n || r.Correct != 2*n {
			t.Errorf("map file: %+v; want type map %s and %d predicted, all correct", r, file, 2*n)
		}
	})

	t.Run("json keys and human output", func(t *testing.T) {
		out, err := run(t, "", "eval", "--model", mdl, "--data", path("btc.jsonl"), "--type-map", "btc", "--text", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &obj); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"precision", "recall", "f1", "n", "per_type", "token_accuracy", "gold_entities",
			"predicted_entities", "correct_entities", "type_map", "mode"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("eval --json lacks key %q: %s", k, out)
			}
		}
		out, err = run(t, "", "eval", "--model", mdl, "--data", path("btc.jsonl"), "--type-map", "btc", "--text")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"micro precision: 1.0000", "type map: btc (scored types LOC, ORG, PER", "mode: text"} {
			if !strings.Contains(out, want) {
				t.Errorf("report lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestEvalTypeMapClassifierRefused(t *testing.T) {
	t.Parallel()
	_, err := run(t, "", "eval", "--model", "../../models/sentiment-en.safetensors", "--data", "unused.jsonl", "--type-map", "btc")
	if err == nil || !strings.Contains(err.Error(), "apply to a tagger") {
		t.Fatalf("eval --type-map on a classifier: %v", err)
	}
}

// TestEvalUnifiedType checks CompiledTagger.UnifiedType against the
// built-in Chinese tagger, whose raw types carry .NAM/.NOM and whose map
// makes GPE a location.
func TestEvalUnifiedType(t *testing.T) {
	t.Parallel()
	var tc model.TokenizerCache
	m, err := modelfile.Load("../../models/ner-zh.safetensors", &tc)
	if err != nil {
		t.Fatal(err)
	}
	ct := m.Tagger.Compile()
	tests := []struct {
		raw, typ string
		nominal  bool
	}{
		{"GPE.NAM", "LOC", false},
		{"GPE.NOM", "LOC", true},
		{"PER.NOM", "PER", true},
		{"ORG.NAM", "ORG", false},
		{"person", "PER", false}, // the model's map, unmarked
		{"THING", "THING", false},
	}
	for _, tt := range tests {
		if typ, nom := ct.UnifiedType(tt.raw); typ != tt.typ || nom != tt.nominal {
			t.Errorf("UnifiedType(%q) = %q, %v; want %q, %v", tt.raw, typ, nom, tt.typ, tt.nominal)
		}
	}
	// PredictSentences returns one raw tag of the model per token.
	tokens := [][]string{strings.Split("我在北京见到了王小明", ""), {}, {"好"}}
	pred := ct.PredictSentences(tokens)
	if len(pred) != len(tokens) {
		t.Fatalf("PredictSentences: %d sentences, want %d", len(pred), len(tokens))
	}
	for i, p := range pred {
		if len(p) != len(tokens[i]) {
			t.Fatalf("sentence %d: %d tags for %d tokens", i, len(p), len(tokens[i]))
		}
		for _, tag := range p {
			if !slices.Contains(ct.Tags(), tag) {
				t.Fatalf("sentence %d: tag %q is not one of the model's", i, tag)
			}
		}
	}
}
