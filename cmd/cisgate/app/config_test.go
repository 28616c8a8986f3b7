package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

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

// TestCheckExemptionsExpire: check decides at the clock's instant as admission does. An expired
// exemption no longer applies (the privileged Pod fails and exits 1), its finding names it, and
// stderr lists the exemptions expired and expiring within exemptions.expiryWarning.
func TestCheckExemptionsExpire(t *testing.T) {
	privilegedPod := filepath.Join(corpus, "noncompliant", "privileged-pod.yaml") // Pod shop/debug-tools, privileged (4.2.1)
	expiry := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	config := writeConfig(t, `
mode: enforce
exemptions:
  expiryWarning: 72h
  namespaces: [{name: shop, expires: "2026-12-01T00:00:00Z", reason: migrating, owner: team-shop}]
  usernames: [{name: ci-bot, expires: "2027-06-01T00:00:00Z"}]
`)
	const expired = `exemption exemptions.namespaces[0] (namespace "shop", owner "team-shop") expired at 2026-12-01T00:00:00Z`
	check := func(at time.Time) runResult {
		o := app.NewCheckOptions()
		o.Files, o.ConfigFile, o.Output, o.Clock = []string{privilegedPod}, config, "json", clocktesting.NewFakePassiveClock(at)
		var out, errOut bytes.Buffer
		err := o.Run(app.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		code := app.ExitOK
		var exit *app.ExitError
		if errors.As(err, &exit) {
			code = exit.Code
		} else {
			require.NoError(t, err)
		}
		return runResult{code, out.String(), errOut.String()}
	}

	res := check(expiry.Add(-73 * time.Hour))
	assert.Equal(t, app.ExitOK, res.code)
	assert.Empty(t, res.stderr, "nothing expires within 72h")
	assert.Equal(t, "namespace shop is exempt: migrating (owner team-shop, until 2026-12-01T00:00:00Z)", findingOf(t, res.stdout, "4.2.1").ExemptReason)

	res = check(expiry.Add(-time.Second))
	assert.Equal(t, app.ExitOK, res.code, "the exemption still applies")
	assert.Equal(t, `warning: exemption exemptions.namespaces[0] (namespace "shop", owner "team-shop") expires at 2026-12-01T00:00:00Z, within the expiry warning of 72h0m0s`+"\n", res.stderr)

	res = check(expiry)
	assert.Equal(t, app.ExitFindings, res.code, "at expiry the privileged Pod fails as if the exemption never existed")
	assert.Equal(t, "warning: "+expired+" and no longer applies\n", res.stderr)
	f := findingOf(t, res.stdout, "4.2.1")
	assert.Empty(t, f.ExemptReason)
	assert.Equal(t, expired, f.ExpiredExemption)

	// Through the command line, on the real clock: an exemption that expired an hour ago.
	past := writeConfig(t, "mode: enforce\nexemptions: {namespaces: [{name: shop, expires: \""+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+"\"}]}\n")
	res = run(t, nil, "check", "--config", past, "-f", privilegedPod)
	assert.Equal(t, app.ExitFindings, res.code)
	assert.Contains(t, res.stderr, `warning: exemption exemptions.namespaces[0] (namespace "shop") expired at`)
	assert.Contains(t, res.stdout, `[exemption exemptions.namespaces[0] (namespace "shop") expired at`, "the table names it beside the finding")
}

// expiringFinding is a finding of check's JSON with its exemption fields.
type expiringFinding struct {
	ID               string `json:"id"`
	ExemptReason     string `json:"exemptReason"`
	ExpiredExemption string `json:"expiredExemption"`
}

func findingOf(t *testing.T, stdout, id string) expiringFinding {
	t.Helper()
	var r struct{ Findings []expiringFinding }
	require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout)
	for _, f := range r.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no finding %s in %s", id, stdout)
	return expiringFinding{}
}
