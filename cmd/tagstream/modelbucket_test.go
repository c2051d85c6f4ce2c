package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
	"github.com/tagstream/tagstream/pipeline"
)

// memBucket is a pipeline.ModelBucket in memory.
type memBucket struct {
	mu   sync.Mutex
	objs []event.ModelObject // sorted by Seq
	data map[string][]byte
}

func (b *memBucket) Put(_ context.Context, obj event.ModelObject, data []byte) (event.ModelObject, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	obj.Name = event.ModelObjectName(obj.Lang, obj.Kind, obj.Task, obj.Seq)
	obj.Size = uint64(len(data))
	b.objs = append(b.objs, obj)
	b.data[obj.Name] = bytes.Clone(data)
	return obj, nil
}

func (b *memBucket) Get(_ context.Context, name string) ([]byte, event.ModelObject, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range b.objs {
		if o.Name == name {
			return bytes.Clone(b.data[name]), o, nil
		}
	}
	return nil, event.ModelObject{}, fmt.Errorf("no object %s", name)
}

func (b *memBucket) List(context.Context) ([]event.ModelObject, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]event.ModelObject(nil), b.objs...), nil
}

func (b *memBucket) Watch(ctx context.Context, _ func(event.ModelObject)) error {
	<-ctx.Done()
	return nil
}

// TestModelBucketRefusesUnverified: the model-bucket sync the service runs
// at startup (pipeline.ModelSync.LoadNewest, as in startService) never
// serves a model whose weights do not hash to the version its object
// metadata claims, nor one whose file fails its own checksum, and serves
// the newest model that passes. pipeline's TestModelSyncAcrossInstances
// covers truncated and tampered files through the real bucket and the
// watch path; this adds a well-formed file whose metadata claims another
// checksum.
func TestModelBucketRefusesUnverified(t *testing.T) {
	t.Parallel()
	tok, err := text.New(text.Options{Dict: text.DictChars})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	newCls := func() *model.Classifier {
		t.Helper()
		c, err := model.NewClassifier(model.ClassifierConfig{Embed: 4, Hidden: 4, Buckets: 4, MaxTokens: 16},
			[]string{"negative", "positive"}, model.NewVocab(strings.Fields("good bad")), tok, rng)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	save := func(c *model.Classifier) ([]byte, string) {
		t.Helper()
		var buf bytes.Buffer
		if err := c.Save(&buf); err != nil {
			t.Fatal(err)
		}
		loaded, err := model.LoadClassifier(bytes.NewReader(buf.Bytes()), "saved", model.NewTokenizerCache(tok))
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), pipeline.Version("tiny.ft", loaded.Checksum)
	}
	lm, err := pipeline.NewLangModels([]pipeline.TaskSpec{{Task: "sentiment", Classifier: newCls(), Name: "tiny"}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := pipeline.NewSnapshot(map[string]*pipeline.LangModels{"en": lm})
	if err != nil {
		t.Fatal(err)
	}
	holder := pipeline.NewModelHolder(snap)

	good, goodVersion := save(newCls())
	other, otherVersion := save(newCls())
	tampered := bytes.Clone(other)
	tampered[len(tampered)-10] ^= 0x40
	b := &memBucket{data: map[string][]byte{}}
	ctx := context.Background()
	for _, o := range []struct {
		version string
		data    []byte
	}{
		{goodVersion, good},      // seq 1: the newest that passes
		{goodVersion, other},     // seq 2: well-formed, but its weights hash to otherVersion
		{otherVersion, tampered}, // seq 3: fails the file's own checksum
	} {
		if _, err := b.Put(ctx, event.ModelObject{Lang: "en", Kind: "classifier", Seq: len(b.objs) + 1, Version: o.version}, o.data); err != nil {
			t.Fatal(err)
		}
	}
	ms := pipeline.NewModelSync(b, holder, nil)
	newest, err := ms.LoadNewest(ctx)
	if err != nil || newest != 3 {
		t.Fatalf("LoadNewest = %d, %v; want 3", newest, err)
	}
	refused, last := ms.Refused()
	t.Logf("refused %d, last: %v", refused, last)
	if refused != 2 {
		t.Errorf("refused %d models, want 2", refused)
	}
	if _, served := holder.Models().For("en"); served.Versions["sentiment"] != goodVersion {
		t.Fatalf("serving %s, want %s (the newest verified model)", served.Versions["sentiment"], goodVersion)
	}
	// The claim check alone: only the mislabelled object in the bucket.
	b2 := &memBucket{data: map[string][]byte{}}
	if _, err := b2.Put(ctx, event.ModelObject{Lang: "en", Kind: "classifier", Seq: 1, Version: goodVersion}, other); err != nil {
		t.Fatal(err)
	}
	holder2 := pipeline.NewModelHolder(snap)
	sync2 := pipeline.NewModelSync(b2, holder2, nil)
	if _, err := sync2.LoadNewest(ctx); err != nil {
		t.Fatal(err)
	}
	n, why := sync2.Refused()
	if n != 1 || why == nil || !strings.Contains(why.Error(), "weights hash to version "+otherVersion) || !strings.Contains(why.Error(), "claims "+goodVersion) {
		t.Fatalf("refused %d (%v), want the mislabelled model refused for its hash", n, why)
	}
	if _, served := holder2.Models().For("en"); served.Versions["sentiment"] != lm.Versions["sentiment"] {
		t.Fatalf("serving %s after a refused model, want %s", served.Versions["sentiment"], lm.Versions["sentiment"])
	}
}
