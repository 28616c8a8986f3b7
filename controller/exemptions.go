package controller

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
)

var (
	exemptionsExpiringDesc = prometheus.NewDesc("cisgate_exemptions_expiring",
		"Exemptions of the config in force that expire within its exemptions.expiryWarning, by kind (namespace, username, group, rule).",
		[]string{"kind"}, nil)
	exemptionsExpiredDesc = prometheus.NewDesc("cisgate_exemptions_expired",
		"Exemptions of the config in force that have expired and no longer apply, by kind: remove or renew them.",
		[]string{"kind"}, nil)
)

// exemptionsSource is the policy whose exemptions the metrics count (ReportExemptions).
var exemptionsSource atomic.Pointer[func() *policy.Policy]

func init() { metrics.Registry.MustRegister(exemptionsCollector{}) }

// ReportExemptions makes cisgate_exemptions_expiring and cisgate_exemptions_expired count the
// exemptions of source's policy, at its clock, at every scrape: expiry follows the clock, not a
// config change, so the counts are computed when read, on every replica alike.
func ReportExemptions(source func() *policy.Policy) { exemptionsSource.Store(&source) }

// exemptionsCollector computes the exemption gauges at each scrape.
type exemptionsCollector struct{}

func (exemptionsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- exemptionsExpiringDesc
	ch <- exemptionsExpiredDesc
}

func (exemptionsCollector) Collect(ch chan<- prometheus.Metric) {
	source := exemptionsSource.Load()
	if source == nil {
		return
	}
	pol := (*source)()
	if pol == nil {
		return
	}
	expiring, expired := pol.ExpiringExemptions(pol.Now())
	for desc, list := range map[*prometheus.Desc][]policy.Exemption{exemptionsExpiringDesc: expiring, exemptionsExpiredDesc: expired} {
		counts := map[policy.ExemptionKind]int{}
		for _, e := range list {
			counts[e.Kind]++
		}
		for _, kind := range []policy.ExemptionKind{policy.ExemptNamespaceKind, policy.ExemptUsernameKind, policy.ExemptGroupKind, policy.ExemptRuleKind} {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[kind]), string(kind))
		}
	}
}
