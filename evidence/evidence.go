// Package evidence is the framework the node scan and the cloud scan share: a check decides one
// benchmark item on evidence read from outside any Kubernetes object (a kubelet's effective
// configuration, the AWS API), and a registry of checks places their outcomes in a benchmark as
// rows (output.EvidenceResult). It is generic over the evidence type, so each scanner keeps only
// how it collects its evidence and its check_*.go files.
package evidence

import (
	"cmp"
	"slices"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// Check is the definition of one item decided on evidence E: what it is and how it decides.
// Nothing about a particular scan is stored here.
type Check[E any] struct {
	Slug policy.Slug
	// Decides is the one-line specification.
	Decides string
	// Evaluate decides the item on a scan's evidence.
	Evaluate func(*E) Outcome
}

// Outcome is what a check found.
type Outcome struct {
	Status   policy.Status
	Expected string
	Actual   string
	// Source is where the value was read, e.g. "flag --anonymous-auth" or
	// "eks:DescribeCluster cluster.logging.clusterLogging".
	Source string
	Detail string
}

// PassOrFail is PASS for a compliant value, FAIL otherwise.
func PassOrFail(compliant bool) policy.Status {
	if compliant {
		return policy.StatusPass
	}
	return policy.StatusFail
}

// Registry holds the checks of one scanner, of every benchmark version; each check's file adds
// its own.
type Registry[E any] struct {
	checks []*Check[E]
}

// Register adds a check.
func (r *Registry[E]) Register(c *Check[E]) { r.checks = append(r.checks, c) }

// Checks lists the definitions, sorted by slug.
func (r *Registry[E]) Checks() []*Check[E] {
	out := slices.Clone(r.checks)
	slices.SortFunc(out, func(a, b *Check[E]) int { return cmp.Compare(a.Slug, b.Slug) })
	return out
}

// Evaluate decides every check the catalogue's benchmark carries, sorted by ID.
func (r *Registry[E]) Evaluate(ev *E, cat *policy.Catalogue) []output.EvidenceResult {
	results := []output.EvidenceResult{}
	for _, c := range r.checks {
		entry, ok := cat.Entry(c.Slug)
		if !ok {
			continue
		}
		o := c.Evaluate(ev)
		results = append(results, output.EvidenceResult{
			ID: entry.ID, Slug: c.Slug, Title: entry.Title, Status: o.Status,
			Expected: o.Expected, Actual: o.Actual, Source: o.Source, Detail: o.Detail,
		})
	}
	slices.SortFunc(results, func(a, b output.EvidenceResult) int { return policy.CompareIDs(a.ID, b.ID) })
	return results
}
