// Command cisgate holds an Amazon EKS cluster to the CIS Amazon EKS Benchmark.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Args[1:], app.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}
