package app

import (
	"context"
	"fmt"
	"io"

	"github.com/go-logr/logr"

	"github.com/cisgate/cisgate/securityhub"
)

// publishSecurityHub publishes one scope's rows when opts are enabled, and writes what happened to
// errOut: a line of counts and a warning per failure. Security Hub never changes a command's
// result or exit code: its failures are warnings.
func publishSecurityHub(ctx context.Context, opts *securityhub.Options, scope string, rows func() []securityhub.Row, errOut io.Writer) {
	if !opts.Enabled {
		return
	}
	out := opts.NewPublisher(ctx, logr.Discard()).Publish(ctx, scope, rows())
	for _, e := range out.Errors {
		fmt.Fprintf(errOut, "warning: Security Hub: %s\n", e)
	}
	fmt.Fprintf(errOut, "Security Hub: %d findings imported, %d unchanged, %d failed, %d archived, %d workflows resolved\n",
		out.Imported, out.Unchanged, out.Failed, out.Archived, out.Resolved)
}
