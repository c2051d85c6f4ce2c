package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/testutil"
)

// TestServerLifecycle starts a server on embedded brokers with the built-in
// models, waits until it is ready (and /readyz says so), reloads its model
// files, and stops it: Run returns within shutdown_timeout of the cancel,
// with the consumer's offsets committed ("stopped" without error). A reload
// of a corrupt model file is refused and the models in service stay.
func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Embedded.Enabled = true
	cfg.Embedded.KafkaAddr, cfg.Embedded.NATSAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 10 * time.Second
	var logs testutil.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := New(t.Context(), cfg, log, Options{})
	if err != nil {
		t.Fatalf("New: %v\n%s", err, logs.String())
	}
	if got := s.Config(); len(got.Kafka.Brokers) != 1 || !strings.HasPrefix(got.NATS.URL, "nats://127.0.0.1:") {
		t.Fatalf("Config() = brokers %v, nats %q: want the embedded servers' addresses", got.Kafka.Brokers, got.NATS.URL)
	}
	if err := s.Ready(); err == nil {
		t.Fatal("ready before Run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	deadline := time.Now().Add(60 * time.Second)
	for s.Ready() != nil {
		if time.Now().After(deadline) {
			cancel()
			<-runErr
			t.Fatalf("not ready after 60s: %v\n%s", s.Ready(), logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/readyz = %d %q while Ready() is nil", rec.Code, rec.Body)
	}

	// Reload: the built-in models again (a new snapshot, same versions).
	before := s.Models()
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if s.Models() == before {
		t.Error("Reload kept the old snapshot")
	}
	_, en := s.Models().For("en")
	_, enBefore := before.For("en")
	if en.Versions["sentiment"] != enBefore.Versions["sentiment"] || en.Versions["sentiment"] == "" {
		t.Errorf("reloaded en classifier %q, was %q", en.Versions["sentiment"], enBefore.Versions["sentiment"])
	}
	// A corrupt model file is refused on reload; the models stay.
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cfg.Tasks[0].Models["en"] = bad
	serving := s.Models()
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "tasks[0].models.en (task sentiment)") || !strings.Contains(err.Error(), bad) {
		t.Errorf("reload of a corrupt file: %v, want an error naming tasks[0].models.en and %s", err, bad)
	}
	if s.Models() != serving {
		t.Error("a failed reload replaced the models in service")
	}

	t0 := time.Now()
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, logs.String())
		}
	case <-time.After(cfg.ShutdownTimeout + 5*time.Second):
		t.Fatalf("Run did not return within shutdown_timeout %v (+5s) of the cancel", cfg.ShutdownTimeout)
	}
	if took := time.Since(t0); took > cfg.ShutdownTimeout {
		t.Errorf("shutdown took %v, over shutdown_timeout %v", took, cfg.ShutdownTimeout)
	}
	if err := s.Ready(); err == nil {
		t.Error("still ready after Run returned")
	}
	if resp, err := http.Get(s.HTTPAddr() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("HTTP endpoint still answers after Run returned")
	}
}
