package model

import (
	"testing"

	"github.com/tagstream/tagstream/internal/testutil"
)

// TestModelImportsNoIO enforces the dependency arrows: model and its
// sub-packages import no transport, pipeline, config or network package.
func TestModelImportsNoIO(t *testing.T) {
	t.Parallel()
	testutil.ForbidDeps(t, "github.com/tagstream/tagstream/model/...", []string{
		"github.com/segmentio/kafka-go", "github.com/nats-io/", "github.com/twmb/franz-go",
		"github.com/spf13/viper", "github.com/spf13/cobra",
		"github.com/tagstream/tagstream/consumer", "github.com/tagstream/tagstream/producer",
		"github.com/tagstream/tagstream/pipeline", "github.com/tagstream/tagstream/config",
		"github.com/tagstream/tagstream/cmd", "github.com/tagstream/tagstream/server",
		"github.com/tagstream/tagstream/event", "net/http",
	})
}
