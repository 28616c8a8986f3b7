// Package poll is the one wait-until loop of cisgate's tests and harnesses: a barrier on what a
// user would see, never a fixed sleep.
package poll

import (
	"context"
	"fmt"
	"time"
)

// Until calls check every interval until it returns nil, ctx ends or timeout passes. The error
// names what was awaited, wraps the context's error and carries check's last error.
func Until(ctx context.Context, timeout, interval time.Duration, what string, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = check(); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}
