package producer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/internal/devcert"
	"github.com/tagstream/tagstream/internal/testenv"
)

// The security tests run against a real nats-server that requires TLS and
// knows two nkey users, such as the second server deploy/local/nats.sh
// starts (its nats-secure/secure.env sets these), and are skipped when the
// variables are unset:
//
//	TAGSTREAM_NATS_SECURE_URL         the server, e.g. tls://127.0.0.1:4223
//	TAGSTREAM_NATS_CA_FILE            PEM CA that signs its certificate
//	TAGSTREAM_NATS_NKEY_SEED          seed file of a user that may publish
//	                                  anything, model buckets included
//	TAGSTREAM_NATS_NKEY_SEED_SERVING  seed file of a user that may publish
//	                                  results and read model buckets, but
//	                                  not write them (publish to $O.> denied)
const (
	secureURLEnv         = "TAGSTREAM_NATS_SECURE_URL"
	secureCAEnv          = "TAGSTREAM_NATS_CA_FILE"
	secureSeedEnv        = "TAGSTREAM_NATS_NKEY_SEED"
	secureServingSeedEnv = "TAGSTREAM_NATS_NKEY_SEED_SERVING"
)

// failFast bounds how long a rejected connection may take to surface.
const failFast = 5 * time.Second

// secureNATS is the secure server of the environment.
type secureNATS struct {
	url                  string
	tls                  TLSConfig
	trainer, servingSeed string
}

func newSecureNATS(t *testing.T) secureNATS {
	t.Helper()
	env := testenv.Require(t, "secure NATS", "deploy/local/nats.sh start writes them to nats-secure/secure.env",
		secureURLEnv, secureCAEnv, secureSeedEnv, secureServingSeedEnv)
	return secureNATS{
		url:         env[secureURLEnv],
		tls:         TLSConfig{Enabled: true, CAFile: env[secureCAEnv]},
		trainer:     env[secureSeedEnv],
		servingSeed: env[secureServingSeedEnv],
	}
}

// config returns a Config for the secure server as the user of seedFile,
// with subjects and a stream of its own (deleted at cleanup).
func (s secureNATS) config(t *testing.T, seedFile string) Config {
	t.Helper()
	u := uniqueToken()
	tn := &testNATS{url: s.url, prefix: u + ".results", dlq: u + ".dlq", stream: "TS_" + u, external: true}
	cfg := tn.config(ModeJetStream)
	cfg.TLS, cfg.NKeySeedFile = s.tls, seedFile
	t.Cleanup(func() { // as the trainer: the serving user may not delete streams
		js := s.jetStream(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, cfg.Stream)
	})
	return cfg
}

// uniqueToken returns a subject token unique to this test run.
func uniqueToken() string {
	return fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, nameSeq.Add(1))
}

// jetStream returns a JetStream context of the trainer user, closed at
// cleanup.
func (s secureNATS) jetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	nkey, err := nats.NkeyOptionFromSeed(s.trainer)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.url, nkey, nats.RootCAs(s.tls.CAFile))
	if err != nil {
		t.Fatalf("connect %s as the trainer: %v", s.url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestSecurePublish publishes results over TLS with each nkey user.
func TestSecurePublish(t *testing.T) {
	s := newSecureNATS(t)
	t.Parallel()
	for _, user := range []struct{ name, seed string }{{"trainer", s.trainer}, {"serving", s.servingSeed}} {
		t.Run(user.name, func(t *testing.T) {
			t.Parallel()
			cfg := s.config(t, user.seed)
			p := newPublisher(t, cfg)
			acks := collectAcks(t, p)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if n, err := p.PublishBatch(ctx, items("secure", 0, 5, "positive")); n != 5 || err != nil {
				t.Fatalf("PublishBatch = %d, %v", n, err)
			}
			if err := ackErrs(acks.wait(t, 5, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			js := s.jetStream(t)
			st, err := js.Stream(ctx, cfg.Stream)
			if err != nil {
				t.Fatal(err)
			}
			if info, err := st.Info(ctx); err != nil || info.State.Msgs != 5 {
				t.Fatalf("stream %s holds %v messages (%v), want 5", cfg.Stream, info.State.Msgs, err)
			}
		})
	}
}

// TestSecureModelStore: the trainer writes the model bucket over TLS with
// its nkey; the serving user reads it but cannot write it, and is told so
// within seconds.
func TestSecureModelStore(t *testing.T) {
	s := newSecureNATS(t)
	t.Parallel()
	bucket := "models_" + strings.ToLower(uniqueToken())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.jetStream(t).DeleteObjectStore(ctx, bucket)
	})
	open := func(seed string) *ModelStore {
		t.Helper()
		cfg := Config{URL: s.url, TLS: s.tls, NKeySeedFile: seed}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := OpenModelStore(ctx, cfg, bucket)
		if err != nil {
			t.Fatalf("OpenModelStore as %s: %v", filepath.Base(seed), err)
		}
		t.Cleanup(st.Close)
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	trainer := open(s.trainer)
	obj := event.ModelObject{Lang: "en", Kind: "classifier", Seq: 1, Version: "sentiment-en.ft1@0123abcd", Parent: "sentiment-en@89abcdef"}
	data := []byte(strings.Repeat("model bytes ", 20000)) // several object store chunks
	if _, err := trainer.Put(ctx, obj, data); err != nil {
		t.Fatalf("Put as the trainer: %v", err)
	}

	serving := open(s.servingSeed)
	got, gotObj, err := serving.Get(ctx, event.ModelObjectName("en", "classifier", "", 1))
	if err != nil || string(got) != string(data) || gotObj.Version != obj.Version {
		t.Fatalf("Get as the serving user: %d bytes, %+v, %v", len(got), gotObj, err)
	}
	start := time.Now()
	_, err = serving.Put(ctx, event.ModelObject{Lang: "en", Kind: "classifier", Seq: 2, Version: "forged@00000000"}, []byte("forged"))
	took := time.Since(start)
	t.Logf("Put as the serving user after %v: %v", took.Round(time.Millisecond), err)
	switch {
	case err == nil:
		t.Fatal("the serving user wrote the model bucket")
	case !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), bucket):
		t.Errorf("Put = %v: want a permissions violation naming the bucket", err)
	case took > failFast:
		t.Errorf("Put took %v to fail, want under %v", took, failFast)
	}
	list, err := trainer.List(ctx)
	if err != nil || len(list) != 1 || list[0].Seq != 1 {
		t.Fatalf("List = %+v, %v: want only the trainer's object", list, err)
	}
}

// TestSecureRejected: an nkey the server does not know, an unreadable seed
// and an untrusted CA are startup errors within failFast for New and
// OpenModelStore, naming the server and the seed file.
func TestSecureRejected(t *testing.T) {
	s := newSecureNATS(t)
	t.Parallel()
	dir := t.TempDir()
	stranger, _, err := devcert.NKeyUser()
	if err != nil {
		t.Fatal(err)
	}
	strangerFile := filepath.Join(dir, "stranger.nk")
	garbageFile := filepath.Join(dir, "garbage.nk")
	otherCA := filepath.Join(dir, "other-ca.pem")
	ca, err := devcert.NewCA("untrusted test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]string{strangerFile: stranger + "\n", garbageFile: "SUNOTASEED\n", otherCA: string(ca.CertPEM)} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	host := strings.TrimPrefix(s.url, "tls://")
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"unknown nkey", Config{URL: s.url, TLS: s.tls, NKeySeedFile: strangerFile},
			[]string{host, "nkey_seed_file " + strangerFile, "authorization violation"}},
		{"invalid seed file", Config{URL: s.url, TLS: s.tls, NKeySeedFile: garbageFile},
			[]string{"nkey_seed_file", garbageFile}},
		{"untrusted ca", Config{URL: s.url, TLS: TLSConfig{Enabled: true, CAFile: otherCA}, NKeySeedFile: s.trainer},
			[]string{host, "over TLS", "certificate signed by unknown authority"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, step := range []struct {
				name string
				run  func(context.Context) error
			}{
				{"New", func(ctx context.Context) error {
					p, err := New(ctx, tc.cfg)
					if err == nil {
						closePublisher(t, p)
					}
					return err
				}},
				{"OpenModelStore", func(ctx context.Context) error {
					st, err := OpenModelStore(ctx, tc.cfg, "models_rejected")
					if err == nil {
						st.Close()
					}
					return err
				}},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), 6*failFast)
				start := time.Now()
				err := step.run(ctx)
				took := time.Since(start)
				cancel()
				t.Logf("%s after %v: %v", step.name, took.Round(time.Millisecond), err)
				if err == nil {
					t.Fatalf("%s succeeded", step.name)
				}
				if took > failFast {
					t.Errorf("%s took %v, want under %v", step.name, took, failFast)
				}
				for _, w := range tc.want {
					if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) { // nats.go capitalizes "Authorization Violation" on some paths
						t.Errorf("%s error does not name %q", step.name, w)
					}
				}
				if strings.Contains(err.Error(), stranger) {
					t.Errorf("%s error prints the seed", step.name)
				}
			}
		})
	}
}
