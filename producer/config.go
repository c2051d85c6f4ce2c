package producer

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tagstream/tagstream/internal/redact"
)

// Mode selects how results are published.
type Mode string

// Publishing modes.
const (
	// ModeJetStream publishes to a JetStream stream and reports each
	// message's PubAck: at-least-once, de-duplicated by Nats-Msg-Id.
	ModeJetStream Mode = "jetstream"
	// ModeCore publishes with core NATS: fire-and-forget, at-most-once on
	// the NATS side. A batch is acknowledged after a successful Flush, which
	// only proves the server read the bytes, not that anyone received them.
	ModeCore Mode = "core"
)

// Defaults and limits applied by Config. A zero field means its default.
const (
	DefaultURL             = "nats://127.0.0.1:4222"
	DefaultMode            = ModeJetStream
	DefaultStream          = "TAGSTREAM"
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultSubjectPrefix   = "tagstream.results"
	DefaultDLQSubject      = "tagstream.dlq"
	DefaultMaxPendingAcks  = 4096
	DefaultAckTimeout      = 30 * time.Second

	maxDuplicateWindow = 24 * time.Hour
	maxMaxPendingAcks  = 1 << 20
	minAckTimeout      = 10 * time.Millisecond
	maxAckTimeout      = 10 * time.Minute
)

// Config configures a Publisher. It is a plain struct decoded by the config
// package (UnmarshalExact); the zero value of every field means "use the
// default", so the zero Config publishes to a local server in jetstream mode.
type Config struct {
	// URL is the server URL, or several separated by commas, each with a
	// nats, tls, ws or wss scheme and a host. Default
	// "nats://127.0.0.1:4222".
	URL string `mapstructure:"url"`
	// Mode is "jetstream" (default) or "core"; see ModeJetStream and
	// ModeCore.
	Mode Mode `mapstructure:"mode"`
	// Stream is the JetStream stream that captures results and dead
	// letters; New creates it when missing and otherwise only checks that
	// it captures both subjects. Default "TAGSTREAM"; at most 255 bytes
	// without whitespace, ".", "*", ">", "/" or "\". Ignored in core mode.
	Stream string `mapstructure:"stream"`
	// DuplicateWindow is the stream's de-duplication window, used only
	// when New creates the stream. Default 2m, range (0, 24h]. Ignored in
	// core mode.
	DuplicateWindow time.Duration `mapstructure:"duplicate_window"`
	// SubjectPrefix is prepended to the sanitized label to form a result's
	// subject. Default "tagstream.results"; non-empty "."-separated tokens
	// without whitespace or wildcards.
	SubjectPrefix string `mapstructure:"subject_prefix"`
	// DLQSubject receives dead letters. Default "tagstream.dlq"; a subject
	// like SubjectPrefix, and not under SubjectPrefix (a label could
	// collide with it).
	DLQSubject string `mapstructure:"dlq_subject"`
	// IncludeText copies Result.Text into the published result. Default
	// false.
	IncludeText bool `mapstructure:"include_text"`
	// User and Password are user/password credentials; both or neither.
	// Password is a secret: Validate never prints it.
	User     string `mapstructure:"user"`
	Password string `mapstructure:"password"`
	// Token is a secret authentication token. Validate never prints it.
	Token string `mapstructure:"token"`
	// NKeySeedFile is the path of an nkey user seed file.
	NKeySeedFile string `mapstructure:"nkey_seed_file"`
	// CredsFile is the path of a JWT user credentials file. At most one of
	// user/password, Token, NKeySeedFile and CredsFile is set.
	CredsFile string `mapstructure:"creds_file"`
	// TLS configures TLS to the server. Off by default (a tls:// URL turns
	// it on with system roots).
	TLS TLSConfig `mapstructure:"tls"`
	// MaxPendingAcks bounds the items accepted by PublishBatch whose Ack
	// has not yet been received from Acks, in messages. Default 4096,
	// range [1, 1048576].
	MaxPendingAcks int `mapstructure:"max_pending_acks"`
	// AckTimeout bounds the wait for one PubAck (jetstream) or one batch
	// Flush (core); on expiry the item is acked with an error. Default
	// 30s, range [10ms, 10m].
	AckTimeout time.Duration `mapstructure:"ack_timeout"`
}

// TLSConfig configures TLS to the server. Files are PEM encoded.
type TLSConfig struct {
	// Enabled turns TLS on. Default false.
	Enabled bool `mapstructure:"enabled"`
	// CAFile is the CA bundle that signs the server certificate. Default:
	// the system pool.
	CAFile string `mapstructure:"ca_file"`
	// CertFile and KeyFile are the client certificate and key for mutual
	// TLS. Both or neither.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// InsecureSkipVerify disables server certificate verification. Tests
	// only.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
}

// Validate reports the first invalid field, naming the field, its value and
// the limit; secrets are never printed. The returned error wraps
// ErrInvalidConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if c.URL != "" && !validURLs(c.URL) {
		return bad("url %q: want comma-separated URLs like nats://host:4222 (scheme nats, tls, ws or wss)", redact.URLs(c.URL))
	}
	switch c.Mode {
	case "", ModeJetStream, ModeCore:
	default:
		return bad("mode %q: want jetstream or core", c.Mode)
	}
	if c.Stream != "" && (len(c.Stream) > 255 || strings.ContainsAny(c.Stream, ".*>/\\ \t\r\n\f\v")) {
		return bad(`stream %q: want 1-255 bytes without whitespace, ".", "*", ">", "/" or "\"`, c.Stream)
	}
	if c.DuplicateWindow < 0 || c.DuplicateWindow > maxDuplicateWindow {
		return bad("duplicate_window %v: want 0 (default %v) or in (0, %v]", c.DuplicateWindow, DefaultDuplicateWindow, maxDuplicateWindow)
	}
	if c.SubjectPrefix != "" && !validSubject(c.SubjectPrefix) {
		return bad("subject_prefix %q: want non-empty \".\"-separated tokens without whitespace or wildcards", c.SubjectPrefix)
	}
	if c.DLQSubject != "" && !validSubject(c.DLQSubject) {
		return bad("dlq_subject %q: want non-empty \".\"-separated tokens without whitespace or wildcards", c.DLQSubject)
	}
	d := c.withDefaults()
	if strings.HasPrefix(d.DLQSubject, d.SubjectPrefix+".") || d.DLQSubject == d.SubjectPrefix {
		return bad("dlq_subject %q: must not be under subject_prefix %q", d.DLQSubject, d.SubjectPrefix)
	}
	if (c.User == "") != (c.Password == "") {
		if c.User == "" {
			return bad("user: empty, want non-empty when password is set")
		}
		return bad("password: empty, want non-empty when user %q is set", c.User)
	}
	var auth []string
	if c.User != "" {
		auth = append(auth, "user")
	}
	if c.Token != "" {
		auth = append(auth, "token")
	}
	if c.NKeySeedFile != "" {
		auth = append(auth, "nkey_seed_file")
	}
	if c.CredsFile != "" {
		auth = append(auth, "creds_file")
	}
	if len(auth) > 1 {
		return bad("%s: all set, want at most one auth method", strings.Join(auth, ", "))
	}
	if err := c.TLS.validate(); err != nil {
		return bad("%v", err)
	}
	if c.MaxPendingAcks < 0 || c.MaxPendingAcks > maxMaxPendingAcks {
		return bad("max_pending_acks %d: want 0 (default %d) or in [1, %d]", c.MaxPendingAcks, DefaultMaxPendingAcks, maxMaxPendingAcks)
	}
	if c.AckTimeout != 0 && (c.AckTimeout < minAckTimeout || c.AckTimeout > maxAckTimeout) {
		return bad("ack_timeout %v: want 0 (default %v) or in [%v, %v]", c.AckTimeout, DefaultAckTimeout, minAckTimeout, maxAckTimeout)
	}
	return nil
}

func (t TLSConfig) validate() error {
	if (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("tls.cert_file %q, tls.key_file %q: set both or neither", t.CertFile, t.KeyFile)
	}
	if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.InsecureSkipVerify) {
		return fmt.Errorf("tls.enabled false: other tls fields are set")
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Mode == "" {
		c.Mode = DefaultMode
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.DLQSubject == "" {
		c.DLQSubject = DefaultDLQSubject
	}
	if c.MaxPendingAcks == 0 {
		c.MaxPendingAcks = DefaultMaxPendingAcks
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	return c
}

// validSubject accepts a publish subject: non-empty "."-separated tokens,
// no whitespace, no wildcards.
func validSubject(s string) bool {
	if s == "" {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n\f\v") {
			return false
		}
	}
	return true
}

// validURLs accepts comma-separated URLs with scheme nats, tls, ws or wss
// and a host.
func validURLs(s string) bool {
	for u := range strings.SplitSeq(s, ",") {
		p, err := url.Parse(strings.TrimSpace(u))
		if err != nil || p.Host == "" {
			return false
		}
		switch p.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return false
		}
	}
	return true
}
