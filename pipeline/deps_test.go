package pipeline

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPipelineImportsNoTransport enforces the dependency arrows: the
// pipeline speaks in package event's types and links neither the Kafka nor
// the NATS client, nor the consumer and producer that wrap them.
func TestPipelineImportsNoTransport(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/tagstream/tagstream/pipeline").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/segmentio/kafka-go", "github.com/nats-io/", "github.com/twmb/franz-go",
		"github.com/tagstream/tagstream/consumer", "github.com/tagstream/tagstream/producer",
		"github.com/tagstream/tagstream/config", "github.com/tagstream/tagstream/cmd",
		"github.com/spf13/viper", "github.com/spf13/cobra",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned only %d packages: %q", len(deps), out)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f) {
				t.Errorf("pipeline depends on %s", d)
			}
		}
	}
}
