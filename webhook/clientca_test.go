package webhook

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/internal/testcerts"
)

// A file that no longer reads or holds no certificate keeps the last good pool: a broken rotation
// must not lock the API server out.
func TestClientCAReloadKeepsTheLastGoodPool(t *testing.T) {
	ca, err := testcerts.NewCA()
	require.NoError(t, err)
	caFile := filepath.Join(t.TempDir(), "client-ca.crt")
	writeAtomically(t, caFile, ca.PEM())
	cas, err := loadClientCAs(caFile)
	require.NoError(t, err)
	good := cas.pool.Load()

	changed, err := cas.reload()
	require.NoError(t, err)
	assert.False(t, changed, "the same content is no change")

	writeAtomically(t, caFile, []byte("not a certificate"))
	_, err = cas.reload()
	require.EqualError(t, err, "client CA "+caFile+": no PEM certificate in it")
	assert.Same(t, good, cas.pool.Load())

	require.NoError(t, os.Remove(caFile))
	_, err = cas.reload()
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Same(t, good, cas.pool.Load())
}

func writeAtomically(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}
