package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsd "github.com/nats-io/nats-server/v2/server"
	natsserver "github.com/nats-io/nats-server/v2/test"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/devcert"
	"github.com/tagstream/tagstream/server"
)

// Secrets of the tests below: each is distinctive, so finding it anywhere
// in an output means it leaked.
const (
	secretKafkaPW    = "kafka-secret-5e1a"
	secretWrongKafka = "kafka-wrong-92cd"
	secretNATSPW     = "nats-secret-0b7f"
	secretWrongNATS  = "nats-wrong-61aa"
	secretToken      = "nats-token-c3d9"
	secretWrongToken = "nats-token-wrong-8f02"
)

// secretsKafka is a kfake cluster that requires SASL SCRAM-SHA-512 as user
// tagstream with secretKafkaPW.
func secretsKafka(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "tagstream.events"),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "tagstream", secretKafkaPW))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// secretsNATS is an in-process nats-server with JetStream and the auth
// mutate sets.
func secretsNATS(t *testing.T, mutate func(*natsd.Options)) string {
	t.Helper()
	opts := natsserver.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	mutate(&opts)
	srv := natsserver.RunServer(&opts)
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv.ClientURL()
}

// TestSecretsNotPrinted: no secret (kafka.sasl.password, nats.password,
// nats.token, the contents of an nkey seed file, a password in nats.url)
// appears in `config print`, nor in the debug-level logs and the error of
// a service start that a broker or server rejects.
func TestSecretsNotPrinted(t *testing.T) {
	t.Parallel()
	seed, pub, err := devcert.NKeyUser()
	if err != nil {
		t.Fatal(err)
	}
	stranger, _, err := devcert.NKeyUser()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	strangerFile := filepath.Join(dir, "stranger.nk")
	if err := os.WriteFile(strangerFile, []byte(stranger+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := []string{secretKafkaPW, secretWrongKafka, secretNATSPW, secretWrongNATS, secretToken, secretWrongToken, seed, stranger}
	kafkaAddr := secretsKafka(t)
	users := func(o *natsd.Options) { o.Username, o.Password = "tag", secretNATSPW }
	tests := []struct {
		name       string
		kafkaPW    string
		nats       func(*natsd.Options)
		natsConfig func(url string) string // the nats keys of the config file
		want       string                  // in the start error, lower case
	}{
		{"kafka password rejected", secretWrongKafka, users,
			func(url string) string { return fmt.Sprintf("url: %q\n  user: tag\n  password: %s", url, secretNATSPW) },
			"sasl authentication failed"},
		{"nats password rejected", secretKafkaPW, users,
			func(url string) string {
				return fmt.Sprintf("url: %q\n  user: tag\n  password: %s", url, secretWrongNATS)
			},
			"authorization violation"},
		{"nats password in url rejected", secretKafkaPW, users,
			func(url string) string {
				return fmt.Sprintf("url: %q", strings.Replace(url, "nats://", "nats://tag:"+secretWrongNATS+"@", 1))
			},
			"authorization violation"},
		{"nats token rejected", secretKafkaPW, func(o *natsd.Options) { o.Authorization = secretToken },
			func(url string) string { return fmt.Sprintf("url: %q\n  token: %s", url, secretWrongToken) },
			"authorization violation"},
		{"nkey rejected", secretKafkaPW, func(o *natsd.Options) { o.Nkeys = []*natsd.NkeyUser{{Nkey: pub}} },
			func(url string) string { return fmt.Sprintf("url: %q\n  nkey_seed_file: %q", url, strangerFile) },
			"authorization violation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := secretsNATS(t, tc.nats)
			path := filepath.Join(t.TempDir(), "c.yaml")
			yaml := fmt.Sprintf("kafka:\n  brokers: [%q]\n  sasl: {mechanism: SCRAM-SHA-512, username: tagstream, password: %s}\nnats:\n  %s\nlog: {level: debug}\n",
				kafkaAddr, tc.kafkaPW, tc.natsConfig(url))
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := run(t, "", "config", "print", "--config", path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "REDACTED") {
				t.Errorf("config print shows no REDACTED:\n%s", out)
			}
			cfg, err := config.Load(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The service's start with its own logger at debug level (this
			// path happens to log nothing below info; TestRunLogsNoSecrets
			// sees kafka-go's debug lines); the identity labeller instead
			// of the models keeps it quick.
			var logs syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := server.New(ctx, cfg, server.NewLogger(cfg.Log, &logs), server.Options{Identity: true, NoHTTP: true})
			if err == nil {
				s.Close(ctx)
				t.Fatalf("start succeeded with rejected credentials; logs:\n%s", logs.String())
			}
			if !strings.Contains(strings.ToLower(err.Error()), tc.want) || ctx.Err() != nil { // nats.go capitalizes "Authorization Violation" on some paths
				t.Errorf("start = %v, want %q before the deadline", err, tc.want)
			}
			for _, secret := range secrets {
				for what, text := range map[string]string{"config print": out, "start error": err.Error(), "logs": logs.String()} {
					if strings.Contains(text, secret) {
						t.Errorf("%s shows secret %.8s...:\n%s", what, secret, text)
					}
				}
			}
		})
	}
}

// TestRunLogsNoSecrets runs `tagstream run` at debug level to the point
// where it serves, with SASL to Kafka and the NATS password in nats.url,
// and checks that neither appears in its logs.
func TestRunLogsNoSecrets(t *testing.T) {
	t.Parallel()
	kafkaAddr := secretsKafka(t)
	url := secretsNATS(t, func(o *natsd.Options) { o.Username, o.Password = "tag", secretNATSPW })
	path := filepath.Join(t.TempDir(), "c.yaml")
	yaml := fmt.Sprintf("kafka:\n  brokers: [%q]\n  sasl: {mechanism: SCRAM-SHA-512, username: tagstream, password: %s}\nnats:\n  url: %q\nhttp: {addr: 127.0.0.1:0}\nlog: {level: debug}\n",
		kafkaAddr, secretKafkaPW, strings.Replace(url, "nats://", "nats://tag:"+secretNATSPW+"@", 1))
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startTool(t, nil, "run", "--config", path)
	pollUntil(t, 90*time.Second, func() error {
		select {
		case <-r.done:
			t.Fatalf("run ended: %v\n%s", r.err, r.stderr.String())
		default:
		}
		// The group is joined in the background: wait for it and for the
		// end of the start ("running").
		logs := r.stderr.String()
		if !strings.Contains(logs, "consumer group assignment") || !strings.Contains(logs, `msg=running`) {
			return fmt.Errorf("not serving yet:\n%s", logs)
		}
		return nil
	})
	r.cancel()
	if err := r.wait(t, 30*time.Second); err != nil {
		t.Fatalf("run: %v\n%s", err, r.stderr.String())
	}
	logs := r.stderr.String()
	if !strings.Contains(logs, "nats://tag:REDACTED@") || !strings.Contains(logs, "level=DEBUG") {
		t.Errorf("want debug lines and the redacted nats url in the logs:\n%s", logs)
	}
	for _, secret := range []string{secretKafkaPW, secretNATSPW} {
		if strings.Contains(logs, secret) {
			t.Errorf("run logged secret %s:\n%s", secret, logs)
		}
	}
}
