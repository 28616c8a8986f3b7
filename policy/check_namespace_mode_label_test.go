package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/policy"
)

// #9 item 1: the label accepts enforce and audit only (DESIGN: exemptions live in the config). Any
// other value is ignored by ModeFor and reported here, on the Namespace.
func TestNamespaceModeLabel(t *testing.T) {
	ns := func(labels map[string]string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: labels}}
	}
	ignored := func(value string) []got {
		return []got{{"cisgate.1", policy.StatusWarn, "metadata.labels", "label cisgate.io/mode=" + value +
			` is ignored: only "enforce" or "audit" are accepted, and the configured modes apply in namespace "shop"; exemptions belong in the cisgate config`}}
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   []got
	}{
		{"no label", nil, []got{}},
		{"enforce", map[string]string{"cisgate.io/mode": "enforce"}, []got{}},
		{"audit", map[string]string{"cisgate.io/mode": "audit"}, []got{}},
		{"off is no exemption", map[string]string{"cisgate.io/mode": "off"}, ignored(`"off"`)},
		// Label values are case-sensitive strings (Kubernetes API reference, ObjectMeta.labels).
		{"Enforce in another case", map[string]string{"cisgate.io/mode": "Enforce"}, ignored(`"Enforce"`)},
		{"empty value", map[string]string{"cisgate.io/mode": ""}, ignored(`""`)},
		{"another label", map[string]string{"mode": "off"}, []got{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, gotOf(evaluate(t, policy.EKS180, policy.DefaultSettings(), "Namespace", ns(tc.labels), policy.OperationCreate, nil, "namespace-mode-label")))
		})
	}
	t.Run("in every benchmark version", func(t *testing.T) {
		for _, b := range policy.Benchmarks() {
			assert.Len(t, evaluate(t, b, policy.DefaultSettings(), "Namespace", ns(map[string]string{"cisgate.io/mode": "off"}), policy.OperationNone, nil, "namespace-mode-label"), 1, b)
		}
	})
}

func TestDowngrades(t *testing.T) {
	ids := func(entries []policy.Entry) []string {
		out := []string{}
		for _, e := range entries {
			out = append(out, e.ID)
		}
		return out
	}
	enforce := mustParse(t, "mode: enforce\nchecks: {\"4.2.1\": audit, \"4.2.2\": \"off\"}\n")
	got := ids(enforce.Downgrades("audit"))
	assert.NotContains(t, got, "4.2.1", "already audit")
	assert.NotContains(t, got, "4.2.2", "off")
	assert.NotContains(t, got, "5.1.4", "off without registries")
	assert.Contains(t, got, "4.2.3")
	assert.Empty(t, ids(enforce.Downgrades("enforce")))
	assert.Empty(t, ids(enforce.Downgrades("off")), "an ignored label lowers nothing")

	audit := mustParse(t, "mode: audit\nchecks: {privileged: enforce}\n")
	assert.Equal(t, []string{"4.2.1"}, ids(audit.Downgrades("audit")))
	assert.Empty(t, ids(audit.Downgrades("")))
}

func TestNamespaceModeEditors(t *testing.T) {
	p := mustParse(t, "namespaceModeEditors: {users: [alice], groups: [platform]}\n")
	e := p.Config.NamespaceModeEditors
	assert.True(t, e.Set())
	assert.True(t, e.Includes("alice", nil))
	assert.True(t, e.Includes("bob", []string{"devs", "platform"}))
	assert.False(t, e.Includes("bob", []string{"devs"}))
	assert.False(t, e.Includes("platform", nil), "a user named like a group is not the group")
	assert.False(t, mustParse(t, "{}").Config.NamespaceModeEditors.Set(), "unset restricts nobody")
}
