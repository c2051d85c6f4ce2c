package consumer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tagstream/tagstream/event"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Brokers: []string{"localhost:9092"}, Topics: []string{"events"}, Group: "g"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // substring; "" means valid
	}{
		{name: "minimal", mutate: func(*Config) {}},
		{name: "everything set", mutate: func(c *Config) {
			c.StartOffset, c.Format, c.MaxBytes, c.FetchMaxBytes = "latest", event.FormatText, 1<<20, 2<<20
			c.CommitInterval, c.SASL = time.Second, SASLConfig{Mechanism: SASLScramSHA512, Username: "u", Password: "p"}
			c.TLS = TLSConfig{Enable: true, CertFile: "c", KeyFile: "k"}
		}},
		{name: "no brokers", mutate: func(c *Config) { c.Brokers = nil }, wantErr: "brokers: empty"},
		{name: "broker without port", mutate: func(c *Config) { c.Brokers = []string{"localhost"} }, wantErr: `brokers[0] "localhost"`},
		{name: "no topics", mutate: func(c *Config) { c.Topics = nil }, wantErr: "topics: empty"},
		{name: "bad topic", mutate: func(c *Config) { c.Topics = []string{"a b"} }, wantErr: `topics[0] "a b"`},
		{name: "duplicate topic", mutate: func(c *Config) { c.Topics = []string{"a", "a"} }, wantErr: "duplicate"},
		{name: "no group", mutate: func(c *Config) { c.Group = "" }, wantErr: "group: empty"},
		{name: "start offset", mutate: func(c *Config) { c.StartOffset = "newest" }, wantErr: `start_offset "newest"`},
		{name: "sasl mechanism", mutate: func(c *Config) { c.SASL.Mechanism = "GSSAPI" }, wantErr: `sasl.mechanism "GSSAPI"`},
		{name: "sasl without user", mutate: func(c *Config) { c.SASL.Mechanism = SASLPlain }, wantErr: "sasl.username"},
		{name: "tls cert without key", mutate: func(c *Config) { c.TLS = TLSConfig{Enable: true, CertFile: "c"} }, wantErr: "tls.cert_file"},
		{name: "tls fields while disabled", mutate: func(c *Config) { c.TLS.CAFile = "ca" }, wantErr: "tls.enable false"},
		{name: "format", mutate: func(c *Config) { c.Format = "xml" }, wantErr: `format "xml"`},
		{name: "negative max bytes", mutate: func(c *Config) { c.MaxBytes = -1 }, wantErr: "max_bytes -1"},
		{name: "huge max bytes", mutate: func(c *Config) { c.MaxBytes = 1 << 30 }, wantErr: "max_bytes 1073741824"},
		{name: "fetch below max", mutate: func(c *Config) { c.FetchMaxBytes = 4096; c.MaxBytes = 8192 }, wantErr: "fetch_max_bytes 4096: less than max_bytes 8192"},
		{name: "commit interval", mutate: func(c *Config) { c.CommitInterval = time.Millisecond }, wantErr: "commit_interval 1ms"},
		{name: "negative linger", mutate: func(c *Config) { c.FetchLinger = -1 }, wantErr: "fetch_linger"},
		{name: "heartbeat not below session", mutate: func(c *Config) { c.HeartbeatInterval = 20 * time.Second }, wantErr: "heartbeat_interval 20s: must be less than session_timeout 10s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			c.Brokers = append([]string(nil), ok.Brokers...)
			tc.mutate(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New(Config{}) = %v, want ErrInvalidConfig", err)
	}
	cfg := Config{Brokers: []string{"localhost:9092"}, Topics: []string{"events"}, Group: "g"}
	if _, err := New(cfg, WithLogger(nil)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("New(WithLogger(nil)) = %v, want ErrInvalidOption", err)
	}
	cfg.TLS = TLSConfig{Enable: true, CAFile: "/nonexistent/ca.pem"}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("New with a missing CA file = %v", err)
	}
}
