package producer

import "github.com/tagstream/tagstream/pipeline"

// The publisher is the pipeline's NATS sink and the model store its model
// bucket. The assertions live in a test file so that the producer itself
// does not link the pipeline and its models.
var (
	_ pipeline.Sink        = (*Publisher)(nil)
	_ pipeline.ModelBucket = (*ModelStore)(nil)
)
