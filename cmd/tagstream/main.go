// Command tagstream labels live text streams with small LSTM models.
//
// Serving: run (Kafka in, labels and entities out to NATS), trainer (the
// stand-alone online fine-tuner), demo (everything embedded, with a live
// view), healthcheck. Models: train classifier|ner, pretrain, eval,
// predict, generate, quantize, model list|show|promote|rollback. Streams:
// produce, tail, feedback. Measurement: bench e2e|curve|drift. config
// prints the resolved configuration.
//
// Each command file is flags and wiring: the lifecycle is package server,
// the models package model, the benchmarks internal/bench.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tagstream:", err)
		os.Exit(1)
	}
}
