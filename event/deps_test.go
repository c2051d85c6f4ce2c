package event

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEventIsALeaf checks that package event imports only the standard
// library, so every other package can depend on it.
func TestEventIsALeaf(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	imports := strings.Fields(string(out))
	if len(imports) == 0 {
		t.Fatalf("go list listed no imports: %q", out)
	}
	for _, imp := range imports {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("event imports %s, outside the standard library", imp)
		}
	}
}
