package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/internal/golden"
)

// The value sets the golden files and most tests render.
var variants = []struct {
	name string
	args []string
}{
	{"default", nil},
	{"enforce", []string{"--set", "mode=enforce"}},
	{"no-cert-manager", []string{"--set", "certManager.enabled=false"}},
}

func TestLint(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir(t), "--namespace", releaseNamespace}, v.args...)
			out, err := runHelm(t, args...)
			require.NoError(t, err)
			assert.Contains(t, out, "1 chart(s) linted, 0 chart(s) failed")
		})
	}
}

// TestGolden compares helm template with testdata/<variant>.golden.yaml; -update rewrites them.
// The self-signed certificate material is random and masked on both sides.
func TestGolden(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			got := maskCerts(template(t, defaultRelease(v.args...)))
			golden.Assert(t, filepath.Join("testdata", v.name+".golden.yaml"), []byte(got))
		})
	}
}

// TestMaskCerts proves the masking hides only the generated certificate material, and that the
// no-cert-manager render really is random (so that the golden file needs the mask).
func TestMaskCerts(t *testing.T) {
	a := template(t, defaultRelease("--set", "certManager.enabled=false"))
	b := template(t, defaultRelease("--set", "certManager.enabled=false"))
	assert.NotEqual(t, a, b, "two renders generated the same certificate")
	assert.Equal(t, maskCerts(a), maskCerts(b))
	masked := maskCerts(a)
	for _, key := range []string{"caBundle", "tls.crt", "tls.key", "ca.crt"} {
		assert.Contains(t, masked, key+": <generated>")
	}
	assert.Equal(t, 2, strings.Count(masked, "caBundle: <generated>"), "both webhook entries carry the CA")
}

// TestSchemaRejects: values.schema.json stops bad values before anything renders.
func TestSchemaRejects(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"mode=warn", "mode"},
		{"mode=off", "mode"},
		{"benchmark=eks-9.9.9", "benchmark"},
		{"webhook.failurePolicy=Sometimes", "failurePolicy"},
		{"checks.4\\.1\\.6=maybe", "checks"},
		{"nodeScan.parallelism=0", "parallelism"},
		{"nodeScan.interval=daily", "interval"},
		{"replicaCount=0", "replicaCount"},
		{"podAntiAffinity=always", "podAntiAffinity"},
		{"rbac.clusterAdminSubjects[0].kind=Robot", "kind"},
		{"unknownKey=1", "unknownKey"},
	} {
		t.Run(tc.set, func(t *testing.T) {
			_, err := runHelm(t, "template", releaseName, chartDir(t), "--namespace", releaseNamespace, "--set", tc.set)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("exemption rule without reason", func(t *testing.T) {
		values := filepath.Join(t.TempDir(), "values.yaml")
		require.NoError(t, os.WriteFile(values, []byte("exemptions:\n  rules:\n    - checks: [\"4.2.1\"]\n      namespace: legacy\n"), 0o644))
		_, err := runHelm(t, "template", releaseName, chartDir(t), "--namespace", releaseNamespace, "-f", values)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "reason")
	})
}
