package app_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
)

// emptyConfigs are config files with no YAML document: what a truncated write or an unrendered
// template leaves. Each is bad input (exit 2) naming the file, never the defaults (audit mode),
// which would let `check` pass a privileged Pod that it fails without --config.
var emptyConfigs = map[string]string{"empty": "", "comment only": "# mode: enforce (rendered by CI)\n"}

const emptyConfigMessage = ": the config is empty (no YAML document: blank, or only comments)"

// TestEmptyConfigIsBadInput: check, audit, cloudscan and serve read --config with one loader
// (policy.ReadConfig), so an empty file is refused by each of them alike, before anything runs.
func TestEmptyConfigIsBadInput(t *testing.T) {
	certs := t.TempDir()
	for _, f := range []string{"tls.crt", "tls.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(certs, f), []byte("x"), 0o600))
	}
	absent := filepath.Join(t.TempDir(), "no-kubeconfig")
	privilegedPod := filepath.Join(corpus, "noncompliant", "privileged-pod.yaml")
	commands := map[string][]string{
		"check":     {"check", "-f", privilegedPod},
		"audit":     {"audit", "--kubeconfig", absent},
		"cloudscan": {"cloudscan", "--cluster", "prod", "--kubeconfig", absent},
		"serve":     {"serve", "--cert-dir", certs, "--kubeconfig", absent},
	}
	for cmd, args := range commands {
		for name, content := range emptyConfigs {
			t.Run(cmd+"/"+name, func(t *testing.T) {
				config := writeConfig(t, content)
				res := run(t, nil, append(args, "--config", config)...)
				assert.Equal(t, app.ExitUsage, res.code)
				assert.Contains(t, res.stderr, "error: "+config+emptyConfigMessage)
				assert.Empty(t, res.stdout)
			})
		}
	}

	// A valid file is read: check judges with it; audit, cloudscan and serve get past the config
	// to the cluster (absent here: test/e2e/audit and TestCloudScanOutputs run them on one).
	t.Run("check/valid", func(t *testing.T) {
		res := run(t, nil, "check", "-f", privilegedPod, "--config", writeConfig(t, "mode: enforce\n"))
		assert.Equal(t, app.ExitFindings, res.code, res.stderr)
		assert.Contains(t, res.stdout, "Pod shop/debug-tools")
		res = run(t, nil, "check", "-f", privilegedPod, "--config", writeConfig(t, "# the defaults: audit mode\n{}\n"))
		assert.Equal(t, app.ExitOK, res.code, "{} states the defaults (audit mode): %s", res.stderr)
	})
	for _, cmd := range []string{"audit", "serve"} {
		t.Run(cmd+"/valid", func(t *testing.T) {
			res := run(t, nil, append(commands[cmd], "--config", writeConfig(t, "mode: enforce\n"))...)
			assert.Equal(t, app.ExitUsage, res.code)
			assert.Contains(t, res.stderr, "--kubeconfig:")
			assert.NotContains(t, res.stderr, "config.yaml")
		})
	}
}
