// Package testenv reads the environment variables that point tests at real
// services (the secure listeners of deploy/local, for example).
package testenv

import (
	"os"
	"strings"
	"testing"
)

// Require returns the values of the variables names, or skips t naming
// what is missing and hint, where the variables come from.
func Require(t testing.TB, what, hint string, names ...string) map[string]string {
	t.Helper()
	env := make(map[string]string, len(names))
	var missing []string
	for _, k := range names {
		if env[k] = os.Getenv(k); env[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Skipf("no %s: %s unset (%s)", what, strings.Join(missing, ", "), hint)
	}
	return env
}
