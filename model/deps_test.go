package model

import (
	"os/exec"
	"strings"
	"testing"
)

// TestModelImportsNoIO enforces the dependency arrows: model and its
// sub-packages import no transport, pipeline, config or network package.
func TestModelImportsNoIO(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/segmentio/kafka-go", "github.com/nats-io/", "github.com/twmb/franz-go",
		"github.com/spf13/viper", "github.com/spf13/cobra",
		"github.com/tagstream/tagstream/consumer", "github.com/tagstream/tagstream/producer",
		"github.com/tagstream/tagstream/pipeline", "github.com/tagstream/tagstream/config",
		"github.com/tagstream/tagstream/cmd", "net/http",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned only %d packages: %q", len(deps), out)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f) {
				t.Errorf("model depends on %s", d)
			}
		}
	}
}
