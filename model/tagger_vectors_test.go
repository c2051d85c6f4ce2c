package model

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// vectorTask makes lower-case sentences "<filler>* NAME <filler>*" where
// NAME is a random letter string that is a person or a place: nothing in
// its letters, casing or context tells which, only its pretrained vector
// (persons near one direction, places near another). It returns the
// training sentences (names of trainNames), held-out sentences (names
// never seen in training) and the vectors of every word.
func vectorTask(rng *rand.Rand) (train, heldOut []TaggedSentence, vecs *WordVectors) {
	const dim = 8
	word := func() string {
		b := make([]byte, 5)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	vecs = &WordVectors{Name: "synthetic", SHA256: "abc", Dim: dim}
	add := func(w string, axis int) {
		vecs.Words = append(vecs.Words, w)
		for d := range dim {
			x := 0.3 * rng.NormFloat64()
			if d == axis {
				x += 2
			}
			vecs.Vecs = append(vecs.Vecs, float32(x))
		}
	}
	filler := strings.Fields("we saw that it was very nice and then left today")
	for _, w := range filler {
		add(w, 2)
	}
	names := func(n, axis int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = word()
			add(out[i], axis)
		}
		return out
	}
	persons, places := names(60, 0), names(60, 1)
	sentences := func(n int, per, loc []string) []TaggedSentence {
		out := make([]TaggedSentence, n)
		for i := range out {
			var toks, tags []string
			for range 1 + rng.IntN(3) {
				toks, tags = append(toks, filler[rng.IntN(len(filler))]), append(tags, "O")
			}
			if rng.IntN(2) == 0 {
				toks, tags = append(toks, per[rng.IntN(len(per))]), append(tags, "B-PER")
			} else {
				toks, tags = append(toks, loc[rng.IntN(len(loc))]), append(tags, "B-LOC")
			}
			for range rng.IntN(3) {
				toks, tags = append(toks, filler[rng.IntN(len(filler))]), append(tags, "O")
			}
			out[i] = TaggedSentence{Tokens: toks, Tags: tags}
		}
		return out
	}
	return sentences(800, persons[:40], places[:40]), sentences(300, persons[40:], places[40:]), vecs
}

// TestTaggerVectors trains a tagger with pretrained vectors on a task only
// they can solve for unseen words, and checks that the vectors stay frozen,
// are saved and loaded, and are counted by the loader's size formula.
func TestTaggerVectors(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	train, heldOut, vecs := vectorTask(rng)
	cfg := smallTaggerConfig()
	cfg.Epochs = 8
	cfg.Vectors = vecs
	tg, _, err := TrainTagger(context.Background(), tokenizer(t), train, heldOut, cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Config.VecDim != vecs.Dim || tg.VecWords == nil || tg.Info["vectors"] != "synthetic" || tg.Info["vectors_sha256"] != "abc" {
		t.Fatalf("vec_dim %d, info %v: want the vectors recorded", tg.Config.VecDim, tg.Info)
	}
	m, err := tg.Compile().EvaluateSentences(heldOut)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("names never seen in training, told apart by their vectors only: entity F1 %.4f", m.F1)
	if m.F1 < 0.9 {
		t.Fatalf("held-out entity F1 %.4f, want >= 0.9 (the vectors do not reach the tagger)", m.F1)
	}
	// Frozen: every kept word's row is its vector as given.
	for i, w := range vecs.Words {
		id, ok := tg.VecWords.ID(w)
		if !ok {
			t.Fatalf("word %q not kept (vectors-top default keeps all %d)", w, len(vecs.Words))
		}
		for d := range vecs.Dim {
			if got, want := tg.net.vec.W[int(id)*vecs.Dim+d], float64(vecs.Vecs[i*vecs.Dim+d]); got != want {
				t.Fatalf("vector of %q changed in training: %v, want %v", w, got, want)
			}
		}
	}
	if got, want := tg.Config.numParams(tg.Vocab.Len(), tg.Chars.Len(), len(tg.Tags), tg.VecWords.Len()), paramCount(tg.net.saved()); got != want {
		t.Fatalf("size formula %d, saved weights %d", got, want)
	}

	l, file := saveAndLoad(t, tg, "v.safetensors")
	if !slices.Equal(l.VecWords.Words(), tg.VecWords.Words()) || !slices.Equal(l.net.vec.W, toF32F64(tg.net.vec.W)) {
		t.Fatal("vector words or rows differ after save and load")
	}
	texts := make([]string, 50)
	for i := range texts {
		texts[i] = strings.Join(heldOut[i].Tokens, " ")
	}
	sameEntitiesAfterLoad(t, tg, l, texts)

	// A file whose config has vectors but whose metadata lacks their words
	// is refused, naming the key.
	cut := bytes.Replace(file, []byte(`"vec_words"`), []byte(`"vec_wordz"`), 1)
	if _, err := LoadTagger(bytes.NewReader(cut), "v.safetensors", testTokenizerCache(t)); err == nil || !strings.Contains(err.Error(), "vec_words") {
		t.Fatalf("load without vec_words: %v, want an error naming it", err)
	}
}

// TestVecRow checks the vector lookup of a token: its first piece with a
// vector, a mention or hashtag without its sign, else the zero row.
func TestVecRow(t *testing.T) {
	t.Parallel()
	words := NewVocab([]string{"google", "paris"})
	for _, tc := range []struct {
		pieces []string
		want   int32
	}{
		{[]string{"google"}, 1},
		{[]string{"@google"}, 1},
		{[]string{"#paris"}, 2},
		{[]string{"xyz", "paris"}, 2},
		{[]string{"@"}, 0},
		{[]string{"zzz"}, 0},
	} {
		var toks []text.Token
		for _, p := range tc.pieces {
			toks = append(toks, text.Token{Text: p})
		}
		if got := vecRow(words, toks); got != tc.want {
			t.Errorf("vecRow(%q) = %d, want %d", tc.pieces, got, tc.want)
		}
	}
}

func paramCount(ps []*nn.Param) int {
	n := 0
	for _, p := range ps {
		n += len(p.W)
	}
	return n
}

// toF32F64 rounds w through float32, as a saved file stores it.
func toF32F64(w []float64) []float64 {
	out := make([]float64, len(w))
	for i, x := range w {
		out[i] = float64(float32(x))
	}
	return out
}
