package model

import (
	"testing"

	"github.com/tagstream/tagstream/model/text"
)

// TestEntitiesHoldNoEmoji tags emoji-rich texts with a tagger biased
// towards entity tags and checks that no entity starts or ends with an
// emoji or emoticon token (so none is made only of them), while entities
// around them are still found.
func TestEntitiesHoldNoEmoji(t *testing.T) {
	t.Parallel()
	tg := biasedTagger(t, "en")
	m := tg.Compile()
	ws := m.NewWorkspace()
	texts := []string{
		"Just landed in Berlin 😊",
		"😊 😊 :) 🇮🇹",
		"great day 😊 with Anna in Rome 🇮🇹 :)",
		"I ❤️ New York <3 xD 👩‍👩‍👧",
	}
	m.TagBatch(ws, texts)
	var buf text.Buffer
	found := 0
	for i, s := range texts {
		kinds := map[int]text.Kind{} // by start and by end rune offset
		ends := map[int]text.Kind{}
		for _, tk := range tg.Tokenizer.Chars(&buf, s) {
			kinds[tk.Start], ends[tk.End] = tk.Kind, tk.Kind
		}
		for _, e := range ws.Entities(i) {
			found++
			for _, k := range []text.Kind{kinds[e.Start], ends[e.End]} {
				if k == text.Emoji || k == text.Emoticon {
					t.Errorf("text %q: entity %+v starts or ends with an emoji or emoticon", s, e)
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no entity at all: the biased tagger should tag the words")
	}
}
