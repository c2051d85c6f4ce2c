// Command gencert writes the throw-away TLS files and NATS nkeys that
// deploy/local/kafka.sh and nats.sh give their secure listeners. It is Go
// rather than openssl so that it works the same on every machine, and it
// also makes nkeys, which openssl cannot. Existing files are kept, so that
// kafka.sh and nats.sh share one CA whichever starts first.
//
//	gencert tls DIR [HOST...]   DIR/ca.pem, ca-key.pem, server.pem,
//	                            server-key.pem, and server-keystore.pem
//	                            (key then certificate: Kafka's PEM keystore);
//	                            hosts default to 127.0.0.1 localhost ::1
//	gencert nkey FILE           a user nkey seed in FILE (mode 0600);
//	                            prints its public key
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tagstream/tagstream/internal/devcert"
)

// validFor is how long the CA and the server certificate are valid; the
// files live in a local state directory and are replaced when they expire.
const validFor = 5 * 365 * 24 * time.Hour

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gencert:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) >= 2 && args[0] == "tls":
		hosts := args[2:]
		if len(hosts) == 0 {
			hosts = []string{"127.0.0.1", "localhost", "::1"}
		}
		return writeTLS(args[1], hosts)
	case len(args) == 2 && args[0] == "nkey":
		pub, err := writeNKey(args[1])
		if err != nil {
			return err
		}
		fmt.Println(pub)
		return nil
	}
	return errors.New("usage: gencert tls DIR [HOST...] | gencert nkey FILE")
}

// writeTLS makes the CA unless DIR holds a valid one, and the server files
// unless they exist and were signed by that CA.
func writeTLS(dir string, hosts []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	ca, fresh, err := loadOrMakeCA(path("ca.pem"), path("ca-key.pem"))
	if err != nil {
		return err
	}
	if !fresh && exists(path("server.pem")) && exists(path("server-key.pem")) && exists(path("server-keystore.pem")) {
		return nil
	}
	cert, key, err := ca.Issue(hosts, validFor)
	if err != nil {
		return err
	}
	// The keystore first: a reader that sees server.pem sees all three.
	if err := writeFile(path("server-keystore.pem"), append(append([]byte(nil), key...), cert...), 0o600); err != nil {
		return err
	}
	if err := writeFile(path("server-key.pem"), key, 0o600); err != nil {
		return err
	}
	return writeFile(path("server.pem"), cert, 0o644)
}

// loadOrMakeCA returns the CA in certFile and keyFile, or a new one written
// there when they are missing or expire within a day; fresh tells which.
func loadOrMakeCA(certFile, keyFile string) (ca *devcert.CA, fresh bool, err error) {
	cp, cerr := os.ReadFile(certFile)
	kp, kerr := os.ReadFile(keyFile)
	if cerr == nil && kerr == nil {
		ca, err := devcert.ParseCA(cp, kp)
		if err != nil {
			return nil, false, fmt.Errorf("%s, %s: %w (remove them for a new CA)", certFile, keyFile, err)
		}
		if time.Until(ca.NotAfter()) > 24*time.Hour {
			return ca, false, nil
		}
	} else if err := errors.Join(cerr, kerr); !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	ca, err = devcert.NewCA("tagstream local CA", validFor)
	if err != nil {
		return nil, false, err
	}
	key, err := ca.KeyPEM()
	if err != nil {
		return nil, false, err
	}
	if err := writeFile(keyFile, key, 0o600); err != nil {
		return nil, false, err
	}
	return ca, true, writeFile(certFile, ca.CertPEM, 0o644)
}

// writeNKey writes a fresh user seed to file unless it holds one, and
// returns the public key.
func writeNKey(file string) (string, error) {
	if b, err := os.ReadFile(file); err == nil {
		pub, err := devcert.NKeyPublic(string(b))
		if err != nil {
			return "", fmt.Errorf("%s: %w (remove it for a new nkey)", file, err)
		}
		return pub, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	seed, pub, err := devcert.NKeyUser()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", err
	}
	return pub, writeFile(file, []byte(seed+"\n"), 0o600)
}

// writeFile writes data to a temporary file beside path and renames it into
// place, so that a reader never sees half a file.
func writeFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
