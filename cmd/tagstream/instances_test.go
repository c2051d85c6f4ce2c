package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/producer"
)

// TestTwoInstancesSwapWithinTwoSeconds runs two `tagstream run` instances
// in one consumer group (the first with the embedded brokers, the second
// on them), stores a new classifier version in the model bucket and checks
// that both serve it within 2 s (read from /metrics tagstream_model_info).
func TestTwoInstancesSwapWithinTwoSeconds(t *testing.T) {
	t.Parallel()
	p := startTwoInstances(t)
	a, b, natsURL, httpA, httpB := p.a, p.b, p.natsURL, p.httpA, p.httpB
	serves := func(addr, version string) error {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `tagstream_model_info{kind="classifier",lang="en",task="sentiment",version="`+version+`"} 1`) {
			return fmt.Errorf("%s does not serve %s", addr, version)
		}
		return nil
	}
	for _, addr := range []string{httpA, httpB} {
		pollUntil(t, 60*time.Second, func() error {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("%s not ready", addr)
			}
			return nil
		})
	}

	data := builtinModel(t, models.SentimentEN)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store, err := producer.OpenModelStore(ctx, producer.Config{URL: natsURL}, "tagstream_models")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// The same weights under a new name: a new version that verifies.
	hash := regexp.MustCompile(`sentiment-en@([0-9a-f]{12})`).FindStringSubmatch(a.stderr.String())
	if hash == nil {
		t.Fatalf("no English classifier version logged")
	}
	version := "sentiment-en.ft7@" + hash[1]
	start := time.Now()
	if _, err := store.Put(ctx, event.ModelObject{Lang: "en", Kind: "classifier", Seq: 7, Version: version, Parent: hash[0]}, data); err != nil {
		t.Fatal(err)
	}
	bound := 2 * time.Second
	if raceEnabled {
		bound = 15 * time.Second
	}
	for name, addr := range map[string]string{"a": httpA, "b": httpB} {
		pollUntil(t, 20*time.Second, func() error { return serves(addr, version) })
		if lag := time.Since(start); lag > bound {
			t.Errorf("instance %s served %s only %v after it was stored, want <= %v", name, version, lag, bound)
		} else {
			t.Logf("instance %s serves %s within %v", name, version, lag)
		}
	}
	b.cancel()
	if err := b.wait(t, 30*time.Second); err != nil {
		t.Errorf("instance b: %v", err)
	}
	a.cancel()
	if err := a.wait(t, 30*time.Second); err != nil {
		t.Errorf("instance a: %v", err)
	}
}

// instancePair is two `tagstream run` instances in one consumer group: a
// with the embedded brokers, b on them.
type instancePair struct {
	a, b               *toolRun
	kafkaAddr, natsURL string
	httpA, httpB       string // HTTP listen addresses
}

// startTwoInstances starts a, waits for its brokers and HTTP address,
// then starts b on a's brokers and waits for its HTTP address.
func startTwoInstances(t *testing.T) instancePair {
	t.Helper()
	var p instancePair
	p.a = startTool(t, strings.NewReader(""), "run", "--embedded",
		"--embedded.kafka_addr", "127.0.0.1:0", "--embedded.nats_addr", "127.0.0.1:0", "--http.addr", "127.0.0.1:0")
	pollUntil(t, 60*time.Second, func() error {
		logs := p.a.stderr.String()
		k := regexp.MustCompile(`kafka=\[(127\.0\.0\.1:\d+)\] nats=(nats://127\.0\.0\.1:\d+)`).FindStringSubmatch(logs)
		h := regexp.MustCompile(`"http listening" addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(logs)
		if k == nil || h == nil {
			return fmt.Errorf("instance a not up yet:\n%s", logs)
		}
		p.kafkaAddr, p.natsURL, p.httpA = k[1], k[2], h[1]
		return nil
	})
	p.b = startTool(t, strings.NewReader(""), "run", "--kafka.brokers", p.kafkaAddr, "--nats.url", p.natsURL, "--http.addr", "127.0.0.1:0")
	pollUntil(t, 60*time.Second, func() error {
		h := regexp.MustCompile(`"http listening" addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(p.b.stderr.String())
		if h == nil {
			return fmt.Errorf("instance b not up yet:\n%s", p.b.stderr.String())
		}
		p.httpB = h[1]
		return nil
	})
	return p
}
