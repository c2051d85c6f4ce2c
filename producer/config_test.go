package producer

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tagstream/tagstream/internal/devcert"
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

// TestNewAuth: New connects with good credentials, and fails within
// seconds (not at its ctx's end: nats.go retries forever) with an error
// that names the server and the method, never the secret, with bad ones or
// an untrusted server certificate.
func TestNewAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	seed, pub, err := devcert.NKeyUser()
	if err != nil {
		t.Fatal(err)
	}
	stranger, _, err := devcert.NKeyUser()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := devcert.NewCA("producer test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := devcert.NewCA("untrusted CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS := func(o *server.Options) {
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		o.TLSTimeout = 2
	}
	goodTLS := TLSConfig{Enabled: true, CAFile: writeFile("ca.pem", ca.CertPEM)}
	badTLS := TLSConfig{Enabled: true, CAFile: writeFile("other-ca.pem", other.CertPEM)}
	tests := []struct {
		name   string
		server func(*server.Options)
		good   Config
		bad    Config
		want   []string // in the error of bad
		secret string   // never in the error
	}{
		{"token",
			func(o *server.Options) { o.Authorization = "s3cret" },
			Config{Token: "s3cret"}, Config{Token: "wrong"},
			[]string{"authorization violation", "with a token"}, "wrong"},
		{"user password",
			func(o *server.Options) { o.Username, o.Password = "tag", "s3cret" },
			Config{User: "tag", Password: "s3cret"}, Config{User: "tag", Password: "wrong"},
			[]string{"authorization violation", `as user "tag"`}, "wrong"},
		{"nkey",
			func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: pub}} },
			Config{NKeySeedFile: writeFile("user.nk", []byte(seed+"\n"))},
			Config{NKeySeedFile: writeFile("stranger.nk", []byte(stranger+"\n"))},
			[]string{"authorization violation", "nkey_seed_file " + filepath.Join(dir, "stranger.nk")}, stranger},
		{"untrusted certificate", serverTLS,
			Config{TLS: goodTLS}, Config{TLS: badTLS},
			[]string{"over TLS", "certificate signed by unknown authority"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tn := newTestNATS(t, tc.server)
			cfg := tn.config(ModeJetStream)
			withAuth := func(a Config) Config {
				c := cfg
				c.User, c.Password, c.Token, c.NKeySeedFile, c.TLS = a.User, a.Password, a.Token, a.NKeySeedFile, a.TLS
				return c
			}
			newPublisher(t, withAuth(tc.good))

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, err := New(ctx, withAuth(tc.bad))
			took := time.Since(start)
			if err == nil {
				t.Fatal("New with bad credentials succeeded")
			}
			t.Logf("after %v: %v", took.Round(time.Millisecond), err)
			if took > 5*time.Second || ctx.Err() != nil {
				t.Errorf("New took %v: want a startup error within 5s, not a retry until ctx ends", took)
			}
			for _, w := range append(tc.want, strings.TrimPrefix(tn.url, "nats://")) {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) { // nats.go capitalizes "Authorization Violation" on some paths
					t.Errorf("error does not name %q", w)
				}
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
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
