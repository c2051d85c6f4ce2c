// Package testutil holds helpers shared by several packages' tests: a
// goroutine-safe log buffer and the dependency-arrow check.
package testutil

import (
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// SyncBuffer is a bytes.Buffer safe for concurrent writes and reads (a
// log sink or a command's output read while it runs). The zero value is
// ready.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ForbidDeps fails t when pkg (an import path) or anything it imports,
// transitively, is one of forbidden or below one of them (a prefix ending
// in "/" names a module's packages).
func ForbidDeps(t *testing.T, pkg string, forbidden []string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned only %d packages: %q", len(deps), out)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f) {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
}
