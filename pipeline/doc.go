// Package pipeline is tagstream's processing core: it pulls records from a
// Source (the Kafka consumer), groups them into micro-batches, labels each
// batch on a pool of workers with the current model Snapshot, publishes one
// result per record (or a dead letter) to a Sink (the NATS publisher), and
// marks a record done on its Source only once the Sink acknowledged it, so
// the consumer commits an offset only after its result is safely out.
//
// Data flow and ownership:
//
//	fetch loop ──records──► batcher ──batches──► workers ──PublishBatch──► Sink
//	     ▲ (bounded queue: a full queue stops fetching)             │
//	     └──────────── Source.MarkDone ◄── ack loop ◄──Acks─────────┘
//
// Lifecycle: New → Run(ctx) → (ctx cancelled) → Run returns. Run owns every
// goroutine it starts and returns only after all of them exited. Shutdown has
// two phases: when ctx ends the fetch loop stops, partial batches are flushed
// and published, and Run waits for the acknowledgements of everything in
// flight (soft phase, bounded by Config.ShutdownTimeout); then whatever is
// still running is cancelled (hard phase). Records that were not acknowledged
// are never marked done, so they are not committed and are redelivered to
// the next owner of their partition (at-least-once; JetStream de-duplicates
// the republished results by their source coordinates).
//
// Invariants:
//   - every fetched record is in flight until exactly one of: its result or
//     dead letter was acknowledged (then MarkDone), or Run gave up at the hard
//     deadline (then it stays uncommitted);
//   - a publish that fails is retried (with backoff) until it succeeds or the
//     hard deadline passes; a bad event never blocks its partition: it
//     becomes a dead letter with its reason and is acknowledged like a
//     result;
//   - workers read the model Snapshot once per batch from an atomic pointer:
//     SetModels swaps it without pausing or losing an event, and every
//     result names the versions of the models that labelled it.
//
// Tasks: a Snapshot holds, per language, a classifier for each task the
// language has a model for (single- or multi-label; model.Analyzer runs them
// all and the tagger on one tokenization per text) and names the route
// task, single-label with a model for every language, whose label is the
// result's label and subject. A result carries every task of its language
// under Tasks; a task without a model for the language is left out and
// counted (tagstream_task_missing_total). Feedback names its task (the
// route task when it does not); the Trainer keeps, fine-tunes, guards and
// promotes each (task, language) on its own, and ModelSync distributes
// each through the bucket under its own slot.
//
// The package declares the interfaces it needs (Source, Sink) and imports no
// transport library itself.
package pipeline
