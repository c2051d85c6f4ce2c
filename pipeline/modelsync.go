package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
)

// ModelBucket stores promoted model files. *producer.ModelStore implements
// it (asserted in package producer's tests).
type ModelBucket interface {
	Put(ctx context.Context, obj event.ModelObject, data []byte) (event.ModelObject, error)
	Get(ctx context.Context, name string) ([]byte, event.ModelObject, error)
	List(ctx context.Context) ([]event.ModelObject, error)
	Watch(ctx context.Context, fn func(event.ModelObject)) error
}

// ModelSync distributes promoted classifiers through a ModelBucket: Publish
// stores a promotion, Run applies every promotion stored by any instance.
// A model is verified before it is swapped in: it must load (format,
// shapes and the checksum of its weights), have the labels of the model in
// service, and its weights must hash to the version it claims. A model that
// fails is refused and counted, and serving continues on the current one.
type ModelSync struct {
	bucket ModelBucket
	models ModelSwapper
	log    *slog.Logger

	mu       sync.Mutex
	applied  map[string]int // lang.kind → newest seq in service
	refused  int
	lastErr  error
	swapHook func(event.ModelObject)
}

// NewModelSync returns a ModelSync for the models held by m.
func NewModelSync(b ModelBucket, m ModelSwapper, log *slog.Logger) *ModelSync {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ModelSync{bucket: b, models: m, log: log, applied: map[string]int{}}
}

// Refused returns how many models were refused, and the last reason.
func (s *ModelSync) Refused() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused, s.lastErr
}

// Publish stores a promotion made by this instance's trainer.
func (s *ModelSync) Publish(ctx context.Context, p Promotion) error {
	var b bytes.Buffer
	kind, task, version := "classifier", p.Task, p.Models.Versions[p.Task]
	var err error
	if p.Tagger != nil {
		kind, task, version = "ner", "", p.Models.NERVersion
		err = p.Tagger.Save(&b)
	} else {
		err = p.Model.Save(&b)
	}
	if err != nil {
		return err
	}
	obj := event.ModelObject{
		Lang: p.Lang, Kind: kind, Task: task, Seq: p.Seq, Version: version, Parent: p.Parent,
		Metrics: p.Decision.Reason,
	}
	s.mu.Lock()
	s.applied[obj.Slot()] = max(s.applied[obj.Slot()], p.Seq)
	s.mu.Unlock()
	_, err = s.bucket.Put(ctx, obj, b.Bytes())
	return err
}

// LoadNewest swaps in the newest promoted classifier of every language in
// the bucket (at start) and returns the highest promotion number seen; a
// model that fails verification is refused and the next older one tried.
func (s *ModelSync) LoadNewest(ctx context.Context) (int, error) {
	objs, err := s.bucket.List(ctx)
	if err != nil {
		return 0, err
	}
	newest := 0
	for i := len(objs) - 1; i >= 0; i-- {
		o := objs[i]
		newest = max(newest, o.Seq)
		s.mu.Lock()
		done := s.applied[s.slot(o)] > 0
		s.mu.Unlock()
		if done {
			continue
		}
		if err := s.apply(ctx, o); err != nil {
			continue // refused and logged; try an older one
		}
	}
	return newest, nil
}

// Run applies promotions as they are stored, until ctx ends.
func (s *ModelSync) Run(ctx context.Context) error {
	return s.bucket.Watch(ctx, func(o event.ModelObject) {
		_ = s.apply(ctx, o)
	})
}

// slot returns o's Slot, reading an object without a task (stored before
// tasks existed) as the route task's.
func (s *ModelSync) slot(o event.ModelObject) string {
	if o.Kind == "classifier" && o.Task == "" {
		o.Task = s.models.Models().Route()
	}
	return o.Slot()
}

// apply verifies object o and swaps it in unless something newer serves.
func (s *ModelSync) apply(ctx context.Context, o event.ModelObject) error {
	key := s.slot(o)
	s.mu.Lock()
	if o.Seq <= s.applied[key] {
		s.mu.Unlock()
		return nil // ours, or older than what serves
	}
	s.mu.Unlock()
	refuse := func(err error) error {
		s.mu.Lock()
		s.refused++
		s.lastErr = err
		s.mu.Unlock()
		s.log.Error("model from the bucket refused; serving continues on the current one", "object", o.Name, "version", o.Version, "err", err)
		return err
	}
	data, obj, err := s.bucket.Get(ctx, o.Name)
	if err != nil {
		return refuse(err)
	}
	snap := s.models.Models()
	lang, cur := snap.For(obj.Lang)
	if obj.Kind == "ner" {
		return s.applyTagger(obj, data, lang, cur, refuse)
	}
	if obj.Kind != "classifier" {
		return refuse(fmt.Errorf("unknown model kind %q", obj.Kind))
	}
	task := obj.Task
	if task == "" {
		task = snap.Route()
	}
	ti, tm := cur.Task(task)
	if lang != obj.Lang || tm == nil {
		return refuse(fmt.Errorf("no %s classifier of task %q in service to replace", obj.Lang, task))
	}
	tc := model.NewTokenizerCache(tm.Classifier.Tokenizer)
	cls, err := model.LoadClassifier(bytes.NewReader(data), "bucket object "+obj.Name, tc)
	if err != nil {
		return refuse(err)
	}
	if strings.Join(cls.Labels, ",") != strings.Join(tm.Classifier.Labels, ",") || cls.MultiLabel != tm.MultiLabel {
		return refuse(fmt.Errorf("labels %v (multi-label %v), the %s model in service has %v (multi-label %v)", cls.Labels, cls.MultiLabel, task, tm.Classifier.Labels, tm.MultiLabel))
	}
	name, _, _ := strings.Cut(obj.Version, "@")
	specs := cur.Specs()
	specs[ti] = TaskSpec{Task: task, Classifier: cls, Name: name}
	lm, err := NewLangModels(specs, cur.Tagger, cur.NERName)
	if err != nil {
		return refuse(err)
	}
	if lm.Versions[task] != obj.Version {
		return refuse(fmt.Errorf("weights hash to version %s, the object claims %s", lm.Versions[task], obj.Version))
	}
	s.swapIn(key, obj, lm, "model from the bucket in service")
	return nil
}

// applyTagger verifies a tagger object and swaps it in.
func (s *ModelSync) applyTagger(obj event.ModelObject, data []byte, lang string, cur *LangModels, refuse func(error) error) error {
	if lang != obj.Lang || cur.Tagger == nil {
		return refuse(fmt.Errorf("no %s tagger in service to replace", obj.Lang))
	}
	tg, err := model.LoadTagger(bytes.NewReader(data), "bucket object "+obj.Name, model.NewTokenizerCache(cur.Tagger.Tokenizer))
	if err != nil {
		return refuse(err)
	}
	if strings.Join(tg.Tags, ",") != strings.Join(cur.Tagger.Tags, ",") {
		return refuse(fmt.Errorf("tags %v, the tagger in service has %v", tg.Tags, cur.Tagger.Tags))
	}
	name, _, _ := strings.Cut(obj.Version, "@")
	lm, err := NewLangModels(cur.Specs(), tg, name)
	if err != nil {
		return refuse(err)
	}
	if lm.NERVersion != obj.Version {
		return refuse(fmt.Errorf("weights hash to version %s, the object claims %s", lm.NERVersion, obj.Version))
	}
	s.swapIn(obj.Slot(), obj, lm, "tagger from the bucket in service")
	return nil
}

// swapIn puts lm in service for obj's language unless a promotion of the
// same key with a sequence at least obj's was applied already, logs msg
// and calls the swap hook.
func (s *ModelSync) swapIn(key string, obj event.ModelObject, lm *LangModels, msg string) {
	s.mu.Lock()
	if obj.Seq <= s.applied[key] {
		s.mu.Unlock()
		return
	}
	s.applied[key] = obj.Seq
	hook := s.swapHook
	s.mu.Unlock()
	snap, err := s.models.Models().With(obj.Lang, lm)
	if err != nil { // lm has every task of the model it replaces
		s.log.Error("model from the bucket not swapped in", "object", obj.Name, "err", err)
		return
	}
	s.models.SetModels(snap)
	s.log.Info(msg, "task", obj.Task, "version", obj.Version, "parent", obj.Parent, "object", obj.Name)
	if hook != nil {
		hook(obj)
	}
}
