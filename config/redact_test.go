package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// distinct returns Default with every string field set to a value unique to
// its key, so that any field Redacted changes can be told apart.
func distinct() Config {
	c := Default()
	walk(reflect.ValueOf(&c).Elem(), "", func(key string, v reflect.Value) {
		if v.Kind() == reflect.String {
			v.SetString("value-of-" + key)
		}
	})
	return c
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Config
	}{
		{"all set", distinct()},
		{"secrets empty", Default()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := tt.in.clone()
			got := tt.in.Redacted()
			if !reflect.DeepEqual(tt.in, before) {
				t.Fatal("Redacted modified its receiver")
			}
			orig := map[string]reflect.Value{}
			walk(reflect.ValueOf(tt.in), "", func(key string, v reflect.Value) { orig[key] = v })
			var changed []string
			walk(reflect.ValueOf(got), "", func(key string, v reflect.Value) {
				o := orig[key]
				switch {
				case isSecret(key) && o.String() == "":
					if v.String() != "" {
						t.Errorf("%s = %q, want empty secret kept empty", key, v.String())
					}
				case isSecret(key):
					if v.String() != "REDACTED" {
						t.Errorf("%s = %q, want REDACTED", key, v.String())
					}
					changed = append(changed, key)
				case !reflect.DeepEqual(v.Interface(), o.Interface()):
					t.Errorf("%s = %v, want unchanged %v", key, v.Interface(), o.Interface())
				}
			})
			if tt.name == "all set" && !slices.Equal(changed, secretKeys) {
				t.Errorf("redacted keys %q, want %q", changed, secretKeys)
			}
			got.Kafka.Brokers[0] = "mutated"
			if tt.in.Kafka.Brokers[0] == "mutated" {
				t.Error("Redacted shares Kafka.Brokers with its receiver")
			}
		})
	}
}

func TestYAMLHidesSecrets(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Kafka.SASL = SASL{Mechanism: "PLAIN", Username: "alice", Password: "kafka-pass-9f2"}
	c.NATS.Password = "nats-pass-77a"
	c.NATS.Token = "nats-token-e41"
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"kafka-pass-9f2", "nats-pass-77a", "nats-token-e41"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("YAML output contains secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"password: REDACTED", "token: REDACTED", "username: alice", "max_delay: 5ms", "duplicate_window: 2m0s"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("YAML output lacks %q:\n%s", want, out)
		}
	}
	if c.NATS.Token != "nats-token-e41" {
		t.Error("YAML modified its receiver")
	}
}

func TestRedactedURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"no user", "nats://h:4222", "nats://h:4222"},
		{"user and password", "nats://alice:pw-31f@h:4222", "nats://alice:REDACTED@h:4222"},
		{"token", "tls://tok-8e2@h:4222", "tls://REDACTED@h:4222"},
		{"several", "nats://a:pw-31f@h1:4222, nats://h2:4222", "nats://a:REDACTED@h1:4222, nats://h2:4222"},
		{"unparsable", "nats://a:pw-31f@h:port:x", "REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			c.NATS.URL = tt.in
			if got := c.Redacted().NATS.URL; got != tt.want {
				t.Errorf("Redacted nats.url = %q, want %q", got, tt.want)
			}
			if c.NATS.URL != tt.in {
				t.Error("Redacted modified its receiver")
			}
		})
	}
}

// Not parallel: uses t.Setenv.
func TestYAMLRoundTrip(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name   string
		mutate func(c *Config)
	}{
		{"defaults", func(*Config) {}},
		{"everything changed", func(c *Config) {
			c.Kafka.Brokers = []string{"a:1", "b:2"}
			c.Kafka.Topics = []string{"t1", "t-2", "123"}
			c.Kafka.Group = "true"
			c.Kafka.StartOffset = "latest"
			c.Kafka.FeedbackTopic = ""
			c.Kafka.TLS = TLS{Enabled: true, CAFile: "ca: pem", CertFile: "c.pem", KeyFile: "k #.pem", InsecureSkipVerify: true}
			c.Kafka.SASL = SASL{Mechanism: "PLAIN", Username: "u", Password: "p"}
			c.Kafka.FetchMaxBytes = 4096
			c.Kafka.CommitInterval = 0
			c.NATS = NATS{URL: "tls://n:4222", Mode: "core", DuplicateWindow: 90 * time.Second, Token: "t", MaxPendingAcks: 1,
				TLS: TLS{Enabled: true}}
			c.Input = Input{Format: "text", MaxBytes: 7, MaxTokens: 9}
			c.Output = Output{SubjectPrefix: "r", DLQSubject: "d.q", IncludeText: true, RouteTask: "sentiment"}
			c.Batch = Batch{MaxSize: 4096, MaxDelay: 1500 * time.Microsecond, MaxBytes: 5000}
			c.MaxInFlightBytes = 1 << 10
			c.Workers, c.QueueSize = 7, 8
			c.Models = Models{NEREN: "null", NERZH: "~"}
			c.Tasks = []Task{
				{Name: "sentiment", Models: map[string]string{"en": "/m/c en.bin", "zh": "分类.bin"}, Finetune: new(false), Data: map[string]string{"en": "d: x.jsonl"}},
				{Name: "emotion_2", Models: map[string]string{"en": "builtin:emotion-en"}, Finetune: new(true), Thresholds: map[string]float64{"joy": 0.25}},
			}
			c.HTTP.Addr = ":0"
			c.Log = Log{Level: "debug", Format: "json"}
			c.ShutdownTimeout = time.Millisecond
			c.Embedded = Embedded{Enabled: true, KafkaAddr: "[::1]:1", NATSAddr: "h:2"}
			c.Finetune = Finetune{Enabled: true, Interval: time.Hour, MinExamples: 1, MaxProcs: 2, MaxRegression: 0.1}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := Default()
			tt.mutate(&want)
			if err := want.Validate(); err != nil {
				t.Fatal(err)
			}
			out, err := want.marshalYAML()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Load(writeConfig(t, string(out)), nil)
			if err != nil {
				t.Fatalf("Load(YAML output): %v\n%s", err, out)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip =\n%+v\nwant\n%+v\nyaml:\n%s", got, want, out)
			}
		})
	}
}
