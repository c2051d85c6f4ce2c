package tlsconf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestClient(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    Files
		want error
	}{
		{"empty", Files{ServerName: "kafka"}, nil},
		{"missing ca", Files{CAFile: filepath.Join(dir, "nope.pem")}, fs.ErrNotExist},
		{"ca without pem", Files{CAFile: notPEM}, ErrNoCerts},
		{"missing cert", Files{CertFile: filepath.Join(dir, "c.pem"), KeyFile: filepath.Join(dir, "k.pem")}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tc, err := Client(tt.f)
			if tt.want == nil {
				if err != nil || tc.ServerName != tt.f.ServerName || tc.MinVersion == 0 {
					t.Fatalf("Client(%+v) = %+v, %v", tt.f, tc, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Client(%+v) error %v, want %v", tt.f, err, tt.want)
			}
		})
	}
}
