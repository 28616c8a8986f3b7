package webhook

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/policy"
)

func TestConfigWatcherReloadsValidChangesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("mode: audit\n"), 0o644))
	w, err := NewConfigWatcher(path, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, policy.ModeAudit, w.Policy().Config.Mode)
	ctx := context.Background()

	require.NoError(t, os.WriteFile(path, []byte("mode: enforce\n"), 0o644))
	w.reload(ctx)
	assert.Equal(t, policy.ModeEnforce, w.Policy().Config.Mode, "a valid change is picked up without a restart")

	require.NoError(t, os.WriteFile(path, []byte("mode: block-everything\n"), 0o644))
	w.reload(ctx)
	assert.Equal(t, policy.ModeEnforce, w.Policy().Config.Mode, "an invalid change leaves the config in force")

	for _, empty := range []string{"", " \n\t\n"} {
		before := counterValue(t, configReloadErrors)
		require.NoError(t, os.WriteFile(path, []byte(empty), 0o644))
		w.reload(ctx)
		assert.Equal(t, policy.ModeEnforce, w.Policy().Config.Mode, "an empty file %q is invalid, not the defaults", empty)
		assert.Equal(t, before+1, counterValue(t, configReloadErrors), "and counted")
	}

	require.NoError(t, os.Remove(path))
	w.reload(ctx)
	assert.Equal(t, policy.ModeEnforce, w.Policy().Config.Mode, "an unreadable file leaves the config in force")

	require.NoError(t, os.WriteFile(path, []byte("mode: audit\nbenchmark: eks-1.5.0\n"), 0o644))
	w.reload(ctx)
	assert.Equal(t, policy.ModeAudit, w.Policy().Config.Mode)
	assert.Equal(t, policy.EKS150, w.Policy().Catalogue.Benchmark(), "the benchmark changes with it")
}

func TestConfigWatcherRefusesABadFileAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("mode: audit\nchecks: {\"9.9.9\": enforce}\n"), 0o644))
	_, err := NewConfigWatcher(path, time.Hour)
	assert.ErrorContains(t, err, `checks["9.9.9"]: no check with this ID or slug in benchmark eks-1.8.0`)

	for _, empty := range []string{"", "\n  \n"} {
		require.NoError(t, os.WriteFile(path, []byte(empty), 0o644))
		_, err = NewConfigWatcher(path, time.Hour)
		assert.ErrorIs(t, err, errEmptyConfig)
	}

	_, err = NewConfigWatcher(filepath.Join(t.TempDir(), "missing.yaml"), time.Hour)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
