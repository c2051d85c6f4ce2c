package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/producer"
)

func openStore(t *testing.T, n *e2eNATS, bucket string) *producer.ModelStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := producer.OpenModelStore(ctx, producer.Config{URL: n.url}, bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// runSync runs s.Run until cleanup.
func runSync(t *testing.T, s *ModelSync) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// Two instances share one model bucket: a model promoted by the first is
// serving in the second within 2 s; a truncated or tampered model put in
// the bucket is refused by both, which keep serving the promoted version.
func TestModelSyncAcrossInstances(t *testing.T) {
	t.Parallel()
	n := newE2ENATS(t)
	bucket := "models_" + strings.ToLower(uniqueName(t))
	bucket = bucket[:min(len(bucket), 60)]
	snapA, orig := tinySnapshot(t)
	snapB, _ := NewSnapshot(map[string]*LangModels{"en": func() *LangModels { _, lm := snapA.For("en"); return lm }()})
	a, b := NewModelHolder(snapA), NewModelHolder(snapB)
	syncA := NewModelSync(openStore(t, n, bucket), a, nil)
	syncB := NewModelSync(openStore(t, n, bucket), b, nil)
	swapped := make(chan time.Time, 4)
	syncB.swapHook = func(event.ModelObject) { swapped <- time.Now() }
	runSync(t, syncA)
	runSync(t, syncB)

	tr, err := NewTrainer(TrainerConfig{MinExamples: 400, FineTune: model.FineTuneConfig{Steps: 120, Batch: 16, Workers: 2}},
		a, map[string][]model.LabeledText{"en": orig[:500]}, map[string][]model.LabeledText{"en": orig[500:800]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var published time.Time
	tr.OnPromote(func(ctx context.Context, p Promotion) error {
		err := syncA.Publish(ctx, p)
		published = time.Now()
		return err
	})
	rng := rand.New(rand.NewPCG(51, 52))
	var promoted Round
	for _, ex := range keywordTexts(rng, 500, [2]string{"sunny", "rainy"}, false) {
		tr.Add("sentiment", "en", ex)
		if tr.Ready("sentiment", "en") {
			if promoted, err = tr.RunRound(context.Background(), "sentiment", "en"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if promoted.Version == "" {
		t.Fatalf("no promotion: %s", promoted.Decision.Reason)
	}
	select {
	case at := <-swapped:
		lag := at.Sub(published)
		t.Logf("promotion %s serving in the other instance %v after it was stored", promoted.Version, lag)
		if lag > 2*time.Second {
			t.Errorf("second instance swapped after %v, want <= 2s", lag)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("second instance did not swap within 2s")
	}
	for name, h := range map[string]*ModelHolder{"a": a, "b": b} {
		if _, lm := h.Models().For("en"); lm.Versions["sentiment"] != promoted.Version {
			t.Fatalf("instance %s serves %s, want %s", name, lm.Versions["sentiment"], promoted.Version)
		}
	}

	// Bad models: truncated, and tampered (one weight byte changed, so the
	// file's checksum no longer matches), each as a newer promotion.
	store := openStore(t, n, bucket)
	var good bytes.Buffer
	if err := promoted.candidate().Save(&good); err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(good.Bytes())
	tampered[len(tampered)-10] ^= 0x40
	ctx := context.Background()
	for i, data := range [][]byte{good.Bytes()[:good.Len()/2], tampered} {
		obj := event.ModelObject{Lang: "en", Kind: "classifier", Seq: 100 + i, Version: promoted.Version, Parent: promoted.Version}
		if _, err := store.Put(ctx, obj, data); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, func() error {
		ra, _ := syncA.Refused()
		rb, errB := syncB.Refused()
		if ra != 2 || rb != 2 {
			return fmt.Errorf("refused %d and %d, want 2 each (last: %v)", ra, rb, errB)
		}
		return nil
	})
	_, lastErr := syncB.Refused()
	t.Logf("last refusal: %v", lastErr)
	for name, h := range map[string]*ModelHolder{"a": a, "b": b} {
		if _, lm := h.Models().For("en"); lm.Versions["sentiment"] != promoted.Version {
			t.Fatalf("instance %s serves %s after bad models, want %s", name, lm.Versions["sentiment"], promoted.Version)
		}
	}
	// A fresh instance starting now loads the newest good promotion.
	c := NewModelHolder(snapB)
	newest, err := NewModelSync(store, c, nil).LoadNewest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, lm := c.Models().For("en"); lm.Versions["sentiment"] != promoted.Version || newest != 101 {
		t.Fatalf("a starting instance serves %s (newest seq %d), want %s", lm.Versions["sentiment"], newest, promoted.Version)
	}
}
