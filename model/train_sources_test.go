package model

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestTagSchemaSetsAndHidden(t *testing.T) {
	t.Parallel()
	cluener, _ := BuiltinTypeMap("cluener")
	weibo := []TaggedSentence{{Tokens: []string{"在", "北", "京", "的", "记", "者"}, Tags: []string{"O", "B-GPE.NAM", "I-GPE.NAM", "O", "B-PER.NOM", "I-PER.NOM"}, Set: "weibo"}}
	clue := TaggedSentence{Tokens: []string{"去", "北", "京", "看", "三", "体"}, Tags: []string{"O", "B-address", "I-address", "O", "B-book", "I-book"}, Set: "cluener", Map: cluener}
	sc, err := newTagSchema(append(weibo, clue), DefaultTypeMap())
	if err != nil {
		t.Fatal(err)
	}
	// CLUENER adds the unified types no Weibo type stands for here.
	if want := []string{"GPE.NAM", "MISC", "ORG", "PER", "PER.NOM"}; !slices.Equal(sc.types, want) {
		t.Fatalf("types %v, want %v", sc.types, want)
	}
	if want := []string{"MISC", "ORG", "PER"}; !slices.Equal(sc.hidden["weibo"], want) || !slices.Equal(sc.mappedOnly, want) {
		t.Fatalf("weibo hidden %v, mapped-only %v, want %v", sc.hidden["weibo"], sc.mappedOnly, want)
	}
	if want := []string{"PER.NOM"}; !slices.Equal(sc.hidden["cluener"], want) {
		t.Fatalf("cluener hidden %v, want %v (nominal mentions are not annotated there)", sc.hidden["cluener"], want)
	}
	bit := func(tags ...string) uint64 {
		var b uint64
		for _, tg := range tags {
			b |= 1 << uint(sc.index[tg])
		}
		return b
	}
	gold := make([]int32, len(clue.Tokens))
	allowed, err := sc.encode(clue, gold)
	if err != nil {
		t.Fatal(err)
	}
	oSet := bit("O", "B-PER.NOM", "I-PER.NOM")
	// An address is a GPE.NAM here (the only named LOC type of this tag
	// set): exact; the O tokens may hide a nominal mention.
	want := []uint64{oSet, 0, 0, oSet, 0, 0}
	if !slices.Equal(allowed, want) {
		t.Fatalf("allowed %x, want %x", allowed, want)
	}
	if g := sc.tags[gold[1]] + " " + sc.tags[gold[4]]; g != "B-GPE.NAM B-MISC" {
		t.Fatalf("gold %s", g)
	}
	// With LOC.NAM in the data too, an address may be either.
	weibo = append(weibo, TaggedSentence{Tokens: []string{"长", "江"}, Tags: []string{"B-LOC.NAM", "I-LOC.NAM"}, Set: "weibo"})
	sc, err = newTagSchema(append(weibo, clue), DefaultTypeMap())
	if err != nil {
		t.Fatal(err)
	}
	if allowed, err = sc.encode(clue, gold); err != nil {
		t.Fatal(err)
	}
	if allowed[1] != bit("B-GPE.NAM", "B-LOC.NAM") || allowed[2] != bit("I-GPE.NAM", "I-LOC.NAM") {
		t.Fatalf("address sets %x %x", allowed[1], allowed[2])
	}
	// A tag the map does not know is an error naming it.
	bad := clue
	bad.Tags = []string{"O", "B-planet", "I-planet", "O", "O", "O"}
	if _, err := sc.encode(bad, gold); err == nil || !strings.Contains(err.Error(), `"B-planet"`) {
		t.Fatalf("unknown type: err %v", err)
	}
}

// miscTask is nerTask plus a nationality word tagged MISC; withMisc false
// leaves it O, as a data set that does not annotate MISC would.
func miscTask(rng *rand.Rand, n int, withMisc bool, set string, m *DataTypeMap) []TaggedSentence {
	nat := strings.Fields("German French Kenyan Peruvian Danish Thai")
	out := nerTask(rng, n)
	for i := range out {
		s := &out[i]
		tag := "O"
		if withMisc {
			tag = "B-MISC"
		}
		s.Tokens = append([]string{"the", nat[rng.IntN(len(nat))], "team"}, s.Tokens...)
		s.Tags = append([]string{"O", tag, "O"}, s.Tags...)
		s.Set, s.Map = set, m
	}
	return out
}

// A data set that does not annotate MISC must not teach that MISC words are
// O: trained on 100 sentences with MISC and 1,000 without, the tagger still
// finds MISC. Treating the second set as complete (a map that claims MISC)
// loses most of it.
func TestPartialAnnotationKeepsUnannotatedTypes(t *testing.T) {
	t.Parallel()
	noMisc := &DataTypeMap{Name: "nomisc", Types: map[string]string{"PER": TypePER, "LOC": TypeLOC}}
	withMisc := &DataTypeMap{Name: "complete", Types: map[string]string{"PER": TypePER, "LOC": TypeLOC, "MISC": TypeMISC}}
	recall := func(m *DataTypeMap) float64 {
		rng := rand.New(rand.NewPCG(31, 32))
		train := append(miscTask(rng, 100, true, "full", nil), miscTask(rng, 1000, false, "partial", m)...)
		dev := miscTask(rng, 200, true, "dev", nil)
		tg, _, err := TrainTagger(context.Background(), tokenizer(t), train, dev, smallTaggerConfig(), TrainHooks{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := tg.Compile().EvaluateSentences(dev)
		if err != nil {
			t.Fatal(err)
		}
		return r.PerType["MISC"].Recall
	}
	partial, complete := recall(noMisc), recall(withMisc)
	t.Logf("MISC dev recall: %.3f with the partial-annotation map, %.3f treating O as complete", partial, complete)
	if partial < 0.9 || partial < complete+0.3 {
		t.Fatalf("MISC recall %.3f with the map, %.3f without: want >= 0.9 and 0.3 above", partial, complete)
	}
}

func TestCaseAugment(t *testing.T) {
	t.Parallel()
	train := nerTask(rand.New(rand.NewPCG(1, 2)), 1000)
	out := caseAugment(train, 0.2, rand.New(rand.NewPCG(3, 4)))
	var lower, upper int
	for _, s := range out[len(train):] {
		j := strings.Join(s.Tokens, " ")
		switch j {
		case strings.ToLower(j):
			lower++
		case strings.ToUpper(j):
			upper++
		default:
			t.Fatalf("copy %q is neither lower nor upper case", j)
		}
	}
	if lower < 150 || lower > 250 || upper < 25 || upper > 75 {
		t.Fatalf("%d lowercase and %d uppercase copies of 1000, want about 200 and 50", lower, upper)
	}
	if &out[0] == &train[0] && len(out) > len(train) && cap(train) >= len(out) {
		t.Fatal("caseAugment wrote into the caller's array")
	}
}

// TestTrainConfigRecordsResolvedSettings: the train_config a tagger
// records is what training used, not what it was given: a Chinese tagger
// given no language and the character CNN on records lang "zh" and the CNN
// off, as its config does.
func TestTrainConfigRecordsResolvedSettings(t *testing.T) {
	t.Parallel()
	var train []TaggedSentence
	for i := 0; i < 40; i++ {
		train = append(train, TaggedSentence{Tokens: []string{"我", "在", "北", "京"}, Tags: []string{"O", "O", "B-LOC", "I-LOC"}})
	}
	cfg := smallTaggerConfig()
	cfg.Epochs, cfg.Lang, cfg.Model.NoCharCNN = 1, "", false
	tg, _, err := TrainTagger(context.Background(), tokenizer(t), train, train[:5], cfg, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	var rec TaggerTrainConfig
	if err := json.Unmarshal([]byte(tg.Info["train_config"]), &rec); err != nil {
		t.Fatalf("train_config %q: %v", tg.Info["train_config"], err)
	}
	if rec.Lang != "zh" || tg.Lang != "zh" {
		t.Errorf("recorded lang %q, model lang %q; want zh", rec.Lang, tg.Lang)
	}
	if !rec.Model.NoCharCNN || rec.Model != tg.Config {
		t.Errorf("recorded model settings %+v, the model's %+v; want them equal with the CNN off", rec.Model, tg.Config)
	}
	if rec.Epochs != 1 || rec.Seed != cfg.Seed {
		t.Errorf("recorded epochs %d seed %d, want 1 and %d", rec.Epochs, rec.Seed, cfg.Seed)
	}
}
