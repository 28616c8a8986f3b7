package controller

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// Source is the part of cisgate a count comes from.
type Source string

const (
	SourceAdmission Source = "admission"
	SourceAudit     Source = "audit"
	SourceNode      Source = "node"
	// SourcePlatform is the audit's count of the control plane's own objects.
	SourcePlatform Source = "platform"
	// SourceCloud is the cloud scan's: the items decided through the AWS API.
	SourceCloud Source = "cloud"
)

// Summary is the payload of summary.json (report.SummaryKey), written by the leader: per check ID
// of the selected benchmark, the counts of each source. Its size is bounded by the catalogue.
type Summary struct {
	report.Header
	Benchmark policy.Benchmark `json:"benchmark"`
	Time      time.Time        `json:"time"`
	// Sources says how many report keys (or audit runs) each source's counts merge.
	Sources map[Source]*SourceKeys `json:"sources"`
	// Denials is how many admission requests were denied, over every check (a request denied
	// for two checks counts twice): the number a reviewer looks at first.
	Denials int `json:"denials"`
	// NotScanned are the nodes whose last scan could not read the kubelet's configuration, with
	// why; their results are not merged into the node counts, where they would read as WARNs.
	// At most MaxNotScannedListed, by node name; NotScannedTotal counts them all.
	NotScanned      []NotScannedNode `json:"notScanned"`
	NotScannedTotal int              `json:"notScannedTotal"`
	// Section3 is cloudscan.AutoModeSection3 when the cloud scan found an EKS Auto Mode cluster,
	// whose nodes no scan can read: AWS manages their kubelet.
	Section3 string                   `json:"section3,omitempty"`
	Checks   map[string]*CheckSummary `json:"checks"`
	// NamespaceModeDowngrades are the namespaces whose cisgate.io/mode label lowers a check's
	// configured mode (enforce to audit), from the last audit, by name: every downgrade in one
	// place for a reviewer. Ignored labels ("off") lower nothing and are listed in audit.json.
	NamespaceModeDowngrades []NamespaceModeDowngrade `json:"namespaceModeDowngrades"`
}

// MaxNotScannedListed bounds summary.json's list of nodes not scanned, so that its size follows
// the catalogue, not the node count: a broken node image can leave thousands unscanned.
const MaxNotScannedListed = 50

// capNotScanned sorts the nodes not scanned, counts them all and keeps the first
// MaxNotScannedListed.
func (b *summaryBuilder) capNotScanned() {
	ns := b.summary.NotScanned
	slices.SortFunc(ns, func(x, y NotScannedNode) int { return strings.Compare(x.Node, y.Node) })
	b.summary.NotScannedTotal = len(ns)
	b.summary.NotScanned = ns[:min(len(ns), MaxNotScannedListed)]
}

// NotScannedNode is one node the scan could not read.
type NotScannedNode struct {
	Node string `json:"node"`
	report.NotScanned
}

// NamespaceModeDowngrade is one namespace whose label lowers the mode of some checks.
type NamespaceModeDowngrade struct {
	Namespace string      `json:"namespace"`
	Label     policy.Mode `json:"label"`
	// Checks are the IDs whose configured enforce the label lowers to audit.
	Checks []string `json:"checks"`
}

// SourceKeys counts the report keys of a source that were merged and those that were not: keys of
// another benchmark, keys that do not decode, and node keys summarised down to bare counts.
type SourceKeys struct {
	Merged  int `json:"merged"`
	Skipped int `json:"skipped"`
}

// CheckSummary is one check's counts by source. Admission counts requests: deny are denials,
// warn are admissions with a warning (audit mode), and passing requests are not counted. Audit
// counts objects, node counts scanned nodes.
type CheckSummary struct {
	Slug      policy.Slug `json:"slug"`
	Admission *Counts     `json:"admission,omitempty"`
	Audit     *Counts     `json:"audit,omitempty"`
	Node      *Counts     `json:"node,omitempty"`
	// Platform counts the control plane's own objects the audit found (its bootstrap RBAC),
	// apart from Audit: users cannot change them.
	Platform *Counts `json:"platform,omitempty"`
	// Cloud is the last cloud scan's result of the item (one count).
	Cloud *Counts `json:"cloud,omitempty"`
}

// summaryBuilder merges the sources into a Summary for one catalogue.
type summaryBuilder struct {
	catalogue *policy.Catalogue
	summary   *Summary
}

func newSummaryBuilder(cat *policy.Catalogue, at time.Time) *summaryBuilder {
	return &summaryBuilder{catalogue: cat, summary: &Summary{
		Header: report.NewHeader(), Benchmark: cat.Benchmark(), Time: at.UTC().Truncate(time.Second),
		Sources:                 map[Source]*SourceKeys{SourceAdmission: {}, SourceAudit: {}, SourceNode: {}, SourceCloud: {}},
		NotScanned:              []NotScannedNode{},
		Checks:                  map[string]*CheckSummary{},
		NamespaceModeDowngrades: []NamespaceModeDowngrade{},
	}}
}

// addNamespaceModes lists the namespaces whose label lowers a check's mode under pol.
func (b *summaryBuilder) addNamespaceModes(pol *policy.Policy, labels map[string]string) {
	downgrades := map[string][]string{} // by label value: the lowered IDs are the same for all
	for ns, label := range labels {
		ids, seen := downgrades[label]
		if !seen {
			for _, e := range pol.Downgrades(label) {
				ids = append(ids, e.ID)
			}
			downgrades[label] = ids
		}
		if len(ids) > 0 {
			b.summary.NamespaceModeDowngrades = append(b.summary.NamespaceModeDowngrades,
				NamespaceModeDowngrade{Namespace: ns, Label: policy.Mode(label), Checks: ids})
		}
	}
	slices.SortFunc(b.summary.NamespaceModeDowngrades, func(x, y NamespaceModeDowngrade) int { return strings.Compare(x.Namespace, y.Namespace) })
}

// counts returns the counts of a check ID and source, or nil for an ID the catalogue lacks.
func (b *summaryBuilder) counts(id string, source Source) *Counts {
	entry, ok := b.catalogue.Resolve(id)
	if !ok || entry.ID != id {
		return nil
	}
	c := b.summary.Checks[id]
	if c == nil {
		c = &CheckSummary{Slug: entry.Slug}
		b.summary.Checks[id] = c
	}
	field := c.field(source)
	if *field == nil {
		*field = &Counts{}
	}
	return *field
}

func (c *CheckSummary) field(source Source) **Counts {
	switch source {
	case SourceAdmission:
		return &c.Admission
	case SourceNode:
		return &c.Node
	case SourcePlatform:
		return &c.Platform
	case SourceCloud:
		return &c.Cloud
	}
	return &c.Audit
}

// addAudit merges the counts of an audit run, by slug, under the IDs of the summary's benchmark:
// the cluster's objects and the platform's apart. The audit may have run under another benchmark
// (the config changed since): a check is the same check under any ID, and one the summary's
// benchmark does not carry has no ID to be filed under.
func (b *summaryBuilder) addAudit(auditCounts, platformCounts map[policy.Slug]*Counts) {
	b.summary.Sources[SourceAudit].Merged++
	for source, m := range map[Source]map[policy.Slug]*Counts{SourceAudit: auditCounts, SourcePlatform: platformCounts} {
		for slug, c := range m {
			if e, ok := b.catalogue.Entry(slug); ok {
				b.counts(e.ID, source).add(*c)
			}
		}
	}
}

// addReportKeys merges the admission.<replica>.json, node.<node>.json and cloud.json keys of the
// report ConfigMap's data, except the keys of the nodes in skipNodes (merged from their ClusterReports).
func (b *summaryBuilder) addReportKeys(data map[string]string, skipNodes map[string]bool) {
	for key, value := range data {
		switch {
		case key == report.CloudKey().Name:
			b.addCloud(value)
		case !strings.HasSuffix(key, ".json"):
		case strings.HasPrefix(key, "admission."):
			b.addAdmission(value)
		case strings.HasPrefix(key, "node."):
			if !skipNodes[key] {
				b.addNode(value)
			}
		}
	}
}

// addNodeSummaries merges the nodes' scans from their OpenReports ClusterReports (their
// openreports.NodeSummary annotation) and returns the report keys of those nodes, which a node
// scanned before it wrote OpenReports may still have, to be left out.
func (b *summaryBuilder) addNodeSummaries(summaries []openreports.NodeSummary) map[string]bool {
	keys := b.summary.Sources[SourceNode]
	merged := map[string]bool{}
	for _, s := range summaries {
		merged[report.NodeKey(s.Node).Name] = true
		if s.Benchmark != b.catalogue.Benchmark() {
			keys.Skipped++
			continue
		}
		keys.Merged++
		if s.NotScanned != nil {
			b.summary.NotScanned = append(b.summary.NotScanned, NotScannedNode{Node: s.Node, NotScanned: *s.NotScanned})
			continue
		}
		for _, ids := range []struct {
			ids []string
			add Counts
		}{{s.Pass, Counts{Pass: 1}}, {s.Fail, Counts{Fail: 1}}, {s.Warn, Counts{Warn: 1}}} {
			for _, id := range ids.ids {
				if counts := b.counts(id, SourceNode); counts != nil {
					counts.add(ids.add)
				}
			}
		}
	}
	return merged
}

func (b *summaryBuilder) addAdmission(value string) {
	var r report.AdmissionReport
	keys := b.summary.Sources[SourceAdmission]
	if err := json.Unmarshal([]byte(value), &r); err != nil || r.Benchmark != b.catalogue.Benchmark() {
		keys.Skipped++
		return
	}
	keys.Merged++
	for id, c := range r.Checks {
		if counts := b.counts(id, SourceAdmission); counts != nil && c != nil {
			counts.add(Counts{Deny: c.Deny, Warn: c.Warn, Exempt: c.Exempt})
			b.summary.Denials += c.Deny
		}
	}
}

// addNode merges one node's results. A summarised key that dropped only its PASS results still
// lists every other result, so the node checks it does not list passed; a key cut down to bare
// counts cannot say which check failed, and is skipped.
func (b *summaryBuilder) addNode(value string) {
	var r report.NodeReport
	keys := b.summary.Sources[SourceNode]
	if err := json.Unmarshal([]byte(value), &r); err != nil || r.Benchmark != b.catalogue.Benchmark() {
		keys.Skipped++
		return
	}
	total := 0
	for _, n := range r.Counts {
		total += n
	}
	passesDropped := r.Truncated
	if passesDropped && (total == 0 || len(r.Results) != total-r.Counts[policy.StatusPass]) {
		keys.Skipped++
		return
	}
	keys.Merged++
	if r.NotScanned != nil {
		b.summary.NotScanned = append(b.summary.NotScanned, NotScannedNode{Node: r.Node, NotScanned: *r.NotScanned})
		return
	}
	listed := map[string]bool{}
	for _, res := range r.Results {
		listed[res.ID] = true
		counts := b.counts(res.ID, SourceNode)
		if counts == nil {
			continue
		}
		switch res.Status {
		case policy.StatusPass:
			counts.Pass++
		case policy.StatusFail:
			counts.Fail++
		default:
			counts.Warn++
		}
	}
	if !passesDropped {
		return
	}
	for _, e := range b.catalogue.Entries() {
		if e.Section == policy.SectionNode && !listed[e.ID] {
			b.counts(e.ID, SourceNode).Pass++
		}
	}
}

// addCloud merges the cloud scan's results, by slug under the summary's IDs (the scan may have
// run under another benchmark), and says when section 3 is AWS's (Auto Mode).
func (b *summaryBuilder) addCloud(value string) {
	var r report.CloudReport
	keys := b.summary.Sources[SourceCloud]
	if err := json.Unmarshal([]byte(value), &r); err != nil {
		keys.Skipped++
		return
	}
	keys.Merged++
	b.summary.Section3 = r.Section3
	for _, res := range r.Results {
		e, ok := b.catalogue.Entry(res.Slug)
		if !ok {
			continue
		}
		counts := b.counts(e.ID, SourceCloud)
		switch res.Status {
		case policy.StatusPass:
			counts.Pass++
		case policy.StatusFail:
			counts.Fail++
		default:
			counts.Warn++
		}
	}
}
