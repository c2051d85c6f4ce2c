package producer

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" means valid
	}{
		{"zero is valid", Config{}, ""},
		{"full", Config{URL: "nats://a:4222, tls://b:4222", Mode: ModeCore, Stream: "S", DuplicateWindow: time.Hour,
			SubjectPrefix: "r", DLQSubject: "d.q", User: "u", Password: "p", MaxPendingAcks: 1, AckTimeout: time.Second,
			TLS: TLSConfig{Enabled: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem"}}, ""},
		{"url scheme", Config{URL: "http://a:4222"}, `url "http://a:4222"`},
		{"url password redacted", Config{URL: "http://u:hunter2@a:4222"}, "REDACTED"},
		{"mode", Config{Mode: "fast"}, `mode "fast": want jetstream or core`},
		{"stream dot", Config{Stream: "a.b"}, `stream "a.b"`},
		{"duplicate window negative", Config{DuplicateWindow: -time.Second}, "duplicate_window -1s"},
		{"duplicate window too long", Config{DuplicateWindow: 25 * time.Hour}, "duplicate_window 25h0m0s: want 0 (default 2m0s) or in (0, 24h0m0s]"},
		{"prefix wildcard", Config{SubjectPrefix: "a.*"}, `subject_prefix "a.*"`},
		{"prefix empty token", Config{SubjectPrefix: "a..b"}, `subject_prefix "a..b"`},
		{"dlq space", Config{DLQSubject: "a b"}, `dlq_subject "a b"`},
		{"dlq under prefix", Config{DLQSubject: "tagstream.results.dlq"}, `dlq_subject "tagstream.results.dlq": must not be under subject_prefix "tagstream.results"`},
		{"password without user", Config{Password: "hunter2"}, "user: empty"},
		{"user without password", Config{User: "bob"}, `password: empty, want non-empty when user "bob" is set`},
		{"two auth methods", Config{Token: "hunter2", CredsFile: "x.creds"}, "token, creds_file: all set"},
		{"tls cert without key", Config{TLS: TLSConfig{Enabled: true, CertFile: "c.pem"}}, "tls.cert_file"},
		{"tls fields while disabled", Config{TLS: TLSConfig{CAFile: "ca.pem"}}, "tls.enabled false"},
		{"max pending acks", Config{MaxPendingAcks: 1<<20 + 1}, "max_pending_acks 1048577: want 0 (default 4096) or in [1, 1048576]"},
		{"max pending acks negative", Config{MaxPendingAcks: -1}, "max_pending_acks -1"},
		{"ack timeout", Config{AckTimeout: time.Millisecond}, "ack_timeout 1ms: want 0 (default 30s) or in [10ms, 10m0s]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate printed a secret: %v", err)
			}
		})
	}
}

func TestSubjectCovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pattern, subj string
		want                bool
	}{
		{"equal", "a.dlq", "a.dlq", true},
		{"full wildcard equal", "a.r.>", "a.r.>", true},
		{"wider full wildcard", "a.>", "a.r.>", true},
		{"star covers token", "a.*", "a.dlq", true},
		{"star covers a token before full wildcard", "a.*.>", "a.r.>", true},
		{"star does not cover full wildcard", "a.*", "a.r.>", false},
		{"star under full wildcard", "*.r.>", "a.r.>", true},
		{"other prefix", "b.>", "a.r.>", false},
		{"narrower", "a.r.x", "a.r.>", false},
		{"shorter", "a", "a.dlq", false},
		{"longer", "a.dlq.x", "a.dlq", false},
		{"full wildcard needs a token", "a.dlq.>", "a.dlq", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := subjectCovers(tc.pattern, tc.subj); got != tc.want {
				t.Errorf("subjectCovers(%q, %q) = %v, want %v", tc.pattern, tc.subj, got, tc.want)
			}
		})
	}
}

func TestNewInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := New(ctx, Config{Mode: "x"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New(bad config) = %v, want ErrInvalidConfig", err)
	}
	if _, err := New(ctx, Config{}, WithLogger(nil)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("New(WithLogger(nil)) = %v, want ErrInvalidOption", err)
	}
	if _, err := New(ctx, Config{NKeySeedFile: t.TempDir() + "/missing.nk"}); err == nil {
		t.Error("New with a missing nkey seed file succeeded")
	}
}

// TestNewConnectTimeout: nothing listens; New keeps retrying until its ctx
// ends and leaves nothing running.
func TestNewConnectTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = New(ctx, Config{URL: "nats://" + addr})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), addr) {
		t.Errorf("New = %v, want a deadline error naming %s", err, addr)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("New took %v with a 300ms deadline", d)
	}
}

func TestNewAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server func(*server.Options)
		good   Config
		bad    Config
	}{
		{"token",
			func(o *server.Options) { o.Authorization = "s3cret" },
			Config{Token: "s3cret"}, Config{Token: "wrong"}},
		{"user password",
			func(o *server.Options) { o.Username, o.Password = "tag", "s3cret" },
			Config{User: "tag", Password: "s3cret"}, Config{User: "tag", Password: "wrong"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tn := newTestNATS(t, tc.server)
			cfg := tn.config(ModeJetStream)
			cfg.User, cfg.Password, cfg.Token = tc.good.User, tc.good.Password, tc.good.Token
			newPublisher(t, cfg)

			cfg.User, cfg.Password, cfg.Token = tc.bad.User, tc.bad.Password, tc.bad.Token
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			_, err := New(ctx, cfg)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
				t.Errorf("New with bad credentials = %v, want an authorization error", err)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error prints the secret: %v", err)
			}
		})
	}
}

func TestNewExistingStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		subjects func(tn *testNATS) []string
		wantErr  error
	}{
		{"wider wildcard", func(tn *testNATS) []string { return []string{strings.TrimSuffix(tn.prefix, ".results") + ".>"} }, nil},
		{"exact", func(tn *testNATS) []string { return []string{tn.prefix + ".>", tn.dlq} }, nil},
		{"missing dlq", func(tn *testNATS) []string { return []string{tn.prefix + ".>"} }, ErrStreamMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tn := newTestNATS(t, nil)
			js, err := jetstream.New(tn.conn(t))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: tn.stream, Subjects: tc.subjects(tn)}); err != nil {
				t.Fatal(err)
			}
			p, err := New(ctx, tn.config(ModeJetStream))
			if err == nil {
				t.Cleanup(func() { closePublisher(t, p) })
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("New = %v, want %v", err, tc.wantErr)
			}
		})
	}
}
