package consumer

import "github.com/tagstream/tagstream/pipeline"

// The consumer is the pipeline's Kafka source. The assertion lives in a test
// file so that the consumer itself does not link the pipeline and its models.
var _ pipeline.Source = (*Consumer)(nil)
