package pipeline

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
)

// tinyNER trains a small English tagger: capitalised names after "mr" are
// PER, capitalised words after "visited" are LOC.
func tinyNER(t *testing.T) *model.Tagger {
	t.Helper()
	_, en := defaultSnapshot(t).For("en")
	rng := rand.New(rand.NewPCG(71, 72))
	first := strings.Fields("John Mary Ahmed Wei Olga Pierre Sara Tom")
	cities := strings.Fields("Paris Lagos Osaka Lima Oslo Austin Kyiv")
	var data []model.TaggedSentence
	for range 800 {
		data = append(data, model.TaggedSentence{
			Tokens: []string{"today", "mr", first[rng.IntN(len(first))], "visited", cities[rng.IntN(len(cities))]},
			Tags:   []string{"O", "O", "B-PER", "O", "B-LOC"},
		})
	}
	cfg := model.TaggerTrainConfig{
		Model:    model.TaggerConfig{Embed: 16, Hidden: 16, CharEmbed: 8, CharFilters: 8, Buckets: 200},
		Settings: model.Settings{Epochs: 4, Batch: 16, LR: 1e-2, Patience: 4, Seed: 4, Workers: 2, Dropout: 0.1},
		Lang:     "en",
	}
	tg, _, err := model.TrainTagger(context.Background(), en.Tasks[0].Classifier.Tokenizer, data, data[:100], cfg, model.TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// drEntities: lower-case surnames after "dr" are people, a convention the
// tagger never saw.
func drEntities(rng *rand.Rand, n int) []model.EntityExample {
	names := strings.Fields("kowalski nguyen mendes haddad ivanova tanaka obi lindqvist")
	out := make([]model.EntityExample, n)
	for i := range out {
		lead := []string{"we met dr", "call dr", "nobody knows dr", "yesterday dr"}[rng.IntN(4)]
		name := names[rng.IntN(len(names))]
		start := utf8.RuneCountInString(lead) + 1
		out[i] = model.EntityExample{Text: lead + " " + name + " today",
			Entities: []model.EntitySpan{{Start: start, End: start + utf8.RuneCountInString(name), Type: "PER"}}}
	}
	return out
}

// Entity corrections fine-tune the tagger; the promotion is swapped in
// locally and reaches a second instance through the bucket.
func TestTrainerTaggerRoundAndSync(t *testing.T) {
	t.Parallel()
	snap0, _ := tinySnapshot(t)
	_, cls := snap0.For("en")
	lm, err := NewLangModels([]TaskSpec{{Task: "sentiment", Classifier: cls.Tasks[0].Classifier, Name: "tiny"}}, tinyNER(t), "tinyner")
	if err != nil {
		t.Fatal(err)
	}
	snapA, _ := NewSnapshot(map[string]*LangModels{"en": lm})
	snapB, _ := NewSnapshot(map[string]*LangModels{"en": lm})
	a, b := NewModelHolder(snapA), NewModelHolder(snapB)
	n := newE2ENATS(t)
	bucket := "models_ner_" + strings.ToLower(uniqueName(t))
	bucket = bucket[:min(len(bucket), 60)]
	syncA := NewModelSync(openStore(t, n, bucket), a, nil)
	syncB := NewModelSync(openStore(t, n, bucket), b, nil)
	swapped := make(chan struct{}, 4)
	syncB.swapHook = func(event.ModelObject) { swapped <- struct{}{} }
	runSync(t, syncA)
	runSync(t, syncB)
	tr, err := NewTrainer(TrainerConfig{MinExamples: 200, FineTune: model.FineTuneConfig{Steps: 100, Batch: 16, Workers: 2}}, a, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr.OnPromote(syncA.Publish)
	rng := rand.New(rand.NewPCG(73, 74))
	var promoted Round
	for _, ex := range drEntities(rng, 300) {
		tr.AddEntities("en", ex)
		if tr.ReadyNER("en") {
			if promoted, err = tr.RunNERRound(context.Background(), "en"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !promoted.Decision.Promote || !strings.HasPrefix(promoted.Version, "tinyner.ft1@") {
		t.Fatalf("tagger round: %s (version %q)", promoted.Decision.Reason, promoted.Version)
	}
	t.Logf("tagger promoted %s: %s", promoted.Version, promoted.Decision.Reason)
	select {
	case <-swapped:
	case <-time.After(10 * time.Second):
		t.Fatal("the second instance did not swap the tagger in")
	}
	for name, h := range map[string]*ModelHolder{"a": a, "b": b} {
		_, got := h.Models().For("en")
		if got.NERVersion != promoted.Version || got.Versions["sentiment"] != lm.Versions["sentiment"] {
			t.Fatalf("instance %s serves ner %s, classifier %s; want %s and the unchanged %s", name, got.NERVersion, got.Versions["sentiment"], promoted.Version, lm.Versions["sentiment"])
		}
		ws := got.Analyzer.NewWorkspace()
		got.Analyzer.Analyze(ws, []string{"we met dr tanaka today"})
		if ents := ws.Entities(0); len(ents) != 1 || ents[0].Text != "tanaka" || ents[0].Type != "PER" {
			t.Fatalf("instance %s tags %+v, want tanaka as PER", name, ents)
		}
	}
}
