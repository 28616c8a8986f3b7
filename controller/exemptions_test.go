package controller

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// expiringExemptions exempt namespace legacy until expiry and a rule until a day later; the
// window is two days.
const expiringExemptions = `
mode: enforce
exemptions:
  expiryWarning: 48h
  namespaces:
    - kube-system
    - {name: legacy, expires: "2026-12-01T00:00:00Z", reason: moving to restricted PSS, owner: team-a}
  rules:
    - {checks: [privileged], kind: Deployment, name: gpu-*, reason: loads a kernel module, expires: "2026-12-02T00:00:00Z", owner: team-gpu}
`

var expiry = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// TestTheAuditAppliesAnExemptionUntilItExpires: the audit judges every object at the instant it
// starts (the policy's clock): before expiry the privileged Pod in legacy is exempt; from expiry
// on it fails, raises its Event's finding, and names the expired exemption.
func TestTheAuditAppliesAnExemptionUntilItExpires(t *testing.T) {
	client := fake.NewClientset(namespace("legacy", nil), pod("legacy", "web", privileged(podSpec("web"))))
	clock := clocktesting.NewFakePassiveClock(expiry.Add(-time.Second))
	pol := mustPolicy(t, expiringExemptions).WithClock(clock)
	web := output.ObjectRef{Kind: "Pod", Namespace: "legacy", Name: "web"}

	run, err := Audit(t.Context(), client, pol, DefaultPageSize)
	require.NoError(t, err)
	f := findingsOf(run, "4.2.1", web)
	require.Len(t, f, 1)
	assert.Equal(t, "namespace legacy is exempt: moving to restricted PSS (owner team-a, until 2026-12-01T00:00:00Z)", f[0].ExemptReason)
	assert.Empty(t, failing(run, "4.2.1"))
	assert.Equal(t, expiry.Add(-time.Second), run.Time, "the run's time is the policy's clock")

	clock.SetTime(expiry)
	run, err = Audit(t.Context(), client, pol, DefaultPageSize)
	require.NoError(t, err)
	f = findingsOf(run, "4.2.1", web)
	require.Len(t, f, 1)
	assert.Empty(t, f[0].ExemptReason)
	assert.Equal(t, `exemption exemptions.namespaces[1] (namespace "legacy", owner "team-a") expired at 2026-12-01T00:00:00Z`, f[0].ExpiredExemption)
	assert.Equal(t, []string{"Pod legacy/web"}, failing(run, "4.2.1"))
	assert.Equal(t, &Counts{Fail: 1}, run.Counts["privileged"])
	// 4.3.2 is decided per namespace, with the same exemptions.
	ns := findingsOf(run, "4.3.2", output.ObjectRef{Kind: "Namespace", Name: "legacy"})
	require.Len(t, ns, 1)
	assert.Contains(t, ns[0].ExpiredExemption, "exemptions.namespaces[1]")
}

// TestSummaryAndMetricsListExpiringExemptions: summary.json lists the exemptions expiring within
// exemptions.expiryWarning and those expired, and the gauges count them by kind, at the
// policy's clock.
func TestSummaryAndMetricsListExpiringExemptions(t *testing.T) {
	client := fake.NewClientset(namespace("legacy", nil))
	clock := clocktesting.NewFakePassiveClock(expiry.Add(-36 * time.Hour))
	pol := mustPolicy(t, expiringExemptions).WithClock(clock)
	ReportExemptions(func() *policy.Policy { return pol })
	t.Cleanup(func() { exemptionsSource.Store(nil) })
	auditor := NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, nil, NewAuditOptions())
	legacy := policy.Exemption{Key: "exemptions.namespaces[1]", Kind: policy.ExemptNamespaceKind, Name: "legacy",
		Expires: expiry, Reason: "moving to restricted PSS", Owner: "team-a"}
	gpu := policy.Exemption{Key: "exemptions.rules[0]", Kind: policy.ExemptRuleKind, Name: "privileged on Deployment */gpu-*",
		Expires: expiry.Add(24 * time.Hour), Reason: "loads a kernel module", Owner: "team-gpu"}

	for _, tc := range []struct {
		name              string
		at                time.Time
		expiring, expired []policy.Exemption
	}{
		{"legacy within the window, gpu beyond it", expiry.Add(-36 * time.Hour), []policy.Exemption{legacy}, []policy.Exemption{}},
		{"legacy expired, gpu within the window", expiry, []policy.Exemption{gpu}, []policy.Exemption{legacy}},
		{"both expired", expiry.Add(24 * time.Hour), []policy.Exemption{}, []policy.Exemption{legacy, gpu}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock.SetTime(tc.at)
			require.NoError(t, auditor.RefreshSummary(t.Context()))
			summary, _ := reportKey[Summary](t, client, report.SummaryKey())
			assert.Equal(t, ExemptionsSummary{ExpiryWarning: "48h0m0s", Expiring: tc.expiring, ExpiringTotal: len(tc.expiring),
				Expired: tc.expired, ExpiredTotal: len(tc.expired)}, summary.Exemptions)
			assert.Equal(t, tc.at, summary.Time)

			want := map[string]map[string]float64{"cisgate_exemptions_expiring": {}, "cisgate_exemptions_expired": {}}
			for name, list := range map[string][]policy.Exemption{"cisgate_exemptions_expiring": tc.expiring, "cisgate_exemptions_expired": tc.expired} {
				for _, kind := range []string{"namespace", "username", "group", "rule"} {
					want[name][kind] = 0
				}
				for _, e := range list {
					want[name][string(e.Kind)]++
				}
			}
			assert.Equal(t, want, gatherExemptionGauges(t))
		})
	}
}

// gatherExemptionGauges scrapes the exemption gauges as Prometheus would: by name, by kind.
func gatherExemptionGauges(t *testing.T) map[string]map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(exemptionsCollector{}))
	families, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]map[string]float64{}
	for _, f := range families {
		out[f.GetName()] = map[string]float64{}
		for _, m := range f.GetMetric() {
			out[f.GetName()][m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}
