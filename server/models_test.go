package server

import (
	"strings"
	"testing"

	"github.com/tagstream/tagstream/config"
)

// TestLoadSnapshotTasks loads two tasks (sentiment en+zh, emotion en) from
// the built-in models, and refuses, naming the task and key, what cannot
// serve: a multi-label route task, an unknown built-in, a tagger given as a classifier, thresholds
// for a single-label task or an unknown label.
func TestLoadSnapshotTasks(t *testing.T) {
	t.Parallel()
	two := func() config.Config {
		c := config.Default()
		c.Tasks = append(c.Tasks, config.Task{Name: "emotion", Models: map[string]string{"en": "builtin:emotion-en"}, Thresholds: map[string]float64{"joy": 0.3}})
		return c
	}
	snap, err := LoadSnapshot(two())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(snap.Tasks(), ","); got != "emotion,sentiment" || snap.Route() != "sentiment" {
		t.Fatalf("tasks %s, route %s", got, snap.Route())
	}
	_, en := snap.For("en")
	_, zh := snap.For("zh")
	if len(en.Tasks) != 2 || len(zh.Tasks) != 1 || !en.Tasks[1].MultiLabel || en.Tasks[1].Task != "emotion" {
		t.Fatalf("en tasks %+v, zh tasks %+v", en.Tasks, zh.Tasks)
	}
	joy := -1
	for i, l := range en.Tasks[1].Classifier.Labels {
		if l == "joy" {
			joy = i
		}
	}
	if got := en.Tasks[1].Classifier.Thresholds[joy]; got != 0.3 {
		t.Fatalf("joy threshold %v, want the override 0.3", got)
	}

	// One task, a multi-label model in one language and a single-label
	// one in the other: it loads, the thresholds going to the former.
	mixed := two()
	mixed.Tasks[1].Models["zh"] = "builtin:sentiment-zh"
	snap, err = LoadSnapshot(mixed)
	if err != nil {
		t.Fatalf("a task with a multi-label en and a single-label zh model: %v", err)
	}
	_, zh = snap.For("zh")
	if _, tm := zh.Task("emotion"); tm == nil || tm.MultiLabel {
		t.Fatalf("zh emotion model %+v, want the single-label one", tm)
	}

	tests := []struct {
		name   string
		mutate func(c *config.Config)
		want   []string
	}{
		{"multi-label route task", func(c *config.Config) {
			c.Tasks[1].Models["zh"] = "builtin:emotion-en"
			c.Tasks[1].Thresholds = nil
			c.Output.RouteTask = "emotion"
		}, []string{"output.route_task", `route task "emotion" is multi-label`}},
		{"unknown built-in", func(c *config.Config) { c.Tasks[1].Models["en"] = "builtin:emotions-en" },
			[]string{"tasks[1].models.en (task emotion)", `no built-in model "emotions-en"`, "builtin:emotion-en"}},
		{"a tagger as a classifier", func(c *config.Config) { c.Tasks[1].Models["en"] = "builtin:ner-en" },
			[]string{"tasks[1].models.en (task emotion)", "builtin:ner-en is a tagger, want a classifier"}},
		{"thresholds of a single-label task", func(c *config.Config) { c.Tasks[0].Thresholds = map[string]float64{"positive": 0.4} },
			[]string{"tasks[0].thresholds (task sentiment", "every model of this task is single-label"}},
		{"threshold of an unknown label", func(c *config.Config) { c.Tasks[1].Thresholds = map[string]float64{"bliss": 0.4} },
			[]string{"tasks[1].thresholds (task emotion", `label "bliss" is not one of the model's`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := two()
			tc.mutate(&c)
			_, err := LoadSnapshot(c)
			if err == nil {
				t.Fatal("LoadSnapshot accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
