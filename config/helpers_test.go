package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes content to a fresh YAML file and returns its path.
func writeConfig(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tagstream.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clearEnv hides any TAGSTREAM_* variable of the calling environment (CI
// sets TAGSTREAM_KAFKA_BROKERS, for example) for the rest of the test. Load
// ignores empty variables. Tests that call it must not be parallel.
func clearEnv(t testing.TB) {
	t.Helper()
	type setenver interface{ Setenv(k, v string) }
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, EnvPrefix+"_") {
			t.(setenver).Setenv(k, "")
		}
	}
}
