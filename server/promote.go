package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
)

func FindVersion(ctx context.Context, s *producer.ModelStore, version string) (event.ModelObject, error) {
	objs, err := s.List(ctx)
	if err != nil {
		return event.ModelObject{}, err
	}
	for i := len(objs) - 1; i >= 0; i-- {
		if objs[i].Version == version || objs[i].Name == version {
			return objs[i], nil
		}
	}
	return event.ModelObject{}, fmt.Errorf("%w: no promoted model %q in the bucket", ErrNoSuchModel, version)
}

// taskOf returns o's task: an object stored before tasks existed has none
// and is the route task's.
func taskOf(o event.ModelObject, route string) string {
	if o.Kind == "classifier" && o.Task == "" {
		return route
	}
	return o.Task
}

func seqOf(o *event.ModelObject) int {
	if o == nil {
		return 0
	}
	return o.Seq
}

// ErrNoSuchModel is wrapped by the errors of Promote, Rollback and
// FindVersion when the model asked for does not exist.
var ErrNoSuchModel = errors.New("model")

// Promote stores version again as the newest promotion of its task and
// language and returns what it did. A version not in the bucket may be a
// built-in model, promoted for task (lang, when given, must be the
// built-in's). route is the route task, the task of objects stored before
// tasks existed.
func Promote(ctx context.Context, s *producer.ModelStore, version, lang, task, route string) (string, error) {
	objs, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	var data []byte
	var src event.ModelObject
	if o, err := FindVersion(ctx, s, version); err == nil {
		if data, src, err = s.Get(ctx, o.Name); err != nil {
			return "", err
		}
	} else {
		data, src, err = builtinObject(version, lang)
		if err != nil {
			return "", err
		}
		src.Task = task
	}
	src.Task = taskOf(src, route)
	seq := 0 // the next of the slot's, objects from before tasks included
	for _, o := range objs {
		o.Task = taskOf(o, route)
		if o.Slot() == src.Slot() {
			seq = max(seq, o.Seq)
		}
	}
	obj := event.ModelObject{Lang: src.Lang, Kind: src.Kind, Task: src.Task, Seq: seq + 1, Version: src.Version, Parent: src.Parent, Metrics: "promoted by hand"}
	if obj, err = s.Put(ctx, obj, data); err != nil {
		return "", err
	}
	return fmt.Sprintf("promoted %s as %s", obj.Version, obj.Name), nil
}

// Rollback promotes the parent of the newest promotion of task's
// classifier of lang and returns what it did.
func Rollback(ctx context.Context, s *producer.ModelStore, task, lang, route string) (string, error) {
	objs, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	var newest *event.ModelObject
	for i := range objs {
		if objs[i].Lang == lang && objs[i].Kind == "classifier" && taskOf(objs[i], route) == task && objs[i].Seq > seqOf(newest) {
			newest = &objs[i]
		}
	}
	if newest == nil {
		return "", fmt.Errorf("%w: rollback: no promoted %s classifier of task %q", ErrNoSuchModel, lang, task)
	}
	return Promote(ctx, s, newest.Parent, lang, task, route)
}

// builtinClassifiers are the built-in classifiers and their languages.
var builtinClassifiers = []struct{ name, lang string }{
	{models.SentimentEN, "en"}, {models.SentimentZH, "zh"}, {models.EmotionEN, "en"}, {models.EmotionZH, "zh"},
}

// builtinObject returns the file of the built-in classifier whose version is
// version.
func builtinObject(version, lang string) ([]byte, event.ModelObject, error) {
	var tc model.TokenizerCache
	var names []string
	for _, b := range builtinClassifiers {
		names = append(names, b.name)
		if lang != "" && lang != b.lang {
			continue
		}
		l, err := models.Load(b.name, &tc)
		if err != nil {
			return nil, event.ModelObject{}, err
		}
		if l.Classifier == nil || pipeline.Version(b.name, l.Classifier.Checksum) != version {
			continue
		}
		f, err := models.Open(b.name)
		if err != nil {
			return nil, event.ModelObject{}, err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, event.ModelObject{}, err
		}
		return data, event.ModelObject{Lang: b.lang, Kind: "classifier", Version: version}, nil
	}
	return nil, event.ModelObject{}, fmt.Errorf("%w: %q is neither in the bucket nor a built-in classifier (%s)", ErrNoSuchModel, version, strings.Join(names, ", "))
}
