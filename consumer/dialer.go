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
