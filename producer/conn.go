package producer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tagstream/tagstream/internal/redact"
	"github.com/tagstream/tagstream/internal/tlsconf"
)

// Reconnect backoff: the delay after the n-th failed pass over the server
// list is min(reconnectBase<<n, reconnectMax), jittered down by up to half.
const (
	reconnectBase = 100 * time.Millisecond
	reconnectMax  = 2 * time.Second
	dialTimeout   = 5 * time.Second
)

// reconnectDelay is the nats.CustomReconnectDelay backoff.
func reconnectDelay(attempts int) time.Duration {
	d := reconnectMax
	if attempts < 8 {
		d = min(reconnectBase<<attempts, reconnectMax)
	}
	return d/2 + rand.N(d/2+1) // math/rand/v2's runtime source: jitter only
}

// natsOptions builds the connection options for cfg: auth, TLS, reconnect
// forever with backoff, and the handlers that log and signal closedCh.
// onAsyncErr, if not nil, also gets every asynchronous error (such as a
// permissions violation) on nats.go's callback goroutine; it must not block.
func natsOptions(cfg Config, log *slog.Logger, closed chan<- struct{}, onAsyncErr func(error)) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("tagstream"),
		nats.Timeout(dialTimeout),
		nats.MaxReconnects(-1),
		nats.IgnoreAuthErrorAbort(), // a credential rotated server-side must not stop reconnects forever
		nats.RetryOnFailedConnect(true),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil && nc.IsClosed() {
				return // our own Close
			}
			log.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats connected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats async error", "subject", subject, "err", err)
			if onAsyncErr != nil {
				onAsyncErr(err)
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	}
	auth, err := authOptions(cfg)
	if err != nil {
		return nil, err
	}
	return append(opts, auth...), nil
}

// AuthOptions returns the nats.go options for the credentials and the TLS
// settings of cfg (user and password, token, nkey seed file or creds file;
// tls.*), for other NATS clients of the same deployment such as the CLI's
// tail. It validates cfg first; errors name the file that cannot be read,
// never a secret.
func AuthOptions(cfg Config) ([]nats.Option, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return authOptions(cfg)
}

func authOptions(cfg Config) ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	case cfg.Token != "":
		opts = append(opts, nats.Token(cfg.Token))
	case cfg.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(cfg.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("load nkey_seed_file %q: %w", cfg.NKeySeedFile, err)
		}
		opts = append(opts, o)
	case cfg.CredsFile != "":
		if _, err := os.Stat(cfg.CredsFile); err != nil {
			return nil, fmt.Errorf("load creds_file: %w", err)
		}
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.TLS.Enabled {
		tc, err := newTLSConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

func newTLSConfig(c TLSConfig) (*tls.Config, error) {
	tc, err := tlsconf.Client(tlsconf.Files{CAFile: c.CAFile, CertFile: c.CertFile, KeyFile: c.KeyFile, InsecureSkipVerify: c.InsecureSkipVerify})
	if errors.Is(err, tlsconf.ErrNoCerts) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return tc, err
}

// waitConnected waits until nc is connected for the first time, ctx ends,
// nc is closed, or an attempt failed in a way that retrying cannot mend
// (see permanentConnErr): then it returns that error. nats.go's own stop
// after repeated auth errors is off (IgnoreAuthErrorAbort) so that a
// credential rotated server-side does not end the reconnects of a running
// service for good; before the first connection, wrong credentials are a
// startup error instead of an endless retry.
func waitConnected(ctx context.Context, nc *nats.Conn) error {
	// RECONNECTING is signalled after every failed attempt.
	ch := nc.StatusChanged(nats.CONNECTED, nats.CLOSED, nats.RECONNECTING)
	defer nc.RemoveStatusListener(ch)
	for !nc.IsConnected() {
		if nc.IsClosed() { // nats.go gives up on repeated auth errors
			if err := nc.LastError(); err != nil {
				return fmt.Errorf("%w: %w", nats.ErrConnectionClosed, err)
			}
			return nats.ErrConnectionClosed
		}
		if err := nc.LastError(); permanentConnErr(err) {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if err := nc.LastError(); err != nil {
				return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
			}
			return ctx.Err()
		}
	}
	return nil
}

// permanentConnErr reports connection errors that retrying with the same
// configuration cannot mend: the server rejected the credentials, or TLS
// is required on one side only, or the server's certificate is not trusted.
func permanentConnErr(err error) bool {
	if err == nil {
		return false
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
	)
	for _, e := range []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked, nats.ErrAccountAuthExpired, nats.ErrSecureConnRequired, nats.ErrSecureConnWanted} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &verify)
}

// describeConn names the server and how New connects to it, for errors:
// "tls://host:4223 over TLS with the nkey of nkey_seed_file /etc/seed.nk".
// It never includes a secret.
func describeConn(cfg Config) string {
	s := redact.URLs(cfg.URL)
	if cfg.TLS.Enabled || strings.Contains(cfg.URL, "tls://") || strings.Contains(cfg.URL, "wss://") {
		s += " over TLS"
	}
	switch {
	case cfg.User != "":
		s += fmt.Sprintf(" as user %q", cfg.User)
	case cfg.Token != "":
		s += " with a token"
	case cfg.NKeySeedFile != "":
		s += " with the nkey of nkey_seed_file " + cfg.NKeySeedFile
	case cfg.CredsFile != "":
		s += " with creds_file " + cfg.CredsFile
	}
	return s
}

// streamSubjects are the subjects the stream must capture.
func streamSubjects(cfg Config) []string {
	return []string{cfg.SubjectPrefix + ".>", cfg.DLQSubject}
}

// ensureStream creates cfg.Stream when it does not exist, and otherwise
// checks that it captures the result and DLQ subjects. An existing stream
// is never modified: its owner may have tuned limits New does not know.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg Config, log *slog.Logger) error {
	want := streamSubjects(cfg)
	s, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        cfg.Stream,
			Description: "tagstream results and dead letters",
			Subjects:    want,
			Storage:     jetstream.FileStorage,
			Duplicates:  cfg.DuplicateWindow,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another replica won the race
			s, err = js.Stream(ctx, cfg.Stream)
		}
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", cfg.Stream, err)
	}
	info := s.CachedInfo()
	for _, subj := range want {
		if !slices.ContainsFunc(info.Config.Subjects, func(p string) bool { return subjectCovers(p, subj) }) {
			return fmt.Errorf("%w: stream %s subjects %v do not capture %s", ErrStreamMismatch, cfg.Stream, info.Config.Subjects, subj)
		}
	}
	if info.Config.Duplicates != cfg.DuplicateWindow {
		log.Warn("stream duplicate window differs from config; keeping the stream's",
			"stream", cfg.Stream, "stream_duplicates", info.Config.Duplicates, "duplicate_window", cfg.DuplicateWindow)
	}
	return nil
}

// subjectCovers reports whether every subject matched by subj (which may
// end in ">") is also matched by the stream subject pattern.
func subjectCovers(pattern, subj string) bool {
	pt, st := strings.Split(pattern, "."), strings.Split(subj, ".")
	for i, p := range pt {
		if p == ">" {
			return i < len(st)
		}
		if i >= len(st) || st[i] == ">" || (p != "*" && p != st[i]) {
			return false
		}
	}
	return len(pt) == len(st)
}
