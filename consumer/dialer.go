package consumer

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
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
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // opt-in, documented as tests only
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: tls.ca_file %q: no pem certificates", ErrInvalidConfig, c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls.cert_file %q, tls.key_file %q: %w", c.CertFile, c.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
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
