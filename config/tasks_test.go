package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidateTasks(t *testing.T) {
	t.Parallel()
	two := func(c *Config) {
		c.Tasks = append(c.Tasks, Task{Name: "emotion", Models: map[string]string{"en": "builtin:emotion-en"}})
	}
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string
	}{
		{"no tasks", func(c *Config) { c.Tasks = nil }, `tasks = "[]", want at least one task`},
		{"two tasks of one name", func(c *Config) {
			two(c)
			c.Tasks[1].Name = "sentiment"
		}, `tasks[1].name = "sentiment", want a name no other task has (tasks[0] is "sentiment" too)`},
		{"bad name", func(c *Config) { two(c); c.Tasks[1].Name = "Emotion" }, `tasks[1].name = "Emotion", want [a-z][a-z0-9_]*, at most 64 bytes`},
		{"name with a dot", func(c *Config) { two(c); c.Tasks[1].Name = "a.b" }, `tasks[1].name = "a.b", want [a-z][a-z0-9_]*, at most 64 bytes`},
		{"no models", func(c *Config) { two(c); c.Tasks[1].Models = nil }, `tasks[1].models = "{}", want a model for at least one language (en, zh)`},
		{"unknown language", func(c *Config) { two(c); c.Tasks[1].Models["fr"] = "x" }, `tasks[1].models.fr = "x", want languages en and zh only`},
		{"empty model", func(c *Config) { two(c); c.Tasks[1].Models["en"] = " " }, `tasks[1].models.en = "", want a file path or "builtin:NAME"`},
		{"data for a language without model", func(c *Config) { two(c); c.Tasks[1].Data = map[string]string{"zh": "d.jsonl"} }, `tasks[1].data.zh = "d.jsonl", want data only for a language the task has a model for`},
		{"threshold out of range", func(c *Config) { two(c); c.Tasks[1].Thresholds = map[string]float64{"joy": 1} }, `tasks[1].thresholds.joy = 1, want above 0 and below 1`},
		{"route task unknown", func(c *Config) { c.Output.RouteTask = "topic" }, `output.route_task = "topic", want the name of a task ("sentiment")`},
		{"route task without zh", func(c *Config) { two(c); c.Output.RouteTask = "emotion" }, `output.route_task = "emotion", want a task with a model for every language (emotion has none for zh)`},
		{"route task multi-label by thresholds", func(c *Config) { c.Tasks[0].Thresholds = map[string]float64{"positive": 0.5} }, `output.route_task = "sentiment", want a single-label task (it has thresholds)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			c.Tasks = cloneTasks(c.Tasks)
			tt.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if got := strings.TrimPrefix(err.Error(), "config: invalid: "); got != tt.want {
				t.Errorf("error\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// Not parallel: uses t.Setenv.
func TestLoadTasks(t *testing.T) {
	clearEnv(t)
	const file = `
output: {route_task: sentiment}
tasks:
  - name: sentiment
    models: {en: /m/s-en.safetensors, zh: builtin:sentiment-zh}
  - name: needs_reply
    models: {en: builtin:emotion-en}
    finetune: false
    thresholds: {joy: 0.3}
`
	t.Setenv("TAGSTREAM_TASKS_NEEDS_REPLY_MODELS_ZH", "/m/reply-zh.safetensors")
	t.Setenv("TAGSTREAM_TASKS_SENTIMENT_DATA_EN", "/d/en.jsonl")
	c, err := Load(writeConfig(t, file), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Task{
		{Name: "sentiment", Models: map[string]string{"en": "/m/s-en.safetensors", "zh": "builtin:sentiment-zh"}, Finetune: new(true), Data: map[string]string{"en": "/d/en.jsonl"}},
		{Name: "needs_reply", Models: map[string]string{"en": "builtin:emotion-en", "zh": "/m/reply-zh.safetensors"}, Finetune: new(false), Thresholds: map[string]float64{"joy": 0.3}},
	}
	if !reflect.DeepEqual(c.Tasks, want) {
		t.Fatalf("tasks = %+v\nwant %+v", c.Tasks, want)
	}
	if c.Tasks[0].FinetuneOn() != true || c.Tasks[1].FinetuneOn() != false {
		t.Fatal("FinetuneOn disagrees with the file")
	}
	// A later Load does not see this one's changes (no shared maps).
	c.Tasks[0].Models["en"] = "changed"
	if d := Default(); d.Tasks[0].Models["en"] != "builtin:sentiment-en" {
		t.Fatal("Default shares its task maps")
	}
}

// Not parallel: uses t.Setenv.
func TestLoadTaskErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{"old classifier key in the file", "models:\n  classifier_en: /m/a.safetensors\n", nil,
			[]string{"models.classifier_en is no longer a key: use tasks[].models.en"}},
		{"old data key in the file", "finetune:\n  data_zh: /d/zh.jsonl\n", nil,
			[]string{"finetune.data_zh is no longer a key: use tasks[].data.zh"}},
		{"old classifier variable", "", map[string]string{"TAGSTREAM_MODELS_CLASSIFIER_ZH": "/m/b"},
			[]string{"TAGSTREAM_MODELS_CLASSIFIER_ZH is no longer read: use tasks[].models.zh"}},
		{"variable for an unknown task", "", map[string]string{"TAGSTREAM_TASKS_TOPIC_MODELS_EN": "/m/t"},
			[]string{`TAGSTREAM_TASKS_TOPIC_MODELS_EN: no task "topic" (tasks: sentiment)`}},
		{"variable of no known form", "", map[string]string{"TAGSTREAM_TASKS_SENTIMENT": "/m/t"},
			[]string{"TAGSTREAM_TASKS_SENTIMENT: want TAGSTREAM_TASKS_<NAME>_MODELS_<LANG>"}},
		{"variable for an unknown language", "", map[string]string{"TAGSTREAM_TASKS_SENTIMENT_MODELS_FR": "/m/t"},
			[]string{`tasks[0].models.fr = "/m/t", want languages en and zh only`}},
		{"unknown key in a task", "tasks:\n  - name: sentiment\n    modles: {en: x}\n", nil,
			[]string{"modles"}},
		{"two tasks of one name", "tasks:\n  - {name: sentiment, models: {en: a, zh: b}}\n  - {name: sentiment, models: {en: c}}\n", nil,
			[]string{`tasks[1].name = "sentiment", want a name no other task has`}},
		{"multi-label route by thresholds", "tasks:\n  - {name: sentiment, models: {en: a, zh: b}, thresholds: {joy: 0.2}}\n", nil,
			[]string{`output.route_task = "sentiment", want a single-label task`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
			}
			_, err := Load(path, nil)
			if err == nil {
				t.Fatal("Load accepted it")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
