package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/policy"
)

// objectChecks returns every built-in check the catalogue decides on objects, across versions.
func objectChecks(t *testing.T) []*policy.Check {
	t.Helper()
	seen := map[policy.Slug]bool{}
	var out []*policy.Check
	for _, b := range policy.Benchmarks() {
		cat, err := policy.CatalogueFor(b)
		require.NoError(t, err)
		for _, e := range cat.Entries() {
			if e.Section != policy.SectionObject || seen[e.Slug] {
				continue
			}
			seen[e.Slug] = true
			c, ok := policy.DefaultRegistry().Check(e.Slug)
			require.True(t, ok, "no check for %s", e.Slug)
			out = append(out, c)
		}
	}
	return out
}

func TestDefaultRegistry(t *testing.T) {
	checks := objectChecks(t)
	for _, c := range checks {
		assert.NotEmpty(t, c.Decides, c.Slug)
		assert.NotEmpty(t, c.Targets, c.Slug)
		assert.NotNil(t, c.Evaluate, c.Slug)
	}
	_, err := policy.NewRegistry(checks)
	require.NoError(t, err)
	// Manual and node items have no object check.
	for _, s := range []policy.Slug{"access-manager", "cni-network-policy", "external-secrets", "namespace-boundaries", "read-only-port"} {
		_, ok := policy.DefaultRegistry().Check(s)
		assert.False(t, ok, s)
	}
}

func TestNewRegistryRejects(t *testing.T) {
	valid := objectChecks(t)
	stub := func(slug policy.Slug) *policy.Check {
		return &policy.Check{Slug: slug, Decides: "x", Targets: []policy.Target{policy.TargetPodSpec}, Evaluate: func(*policy.Input) []policy.Finding { return nil }}
	}
	without := func(slug policy.Slug) []*policy.Check {
		var out []*policy.Check
		for _, c := range valid {
			if c.Slug != slug {
				out = append(out, c)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		checks []*policy.Check
		want   []string
	}{
		{"duplicate slug", append(without(""), stub("privileged")), []string{`check "privileged": registered twice`}},
		{"unknown slug", append(without(""), stub("no-such-check")), []string{`check "no-such-check": slug not in the catalogue`}},
		{"node item", append(without(""), stub("read-only-port")), []string{`check "read-only-port": the catalogue has it decided outside the policy engine`}},
		{"manual item", append(without(""), stub("access-manager")), []string{`check "access-manager": the catalogue has it decided outside the policy engine`}},
		{"empty slug", append(without(""), stub("")), []string{"check with empty slug"}},
		{"no Evaluate", append(without("privileged"), &policy.Check{Slug: "privileged", Decides: "x", Targets: []policy.Target{policy.TargetPodSpec}}),
			[]string{`check "privileged": needs Decides, Targets and Evaluate`}},
		{"no Targets", append(without("host-pid"), &policy.Check{Slug: "host-pid", Decides: "x", Evaluate: stub("").Evaluate}),
			[]string{`check "host-pid": needs Decides, Targets and Evaluate`}},
		{"catalogue slug with no check", without("node-proxy"), []string{`catalogue slug "node-proxy" has no check`}},
		{"every problem at once", append(without("lb-tls"), stub("no-such-check"), stub("privileged")), []string{
			`check "no-such-check": slug not in the catalogue`,
			`check "privileged": registered twice`,
			`catalogue slug "lb-tls" has no check`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.NewRegistry(tc.checks)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Len(t, splitLines(err.Error()), len(tc.want), err.Error())
		})
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// TestTargetsMatchGroupAndKind: a custom kind named like a built-in one (Knative's Service,
// Calico's NetworkPolicy) is not the built-in kind's target.
func TestTargetsMatchGroupAndKind(t *testing.T) {
	custom := func(apiVersion, kind string) policy.Object {
		return policy.NewObject(kind, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}, ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "team-a"}})
	}
	reg := policy.DefaultRegistry()
	for slug, objs := range map[policy.Slug][2]policy.Object{
		"lb-tls":                   {custom("v1", "Service"), custom("serving.knative.dev/v1", "Service")},
		"namespace-network-policy": {custom("networking.k8s.io/v1", "NetworkPolicy"), custom("projectcalico.org/v3", "NetworkPolicy")},
		"default-service-account":  {custom("v1", "ServiceAccount"), custom("iam.example.com/v1", "ServiceAccount")},
	} {
		c, ok := reg.Check(slug)
		require.True(t, ok)
		assert.True(t, c.AppliesTo(objs[0]), "%s applies to the built-in %s", slug, objs[0].Kind)
		assert.False(t, c.AppliesTo(objs[1]), "%s does not apply to %s/%s", slug, objs[1].Group, objs[1].Kind)
	}
}
