package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tagstream/tagstream/internal/devcert"
	"github.com/tagstream/tagstream/internal/testenv"
)

// The security tests of the CLI run against a real Kafka SASL_SSL listener
// and a real nats-server that requires TLS and nkeys, such as those
// deploy/local/kafka.sh and nats.sh start (their kafka/secure.env and
// nats-secure/secure.env set these), and are skipped otherwise:
//
//	TAGSTREAM_KAFKA_SECURE_BROKERS    host:port of the SASL_SSL listener
//	TAGSTREAM_KAFKA_CA_FILE           PEM CA of the broker's certificate
//	TAGSTREAM_KAFKA_SCRAM_USER        a SCRAM-SHA-512 user
//	TAGSTREAM_KAFKA_SCRAM_PASSWORD    its password
//	TAGSTREAM_NATS_SECURE_URL         the TLS nats-server
//	TAGSTREAM_NATS_CA_FILE            PEM CA of its certificate
//	TAGSTREAM_NATS_NKEY_SEED          seed file of a user allowed everything
//	TAGSTREAM_NATS_NKEY_SEED_SERVING  seed file of a user that may publish
//	                                  results but not write model buckets
//
// None of these names is a configuration key: config.Load ignores them.
var secureEnv = []string{
	"TAGSTREAM_KAFKA_SECURE_BROKERS", "TAGSTREAM_KAFKA_CA_FILE", "TAGSTREAM_KAFKA_SCRAM_USER", "TAGSTREAM_KAFKA_SCRAM_PASSWORD",
	"TAGSTREAM_NATS_SECURE_URL", "TAGSTREAM_NATS_CA_FILE", "TAGSTREAM_NATS_NKEY_SEED", "TAGSTREAM_NATS_NKEY_SEED_SERVING",
}

// secureEnvs returns the variables, or skips t.
func secureEnvs(t *testing.T) map[string]string {
	t.Helper()
	env := testenv.Require(t, "secure brokers", "deploy/local/kafka.sh and nats.sh write them to secure.env", secureEnv...)
	return env
}

// secureConfig writes a config file for the secure brokers: SCRAM-SHA-512
// with password, the nkey seed file, topic, stream and subjects of the
// test's own, the model bucket bucket.
func secureConfig(t *testing.T, env map[string]string, password, seed, topic, stream, bucket string) string {
	t.Helper()
	yaml := fmt.Sprintf(`kafka:
  brokers: [%q]
  topics: [%q]
  group: %q
  feedback_topic: ""
  tls: {enabled: true, ca_file: %q}
  sasl: {mechanism: SCRAM-SHA-512, username: %q, password: %q}
nats:
  url: %q
  stream: %q
  nkey_seed_file: %q
  tls: {enabled: true, ca_file: %q}
output:
  subject_prefix: %q
  dlq_subject: %q
models:
  bucket: %q
http:
  addr: 127.0.0.1:0
log:
  level: debug
shutdown_timeout: 10s
`, env["TAGSTREAM_KAFKA_SECURE_BROKERS"], topic, topic+".group", env["TAGSTREAM_KAFKA_CA_FILE"],
		env["TAGSTREAM_KAFKA_SCRAM_USER"], password,
		env["TAGSTREAM_NATS_SECURE_URL"], stream, seed, env["TAGSTREAM_NATS_CA_FILE"],
		strings.ToLower(stream)+".results", strings.ToLower(stream)+".dlq", bucket)
	path := filepath.Join(t.TempDir(), "secure.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// trainerJetStream connects to the secure NATS as the user allowed
// everything, closed at cleanup.
func trainerJetStream(t *testing.T, env map[string]string) jetstream.JetStream {
	t.Helper()
	nkey, err := nats.NkeyOptionFromSeed(env["TAGSTREAM_NATS_NKEY_SEED"])
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(env["TAGSTREAM_NATS_SECURE_URL"], nkey, nats.RootCAs(env["TAGSTREAM_NATS_CA_FILE"]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestSecureProduceAndRun: produce writes over SASL_SSL (SCRAM-SHA-512),
// and `tagstream run` labels the events, consuming over SASL_SSL and
// publishing over TLS as the nkey user that may not write the model bucket;
// tail, with the same settings, prints the results.
func TestSecureProduceAndRun(t *testing.T) {
	env := secureEnvs(t)
	t.Parallel()
	topic := uniqueName("secure")
	stream := "TS_" + strings.ToUpper(uniqueName("s"))
	bucket := "models_" + strings.ToLower(uniqueName("s"))
	js := trainerJetStream(t, env)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, stream)
		_ = js.DeleteObjectStore(ctx, bucket)
	})
	cfg := secureConfig(t, env, env["TAGSTREAM_KAFKA_SCRAM_PASSWORD"], env["TAGSTREAM_NATS_NKEY_SEED_SERVING"], topic, stream, bucket)
	var in strings.Builder
	for i := range 5 {
		fmt.Fprintf(&in, `{"id":"sec-%d","text":"a lovely secure day %d","lang":"en"}`+"\n", i, i)
	}
	_, stderr, err := runTool(t, in.String(), "produce", "--config", cfg, "--brokers", env["TAGSTREAM_KAFKA_SECURE_BROKERS"], "--topic", topic, "--create-topic")
	if err != nil {
		t.Fatalf("produce over SASL_SSL: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "produced 5 messages") {
		t.Fatalf("produce: %s", stderr)
	}

	// tail connects with the same TLS and nkey settings from the config.
	tail := startTool(t, nil, "tail", "--config", cfg, "--nats", env["TAGSTREAM_NATS_SECURE_URL"],
		"--subject", strings.ToLower(stream)+".results.>", "--count", "5")
	pollUntil(t, 30*time.Second, func() error {
		if s := tail.stderr.String(); !strings.Contains(s, "subscribed to ") {
			return fmt.Errorf("tail not subscribed yet: %s", s)
		}
		return nil
	})
	r := startTool(t, nil, "run", "--config", cfg)
	pollUntil(t, 90*time.Second, func() error {
		select {
		case <-r.done:
			t.Fatalf("run ended: %v\n%s", r.err, r.stderr.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := js.Stream(ctx, stream)
		if err != nil {
			return fmt.Errorf("stream %s: %v", stream, err)
		}
		if n := st.CachedInfo().State.Msgs; n != 5 {
			return fmt.Errorf("%d results in %s, want 5", n, stream)
		}
		return nil
	})
	if err := tail.wait(t, 30*time.Second); err != nil || strings.Count(tail.stdout.String(), " sec-") != 5 {
		t.Errorf("tail over TLS with the nkey: %v\n%s\n%s", err, tail.stdout.String(), tail.stderr.String())
	}
	r.cancel()
	if err := r.wait(t, 30*time.Second); err != nil {
		t.Fatalf("run: %v\n%s", err, r.stderr.String())
	}
	if s := r.stderr.String(); strings.Contains(s, env["TAGSTREAM_KAFKA_SCRAM_PASSWORD"]) {
		t.Errorf("run logged the SCRAM password:\n%s", s)
	}
}

// TestSecureRejected: wrong credentials and an untrusted CA are errors
// within seconds, from produce and from run's startup, naming the broker
// or server and the mechanism, and never the secret.
func TestSecureRejected(t *testing.T) {
	env := secureEnvs(t)
	t.Parallel()
	const wrong = "wrong-password-4b9e"
	dir := t.TempDir()
	stranger, _, err := devcert.NKeyUser()
	if err != nil {
		t.Fatal(err)
	}
	strangerFile := filepath.Join(dir, "stranger.nk")
	if err := os.WriteFile(strangerFile, []byte(stranger+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca, err := devcert.NewCA("untrusted test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherCA := filepath.Join(dir, "other-ca.pem")
	if err := os.WriteFile(otherCA, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	broker := env["TAGSTREAM_KAFKA_SECURE_BROKERS"]
	good := env["TAGSTREAM_KAFKA_SCRAM_PASSWORD"]
	servingSeed := env["TAGSTREAM_NATS_NKEY_SEED_SERVING"]
	untrusted := map[string]string{}
	for k, v := range env {
		untrusted[k] = v
	}
	untrusted["TAGSTREAM_KAFKA_CA_FILE"] = otherCA
	tests := []struct {
		name     string
		env      map[string]string
		password string
		seed     string
		args     []string // the command and its flags, without --config
		within   time.Duration
		want     []string
	}{
		{"produce wrong password", env, wrong, servingSeed,
			[]string{"produce", "--brokers", broker}, 10 * time.Second,
			[]string{broker, "SCRAM-SHA-512", "SASL Authentication Failed"}},
		{"produce untrusted ca", untrusted, good, servingSeed,
			[]string{"produce", "--brokers", broker}, 10 * time.Second,
			[]string{broker, "over TLS", "certificate signed by unknown authority"}},
		{"run wrong password", env, wrong, servingSeed,
			[]string{"run"}, 10 * time.Second,
			[]string{"kafka: ", broker, "SCRAM-SHA-512", "SASL Authentication Failed"}},
		{"run unknown nkey", env, good, strangerFile,
			[]string{"run"}, 90 * time.Second, // the models load first (slow under -race)
			[]string{env["TAGSTREAM_NATS_SECURE_URL"], "nkey_seed_file " + strangerFile, "authorization violation"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			topic := uniqueName("rejected")
			cfg := secureConfig(t, tc.env, tc.password, tc.seed, topic, "S"+strings.ToUpper(topic), "models_"+topic)
			args := append([]string{tc.args[0], "--config", cfg}, tc.args[1:]...)
			if tc.args[0] == "produce" {
				args = append(args, "--topic", topic)
			}
			start := time.Now()
			_, stderr, err := runTool(t, `{"text":"never sent"}`+"\n", args...)
			took := time.Since(start)
			t.Logf("%s after %v: %v", tc.args[0], took.Round(time.Millisecond), err)
			if err == nil {
				t.Fatalf("%s succeeded:\n%s", tc.args[0], stderr)
			}
			if took > tc.within {
				t.Errorf("took %v, want under %v", took, tc.within)
			}
			for _, w := range tc.want {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) { // nats.go capitalizes "Authorization Violation" on some paths
					t.Errorf("error does not name %q", w)
				}
			}
			for _, secret := range []string{wrong, good, stranger} {
				if strings.Contains(err.Error(), secret) || strings.Contains(stderr, secret) {
					t.Errorf("a secret is in the error or the logs:\n%v\n%s", err, stderr)
				}
			}
		})
	}
}
