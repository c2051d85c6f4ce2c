package config

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string // exact line of the error, after the "config: invalid: " prefix
	}{
		{"no brokers", func(c *Config) { c.Kafka.Brokers = nil }, `kafka.brokers = [], want at least one host:port`},
		{"broker without port", func(c *Config) { c.Kafka.Brokers = []string{"a:1", "kafka"} }, `kafka.brokers[1] = "kafka", want host:port with port 0..65535`},
		{"broker port too big", func(c *Config) { c.Kafka.Brokers = []string{"a:70000"} }, `kafka.brokers[0] = "a:70000", want host:port with port 0..65535`},
		{"no topics", func(c *Config) { c.Kafka.Topics = []string{} }, `kafka.topics = [], want at least one topic`},
		{"bad topic", func(c *Config) { c.Kafka.Topics = []string{"a b"} }, `kafka.topics[0] = "a b", want a topic name of 1..249 characters from [a-zA-Z0-9._-]`},
		{"topic too long", func(c *Config) { c.Kafka.Topics = []string{strings.Repeat("t", 250)} }, `kafka.topics[0] = "` + strings.Repeat("t", 250) + `", want a topic name of 1..249 characters from [a-zA-Z0-9._-]`},
		{"duplicate topic", func(c *Config) { c.Kafka.Topics = []string{"a", "b", "a"} }, `kafka.topics[2] = "a", want no duplicate topics`},
		{"empty group", func(c *Config) { c.Kafka.Group = "" }, `kafka.group = "", want a non-empty group ID`},
		{"start offset", func(c *Config) { c.Kafka.StartOffset = "newest" }, `kafka.start_offset = "newest", want one of "earliest", "latest"`},
		{"feedback topic", func(c *Config) { c.Kafka.FeedbackTopic = ".." }, `kafka.feedback_topic = "..", want a topic name of 1..249 characters from [a-zA-Z0-9._-]`},
		{"tls cert without key", func(c *Config) { c.Kafka.TLS = TLS{Enabled: true, CertFile: "c.pem"} }, `kafka.tls.key_file = "", want non-empty when kafka.tls.cert_file is set`},
		{"tls key without cert", func(c *Config) { c.NATS.TLS = TLS{Enabled: true, KeyFile: "k.pem"} }, `nats.tls.cert_file = "", want non-empty when nats.tls.key_file is set`},
		{"tls file while disabled", func(c *Config) { c.Kafka.TLS.CAFile = "ca.pem" }, `kafka.tls.ca_file = "ca.pem", want empty when kafka.tls.enabled is false`},
		{"tls skip verify while disabled", func(c *Config) { c.NATS.TLS.InsecureSkipVerify = true }, `nats.tls.insecure_skip_verify = true, want false when nats.tls.enabled is false`},
		{"sasl mechanism", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "GSSAPI", Username: "u", Password: "p"} }, `kafka.sasl.mechanism = "GSSAPI", want one of "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"`},
		{"sasl no username", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "PLAIN", Password: "p"} }, `kafka.sasl.username = "", want non-empty when kafka.sasl.mechanism is set`},
		{"sasl no password", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "SCRAM-SHA-512", Username: "u"} }, `kafka.sasl.password = "", want non-empty when kafka.sasl.mechanism is set`},
		{"sasl password without mechanism is redacted", func(c *Config) { c.Kafka.SASL.Password = "hunter2" }, `kafka.sasl.password = REDACTED, want empty when kafka.sasl.mechanism is empty`},
		{"fetch max bytes low", func(c *Config) { c.Kafka.FetchMaxBytes = 1023 }, `kafka.fetch_max_bytes = 1023, want 1024..1073741824`},
		{"fetch max bytes high", func(c *Config) { c.Kafka.FetchMaxBytes = 1<<30 + 1 }, `kafka.fetch_max_bytes = 1073741825, want 1024..1073741824`},
		{"commit interval", func(c *Config) { c.Kafka.CommitInterval = -time.Second }, `kafka.commit_interval = -1s, want 0s..1m0s`},
		{"nats url empty", func(c *Config) { c.NATS.URL = "" }, `nats.url = "", want comma-separated URLs like "nats://host:4222" (scheme nats, tls, ws or wss)`},
		{"nats url scheme", func(c *Config) { c.NATS.URL = "nats://a:4222,http://b:4222" }, `nats.url = "nats://a:4222,http://b:4222", want comma-separated URLs like "nats://host:4222" (scheme nats, tls, ws or wss)`},
		{"nats mode", func(c *Config) { c.NATS.Mode = "stream" }, `nats.mode = "stream", want one of "jetstream", "core"`},
		{"nats stream", func(c *Config) { c.NATS.Stream = "a.b" }, `nats.stream = "a.b", want 1..255 bytes without whitespace, ".", "*", ">", "/" or "\"`},
		{"duplicate window", func(c *Config) { c.NATS.DuplicateWindow = 25 * time.Hour }, `nats.duplicate_window = 25h0m0s, want 0s..24h0m0s`},
		{"nats user without password", func(c *Config) { c.NATS.User = "u" }, `nats.password = "", want non-empty when nats.user is set`},
		{"nats password without user", func(c *Config) { c.NATS.Password = "s3cret" }, `nats.user = "", want non-empty when nats.password is set`},
		{"nats two auth methods", func(c *Config) { c.NATS.Token = "tok-3c1"; c.NATS.CredsFile = "x.creds" }, `nats.token, nats.creds_file are set, want at most one NATS auth method`},
		{"max pending acks", func(c *Config) { c.NATS.MaxPendingAcks = 0 }, `nats.max_pending_acks = 0, want 1..1048576`},
		{"input format", func(c *Config) { c.Input.Format = "xml" }, `input.format = "xml", want one of "json", "text"`},
		{"input max bytes", func(c *Config) { c.Input.MaxBytes = 64<<20 + 1 }, `input.max_bytes = 67108865, want 1..67108864`},
		{"input max tokens", func(c *Config) { c.Input.MaxTokens = 0 }, `input.max_tokens = 0, want 1..8192`},
		{"subject prefix wildcard", func(c *Config) { c.Output.SubjectPrefix = "tagstream.>" }, `output.subject_prefix = "tagstream.>", want a NATS subject of non-empty "."-separated tokens without whitespace or wildcards`},
		{"dlq subject empty token", func(c *Config) { c.Output.DLQSubject = "a..b" }, `output.dlq_subject = "a..b", want a NATS subject of non-empty "."-separated tokens without whitespace or wildcards`},
		{"batch max size zero", func(c *Config) { c.Batch.MaxSize = 0 }, `batch.max_size = 0, want 1..4096`},
		{"batch max size high", func(c *Config) { c.Batch.MaxSize = 4097 }, `batch.max_size = 4097, want 1..4096`},
		{"batch max delay", func(c *Config) { c.Batch.MaxDelay = 10*time.Second + 1 }, `batch.max_delay = 10.000000001s, want 0s..10s`},
		{"workers zero", func(c *Config) { c.Workers = 0 }, `workers = 0, want 1..256`},
		{"workers high", func(c *Config) { c.Workers = 257 }, `workers = 257, want 1..256`},
		{"queue size", func(c *Config) { c.QueueSize = -1 }, `queue_size = -1, want 1..1048576`},
		{"http addr", func(c *Config) { c.HTTP.Addr = "8080" }, `http.addr = "8080", want host:port with port 0..65535`},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, `log.level = "trace", want one of "debug", "info", "warn", "error"`},
		{"log format", func(c *Config) { c.Log.Format = "logfmt" }, `log.format = "logfmt", want one of "text", "json"`},
		{"shutdown timeout zero", func(c *Config) { c.ShutdownTimeout = 0 }, `shutdown_timeout = 0s, want 1ms..10m0s`},
		{"embedded kafka addr", func(c *Config) { c.Embedded.KafkaAddr = "" }, `embedded.kafka_addr = "", want host:port with port 0..65535`},
		{"embedded nats addr", func(c *Config) { c.Embedded.NATSAddr = "localhost:http" }, `embedded.nats_addr = "localhost:http", want host:port with port 0..65535`},
		{"finetune interval", func(c *Config) { c.Finetune.Interval = time.Second }, `finetune.interval = 1s, want 1m0s..168h0m0s`},
		{"finetune min examples", func(c *Config) { c.Finetune.MinExamples = 0 }, `finetune.min_examples = 0, want 1..10000000`},
		{"finetune max procs", func(c *Config) { c.Finetune.MaxProcs = 300 }, `finetune.max_procs = 300, want 1..256`},
		{"finetune max regression", func(c *Config) { c.Finetune.MaxRegression = 1.5 }, `finetune.max_regression = 1.5, want 0..1`},
		{"finetune max regression NaN", func(c *Config) { c.Finetune.MaxRegression = math.NaN() }, `finetune.max_regression = NaN, want 0..1`},
		{"pretrain sample zero", func(c *Config) { c.Pretrain.Sample = 0 }, `pretrain.sample = 0, want above 0 up to 1`},
		{"pretrain sample NaN", func(c *Config) { c.Pretrain.Sample = math.NaN() }, `pretrain.sample = NaN, want above 0 up to 1`},
		{"pretrain buffer", func(c *Config) { c.Pretrain.Buffer = 9 }, `pretrain.buffer = 9, want 10..10000000`},
		{"pretrain interval", func(c *Config) { c.Pretrain.Interval = time.Second }, `pretrain.interval = 1s, want 1m0s..168h0m0s`},
		{"pretrain min texts", func(c *Config) { c.Pretrain.MinTexts = 0 }, `pretrain.min_texts = 0, want 1..10000000`},
		{"pretrain duty", func(c *Config) { c.Pretrain.Duty = 0.001 }, `pretrain.duty = 0.001, want 0.01..1`},
		{"pretrain without models", func(c *Config) { c.Pretrain.Enabled = true }, `pretrain.lm_en = "", want a language model file (pretrain.enabled needs lm_en or lm_zh)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if want := ErrInvalid.Error() + ": " + tt.want; err.Error() != want {
				t.Errorf("Validate() =\n%s\nwant\n%s", err, want)
			}
			for _, secret := range []string{"hunter2", "s3cret", "tok-3c1"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks secret %q", err, secret)
				}
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Config)
	}{
		{"bounds low", func(c *Config) {
			c.Batch.MaxSize, c.Batch.MaxDelay, c.Workers, c.QueueSize = 1, 0, 1, 1
			c.Kafka.CommitInterval, c.NATS.DuplicateWindow, c.Finetune.MaxRegression = 0, 0, 0
			c.Kafka.FetchMaxBytes, c.Input.MaxBytes = 1024, 1
		}},
		{"bounds high", func(c *Config) {
			c.Batch.MaxSize, c.Batch.MaxDelay, c.Workers, c.QueueSize = 4096, 10*time.Second, 256, 1<<20
			c.ShutdownTimeout, c.Finetune.MaxRegression = 10*time.Minute, 1
		}},
		{"sasl and tls", func(c *Config) {
			c.Kafka.SASL = SASL{Mechanism: "SCRAM-SHA-256", Username: "u", Password: "p"}
			c.Kafka.TLS = TLS{Enabled: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", InsecureSkipVerify: true}
		}},
		{"nats user and password", func(c *Config) { c.NATS.User, c.NATS.Password = "u", "p" }},
		{"nats creds", func(c *Config) { c.NATS.CredsFile = "u.creds" }},
		{"nats cluster urls", func(c *Config) { c.NATS.URL = "nats://a:4222, tls://b:4222,wss://c" }},
		{"core mode ignores stream", func(c *Config) { c.NATS.Mode, c.NATS.Stream = "core", "" }},
		{"no feedback topic", func(c *Config) { c.Kafka.FeedbackTopic = "" }},
		{"all interfaces", func(c *Config) { c.HTTP.Addr = ":0" }},
		{"ipv6 broker", func(c *Config) { c.Kafka.Brokers = []string{"[::1]:9092"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
		})
	}
}
