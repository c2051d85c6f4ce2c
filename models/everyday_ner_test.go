package models

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model"
)

// everydayTargetF1 is issue 20's target for the micro entity F1 (exact
// span and type) of each built-in tagger on the everyday posts. The taggers
// shipped on 2026-12-07 miss it (en 0.7265, zh 0.6174; models/README.md), so
// the test guards what they reach: it fails below everydayMinF1, the
// measured F1 rounded down, so a retrained tagger that is worse on everyday
// text is caught, and it logs the gap to the target. Raise the floors when a
// better model ships; never lower them to let a worse one pass.
const everydayTargetF1 = 0.90

// everydayMinF1 is the floor per tagger file (see everydayTargetF1).
var everydayMinF1 = map[string]float64{"ner-en.safetensors": 0.82, "ner-zh.safetensors": 0.66}

// everydayMinPosts is the least number of posts per language a data file
// must hold, so a truncated file fails rather than passes on little data.
const everydayMinPosts = 45

// everydayTypes are the entity types the gold data may use.
var everydayTypes = []string{"PER", "LOC", "ORG", "MISC"}

// everydayPost is one line of testdata/everyday_ner_{en,zh}.jsonl: a short
// social post (news, sport, shopping, travel, companies and people; @mentions,
// #hashtags, emoji and URLs, which are never entities) with its gold
// entities. Written by hand for this check on 2026-12-02, before any model
// was run on them, with CoNLL-2003 / OntoNotes-style unified types: PER
// people (not titles), LOC places (countries and cities too), ORG companies,
// teams, institutions, government bodies, MISC nationalities, languages,
// events, products and works (Chinese titles without 《》). Spans exclude a
// possessive 's or 的 and punctuation; Chinese nominal mentions (总统,
// 秘书长) are not gold. Start and End are rune offsets, [Start, End).
type everydayPost struct {
	Text     string           `json:"text"`
	Entities []everydayEntity `json:"entities"`
}

type everydayEntity struct {
	Text  string `json:"text"`
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// everydaySpan identifies an entity of one post for exact matching.
type everydaySpan struct {
	start, end int
	typ        string
}

// everydayCounts are true positives, false positives and false negatives.
type everydayCounts struct{ tp, fp, fn int }

func (c everydayCounts) prf() (p, r, f1 float64) {
	if c.tp+c.fp > 0 {
		p = float64(c.tp) / float64(c.tp+c.fp)
	}
	if c.tp+c.fn > 0 {
		r = float64(c.tp) / float64(c.tp+c.fn)
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return p, r, f1
}

// TestEverydayEntities scores the built-in NER taggers on everyday social
// posts (testdata/everyday_ner_*.jsonl): micro precision, recall and F1 of
// entities by exact (start, end, type), predicted nominal mentions dropped.
// Every miss is logged; the test fails below its everydayMinF1 floor, or when a data
// file is malformed.
func TestEverydayEntities(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, lang, file string }{
		{name: NEREN, lang: "en", file: "testdata/everyday_ner_en.jsonl"},
		{name: NERZH, lang: "zh", file: "testdata/everyday_ner_zh.jsonl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			posts := readEverydayPosts(t, tt.file)
			texts := make([]string, len(posts))
			for i, p := range posts {
				texts[i] = p.Text
			}
			pred := tagBuiltin(t, tt.name, tt.lang, texts)

			var all everydayCounts
			perType := map[string]*everydayCounts{}
			for _, ty := range everydayTypes {
				perType[ty] = &everydayCounts{}
			}
			count := func(typ string) *everydayCounts {
				if c, ok := perType[typ]; ok {
					return c
				}
				c := &everydayCounts{}
				perType[typ] = c
				return c
			}
			for i, p := range posts {
				gold := map[everydaySpan]string{}
				for _, e := range p.Entities {
					gold[everydaySpan{e.Start, e.End, e.Type}] = e.Text
				}
				found := map[everydaySpan]bool{}
				for _, e := range pred[i] {
					if e.Nominal != nil && *e.Nominal {
						continue
					}
					s := everydaySpan{e.Start, e.End, e.Type}
					if found[s] {
						continue
					}
					found[s] = true
					if _, ok := gold[s]; ok {
						all.tp++
						count(e.Type).tp++
						continue
					}
					all.fp++
					count(e.Type).fp++
					t.Logf("false positive: %s %q [%d,%d) in %q", e.Type, e.Text, e.Start, e.End, p.Text)
				}
				for _, e := range p.Entities {
					if found[everydaySpan{e.Start, e.End, e.Type}] {
						continue
					}
					all.fn++
					count(e.Type).fn++
					t.Logf("false negative: %s %q [%d,%d) in %q", e.Type, e.Text, e.Start, e.End, p.Text)
				}
			}

			var byType []string
			for _, ty := range slices.Sorted(maps.Keys(perType)) {
				c := perType[ty]
				_, _, f1 := c.prf()
				byType = append(byType, fmt.Sprintf("%s %d gold, F1 %.3f (tp %d fp %d fn %d)", ty, c.tp+c.fn, f1, c.tp, c.fp, c.fn))
			}
			p, r, f1 := all.prf()
			t.Logf("%s: %d posts, %d gold entities; %s", tt.name, len(posts), all.tp+all.fn, strings.Join(byType, "; "))
			t.Logf("%s: entity P %.4f, R %.4f, F1 %.4f (tp %d, fp %d, fn %d)", tt.name, p, r, f1, all.tp, all.fp, all.fn)
			if f1 < everydayTargetF1 {
				t.Logf("%s: everyday entity F1 %.4f is below issue 20's target %.2f", tt.name, f1, everydayTargetF1)
			}
			if min, ok := everydayMinF1[tt.name]; !ok || f1 < min {
				t.Errorf("%s: everyday entity F1 %.4f (P %.4f, R %.4f), want at least %.2f", tt.name, f1, p, r, min)
			}
		})
	}
}

// readEverydayPosts reads and checks a JSONL file of everydayPost: known
// fields only, a non-empty text, known types, offsets within the text whose
// substring is the entity text (without surrounding space), entities in
// order and not overlapping, and at least everydayMinPosts posts.
func readEverydayPosts(t *testing.T, file string) []everydayPost {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var posts []everydayPost
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			t.Errorf("%s:%d: empty line", file, line)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var p everydayPost
		if err := dec.Decode(&p); err != nil {
			t.Errorf("%s:%d: %v", file, line, err)
			continue
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Errorf("%s:%d: more than one JSON value on the line", file, line)
			continue
		}
		if strings.TrimSpace(p.Text) == "" {
			t.Errorf("%s:%d: empty text", file, line)
		}
		runes := []rune(p.Text)
		prevEnd := 0
		for _, e := range p.Entities {
			if !slices.Contains(everydayTypes, e.Type) {
				t.Errorf("%s:%d: entity %q has type %q, want one of %v", file, line, e.Text, e.Type, everydayTypes)
			}
			if e.Start < prevEnd || e.End <= e.Start || e.End > len(runes) {
				t.Errorf("%s:%d: entity %q at [%d,%d) is out of order, empty, overlapping or past the text's %d runes", file, line, e.Text, e.Start, e.End, len(runes))
				continue
			}
			if got := string(runes[e.Start:e.End]); got != e.Text {
				t.Errorf("%s:%d: text[%d:%d] is %q, entity says %q", file, line, e.Start, e.End, got, e.Text)
			}
			if strings.TrimSpace(e.Text) != e.Text {
				t.Errorf("%s:%d: entity %q has surrounding space", file, line, e.Text)
			}
			prevEnd = e.End
		}
		posts = append(posts, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(posts) < everydayMinPosts {
		t.Errorf("%s: %d posts, want at least %d", file, len(posts), everydayMinPosts)
	}
	if t.Failed() {
		t.FailNow()
	}
	return posts
}

// tagBuiltin runs the built-in tagger name (of language lang) on texts and
// returns each text's entities.
func tagBuiltin(t *testing.T, name, lang string, texts []string) [][]model.Entity {
	t.Helper()
	f, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tg, err := model.LoadTagger(f.(io.Reader), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Lang != lang {
		t.Fatalf("%s lang %q, want %q", name, tg.Lang, lang)
	}
	m := tg.Compile()
	ws := m.NewWorkspace()
	m.TagBatch(ws, texts)
	out := make([][]model.Entity, len(texts))
	for i := range texts {
		out[i] = slices.Clone(ws.Entities(i))
	}
	return out
}
