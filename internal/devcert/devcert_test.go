package devcert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsserver "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
)

// handshake runs one TLS handshake between a server with cert/key and a
// client that trusts roots and dials host.
func handshake(t *testing.T, certPEM, keyPEM, roots []byte, host string) error {
	t.Helper()
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.(*tls.Conn).Handshake()
		c.Close()
	}()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(roots) {
		t.Fatal("no certificate in roots")
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", port), &tls.Config{RootCAs: pool, ServerName: host})
	if err == nil {
		c.Close()
	}
	ln.Close()
	<-done
	return err
}

func TestIssue(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("test ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue([]string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		roots  []byte
		host   string
		wantOK bool
	}{
		{"ip", ca.CertPEM, "127.0.0.1", true},
		{"dns", ca.CertPEM, "localhost", true},
		{"name not in certificate", ca.CertPEM, "example.org", false},
		{"other ca", other.CertPEM, "127.0.0.1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := handshake(t, certPEM, keyPEM, tc.roots, tc.host)
			if (err == nil) != tc.wantOK {
				t.Fatalf("handshake = %v, want ok %v", err, tc.wantOK)
			}
			var unknown x509.UnknownAuthorityError
			if tc.name == "other ca" && !errors.As(err, &unknown) {
				t.Errorf("handshake = %v, want x509.UnknownAuthorityError", err)
			}
		})
	}
	if _, _, err := ca.Issue(nil, time.Hour); err == nil {
		t.Error("Issue with no hosts succeeded")
	}
}

func TestParseCA(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("round trip", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseCA(ca.CertPEM, kp)
	if err != nil {
		t.Fatal(err)
	}
	if !back.NotAfter().Equal(ca.NotAfter()) {
		t.Errorf("NotAfter %v, want %v", back.NotAfter(), ca.NotAfter())
	}
	certPEM, keyPEM, err := back.Issue([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, certPEM, keyPEM, ca.CertPEM, "127.0.0.1"); err != nil {
		t.Errorf("certificate of the parsed CA: %v", err)
	}
	other, err := NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := other.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCA(ca.CertPEM, otherKey); err == nil {
		t.Error("ParseCA accepted another CA's key")
	}
	if _, err := ParseCA([]byte("junk"), kp); err == nil {
		t.Error("ParseCA accepted a non-PEM certificate")
	}
}

// TestCRC16 checks the XMODEM check value ("123456789" -> 0x31C3, from the
// CRC catalogue).
func TestCRC16(t *testing.T) {
	t.Parallel()
	if got := crc16([]byte("123456789")); got != 0x31c3 {
		t.Fatalf("crc16 = %#04x, want 0x31c3", got)
	}
}

// TestNKeyUser: a nats-server that lists the public key accepts a client
// signing with the seed (through nats.go's own seed parser), and refuses a
// seed it does not list.
func TestNKeyUser(t *testing.T) {
	t.Parallel()
	seed, pub, err := NKeyUser()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(seed, "SU") || !strings.HasPrefix(pub, "U") || len(pub) != 56 || len(seed) != 58 {
		t.Fatalf("seed %.4s... (%d chars), public %s (%d chars): want SU..., 58 and U..., 56", seed, len(seed), pub, len(pub))
	}
	if p, err := NKeyPublic(seed + "\n"); err != nil || p != pub {
		t.Fatalf("NKeyPublic = %q, %v; want %q", p, err, pub)
	}
	bad := []byte(seed)
	bad[10] ^= 1
	if _, err := NKeyPublic(string(bad)); err == nil {
		t.Error("NKeyPublic accepted a corrupted seed")
	}
	stranger, _, err := NKeyUser()
	if err != nil {
		t.Fatal(err)
	}
	opts := natsserver.DefaultTestOptions
	opts.Port = -1
	opts.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	srv := natsserver.RunServer(&opts)
	t.Cleanup(srv.Shutdown)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, seed string
		wantOK     bool
	}{{"listed", seed, true}, {"stranger", stranger, false}} {
		path := filepath.Join(dir, tc.name+".nk")
		if err := os.WriteFile(path, []byte(tc.seed+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		o, err := nats.NkeyOptionFromSeed(path)
		if err != nil {
			t.Fatalf("%s: nats.go refuses the seed file: %v", tc.name, err)
		}
		nc, err := nats.Connect(srv.ClientURL(), o)
		if err == nil {
			nc.Close()
		}
		if (err == nil) != tc.wantOK {
			t.Errorf("%s: connect = %v, want ok %v", tc.name, err, tc.wantOK)
		}
	}
}
