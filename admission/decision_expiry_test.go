package admission

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cisgate/cisgate/policy"
)

// TestDecideExemptionsExpire: at admission an exemption applies before its expires and not from
// that instant on (policy.Exemption.ExpiredAt): the request is then decided as if it had never
// existed (denied in enforce mode, warned in audit mode), and the denial or warning names the
// exemption, so the user learns why a request admitted yesterday is denied today.
func TestDecideExemptionsExpire(t *testing.T) {
	expiry := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const config = `
exemptions:
  namespaces: [{name: legacy, expires: "2026-12-01T00:00:00Z", reason: moving to restricted PSS, owner: team-a}]
  usernames: [{name: ci-bot, expires: "2026-12-01T00:00:00Z"}]
  rules:
    - {checks: ["4.2.4"], name: "node-exporter-*", reason: reads the host's network statistics, expires: "2026-12-01T00:00:00Z"}
`
	const (
		nsExpired   = `(exemption exemptions.namespaces[0] (namespace "legacy", owner "team-a") expired at 2026-12-01T00:00:00Z)`
		userExpired = `(exemption exemptions.usernames[0] (username "ci-bot") expired at 2026-12-01T00:00:00Z)`
		ruleExpired = `(exemption exemptions.rules[0] (rule "4.2.4 on any kind */node-exporter-*") expired at 2026-12-01T00:00:00Z)`
	)
	// legacy has no NetworkPolicy (cluster()): 4.3.2 fails there too.
	const msgNoNetworkPolicy = `namespace "legacy" has no NetworkPolicy; add one before running workloads there`
	legacyPod := object(pod("legacy", "web", privilegedHostNetwork()))
	privPod := object(pod(ns, "web", privilegedHostNetwork()))
	exporter := object(pod(ns, "node-exporter-x7k2p", privilegedHostNetwork()))
	bot := Request{Operation: policy.OperationCreate, Object: privPod, Username: "ci-bot"}
	before, at := expiry.Add(-time.Second), expiry

	for _, tc := range []struct {
		name     string
		mode     string
		at       time.Time
		req      Request
		message  string
		warnings []string
		findings []seen
	}{
		{name: "namespace, before", mode: "enforce", at: before, req: create(legacyPod),
			findings: []seen{{"4.2.1", VerdictExempt, false, "namespace legacy is exempt: moving to restricted PSS (owner team-a, until 2026-12-01T00:00:00Z)"},
				{"4.2.4", VerdictExempt, false, "namespace legacy is exempt: moving to restricted PSS (owner team-a, until 2026-12-01T00:00:00Z)"},
				{"4.2.5", VerdictExempt, false, "namespace legacy is exempt: moving to restricted PSS (owner team-a, until 2026-12-01T00:00:00Z)"},
				{"4.3.2", VerdictExempt, false, "namespace legacy is exempt: moving to restricted PSS (owner team-a, until 2026-12-01T00:00:00Z)"}}},
		{name: "namespace, at expiry: denied, naming it", mode: "enforce", at: at, req: create(legacyPod),
			message: deniedPrefix("Pod", "legacy/web") + "[4.2.1] " + msgPrivileged + " " + nsExpired + "; [4.2.4] " + msgHostNetwork + " " + nsExpired +
				"; [4.2.5] " + msgEscalates + " " + nsExpired + "; [4.3.2] " + msgNoNetworkPolicy + " " + nsExpired,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}, {"4.3.2", VerdictDeny, false, ""}}},
		{name: "namespace, at expiry in audit mode: warned, naming it", mode: "audit", at: at, req: create(legacyPod),
			warnings: []string{"[4.2.1] " + msgPrivileged + " " + nsExpired, "[4.2.4] " + msgHostNetwork + " " + nsExpired, "[4.2.5] " + msgEscalates + " " + nsExpired,
				"[4.3.2] " + msgNoNetworkPolicy + " " + nsExpired},
			findings: []seen{{"4.2.1", VerdictWarn, false, ""}, {"4.2.4", VerdictWarn, false, ""}, {"4.2.5", VerdictWarn, false, ""}, {"4.3.2", VerdictWarn, false, ""}}},
		{name: "username, before", mode: "enforce", at: before, req: bot,
			findings: []seen{{"4.2.1", VerdictExempt, false, `user "ci-bot" is exempt (until 2026-12-01T00:00:00Z)`},
				{"4.2.4", VerdictExempt, false, `user "ci-bot" is exempt (until 2026-12-01T00:00:00Z)`},
				{"4.2.5", VerdictExempt, false, `user "ci-bot" is exempt (until 2026-12-01T00:00:00Z)`}}},
		{name: "username, after", mode: "enforce", at: at.Add(time.Hour), req: bot,
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + " " + userExpired + "; [4.2.4] " + msgHostNetwork + " " + userExpired + "; [4.2.5] " + msgEscalates + " " + userExpired,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}}},
		{name: "rule, before", mode: "enforce", at: before, req: create(exporter),
			message:  deniedPrefix("Pod", "team-a/node-exporter-x7k2p") + "[4.2.1] " + msgPrivileged + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictExempt, false, "reads the host's network statistics (until 2026-12-01T00:00:00Z)"}, {"4.2.5", VerdictDeny, false, ""}}},
		{name: "rule, at expiry: only its check names it", mode: "enforce", at: at, req: create(exporter),
			message:  deniedPrefix("Pod", "team-a/node-exporter-x7k2p") + "[4.2.1] " + msgPrivileged + "; [4.2.4] " + msgHostNetwork + " " + ruleExpired + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustPolicy(t, "mode: "+tc.mode+"\n"+config).WithClock(clocktesting.NewFakePassiveClock(tc.at))
			d := Decide(pol, tc.req, cluster())
			assert.Equal(t, tc.message == "", d.Allowed)
			assert.Equal(t, tc.message, d.Message)
			assert.Equal(t, tc.warnings, d.Warnings)
			assert.Equal(t, tc.findings, seenOf(d.Rulings))
		})
	}
}
