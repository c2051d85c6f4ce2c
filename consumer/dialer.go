package consumer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/tagstream/tagstream/internal/tlsconf"
)

// dialTimeout bounds one broker connection attempt.
const dialTimeout = 10 * time.Second

// newDialer builds the kafka-go dialer for cfg's TLS and SASL settings.
func newDialer(cfg Config) (*kafka.Dialer, error) {
	d := &kafka.Dialer{Timeout: dialTimeout, DualStack: true, ClientID: "tagstream"}
	if cfg.TLS.Enable {
		tc, err := newTLSConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		d.TLS = tc
	}
	mech, err := newSASLMechanism(cfg.SASL)
	if err != nil {
		return nil, err
	}
	d.SASLMechanism = mech
	return d, nil
}

// NewTransport returns a kafka-go Transport that connects with the TLS and
// SASL settings tc and sc, for the writers and admin clients that work next
// to a Consumer (the CLI's produce). ClientID names the client to the
// brokers; the other fields are kafka-go's defaults. Errors wrap
// ErrInvalidConfig for invalid settings and name the file that cannot be
// read.
func NewTransport(tc TLSConfig, sc SASLConfig, clientID string) (*kafka.Transport, error) {
	if err := tc.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if sc.Mechanism != "" && sc.Username == "" {
		return nil, fmt.Errorf("%w: sasl.username: empty with sasl.mechanism %s", ErrInvalidConfig, sc.Mechanism)
	}
	t := &kafka.Transport{ClientID: clientID}
	if tc.Enable {
		c, err := newTLSConfig(tc)
		if err != nil {
			return nil, err
		}
		t.TLS = c
	}
	mech, err := newSASLMechanism(sc)
	if err != nil {
		return nil, err
	}
	t.SASL = mech
	return t, nil
}

// describeAuth names how d connects, for errors: "over TLS with SASL
// SCRAM-SHA-512", "with SASL PLAIN", "over TLS" or "".
func describeAuth(d *kafka.Dialer) string {
	var s string
	if d.TLS != nil {
		s = " over TLS"
	}
	if d.SASLMechanism != nil {
		s += " with SASL " + d.SASLMechanism.Name()
	}
	return s
}

func newTLSConfig(c TLSConfig) (*tls.Config, error) {
	tc, err := tlsconf.Client(tlsconf.Files{CAFile: c.CAFile, CertFile: c.CertFile, KeyFile: c.KeyFile, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify})
	if errors.Is(err, tlsconf.ErrNoCerts) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return tc, err
}

func newSASLMechanism(c SASLConfig) (sasl.Mechanism, error) {
	switch c.Mechanism {
	case "":
		return nil, nil
	case SASLPlain:
		return plain.Mechanism{Username: c.Username, Password: c.Password}, nil
	case SASLScramSHA256, SASLScramSHA512:
		algo := scram.SHA256
		if c.Mechanism == SASLScramSHA512 {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, c.Username, c.Password)
		if err != nil {
			return nil, fmt.Errorf("sasl %s for user %q: %w", c.Mechanism, c.Username, err)
		}
		return m, nil
	default:
		return nil, fmt.Errorf("%w: sasl.mechanism %q", ErrInvalidConfig, c.Mechanism)
	}
}
