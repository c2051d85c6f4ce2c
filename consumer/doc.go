// Package consumer reads text events from Kafka with segmentio/kafka-go as
// event.Records and commits an offset only after every record up to it has
// been handled.
//
// # Lifecycle
//
//	c, err := consumer.New(cfg)          // joins cfg.Group in the background, starts the committer
//	for {
//		recs, err := c.Fetch(ctx, 256)   // 1..256 records; bad values carry Record.Err
//		... classify, publish, wait for acks; send Record.Err ones to the DLQ ...
//		c.Done(recs...)                  // any order
//	}
//	err = c.Close(shutdownCtx)           // commit what is done, leave the group
//
// # Invariants
//
//   - At-least-once: kafka-go's auto-commit is off (FetchMessage plus a
//     synchronous CommitMessages from one committer goroutine). The offset
//     committed for a partition is the watermark of a Tracker: every record
//     before it was marked done. Out-of-order Done is safe.
//   - No rewinds: a partition's commit never goes below what this member
//     committed or what the group had committed when it was assigned, and a
//     partition revoked by a rebalance is dropped from the Tracker, so a
//     late Done or a late commit never moves the new owner's offset.
//   - Poison messages never block: event.Decode turns a bad value into an
//     *event.DecodeError with a Reason and its coordinates; the caller sends
//     it to the DLQ and marks it done like any other record.
//   - Every goroutine is owned: the committer stops in Close, and Close is
//     bounded by its ctx even when kafka-go's Reader.Close hangs.
//
// Rebalances are observed through kafka-go's Reader logger (the only place
// it exposes generations; see assign.go), pinned to kafka-go v0.4.51.
package consumer
