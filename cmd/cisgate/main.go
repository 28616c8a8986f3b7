// Command cisgate holds an Amazon EKS cluster to the CIS Amazon EKS Benchmark.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// Mozilla's roots for the HTTPS calls to AWS, used where the system has none: the image
	// holds no CA certificate files.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Args[1:], app.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}
