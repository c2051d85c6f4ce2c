package pipeline

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
)

// tinyTaskClassifier returns an untrained classifier over labels, sharing
// tok.
func tinyTaskClassifier(t *testing.T, tok *text.Tokenizer, multi bool, labels ...string) *model.Classifier {
	t.Helper()
	cfg := model.ClassifierConfig{Embed: 4, Hidden: 4, Buckets: 8, MaxTokens: 8}
	c, err := model.NewClassifier(cfg, labels, model.NewVocab(nil), tok, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if multi {
		c.MultiLabel, c.Thresholds = true, make([]float64, len(labels))
		for i := range c.Thresholds {
			c.Thresholds[i] = 0.5
		}
	}
	return c
}

// TestMultiLabelRouteRefused: a multi-label task serves beside a
// single-label route task, but cannot be the route task (the result's one
// label), and a language whose classifiers lack the route task is refused;
// both with a message naming the task.
func TestMultiLabelRouteRefused(t *testing.T) {
	t.Parallel()
	tok, err := text.New(text.Options{Dict: text.DictChars})
	if err != nil {
		t.Fatal(err)
	}
	emo := tinyTaskClassifier(t, tok, true, "joy", "anger")
	sent := tinyTaskClassifier(t, tok, false, "positive", "negative")
	lm, err := NewLangModels([]TaskSpec{{Task: "sentiment", Classifier: sent, Name: "s-en"}, {Task: "emotion", Classifier: emo, Name: "emotions-en.safetensors"}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTaskSnapshot(map[string]*LangModels{"en": lm}, "sentiment"); err != nil {
		t.Fatalf("sentiment route with an emotion task: %v", err)
	}
	_, err = NewTaskSnapshot(map[string]*LangModels{"en": lm}, "emotion")
	if err == nil || !strings.Contains(err.Error(), `route task "emotion" is multi-label`) || !strings.Contains(err.Error(), "emotions-en") {
		t.Fatalf("multi-label route: %v, want an error naming the task, the model and multi-label", err)
	}
	zh, err := NewLangModels([]TaskSpec{{Task: "topic", Classifier: tinyTaskClassifier(t, tok, false, "a", "b"), Name: "t-zh"}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewTaskSnapshot(map[string]*LangModels{"en": lm, "zh": zh}, "sentiment")
	if err == nil || !strings.Contains(err.Error(), `route task "sentiment" has no zh model`) {
		t.Fatalf("route task missing a language: %v", err)
	}
	if _, err := NewLangModels([]TaskSpec{{Task: "x", Classifier: sent, Name: "a"}, {Task: "x", Classifier: emo, Name: "b"}}, nil, ""); err == nil || !strings.Contains(err.Error(), `task "x" given twice`) {
		t.Fatalf("two tasks of one name: %v", err)
	}
}
