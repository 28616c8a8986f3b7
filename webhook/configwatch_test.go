package webhook

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

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

	for _, empty := range []string{"", " \n\t\n", "# mode: enforce\n", "---\n"} {
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
	assert.ErrorContains(t, err, `checks[9.9.9]: Invalid value: "9.9.9": no check with this ID or slug in benchmark eks-2.0.0`)

	for _, empty := range []string{"", "\n  \n", "# config: rendered by CI\n"} {
		require.NoError(t, os.WriteFile(path, []byte(empty), 0o644))
		_, err = NewConfigWatcher(path, time.Hour)
		assert.ErrorIs(t, err, policy.ErrEmptyConfig)
		assert.ErrorContains(t, err, path+": the config is empty")
	}

	_, err = NewConfigWatcher(filepath.Join(t.TempDir(), "missing.yaml"), time.Hour)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestConfigWatcherFollowsTheConfigMap: with FollowConfigMap, `helm upgrade --set mode=enforce`
// is in force as soon as the API server has the new ConfigMap, not when the kubelet syncs the
// mounted file; the file is not polled, so its older copy never comes back; an invalid change and
// a ConfigMap without the key leave the config in force.
func TestConfigWatcherFollowsTheConfigMap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("mode: audit\n"), 0o644))
	w, err := NewConfigWatcher(path, time.Millisecond)
	require.NoError(t, err)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "cisgate-system", Name: "cisgate-config"},
		Data: map[string]string{"config.yaml": "mode: audit\n"}}
	client := fake.NewClientset(cm)
	w.FollowConfigMap(client, "cisgate-system", "cisgate-config", "config.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	update := func(data map[string]string) {
		t.Helper()
		cm = cm.DeepCopy()
		cm.Data = data
		_, err := client.CoreV1().ConfigMaps("cisgate-system").Update(ctx, cm, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	// The fake API server does not replay what changed between the informer's list and its watch:
	// the change is applied again until the watcher has it.
	updateUntil := func(data map[string]string, applied func() bool) {
		t.Helper()
		require.Eventually(t, func() bool { update(data); return applied() }, 10*time.Second, 10*time.Millisecond)
	}
	updateUntil(map[string]string{"config.yaml": "mode: enforce\nbenchmark: eks-1.8.0\n"}, func() bool { return w.Policy().Config.Mode == policy.ModeEnforce })
	assert.Equal(t, policy.ModeEnforce, w.Policy().Config.Mode, "the mounted file still says audit and is not read")

	// An invalid change, a ConfigMap without the key and a key with no YAML document (the loader's
	// one rule, policy.ErrEmptyConfig) leave the config in force; the valid
	// change after them is the barrier that shows the watcher handled them.
	rejected := counterValue(t, configReloadErrors)
	update(map[string]string{"config.yaml": "mode: block-everything\n"})
	update(map[string]string{"other": "x"})
	update(map[string]string{"config.yaml": "# emptied by a bad render\n"})
	updateUntil(map[string]string{"config.yaml": "mode: enforce\nbenchmark: eks-1.5.0\n"}, func() bool { return w.Policy().Config.Benchmark == policy.EKS150 })
	assert.Equal(t, policy.ModeEnforce, w.Policy().Config.Mode)
	assert.Equal(t, rejected+3, counterValue(t, configReloadErrors), "each of the three was rejected and counted")
}
