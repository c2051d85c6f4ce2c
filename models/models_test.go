package models

import (
	"io"
	"slices"
	"testing"

	"github.com/tagstream/tagstream/model"
)

// TestDefaultModels checks that every built-in classifier loads (format
// version, checksum, shapes), stays under the 8 MB budget and has the
// expected labels.
func TestDefaultModels(t *testing.T) {
	var tc model.TokenizerCache
	for _, name := range []string{SentimentEN, SentimentZH} {
		t.Run(name, func(t *testing.T) {
			f, err := Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() >= 8_000_000 {
				t.Errorf("%s is %d bytes, budget is under 8,000,000", name, st.Size())
			}
			c, err := model.LoadClassifier(f.(io.Reader), name, &tc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(c.Labels, "positive") || !slices.Contains(c.Labels, "negative") {
				t.Errorf("%s labels %v, want positive and negative among them", name, c.Labels)
			}
			for _, k := range []string{"dev_metrics", "train_data_sha256", "created_at", "train_config"} {
				if c.Info[k] == "" {
					t.Errorf("%s metadata %q missing", name, k)
				}
			}
		})
	}
}

// TestDefaultTaggers checks the built-in NER taggers: they load, stay under
// 10 MB and report only the common entity types.
func TestDefaultTaggers(t *testing.T) {
	var tc model.TokenizerCache
	for _, tc2 := range []struct{ name, lang string }{{NEREN, "en"}, {NERZH, "zh"}} {
		t.Run(tc2.name, func(t *testing.T) {
			f, err := Open(tc2.name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() >= 10_000_000 {
				t.Errorf("%s is %d bytes, budget is under 10,000,000", tc2.name, st.Size())
			}
			tg, err := model.LoadTagger(f.(io.Reader), tc2.name, &tc)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Lang != tc2.lang {
				t.Errorf("%s lang %q, want %q", tc2.name, tg.Lang, tc2.lang)
			}
			m := tg.Compile()
			ws := m.NewWorkspace()
			texts := map[string]string{"en": "Angela Merkel met Apple executives in Paris on Monday .", "zh": "我在北京见到了张三，他在阿里巴巴工作。"}
			m.TagBatch(ws, []string{texts[tc2.lang]})
			for _, e := range ws.Entities(0) {
				if !slices.Contains([]string{"PER", "LOC", "ORG", "MISC"}, e.Type) {
					t.Errorf("%s reports type %q, want one of PER, LOC, ORG, MISC", tc2.name, e.Type)
				}
			}
		})
	}
}
