// Command tagstream labels live text streams with small LSTM models: it
// trains and evaluates the classifier and runs predictions.
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
