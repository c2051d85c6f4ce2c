// Package tlsconf builds client TLS configurations from file paths, shared
// by the Kafka consumer and the NATS producer.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrNoCerts reports a CA file that holds no PEM certificate.
var ErrNoCerts = errors.New("tlsconf: no pem certificates")

// Files names the PEM files of a client TLS configuration. Empty fields are
// not used; CertFile and KeyFile go together.
type Files struct {
	CAFile, CertFile, KeyFile string
	ServerName                string
	// InsecureSkipVerify disables server certificate checks (tests only).
	InsecureSkipVerify bool
}

// Client returns a TLS 1.2+ client configuration: the CA file (if any) as
// the root pool, the certificate and key (if any) as the client
// certificate. Errors name the file key (tls.ca_file, tls.cert_file).
func Client(f Files) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         f.ServerName,
		InsecureSkipVerify: f.InsecureSkipVerify, //nolint:gosec // opt-in, documented as tests only
	}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %q: %w", f.CAFile, ErrNoCerts)
		}
		tc.RootCAs = pool
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls.cert_file %q, tls.key_file %q: %w", f.CertFile, f.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
