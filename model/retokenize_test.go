package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/text"
)

func TestRetokenize(t *testing.T) {
	t.Parallel()
	tok, err := text.New(text.Options{Dict: text.DictChars, SplitClitics: true, CompoundWords: true})
	if err != nil {
		t.Fatal(err)
	}
	split := func(s string) []string { return strings.Fields(s) }
	for _, tc := range []struct {
		name, sep                          string
		tokens, tags, wantTokens, wantTags []string
	}{
		{"latin run in chinese: one token", "",
			split("喜 欢 L e w i s C a r r o l l 的 书"), split("O O B-PER I-PER I-PER I-PER I-PER I-PER I-PER I-PER I-PER I-PER I-PER I-PER O O"),
			split("喜 欢 LewisCarroll 的 书"), split("O O B-PER O O")},
		{"entity starting inside a merged token", "",
			split("a b 京"), split("O B-LOC I-LOC"),
			split("ab 京"), split("O B-LOC")},
		{"gold token cut in two continues its entity", " ",
			split("saw #SlideShare, today"), split("O B-ORG O"),
			split("saw #SlideShare , today"), split("O B-ORG O O")},
		{"possessive split off an entity", " ",
			split("Obama's podcast"), split("B-PER O"),
			split("Obama 's podcast"), split("B-PER O O")},
		{"a word cut by the tokenizer continues its entity", " ",
			split("at Chester—le—Street"), split("O B-LOC"),
			split("at Chester — le — Street"), split("O B-LOC I-LOC I-LOC I-LOC I-LOC")},
		{"compound gold tokens stay", " ",
			split("P. Simmons took 4-38 at Chester-le-Street"), split("B-PER I-PER O O O B-LOC"),
			split("P. Simmons took 4-38 at Chester-le-Street"), split("B-PER I-PER O O O B-LOC")},
	} {
		s := TaggedSentence{Tokens: tc.tokens, Tags: tc.tags, Set: "x"}
		var buf text.Buffer
		got := retokenize(tok, &buf, s, tc.sep)
		if !slices.Equal(got.Tokens, tc.wantTokens) || !slices.Equal(got.Tags, tc.wantTags) || got.Set != "x" {
			t.Errorf("%s: %q %q, want %q %q", tc.name, got.Tokens, got.Tags, tc.wantTokens, tc.wantTags)
		}
	}
}

// TestTaggerRetokenize trains on gold tokens that the tokenizer merges
// (one Latin letter per gold token, as in cluener) and checks that with
// Retokenize the tagger finds such a name in raw text, as predict runs.
func TestTaggerRetokenize(t *testing.T) {
	t.Parallel()
	names := strings.Fields("Lewis Carroll Sanchez Martin Pictures Universal Gamer")
	var train []TaggedSentence
	for i := range 300 {
		name := names[i%len(names)]
		toks := []string{"喜", "欢"}
		tags := []string{"O", "O"}
		for j, r := range name {
			toks = append(toks, string(r))
			if j == 0 {
				tags = append(tags, "B-PER")
			} else {
				tags = append(tags, "I-PER")
			}
		}
		toks, tags = append(toks, "的", "书"), append(tags, "O", "O")
		train = append(train, TaggedSentence{Tokens: toks, Tags: tags})
	}
	cfg := smallTaggerConfig()
	cfg.Lang = "zh"
	cfg.Retokenize = true
	tok, err := text.New(text.Options{Dict: text.DictChars})
	if err != nil {
		t.Fatal(err)
	}
	tg, _, err := TrainTagger(t.Context(), tok, train, train[:50], cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	m := tg.Compile()
	ws := m.NewWorkspace()
	m.TagBatch(ws, []string{"喜欢Sanchez的书"})
	if got := ws.Entities(0); len(got) != 1 || got[0].Text != "Sanchez" || got[0].Type != "PER" {
		t.Fatalf("entities %+v, want Sanchez (PER)", got)
	}
}
