package consumer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/internal/devcert"
	"github.com/tagstream/tagstream/internal/testenv"
)

// The security tests run against a real broker's SASL_SSL listener, such as
// the one deploy/local/kafka.sh starts (its kafka/secure.env sets these),
// and are skipped when the variables are unset:
//
//	TAGSTREAM_KAFKA_SECURE_BROKERS  host:port of the SASL_SSL listener
//	TAGSTREAM_KAFKA_CA_FILE         PEM CA that signs the broker's certificate
//	TAGSTREAM_KAFKA_SCRAM_USER      a SCRAM-SHA-512 and SCRAM-SHA-256 user
//	TAGSTREAM_KAFKA_SCRAM_PASSWORD  its password
const (
	secureBrokersEnv  = "TAGSTREAM_KAFKA_SECURE_BROKERS"
	secureCAEnv       = "TAGSTREAM_KAFKA_CA_FILE"
	secureUserEnv     = "TAGSTREAM_KAFKA_SCRAM_USER"
	securePasswordEnv = "TAGSTREAM_KAFKA_SCRAM_PASSWORD"
)

// failFast bounds how long a rejected connection may take to surface.
const failFast = 10 * time.Second

// secureKafka is the SASL_SSL listener of the environment.
type secureKafka struct {
	brokers  []string
	tls      TLSConfig
	user, pw string
}

// newSecureKafka returns the secure listener, or skips t.
func newSecureKafka(t *testing.T) secureKafka {
	t.Helper()
	env := testenv.Require(t, "secure Kafka", "deploy/local/kafka.sh start writes them to kafka/secure.env",
		secureBrokersEnv, secureCAEnv, secureUserEnv, securePasswordEnv)
	return secureKafka{
		brokers: strings.Split(env[secureBrokersEnv], ","),
		tls:     TLSConfig{Enable: true, CAFile: env[secureCAEnv]},
		user:    env[secureUserEnv],
		pw:      env[securePasswordEnv],
	}
}

// sasl returns the environment's credentials for mech.
func (s secureKafka) sasl(mech string) SASLConfig {
	return SASLConfig{Mechanism: mech, Username: s.user, Password: s.pw}
}

// kafka returns a testKafka on the secure listener with n fresh topics of
// partitions partitions, created over SASL_SSL with mech.
func (s secureKafka) kafka(t *testing.T, mech string, partitions, n int) *testKafka {
	t.Helper()
	tr, err := NewTransport(s.tls, s.sasl(mech), "tagstream-test")
	if err != nil {
		t.Fatal(err)
	}
	k := &testKafka{brokers: s.brokers, transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	for range n {
		k.topics = append(k.topics, fmt.Sprintf("%s-%d-%d", sanitize(t.Name()), time.Now().UnixNano()%1e9, topicSeq.Add(1)))
	}
	req := &kafka.CreateTopicsRequest{}
	for _, tp := range k.topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: tp, NumPartitions: partitions, ReplicationFactor: 1})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := k.client().CreateTopics(ctx, req)
	if err != nil {
		t.Fatalf("create topics %v over SASL_SSL %s: %v", k.topics, mech, err)
	}
	for tp, err := range resp.Errors {
		if err != nil {
			t.Fatalf("create topic %s: %v", tp, err)
		}
	}
	return k
}

// untrustedCA writes the certificate of a fresh CA that signed nothing the
// broker has, and returns its path.
func untrustedCA(t *testing.T) string {
	t.Helper()
	ca, err := devcert.NewCA("untrusted test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "untrusted-ca.pem")
	if err := os.WriteFile(path, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecureConsume produces and consumes over SASL_SSL with each SCRAM
// mechanism, checks that CheckAccess passes, and that the group commits.
func TestSecureConsume(t *testing.T) {
	s := newSecureKafka(t)
	t.Parallel()
	for _, mech := range []string{SASLScramSHA512, SASLScramSHA256} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			k := s.kafka(t, mech, 2, 1)
			k.produce(t, jsonMsgs(k.topics[0], 2, 3)...) // 3 per partition
			cfg := k.config("secure-" + k.topics[0])
			cfg.TLS, cfg.SASL = s.tls, s.sasl(mech)
			ctx, cancel := context.WithTimeout(context.Background(), failFast)
			defer cancel()
			if err := CheckAccess(ctx, cfg); err != nil {
				t.Fatalf("CheckAccess: %v", err)
			}
			c := newTestConsumer(t, cfg)
			recs := fetchN(t, c, 6, 30*time.Second)
			if len(recs) != 6 {
				t.Fatalf("got %d records, want 6", len(recs))
			}
			for _, r := range recs {
				if r.Err != nil {
					t.Fatalf("record %s[%d]@%d: %v", r.Topic, r.Partition, r.Offset, r.Err)
				}
			}
			c.Done(recs...)
			k.waitCommitted(t, cfg.Group, k.topics[0], map[int]int64{0: 3, 1: 3})
		})
	}
}

// TestSecureRejected: a wrong password and an untrusted CA end CheckAccess
// and Fetch within failFast with a permanent error that names the broker
// (and the mechanism, for the password), and never prints the password.
func TestSecureRejected(t *testing.T) {
	s := newSecureKafka(t)
	t.Parallel()
	const wrong = "not-the-password-7c1f"
	tests := []struct {
		name  string
		tls   TLSConfig
		sasl  SASLConfig
		want  []string
		check func(error) bool
	}{
		{"wrong password", s.tls, SASLConfig{Mechanism: SASLScramSHA512, Username: s.user, Password: wrong},
			[]string{s.brokers[0], "SCRAM-SHA-512", "Authentication"},
			func(err error) bool { return errors.Is(err, kafka.SASLAuthenticationFailed) }},
		{"unknown user", s.tls, SASLConfig{Mechanism: SASLScramSHA256, Username: "nobody-" + s.user, Password: wrong},
			[]string{s.brokers[0], "SCRAM-SHA-256", "Authentication"},
			func(err error) bool { return errors.Is(err, kafka.SASLAuthenticationFailed) }},
		{"untrusted ca", TLSConfig{Enable: true, CAFile: untrustedCA(t)}, s.sasl(SASLScramSHA512),
			[]string{s.brokers[0], "TLS", "certificate"},
			func(err error) bool {
				var unknown x509.UnknownAuthorityError
				var verify *tls.CertificateVerificationError
				return errors.As(err, &unknown) && errors.As(err, &verify)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Brokers: s.brokers, Topics: []string{"tagstream.events"}, Group: "secure-rejected", TLS: tc.tls, SASL: tc.sasl}
			for _, step := range []struct {
				name string
				run  func(ctx context.Context) error
			}{
				{"CheckAccess", func(ctx context.Context) error { return CheckAccess(ctx, cfg) }},
				{"Fetch", func(ctx context.Context) error {
					_, err := newTestConsumer(t, cfg).Fetch(ctx, 1)
					return err
				}},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), 3*failFast)
				start := time.Now()
				err := step.run(ctx)
				took := time.Since(start)
				cancel()
				t.Logf("%s after %v: %v", step.name, took.Round(time.Millisecond), err)
				switch {
				case err == nil:
					t.Fatalf("%s succeeded", step.name)
				case took > failFast:
					t.Errorf("%s took %v, want under %v", step.name, took, failFast)
				case !errors.Is(err, ErrPermanent) || !tc.check(err):
					t.Errorf("%s = %v: want ErrPermanent and the cause", step.name, err)
				case strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), s.pw):
					t.Errorf("%s error prints the password: %v", step.name, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s error %q does not name %q", step.name, err, w)
					}
				}
			}
		})
	}
}
