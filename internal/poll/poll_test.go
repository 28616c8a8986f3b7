package poll_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cisgate/cisgate/internal/poll"
)

func TestUntil(t *testing.T) {
	calls := 0
	err := poll.Until(context.Background(), time.Minute, time.Millisecond, "the third call", func() error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	assert.NoError(t, err)
	assert.Equal(t, 3, calls)

	err = poll.Until(context.Background(), 20*time.Millisecond, time.Millisecond, "never", func() error { return errors.New("still not") })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "waiting for never: context deadline exceeded (last: still not)")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = poll.Until(ctx, time.Minute, time.Millisecond, "a cancelled wait", func() error { return errors.New("no") })
	assert.ErrorIs(t, err, context.Canceled)
}
