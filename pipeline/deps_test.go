package pipeline

import (
	"testing"

	"github.com/tagstream/tagstream/internal/testutil"
)

// TestPipelineImportsNoTransport enforces the dependency arrows: the
// pipeline speaks in package event's types and links neither the Kafka nor
// the NATS client, nor the consumer and producer that wrap them.
func TestPipelineImportsNoTransport(t *testing.T) {
	t.Parallel()
	testutil.ForbidDeps(t, "github.com/tagstream/tagstream/pipeline", []string{
		"github.com/segmentio/kafka-go", "github.com/nats-io/", "github.com/twmb/franz-go",
		"github.com/tagstream/tagstream/consumer", "github.com/tagstream/tagstream/producer",
		"github.com/tagstream/tagstream/config", "github.com/tagstream/tagstream/cmd",
		"github.com/spf13/viper", "github.com/spf13/cobra",
	})
}
