package report

import (
	"sort"
	"time"

	"github.com/cisgate/cisgate/policy"
)

// AuditReport is the payload of audit.json (AuditKey): per check ID, the objects that fail
// it. Over its budget it is summarised: the totals stay exact, the lists are cut and the payload
// says "truncated": true.
type AuditReport struct {
	Header
	Benchmark policy.Benchmark `json:"benchmark"`
	Time      time.Time        `json:"time"`
	// Checked is how many objects (namespaces included) the audit evaluated.
	Checked int `json:"checked"`
	// Checks holds every check with at least one failing, unexempted object, by ID, and the
	// Namespaces whose cisgate.io/mode label is ignored (a WARN, policy.NamespaceModeLabelID):
	// someone tried to switch cisgate off there.
	Checks map[string]*FailingObjects `json:"checks"`
	// Platform holds the same for the control plane's own objects (its bootstrap RBAC), which
	// users cannot change and which raise no Event. See docs/architecture.md for how an object is
	// recognised as the platform's.
	Platform map[string]*FailingObjects `json:"platform"`
}

// FailingObjects are one check's failing objects.
type FailingObjects struct {
	Slug policy.Slug `json:"slug"`
	// Total is how many objects fail the check; Objects lists fewer when the payload is truncated.
	Total   int             `json:"total"`
	Objects []FailingObject `json:"objects"`
}

// FailingObject is one object failing a check, with its first finding of that check; a
// truncated payload drops the path and detail before it drops objects.
type FailingObject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Path      string `json:"path,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// Summarise drops every path and detail, then cuts each check's list to the longest common length
// that fits the budget.
func (r *AuditReport) Summarise(budget int) Payload {
	bare := *r
	bare.Truncated = true
	longest := 0
	strip := func(checks map[string]*FailingObjects) map[string]*FailingObjects {
		out := make(map[string]*FailingObjects, len(checks))
		for id, c := range checks {
			objs := make([]FailingObject, len(c.Objects))
			for i, o := range c.Objects {
				objs[i] = FailingObject{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
			}
			out[id] = &FailingObjects{Slug: c.Slug, Total: c.Total, Objects: objs}
			longest = max(longest, len(objs))
		}
		return out
	}
	bare.Checks, bare.Platform = strip(r.Checks), strip(r.Platform)
	if Fits(&bare, budget) {
		return &bare
	}
	// The largest cap that fits; cap 0 is the smallest payload there is.
	limit := sort.Search(longest+1, func(n int) bool { return !Fits(bare.capped(n+1), budget) })
	return bare.capped(limit)
}

// capped is the report with each check's list cut to at most n objects.
func (r *AuditReport) capped(n int) *AuditReport {
	out := *r
	capAll := func(checks map[string]*FailingObjects) map[string]*FailingObjects {
		capped := make(map[string]*FailingObjects, len(checks))
		for id, c := range checks {
			cc := *c
			cc.Objects = c.Objects[:min(n, len(c.Objects))]
			capped[id] = &cc
		}
		return capped
	}
	out.Checks, out.Platform = capAll(r.Checks), capAll(r.Platform)
	return &out
}
