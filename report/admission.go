package report

import (
	"time"

	"github.com/cisgate/cisgate/policy"
)

// AdmissionReport is the payload of admission.<replica>.json (AdmissionKey).
type AdmissionReport struct {
	Header
	Replica   string           `json:"replica"`
	Benchmark policy.Benchmark `json:"benchmark"`
	Updated   time.Time        `json:"updated"`
	// Checks counts findings per CIS ID and verdict since the replica started.
	Checks map[string]*CheckCounts `json:"checks"`
	// Recent are the last findings, oldest first.
	Recent []RecentRuling `json:"recent"`
}

// CheckCounts are one check's findings by verdict.
type CheckCounts struct {
	Slug   policy.Slug `json:"slug"`
	Deny   int         `json:"deny"`
	Warn   int         `json:"warn"`
	Exempt int         `json:"exempt"`
}

// RecentRuling is one admission.Ruling as the report lists it: when, on what, and what was done.
type RecentRuling struct {
	Time time.Time `json:"time"`
	ID   string    `json:"id"`
	// Verdict is what admission did about it: deny, warn or exempt.
	Verdict      string `json:"verdict"`
	Operation    string `json:"operation"`
	Kind         string `json:"kind"`
	Namespace    string `json:"namespace,omitempty"`
	Name         string `json:"name"`
	Path         string `json:"path"`
	Detail       string `json:"detail"`
	ExemptReason string `json:"exemptReason,omitempty"`
}

// Summarise keeps the counts and drops the recent findings, oldest first, until the payload fits.
func (r *AdmissionReport) Summarise(budget int) Payload {
	s := *r
	s.Truncated = true
	for keep := len(r.Recent) / 2; ; keep /= 2 {
		s.Recent = r.Recent[len(r.Recent)-keep:]
		if keep == 0 || Fits(&s, budget) {
			return &s
		}
	}
}
