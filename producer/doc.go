// Package producer publishes labelled results and dead letters to NATS and
// reports, per item, when each is safely out, so the caller commits a Kafka
// offset only after its result is stored.
//
// # Lifecycle
//
//	p, err := producer.New(ctx, cfg)      // connect, create or check the stream
//	go func() {                           // the caller owns the ack reader
//		for a := range p.Acks() {         // closed when Close returns
//			... a.Err == nil: mark a.Token's record done; else retry or fail ...
//		}
//	}()
//	n, err := p.PublishBatch(ctx, items)  // blocks while MaxPendingAcks are outstanding
//	err = p.Close(shutdownCtx)            // wait for acks, drain, close Acks
//
// # Subjects and payloads
//
// Items, results, dead letters and acks are package event's types. An
// event.Result is published as JSON on
// "<SubjectPrefix>.<event.SubjectToken(Label)>",
// so subscribers filter with wildcards ("tagstream.results.*"). A
// DeadLetter goes to DLQSubject as {"reason","error","source","raw_base64"}.
// Every message carries the header Nats-Msg-Id "<topic>/<partition>/<offset>"
// ("dlq/" before it for dead letters).
//
// # Modes
//
// In jetstream mode (the default) New creates the stream Config.Stream over
// "<SubjectPrefix>.>" and DLQSubject with the Duplicates window
// Config.DuplicateWindow, or checks that an existing stream captures both
// subjects (it never modifies one). Items are published with
// jetstream.PublishMsgAsync and an Ack is sent when the PubAck (or an error:
// error PubAck, AckTimeout, disconnect) arrives. A redelivery after a crash
// re-publishes the same Nats-Msg-Id, which the server de-duplicates within
// the window and acknowledges with Ack.Duplicate set.
//
// In core mode items are published with a plain Publish: at-most-once on
// the NATS side, the lowest latency. They are acknowledged together by the
// Flush at the end of PublishBatch (or before it waits for a slot), which
// proves only that the server read them.
//
// # Acks and backpressure
//
// Every item PublishBatch accepts gets exactly one Ack on the unbuffered
// channel Acks, in completion order, carrying the item's Token; failures
// are Acks with Err set, never lost. Acks are a channel, not a callback, so
// nothing the caller does can stall nats' reply goroutine: the NATS
// callbacks only append to a queue that one dispatcher goroutine hands to
// the caller. An accepted item holds one of Config.MaxPendingAcks slots
// until the caller has received its Ack, so PublishBatch blocks (respecting
// ctx and Close) while MaxPendingAcks items are in flight or unreceived.
// The caller must therefore receive Acks on another goroutine than the one
// calling PublishBatch.
//
// # Connection
//
// The connection retries forever with jittered exponential backoff (100ms
// doubling to 2s); while disconnected, publishes are buffered by nats.go
// (8 MiB) and in-flight JetStream publishes are failed with
// nats.ErrDisconnected, since their PubAck may never come. Connected
// reports the state for readiness probes.
//
// # Invariants
//
//   - Every goroutine is owned: the dispatcher stops in Close, which closes
//     the connection (nats.go's goroutines end with it). Close is safe to
//     call twice and is bounded by its ctx.
//   - The Publisher never retains an Item, Result or DeadLetter after
//     PublishBatch returns.
package producer
