package policy_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
)

// expiringConfig has one exemption of each kind that ends at expiry, and one of each that never
// ends.
const expiringConfig = `
benchmark: eks-1.8.0
mode: enforce
exemptions:
  namespaces:
    - kube-system
    - {name: legacy, expires: "2026-12-01T00:00:00Z", reason: "moving to restricted PSS", owner: team-a}
  usernames:
    - {name: ci-bot, expires: "2026-12-01T00:00:00Z", owner: ci@example.com}
  groups:
    - {name: platform:break-glass, expires: "2026-12-01T00:00:00+01:00"}
  rules:
    - {checks: [privileged], kind: DaemonSet, name: gpu-driver, reason: "loads a kernel module", expires: "2026-12-01T00:00:00Z", owner: team-gpu}
`

var expiry = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// TestExemptionsExpire: an exemption applies strictly before its expires and not from that instant
// on (now >= expires); the finding then names it.
func TestExemptionsExpire(t *testing.T) {
	p := mustParse(t, expiringConfig)
	pod := policy.Object{Kind: "Pod", Namespace: "legacy", Name: "web", Namespaced: true}
	gpu := policy.Object{Kind: "DaemonSet", Namespace: "kube-public", Name: "gpu-driver", Namespaced: true}
	for _, tc := range []struct {
		name    string
		at      time.Time
		verdict func() policy.ExemptionVerdict
		want    policy.ExemptionVerdict
	}{
		{"namespace before", expiry.Add(-time.Nanosecond), func() policy.ExemptionVerdict { return p.ExemptNamespaceAt("legacy", expiry.Add(-time.Nanosecond)) },
			policy.ExemptionVerdict{Reason: "namespace legacy is exempt: moving to restricted PSS (owner team-a, until 2026-12-01T00:00:00Z)"}},
		{"namespace at expiry", expiry, func() policy.ExemptionVerdict { return p.ExemptNamespaceAt("legacy", expiry) },
			policy.ExemptionVerdict{Expired: `exemption exemptions.namespaces[1] (namespace "legacy", owner "team-a") expired at 2026-12-01T00:00:00Z`}},
		{"a namespace without expiry never ends", expiry.AddDate(10, 0, 0), func() policy.ExemptionVerdict { return p.ExemptNamespaceAt("kube-system", expiry.AddDate(10, 0, 0)) },
			policy.ExemptionVerdict{Reason: "namespace kube-system is exempt"}},
		{"username before", expiry.Add(-time.Second), func() policy.ExemptionVerdict { return p.ExemptUserAt("ci-bot", nil, expiry.Add(-time.Second)) },
			policy.ExemptionVerdict{Reason: `user "ci-bot" is exempt (owner ci@example.com, until 2026-12-01T00:00:00Z)`}},
		{"username after", expiry.Add(time.Second), func() policy.ExemptionVerdict { return p.ExemptUserAt("ci-bot", nil, expiry.Add(time.Second)) },
			policy.ExemptionVerdict{Expired: `exemption exemptions.usernames[0] (username "ci-bot", owner "ci@example.com") expired at 2026-12-01T00:00:00Z`}},
		// +01:00 is an hour earlier in UTC.
		{"group with an offset, before", expiry.Add(-time.Hour - time.Second), func() policy.ExemptionVerdict {
			return p.ExemptUserAt("alice", []string{"platform:break-glass"}, expiry.Add(-time.Hour-time.Second))
		}, policy.ExemptionVerdict{Reason: `group "platform:break-glass" is exempt (until 2026-11-30T23:00:00Z)`}},
		{"group with an offset, at", expiry.Add(-time.Hour), func() policy.ExemptionVerdict {
			return p.ExemptUserAt("alice", []string{"platform:break-glass"}, expiry.Add(-time.Hour))
		}, policy.ExemptionVerdict{Expired: `exemption exemptions.groups[0] (group "platform:break-glass") expired at 2026-11-30T23:00:00Z`}},
		{"rule before", expiry.Add(-time.Second), func() policy.ExemptionVerdict { return p.ExemptionForAt("privileged", gpu, expiry.Add(-time.Second)) },
			policy.ExemptionVerdict{Reason: "loads a kernel module (owner team-gpu, until 2026-12-01T00:00:00Z)"}},
		{"rule at expiry", expiry, func() policy.ExemptionVerdict { return p.ExemptionForAt("privileged", gpu, expiry) },
			policy.ExemptionVerdict{Expired: `exemption exemptions.rules[0] (rule "privileged on DaemonSet */gpu-driver", owner "team-gpu") expired at 2026-12-01T00:00:00Z`}},
		{"nothing matches", expiry, func() policy.ExemptionVerdict { return p.ExemptNamespaceAt("shop", expiry) }, policy.ExemptionVerdict{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.verdict())
		})
	}

	// The policy's clock decides Judge, ExemptNamespace and ExemptionFor alike.
	clock := clocktesting.NewFakePassiveClock(expiry.Add(-time.Minute))
	p = p.WithClock(clock)
	spec := corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{Privileged: ptr.To(true)})}}
	w := workloads(pod.Namespace, spec)[0]
	privileged := policy.NewObject(w.Kind, w.Obj)
	fail := func() policy.Finding {
		for _, j := range p.Judge(privileged, policy.OperationCreate, nil, "") {
			if j.Slug == "privileged" {
				return j
			}
		}
		t.Fatal("no privileged finding")
		return policy.Finding{}
	}
	assert.True(t, p.ExemptNamespace("legacy"))
	assert.NotEmpty(t, fail().ExemptReason)
	assert.False(t, fail().Denies())
	clock.SetTime(expiry)
	assert.False(t, p.ExemptNamespace("legacy"))
	j := fail()
	assert.Empty(t, j.ExemptReason)
	assert.True(t, j.Denies(), "decided as if the exemption never existed")
	assert.Contains(t, j.Message(), `(exemption exemptions.namespaces[1] (namespace "legacy", owner "team-a") expired at 2026-12-01T00:00:00Z)`)
	_, ok := p.ExemptionFor("privileged", gpu)
	assert.False(t, ok)
}

// TestAnExemptionInForceWinsOverAnExpiredOne: a second entry for the same namespace that is still
// in force exempts; the expired one is not named.
func TestAnExemptionInForceWinsOverAnExpiredOne(t *testing.T) {
	p := mustParse(t, `
exemptions:
  namespaces:
    - {name: legacy, expires: "2026-12-01T00:00:00Z"}
    - {name: legacy, expires: "2027-01-01T00:00:00Z", reason: extended}
`)
	assert.Equal(t, policy.ExemptionVerdict{Reason: "namespace legacy is exempt: extended (until 2027-01-01T00:00:00Z)"}, p.ExemptNamespaceAt("legacy", expiry))
}

func TestExpiringExemptions(t *testing.T) {
	p := mustParse(t, expiringConfig+"  expiryWarning: 48h\n")
	assert.Equal(t, 48*time.Hour, p.ExpiryWarning())
	keys := func(es []policy.Exemption) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.Key)
		}
		return out
	}
	for _, tc := range []struct {
		name              string
		at                time.Time
		expiring, expired []string
	}{
		{"beyond the window", expiry.Add(-50 * time.Hour), []string{}, []string{}},
		// The group expires at 23:00 UTC the day before: first by expiry.
		{"inside the window", expiry.Add(-48 * time.Hour), []string{"exemptions.groups[0]", "exemptions.namespaces[1]", "exemptions.usernames[0]", "exemptions.rules[0]"}, []string{}},
		{"the group expired", expiry.Add(-time.Hour), []string{"exemptions.namespaces[1]", "exemptions.usernames[0]", "exemptions.rules[0]"}, []string{"exemptions.groups[0]"}},
		{"all expired", expiry, []string{}, []string{"exemptions.groups[0]", "exemptions.namespaces[1]", "exemptions.usernames[0]", "exemptions.rules[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expiring, expired := p.ExpiringExemptions(tc.at)
			assert.Equal(t, tc.expiring, keys(expiring))
			assert.Equal(t, tc.expired, keys(expired))
		})
	}
	assert.Equal(t, policy.DefaultExpiryWarning, mustParse(t, "{}").ExpiryWarning(), "a week by default")
}

// TestExemptionConfigErrors: every bad term is named by its key, all at once.
func TestExemptionConfigErrors(t *testing.T) {
	_, err := policy.ParseConfig([]byte(`
exemptions:
  requireReason: true
  expiryWarning: a week
  namespaces:
    - {name: legacy, expires: "2026-12-01", reason: r}
    - kube-system
    - {expires: "2026-12-01T00:00:00Z", reason: r}
  usernames: [{name: ci-bot, reason: " "}]
  groups: [{name: ops, reason: on call, expires: "tomorrow"}]
  rules:
    - {checks: [privileged], reason: r, expires: "2026-12-01T00:00:00"}
`))
	require.Error(t, err)
	for _, want := range []string{
		`exemptions.rules[0].expires: Invalid value: "2026-12-01T00:00:00": not an RFC 3339 time, e.g. 2026-03-31T00:00:00Z`,
		`exemptions.namespaces[0].expires: Invalid value: "2026-12-01": not an RFC 3339 time`,
		`exemptions.namespaces[1].reason: Required value: exemptions.requireReason is set: say why namespace "kube-system" is exempt`,
		`exemptions.namespaces[2].name: Required value: must not be empty`,
		`exemptions.usernames[0].reason: Required value: exemptions.requireReason is set: say why username "ci-bot" is exempt`,
		`exemptions.groups[0].expires: Invalid value: "tomorrow"`,
		`exemptions.expiryWarning: Invalid value: "a week": a Go duration of at least 0, e.g. 168h`,
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.NotContains(t, err.Error(), "groups[0].reason", "a reason is there")

	// requireReason holds for the default entries too: a config that requires reasons restates them.
	_, err = policy.ParseConfig([]byte("exemptions: {requireReason: true}\n"))
	assert.ErrorContains(t, err, `exemptions.namespaces[0].reason: Required value: exemptions.requireReason is set: say why namespace "kube-system" is exempt`)
	_, err = policy.ParseConfig([]byte(`
exemptions:
  requireReason: true
  namespaces: [{name: kube-system, reason: the control plane's add-ons}]
  groups: [{name: system:nodes, reason: the kubelets' mirror Pods}]
`))
	assert.NoError(t, err)

	for yaml, want := range map[string]string{
		"exemptions: {namespaces: [{name: a, expiry: x}]}\n": `unknown field "expiry"`,
		"exemptions: {namespaces: [[a]]}\n":                  "an exemption is a name or {name, expires, reason, owner}",
	} {
		_, err := policy.ParseConfig([]byte(yaml))
		assert.ErrorContains(t, err, want, yaml)
	}
}

// TestExemptNameForms: a plain name and the object form decode to the same entry and render back
// as written; an object entry in a list does not inherit a default entry's terms.
func TestExemptNameForms(t *testing.T) {
	p := mustParse(t, `
exemptions:
  namespaces: [kube-system, {name: legacy, owner: team-a}]
`)
	assert.Equal(t, []policy.ExemptName{{Name: "kube-system"}, {Name: "legacy", ExemptionTerms: policy.ExemptionTerms{Owner: "team-a"}}}, p.Config.Exemptions.Namespaces)
	data, err := json.Marshal(p.Config.Exemptions.Namespaces)
	require.NoError(t, err)
	assert.JSONEq(t, `["kube-system", {"name": "legacy", "owner": "team-a"}]`, string(data))
}
