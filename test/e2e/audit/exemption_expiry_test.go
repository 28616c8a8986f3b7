package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestTheAuditStopsApplyingAnExpiredExemption: against a real kube-apiserver, the background
// audit (on an injected clock) leaves a privileged Deployment in a namespace exempt until expiry
// out of audit.json, with summary.json listing the exemption as expiring; at the expiry instant
// the next audit lists the Deployment and summary.json lists the exemption as expired.
func TestTheAuditStopsApplyingAnExpiredExemption(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t, "expiring")
	_, err := env.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "gpu", spec(makePrivileged)), metav1.CreateOptions{})
	require.NoError(t, err)
	expiry := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := clocktesting.NewFakePassiveClock(expiry.Add(-time.Hour))
	pol, err := policy.ParseConfig(fmt.Appendf(nil, `%s
  expiryWarning: 24h
  rules:
    - {checks: [privileged, privilege-escalation], namespace: %s, kind: Deployment, name: gpu, reason: loads a kernel module, expires: "2026-12-01T00:00:00Z", owner: team-gpu}
`, auditConfig, ns))
	require.NoError(t, err)
	pol = pol.WithClock(clock)
	ensureNamespace(t, env, cisgateNamespace)
	auditor := controller.NewAuditor(env.Clientset, cisgateNamespace, func() *policy.Policy { return pol }, startEventSink(t, env), controller.NewAuditOptions())
	object := "Deployment " + ns + "/gpu"
	rule := policy.Exemption{Key: "exemptions.rules[0]", Kind: policy.ExemptRuleKind, Name: "privileged,privilege-escalation on Deployment " + ns + "/gpu",
		Expires: expiry, Reason: "loads a kernel module", Owner: "team-gpu"}

	require.NoError(t, auditor.RunOnce(ctx))
	got, _ := reportKey[report.AuditReport](t, env, report.AuditKey())
	assert.False(t, listed(got, "4.2.1", object), "exempt an hour before the expiry")
	summary, _ := reportKey[controller.Summary](t, env, report.SummaryKey())
	assert.Equal(t, []policy.Exemption{rule}, summary.Exemptions.Expiring)
	assert.Empty(t, summary.Exemptions.Expired)

	clock.SetTime(expiry)
	require.NoError(t, auditor.RunOnce(ctx))
	got, _ = reportKey[report.AuditReport](t, env, report.AuditKey())
	assert.True(t, listed(got, "4.2.1", object), "from the expiry on, decided as if never exempt")
	summary, _ = reportKey[controller.Summary](t, env, report.SummaryKey())
	assert.Empty(t, summary.Exemptions.Expiring)
	assert.Equal(t, []policy.Exemption{rule}, summary.Exemptions.Expired)
	assert.Equal(t, expiry, summary.Time)

	// The CISViolation Event (the first: the rule covered all the Deployment's findings) says why
	// findings that were exempt yesterday appear today.
	framework.WaitFor(t, 10*time.Second, "the CISViolation Event on the Deployment", func() error {
		evs := violations(t, ns, "Deployment", "gpu")
		if len(evs) != 1 {
			return fmt.Errorf("%d Events", len(evs))
		}
		if want := `(exemption exemptions.rules[0] (rule "privileged,privilege-escalation on Deployment ` + ns + `/gpu", owner "team-gpu") expired at 2026-12-01T00:00:00Z)`; !strings.Contains(evs[0].Note, want) {
			return fmt.Errorf("the Event's note %q does not name the expired exemption", evs[0].Note)
		}
		return nil
	})
}
