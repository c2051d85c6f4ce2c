// Package server runs one tagstream processor: the application's lifecycle
// behind the run, trainer and demo commands and the end-to-end benchmarks.
//
//	s, err := server.New(ctx, cfg, log, server.Options{}) // load models, connect, listen
//	go reloadOnSignal(s.Reload)                            // swap model files in, no pause
//	err = s.Run(ctx)                                       // process until ctx ends, then drain and close
//
// New loads the configured models: each task's classifier per language
// (tasks[].models, a file or builtin:NAME) and the NER taggers, refusing a
// corrupt file with its key and path, a task whose models mix single- and
// multi-label, and a multi-label route task (output.route_task); starts the embedded Kafka and NATS servers when embedded.enabled,
// and builds the parts the configuration asks for: the Kafka consumer, the
// NATS publisher and the pipeline between them; online fine-tuning from the
// feedback topic (finetune.enabled) with its own consumer group; live-stream
// pretraining (pretrain.enabled); model distribution through the JetStream
// model bucket (models.bucket); the HTTP endpoint with /healthz, /readyz
// and /metrics. With Options.TrainerOnly there is no serving pipeline: the
// stand-alone trainer.
//
// # Invariants
//
//   - Ready is nil only while the pipeline runs, NATS is connected, the
//     consumer group is joined and a broker answers; /readyz reports it.
//   - Reload and promotions from the model bucket swap models between
//     batches: no event waits and none is lost.
//   - Run owns every goroutine it starts and returns only after all of them
//     have; after ctx ends, the pipeline drains (4/5 of shutdown_timeout),
//     the consumers commit what was delivered and leave their groups, and
//     everything is closed within shutdown_timeout.
//   - The package speaks to the transports through consumer and producer,
//     and to the pipeline through pipeline's own types; cmd is flags and
//     wiring on top of it.
package server
