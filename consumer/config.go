package consumer

import (
	"fmt"
	"net"
	"time"

	"github.com/tagstream/tagstream/event"
)

// Defaults and limits applied by Config. A zero field means its default.
const (
	DefaultStartOffset       = "earliest"
	DefaultFetchMaxBytes     = 16 << 20 // 16 MiB
	DefaultFetchMaxWait      = time.Second
	DefaultFetchLinger       = 5 * time.Millisecond
	DefaultCommitInterval    = time.Second
	DefaultCommitTimeout     = 10 * time.Second
	DefaultSessionTimeout    = 10 * time.Second
	DefaultHeartbeatInterval = 3 * time.Second
	DefaultRebalanceTimeout  = 30 * time.Second

	maxMaxBytes      = 64 << 20 // 64 MiB
	minFetchMaxBytes = 1 << 10  // 1 KiB
	maxFetchMaxBytes = 1 << 30  // 1 GiB
)

// Config configures a Consumer. It is a plain struct decoded by the config
// package (UnmarshalExact); the zero value of every field except Brokers,
// Topics and Group means "use the default".
type Config struct {
	// Brokers are the bootstrap brokers as host:port. Required.
	Brokers []string `mapstructure:"brokers"`
	// Topics are the topics the group consumes. Required, at least one.
	Topics []string `mapstructure:"topics"`
	// Group is the consumer group id. Required.
	Group string `mapstructure:"group"`
	// StartOffset is where a partition without a committed offset starts:
	// "earliest" or "latest". Default "earliest".
	StartOffset string `mapstructure:"start_offset"`
	// TLS configures transport encryption. Off by default.
	TLS TLSConfig `mapstructure:"tls"`
	// SASL configures authentication. Off by default.
	SASL SASLConfig `mapstructure:"sasl"`
	// FetchMaxBytes caps one fetch response per partition, in bytes.
	// Default 16 MiB, range [1 KiB, 1 GiB]; must be at least MaxBytes so a
	// too-large value can still be fetched and sent to the DLQ.
	FetchMaxBytes int64 `mapstructure:"fetch_max_bytes"`
	// FetchMaxWait is how long a broker may hold an empty fetch.
	// Default 1s, range [10ms, 30s]. It also bounds how fast idle partition
	// readers notice Close.
	FetchMaxWait time.Duration `mapstructure:"fetch_max_wait"`
	// FetchLinger is how long Fetch waits for more records once it has one.
	// Default 5ms, range [1ms, 1s].
	FetchLinger time.Duration `mapstructure:"fetch_linger"`
	// CommitInterval is the period of the committer that commits done
	// offsets. Default 1s, range [10ms, 1h].
	CommitInterval time.Duration `mapstructure:"commit_interval"`
	// CommitTimeout bounds one periodic commit. Default 10s, range [100ms, 5m].
	CommitTimeout time.Duration `mapstructure:"commit_timeout"`
	// SessionTimeout is the group session timeout. Default 10s, range
	// [1s, 5m]; the broker may impose narrower limits.
	SessionTimeout time.Duration `mapstructure:"session_timeout"`
	// HeartbeatInterval is the group heartbeat period. Default 3s, range
	// [10ms, SessionTimeout).
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
	// RebalanceTimeout is how long the coordinator waits for members to
	// rejoin during a rebalance. Default 30s, range [100ms, 5m].
	RebalanceTimeout time.Duration `mapstructure:"rebalance_timeout"`
	// Format is the value format, "json" or "text". Default "json".
	Format event.Format `mapstructure:"format"`
	// MaxBytes is the largest record value accepted, in bytes; larger ones
	// are rejected with reason too_large. Default 1 MiB, range [1, 64 MiB].
	MaxBytes int64 `mapstructure:"max_bytes"`
}

// TLSConfig configures TLS to the brokers. Files are PEM encoded.
type TLSConfig struct {
	// Enable turns TLS on. Default false.
	Enable bool `mapstructure:"enable"`
	// CAFile is the CA bundle that signs the brokers' certificates. Default:
	// the system pool.
	CAFile string `mapstructure:"ca_file"`
	// CertFile and KeyFile are the client certificate and key for mutual
	// TLS. Both or neither.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// ServerName overrides the name checked in the broker certificates.
	ServerName string `mapstructure:"server_name"`
	// InsecureSkipVerify disables certificate verification. Tests only.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
}

// SASL mechanisms supported by SASLConfig.Mechanism.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// SASLConfig configures SASL authentication.
type SASLConfig struct {
	// Mechanism is "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"; ""
	// disables SASL.
	Mechanism string `mapstructure:"mechanism"`
	// Username and Password are the credentials; Username is required when
	// Mechanism is set.
	Username string `mapstructure:"username"`
	Password string `mapstructure:"password"`
}

// Validate reports the first invalid field, naming the field, its value and
// the limit. The returned error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if len(c.Brokers) == 0 {
		return bad("brokers: empty, want at least one host:port")
	}
	for i, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return bad("brokers[%d] %q: want host:port", i, b)
		}
	}
	if len(c.Topics) == 0 {
		return bad("topics: empty, want at least one")
	}
	seen := make(map[string]bool, len(c.Topics))
	for i, t := range c.Topics {
		if !validTopic(t) {
			return bad("topics[%d] %q: want 1-249 of [a-zA-Z0-9._-]", i, t)
		}
		if seen[t] {
			return bad("topics[%d] %q: duplicate", i, t)
		}
		seen[t] = true
	}
	if c.Group == "" {
		return bad("group: empty, want a consumer group id")
	}
	switch c.StartOffset {
	case "", "earliest", "latest":
	default:
		return bad("start_offset %q: want earliest or latest", c.StartOffset)
	}
	if err := c.TLS.validate(); err != nil {
		return bad("%v", err)
	}
	switch c.SASL.Mechanism {
	case "":
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if c.SASL.Username == "" {
			return bad("sasl.username: empty with sasl.mechanism %s", c.SASL.Mechanism)
		}
	default:
		return bad("sasl.mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASL.Mechanism)
	}
	switch c.Format {
	case "", event.FormatJSON, event.FormatText:
	default:
		return bad("format %q: want json or text", c.Format)
	}
	if err := checkBytes("max_bytes", c.MaxBytes, 1, maxMaxBytes); err != nil {
		return bad("%v", err)
	}
	if err := checkBytes("fetch_max_bytes", c.FetchMaxBytes, minFetchMaxBytes, maxFetchMaxBytes); err != nil {
		return bad("%v", err)
	}
	d := c.withDefaults()
	if d.FetchMaxBytes < d.MaxBytes {
		return bad("fetch_max_bytes %d: less than max_bytes %d", d.FetchMaxBytes, d.MaxBytes)
	}
	durations := []struct {
		name     string
		v        time.Duration
		min, max time.Duration
	}{
		{"fetch_max_wait", c.FetchMaxWait, 10 * time.Millisecond, 30 * time.Second},
		{"fetch_linger", c.FetchLinger, time.Millisecond, time.Second},
		{"commit_interval", c.CommitInterval, 10 * time.Millisecond, time.Hour},
		{"commit_timeout", c.CommitTimeout, 100 * time.Millisecond, 5 * time.Minute},
		{"session_timeout", c.SessionTimeout, time.Second, 5 * time.Minute},
		{"heartbeat_interval", c.HeartbeatInterval, 10 * time.Millisecond, 5 * time.Minute},
		{"rebalance_timeout", c.RebalanceTimeout, 100 * time.Millisecond, 5 * time.Minute},
	}
	for _, x := range durations {
		if x.v != 0 && (x.v < x.min || x.v > x.max) {
			return bad("%s %v: want 0 (default) or between %v and %v", x.name, x.v, x.min, x.max)
		}
	}
	if d.HeartbeatInterval >= d.SessionTimeout {
		return bad("heartbeat_interval %v: must be less than session_timeout %v", d.HeartbeatInterval, d.SessionTimeout)
	}
	return nil
}

func (t TLSConfig) validate() error {
	if (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("tls.cert_file %q, tls.key_file %q: set both or neither", t.CertFile, t.KeyFile)
	}
	if !t.Enable && (t.CAFile != "" || t.CertFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		return fmt.Errorf("tls.enable false: other tls fields are set")
	}
	return nil
}

func checkBytes(name string, v, lo, hi int64) error {
	if v != 0 && (v < lo || v > hi) {
		return fmt.Errorf("%s %d: want 0 (default) or between %d and %d bytes", name, v, lo, hi)
	}
	return nil
}

func validTopic(t string) bool {
	if len(t) == 0 || len(t) > 249 || t == "." || t == ".." {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.StartOffset == "" {
		c.StartOffset = DefaultStartOffset
	}
	if c.FetchMaxBytes == 0 {
		c.FetchMaxBytes = DefaultFetchMaxBytes
	}
	if c.FetchMaxWait == 0 {
		c.FetchMaxWait = DefaultFetchMaxWait
	}
	if c.FetchLinger == 0 {
		c.FetchLinger = DefaultFetchLinger
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = DefaultCommitInterval
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.RebalanceTimeout == 0 {
		c.RebalanceTimeout = DefaultRebalanceTimeout
	}
	if c.Format == "" {
		c.Format = event.FormatJSON
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = event.DefaultMaxBytes
	}
	return c
}
