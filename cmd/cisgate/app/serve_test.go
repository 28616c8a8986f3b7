package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeUsageErrors: every bad option is named in one answer, before anything connects.
func TestServeUsageErrors(t *testing.T) {
	certs := t.TempDir()
	for _, f := range []string{"tls.crt", "tls.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(certs, f), []byte("x"), 0o600))
	}
	for _, tc := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"no certificates", []string{"--cert-dir", t.TempDir()}, []string{"--cert-dir:", "tls.crt", "tls.key"}},
		{"bad port and intervals", []string{"--cert-dir", certs, "--port", "0", "--report-interval", "0s", "--audit-interval", "0s"},
			[]string{"--port must be 1-65535, got 0", "--config-poll-interval, --report-interval and --cache-sync-timeout must be positive", "--audit-interval must be positive"}},
		{"node scan without image", []string{"--cert-dir", certs, "--nodescan-enabled"}, []string{"--nodescan-image"}},
		{"empty namespace", []string{"--cert-dir", certs, "--namespace", ""}, []string{"--namespace must not be empty"}},
		{"unknown flag", []string{"--cert-dir", certs, "--no-such-flag"}, []string{"unknown flag: --no-such-flag"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, nil, append([]string{"serve"}, tc.args...)...)
			assert.Equal(t, 2, res.code)
			for _, w := range tc.wants {
				assert.Contains(t, res.stderr, w)
			}
		})
	}
}

// TestServeRefusesABadConfig: a config error names the file and the key, and serve does not start.
func TestServeRefusesABadConfig(t *testing.T) {
	certs := t.TempDir()
	for _, f := range []string{"tls.crt", "tls.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(certs, f), []byte("x"), 0o600))
	}
	config := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(config, []byte("mode: deny-all\n"), 0o644))
	res := run(t, nil, "serve", "--cert-dir", certs, "--config", config, "--kubeconfig", filepath.Join(t.TempDir(), "none"))
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, config+`: mode: Unsupported value: "deny-all": supported values: "enforce", "audit"`)
}

// TestOneKubeconfigRule: serve, audit and nodescan reach the cluster the same way and say so.
func TestOneKubeconfigRule(t *testing.T) {
	const rule = "empty: $KUBECONFIG, else the in-cluster config, else ~/.kube/config (controller-runtime's order)"
	for _, sub := range []string{"serve", "audit", "nodescan"} {
		res := run(t, nil, sub, "--help")
		assert.Equal(t, 0, res.code, sub)
		assert.Contains(t, strings.Join(strings.Fields(res.stdout), " "), rule, sub)
	}
}
