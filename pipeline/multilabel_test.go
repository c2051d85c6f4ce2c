package pipeline

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
)

// TestMultiLabelClassifierRefused: until results carry several labels of a
// task, the pipeline refuses a multi-label classifier with a message that
// says so, instead of publishing its most probable label as if it were
// the answer.
func TestMultiLabelClassifierRefused(t *testing.T) {
	t.Parallel()
	tok, err := text.New(text.Options{Dict: text.DictChars})
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.ClassifierConfig{Embed: 4, Hidden: 4, Buckets: 8, MaxTokens: 8}
	c, err := model.NewClassifier(cfg, []string{"joy", "anger"}, model.NewVocab(nil), tok, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	c.MultiLabel, c.Thresholds = true, []float64{0.5, 0.5}
	_, err = NewLangModels(c, "emotions-en.safetensors", nil, "")
	if err == nil || !strings.Contains(err.Error(), "multi-label") || !strings.Contains(err.Error(), "emotions-en") {
		t.Fatalf("NewLangModels with a multi-label classifier: %v, want an error naming the model and multi-label", err)
	}
	c.MultiLabel = false
	if _, err := NewLangModels(c, "emotions-en.safetensors", nil, ""); err != nil {
		t.Fatalf("single-label: %v", err)
	}
}
