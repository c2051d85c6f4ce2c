// Package devcert makes throw-away credentials for local brokers and tests:
// a certificate authority, server certificates it signs, and NATS nkey user
// seeds. deploy/local/gencert writes them for the scripts that start a real
// Kafka and nats-server; tests use it for a second, untrusted CA and for
// nkeys the server does not know. Nothing it makes is meant for production:
// keys are ECDSA P-256 and Ed25519 from crypto/rand, kept unencrypted.
package devcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a certificate authority that can sign server certificates. Safe for
// concurrent use.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// CertPEM is the CA certificate, PEM encoded: the file clients trust.
	CertPEM []byte
}

// NewCA returns a fresh self-signed CA named name, valid from an hour ago
// (clock skew) for validFor.
func NewCA(name string, validFor time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devcert: ca key: %w", err)
	}
	tmpl, err := template(name, validFor)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("devcert: sign ca %s: %w", name, err)
	}
	return newCA(der, key)
}

// ParseCA returns the CA of a PEM certificate and its PEM (PKCS #8 or SEC 1)
// private key, as written by CertPEM and KeyPEM.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("devcert: ca certificate: no PEM CERTIFICATE block")
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("devcert: ca key: no PEM block")
	}
	var key *ecdsa.PrivateKey
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err == nil {
		var ok bool
		if key, ok = k.(*ecdsa.PrivateKey); !ok {
			return nil, fmt.Errorf("devcert: ca key: %T, want ECDSA", k)
		}
	} else if key, err = x509.ParseECPrivateKey(kb.Bytes); err != nil {
		return nil, fmt.Errorf("devcert: ca key: %w", err)
	}
	return newCA(cb.Bytes, key)
}

func newCA(der []byte, key *ecdsa.PrivateKey) (*CA, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("devcert: ca certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("devcert: certificate %q is not a CA", cert.Subject.CommonName)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("devcert: ca key does not match the certificate")
	}
	return &CA{cert: cert, key: key, CertPEM: pemBlock("CERTIFICATE", der)}, nil
}

// KeyPEM returns the CA's private key as unencrypted PKCS #8 PEM.
func (ca *CA) KeyPEM() ([]byte, error) { return keyPEM(ca.key) }

// NotAfter is the end of the CA's validity.
func (ca *CA) NotAfter() time.Time { return ca.cert.NotAfter }

// Issue signs a server certificate for hosts (IP addresses or DNS names,
// at least one; the first is also the common name), valid for validFor, and
// returns it and its unencrypted PKCS #8 key, both PEM encoded.
func (ca *CA) Issue(hosts []string, validFor time.Duration) (certPEM, keyOut []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("devcert: issue: no hosts")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: server key: %w", err)
	}
	tmpl, err := template(hosts[0], validFor)
	if err != nil {
		return nil, nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: sign server certificate for %v: %w", hosts, err)
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), kp, nil
}

func template(cn string, validFor time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("devcert: serial: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"tagstream throw-away"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validFor),
	}, nil
}

func keyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("devcert: marshal key: %w", err)
	}
	return pemBlock("PRIVATE KEY", der), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// NKey prefix bytes (nkeys' strkey.go): a seed starts with "S", a user's
// public key with "U".
const (
	prefixSeed byte = 18 << 3
	prefixUser byte = 20 << 3
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NKeyUser returns a fresh NATS user nkey: the seed ("SU...", what a seed
// file holds and nats.NkeyOptionFromSeed reads) and the public key
// ("U...", what the server configuration lists).
func NKeyUser() (seed, public string, err error) {
	raw := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("devcert: nkey seed: %w", err)
	}
	// Two prefix bytes so that both base32 characters are readable ("SU").
	seed = encodeNKey([]byte{prefixSeed | prefixUser>>5, (prefixUser & 31) << 3}, raw)
	public, err = NKeyPublic(seed)
	return seed, public, err
}

// NKeyPublic returns the public key ("U...") of a user seed ("SU...").
func NKeyPublic(seed string) (string, error) {
	raw, err := b32.DecodeString(string(bytes.TrimSpace([]byte(seed))))
	if err != nil || len(raw) != 2+ed25519.SeedSize+2 {
		return "", errors.New("devcert: not an nkey seed")
	}
	body, sum := raw[:len(raw)-2], binary.LittleEndian.Uint16(raw[len(raw)-2:])
	if crc16(body) != sum {
		return "", errors.New("devcert: nkey seed checksum mismatch")
	}
	if body[0]&^7 != prefixSeed || (body[0]&7)<<5|body[1]>>3 != prefixUser {
		return "", errors.New("devcert: not a user nkey seed")
	}
	pub := ed25519.NewKeyFromSeed(body[2:]).Public().(ed25519.PublicKey)
	return encodeNKey([]byte{prefixUser}, pub), nil
}

// encodeNKey is base32(prefix || payload || crc16 little-endian), unpadded.
func encodeNKey(prefix, payload []byte) string {
	raw := append(append([]byte(nil), prefix...), payload...)
	raw = binary.LittleEndian.AppendUint16(raw, crc16(raw))
	return b32.EncodeToString(raw)
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the
// checksum nkeys appends.
func crc16(data []byte) uint16 {
	var crc uint16
	for _, b := range data {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
