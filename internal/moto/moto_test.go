package moto

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Without moto_server the tests that need it fail in CI and are skipped elsewhere, saying why.
func TestMissingMotoServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("MOTO_SERVER", "")
	t.Setenv("CI", "true")
	s, skip, err := Start()
	assert.Nil(t, s)
	assert.Nil(t, skip)
	assert.EqualError(t, err, "moto_server not found on PATH nor in $MOTO_SERVER: pip install 'moto[server]' (make test does)")

	t.Setenv("CI", "")
	s, skip, err = Start()
	assert.Nil(t, s)
	assert.NoError(t, err)
	assert.EqualError(t, skip, "moto_server not found on PATH nor in $MOTO_SERVER: pip install 'moto[server]' (make test does)")
}
