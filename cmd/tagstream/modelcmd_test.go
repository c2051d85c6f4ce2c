package main

import (
	"context"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/test"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
)

func TestModelCommands(t *testing.T) {
	t.Parallel()
	opts := natsserver.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	srv := natsserver.RunServer(&opts)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	url, bucket := srv.ClientURL(), "models_cli_test"

	var tc model.TokenizerCache
	defs, err := models.Defaults(&tc)
	if err != nil {
		t.Fatal(err)
	}
	builtin := pipeline.Version(defs["en"].ClassifierName, defs["en"].Classifier.Checksum)
	data := builtinModel(t, models.SentimentEN)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store, err := producer.OpenModelStore(ctx, producer.Config{URL: url}, bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	ft1 := "sentiment-en.ft1@0123456789ab"
	if _, err := store.Put(ctx, event.ModelObject{Lang: "en", Kind: "classifier", Seq: 1, Version: ft1, Parent: builtin, Metrics: "held-out 0.42 -> 0.55"}, data); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		out, stderr, err := runTool(t, "", append(args, "--nats", url, "--bucket", bucket)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
		return out
	}
	if out := cli("model", "list"); !strings.Contains(out, ft1) || !strings.Contains(out, builtin) {
		t.Fatalf("model list:\n%s", out)
	}
	if out := cli("model", "show", ft1); !strings.Contains(out, "parent:   "+builtin) || !strings.Contains(out, "held-out 0.42 -> 0.55") {
		t.Fatalf("model show:\n%s", out)
	}
	if out := cli("model", "rollback", "--lang", "en"); !strings.Contains(out, "promoted "+builtin+" as en.classifier-sentiment.00000002") {
		t.Fatalf("model rollback:\n%s", out)
	}
	if out := cli("model", "promote", ft1); !strings.Contains(out, "promoted "+ft1+" as en.classifier-sentiment.00000003") {
		t.Fatalf("model promote:\n%s", out)
	}
	// The commands above load models (slow under -race on a busy machine):
	// a fresh deadline for the store.
	lctx, lcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer lcancel()
	objs, err := store.List(lctx)
	if err != nil || len(objs) != 3 || objs[2].Version != ft1 || objs[1].Version != builtin {
		t.Fatalf("bucket after rollback and promote: %+v, %v", objs, err)
	}
	if _, _, err := runTool(t, "", "model", "show", "nope@1", "--nats", url, "--bucket", bucket); err == nil {
		t.Fatal("show of an unknown version succeeded")
	}
}
