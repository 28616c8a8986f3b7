package controller

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSurviveTurnsAPanicIntoAnError(t *testing.T) {
	assert.EqualError(t, survive(func() error { panic("nil map on some object") }), "internal error: nil map on some object")
	failed := errors.New("list failed")
	assert.Equal(t, failed, survive(func() error { return failed }))
	assert.NoError(t, survive(func() error { return nil }))
}
