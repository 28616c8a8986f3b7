package openreports

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// Source is every report's and result's source: the tool Policy Reporter and others group by.
const Source = "cisgate"

// FieldManager is the server-side apply field manager of every report cisgate writes.
const FieldManager = "cisgate"

// Labels and annotations cisgate puts on its reports.
const (
	// ManagedByLabel is app.kubernetes.io/managed-by=cisgate on every report cisgate writes.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// WriterLabel says which part of cisgate wrote a report (WriterAudit, WriterNodeScan,
	// WriterCloudScan): each deletes only its own stale reports.
	WriterLabel = "cisgate.io/writer"
	// ContentHashAnnotation holds the hash of what the report says (ContentHash), which the
	// writer compares before it writes: an unchanged report is not written again.
	ContentHashAnnotation = "cisgate.io/content-hash"
	// BenchmarkLabel is the benchmark version the results were judged under.
	BenchmarkLabel = "cisgate.io/benchmark"
)

// The writers, values of WriterLabel.
const (
	WriterAudit     = "audit"
	WriterNodeScan  = "nodescan"
	WriterCloudScan = "cloudscan"
)

// Names of the reports.
const (
	// NamespaceReportName is each namespace's Report of the audit.
	NamespaceReportName = "cisgate-audit"
	// ClusterReportName is the ClusterReport of the audit's cluster-scoped objects and manual items.
	ClusterReportName = "cisgate-audit-cluster"
	// CloudReportName is the ClusterReport of the leader's cloud scan (the items decided through
	// the AWS API).
	CloudReportName  = "cisgate-cloud"
	nodeReportPrefix = "cisgate-node-"
)

// NodeReportName is the name of a node's ClusterReport: cisgate-node-<node>. Node names are DNS
// subdomains of at most 253 bytes, so a long one is cut and made unique with a hash.
func NodeReportName(node string) string {
	name := nodeReportPrefix + node
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(node))
	return name[:253-13] + "-" + hex.EncodeToString(sum[:6])
}

// MaxResults is the most results one report lists (its configuration.limits.maxResults): failures
// first, then warnings, skips and passes. The summary still counts every result. It keeps a report
// under etcd's object size limit (1.5 MiB) in a namespace with thousands of failing objects.
const MaxResults = 1000

// PolicyName is the results' policy: cis-<benchmark>, e.g. cis-eks-1.8.0.
func PolicyName(b policy.Benchmark) string { return "cis-" + string(b) }

// Properties of a result (its properties map).
const (
	PropertySlug   = "slug"
	PropertyTitle  = "title"
	PropertyPath   = "path"
	PropertyMode   = "mode"
	PropertySource = "source"
	// PropertyExpected and PropertyActual are a node result's required and found values.
	PropertyExpected = "expected"
	PropertyActual   = "actual"
	// PropertyExemptReason is why a skipped result is exempt.
	PropertyExemptReason = "exemptReason"
	// PropertyExpiredExemption names the exemption that covered a result until it expired.
	PropertyExpiredExemption = "expiredExemption"
	// PropertyObjects is how many objects in the report's scope pass the check (pass results
	// stand for all of them, one result per check).
	PropertyObjects = "objects"
)

// Severity is the severity cisgate gives a check, the same for every benchmark version:
//   - high: a failure hands a workload the node or the cluster: privileged, host namespaces,
//     cluster-admin and system:masters bindings, and the kubelet's authentication and
//     authorization (anonymous auth, AlwaysAllow, no client CA, the read-only port);
//   - low: the benchmark's manual items and cisgate's own namespace-mode-label;
//   - medium: every other check.
func Severity(e policy.Entry) orv1alpha1.ResultSeverity {
	switch {
	case highSeverity[e.Slug]:
		return "high"
	case e.Section == policy.SectionManual || e.ID == policy.NamespaceModeLabelID:
		return "low"
	}
	return "medium"
}

// highSeverity are the checks of severity high (see Severity).
var highSeverity = map[policy.Slug]bool{
	"privileged": true, "host-pid": true, "host-ipc": true, "host-network": true,
	"cluster-admin-binding": true, "system-masters-binding": true,
	"anonymous-auth": true, "authorization-mode": true, "client-ca": true, "read-only-port": true,
}

// Scored says whether a check's results are scored: the items the benchmark version assesses as
// Automated are, its Manual ones and the checks it does not number are not.
func Scored(e policy.Entry) bool { return e.Assessment == policy.Automated }

// Category is the benchmark section of a check, e.g. "4.2 Pod Security Standards", as the
// benchmark version names it (policy.SectionTitle); a check the version does not number (kept by
// slug) is "not numbered by <version>", and cisgate's own is "cisgate".
func Category(b policy.Benchmark, e policy.Entry) string {
	if !e.Numbered() {
		return "not numbered by " + string(b)
	}
	section, ok := policy.SectionOf(e.ID)
	if !ok {
		return "cisgate"
	}
	if t, ok := policy.SectionTitle(b, section); ok {
		return section + " " + t
	}
	return section
}

// Result values, the CRD's enum.
const (
	ResultPass  orv1alpha1.Result = "pass"
	ResultFail  orv1alpha1.Result = "fail"
	ResultWarn  orv1alpha1.Result = "warn"
	ResultSkip  orv1alpha1.Result = "skip"
	ResultError orv1alpha1.Result = "error"
)

// resultOf maps a finding: an exempt one is skipped (the config chose not to evaluate it there),
// else FAIL fails and WARN warns.
func resultOf(status policy.Status, exempt bool) orv1alpha1.Result {
	switch {
	case exempt:
		return ResultSkip
	case status == policy.StatusFail:
		return ResultFail
	case status == policy.StatusPass:
		return ResultPass
	}
	return ResultWarn
}

// newResult fills what every result of a check carries.
func newResult(b policy.Benchmark, e policy.Entry, r orv1alpha1.Result, at time.Time) orv1alpha1.ReportResult {
	return orv1alpha1.ReportResult{
		Source: Source, Policy: PolicyName(b), Rule: e.ID, Category: Category(b, e),
		Severity: Severity(e), Result: r, Scored: Scored(e),
		Timestamp:  metav1.Timestamp{Seconds: at.Unix()},
		Properties: map[string]string{PropertySlug: string(e.Slug), PropertyTitle: e.Title},
	}
}

// Audit is what the background audit hands to BuildAudit.
type Audit struct {
	Catalogue *policy.Catalogue
	Time      time.Time
	// Findings are the audit's findings (FAIL, WARN and exempt), sorted by ID then object.
	Findings []output.Finding
	// Passes are, by namespace ("" for cluster-scoped objects), how many objects passed each check.
	Passes map[string]map[policy.Slug]int
}

// AuditReports are the reports of one audit.
type AuditReports struct {
	// Namespaced are the Reports, one per namespace with a result.
	Namespaced []*orv1alpha1.Report
	// Cluster is the ClusterReport of cluster-scoped objects and the manual items.
	Cluster *orv1alpha1.ClusterReport
}

// BuildAudit turns an audit into its reports: per namespace and for the cluster, one result per
// object and check with findings (its details joined, its first path), and one pass result per
// check for the objects that pass it. A result on kind Cluster (a manual item) names no resource:
// it is about the report's scope, the cluster.
func BuildAudit(a Audit) AuditReports {
	b := a.Catalogue.Benchmark()
	byScope := map[string][]orv1alpha1.ReportResult{}
	apiVersions := kindAPIVersions()
	for i := 0; i < len(a.Findings); {
		f := a.Findings[i]
		// One result per object and check: the object's findings of a check are adjacent.
		j := i + 1
		for j < len(a.Findings) && a.Findings[j].ID == f.ID && a.Findings[j].Object == f.Object {
			j++
		}
		group := a.Findings[i:j]
		i = j
		e, ok := a.Catalogue.Resolve(f.ID)
		if !ok {
			continue
		}
		res := newResult(b, e, worst(group), a.Time)
		details := make([]string, 0, len(group))
		for _, g := range group {
			if g.ExemptReason == "" || res.Result == ResultSkip {
				details = append(details, g.Detail)
			}
		}
		res.Description = strings.Join(details, "; ")
		res.Properties[PropertyMode] = string(f.Mode)
		if f.Path != "" {
			res.Properties[PropertyPath] = f.Path
		}
		if res.Result == ResultSkip {
			res.Properties[PropertyExemptReason] = f.ExemptReason
		} else if f.ExpiredExemption != "" {
			res.Properties[PropertyExpiredExemption] = f.ExpiredExemption
		}
		if f.Object.Kind != clusterKind {
			res.Subjects = []corev1.ObjectReference{{
				APIVersion: apiVersions[f.Object.Kind], Kind: f.Object.Kind, Namespace: f.Object.Namespace, Name: f.Object.Name,
			}}
		}
		byScope[ScopeOf(f.Object)] = append(byScope[ScopeOf(f.Object)], res)
	}
	for ns, passes := range a.Passes {
		for slug, n := range passes {
			e, ok := a.Catalogue.Entry(slug)
			if !ok || n == 0 {
				continue
			}
			res := newResult(b, e, ResultPass, a.Time)
			res.Description = strconv.Itoa(n) + " " + plural(n, "object passes", "objects pass") + " " + e.ID
			res.Properties[PropertyObjects] = strconv.Itoa(n)
			byScope[ns] = append(byScope[ns], res)
		}
	}
	out := AuditReports{}
	namespaces := make([]string, 0, len(byScope))
	for ns := range byScope {
		namespaces = append(namespaces, ns)
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		results := byScope[ns]
		if ns == "" {
			out.Cluster = &orv1alpha1.ClusterReport{
				TypeMeta:   metav1.TypeMeta{APIVersion: orv1alpha1.GroupVersion.String(), Kind: "ClusterReport"},
				ObjectMeta: metav1.ObjectMeta{Name: ClusterReportName, Labels: labels(WriterAudit, b)},
				Source:     Source,
			}
			out.Cluster.Configuration, out.Cluster.Summary, out.Cluster.Results = limit(results)
			continue
		}
		r := &orv1alpha1.Report{
			TypeMeta:   metav1.TypeMeta{APIVersion: orv1alpha1.GroupVersion.String(), Kind: "Report"},
			ObjectMeta: metav1.ObjectMeta{Name: NamespaceReportName, Namespace: ns, Labels: labels(WriterAudit, b)},
			Source:     Source,
			Scope:      &corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: ns},
		}
		r.Configuration, r.Summary, r.Results = limit(results)
		out.Namespaced = append(out.Namespaced, r)
	}
	if out.Cluster == nil {
		out.Cluster = &orv1alpha1.ClusterReport{
			TypeMeta:   metav1.TypeMeta{APIVersion: orv1alpha1.GroupVersion.String(), Kind: "ClusterReport"},
			ObjectMeta: metav1.ObjectMeta{Name: ClusterReportName, Labels: labels(WriterAudit, b)},
			Source:     Source,
		}
		out.Cluster.Configuration, out.Cluster.Summary, out.Cluster.Results = limit(nil)
	}
	return out
}

// ScopeOf is the namespace whose Report carries an object's results: the object's own, or the
// one a Namespace is (its 4.3.2 result belongs with its objects'); "" for the other
// cluster-scoped objects, whose results go to the ClusterReport.
func ScopeOf(o output.ObjectRef) string {
	if o.Kind == "Namespace" {
		return o.Name
	}
	return o.Namespace
}

// clusterKind is the kind of the audit's findings on the cluster as a whole (controller.ClusterKind).
const clusterKind = "Cluster"

// worst is the result of one object's findings of one check: any unexempted FAIL fails, then any
// unexempted WARN warns; all exempt is a skip.
func worst(group []output.Finding) orv1alpha1.Result {
	r := ResultSkip
	for _, g := range group {
		switch {
		case g.ExemptReason != "":
		case g.Status == policy.StatusFail:
			return ResultFail
		default:
			r = ResultWarn
		}
	}
	return r
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// kindAPIVersions are the API versions of the checked kinds, by kind.
func kindAPIVersions() map[string]string {
	m := map[string]string{}
	for _, k := range policy.CheckedKinds() {
		m[k.Kind] = k.GroupVersionKind().GroupVersion().String()
	}
	return m
}

func labels(writer string, b policy.Benchmark) map[string]string {
	return map[string]string{ManagedByLabel: Source, WriterLabel: writer, BenchmarkLabel: string(b)}
}

// resultOrder lists failures first, then warnings, errors, skips and passes; then by rule and
// resource, so a report's results come out in the same order every time.
var resultOrder = map[orv1alpha1.Result]int{ResultFail: 0, ResultWarn: 1, ResultError: 2, ResultSkip: 3, ResultPass: 4}

// limit sorts results, counts them all in the summary and keeps at most MaxResults.
func limit(results []orv1alpha1.ReportResult) (*orv1alpha1.ReportConfiguration, orv1alpha1.ReportSummary, []orv1alpha1.ReportResult) {
	slices.SortStableFunc(results, func(x, y orv1alpha1.ReportResult) int {
		return cmp.Or(
			cmp.Compare(resultOrder[x.Result], resultOrder[y.Result]),
			policy.CompareIDs(x.Rule, y.Rule),
			strings.Compare(subject(x), subject(y)))
	})
	var s orv1alpha1.ReportSummary
	for _, r := range results {
		switch r.Result {
		case ResultPass:
			s.Pass++
		case ResultFail:
			s.Fail++
		case ResultWarn:
			s.Warn++
		case ResultError:
			s.Error++
		case ResultSkip:
			s.Skip++
		}
	}
	cfg := &orv1alpha1.ReportConfiguration{Limits: orv1alpha1.Limits{MaxResults: MaxResults}}
	return cfg, s, results[:min(len(results), MaxResults)]
}

func subject(r orv1alpha1.ReportResult) string {
	if len(r.Subjects) == 0 {
		return ""
	}
	s := r.Subjects[0]
	return s.Kind + "/" + s.Namespace + "/" + s.Name
}

// ContentHash is the hash of what a report says, its timestamps left out: two audits that find the
// same give the same hash, so the second writes nothing.
func ContentHash(labels map[string]string, scope *corev1.ObjectReference, owners []metav1.OwnerReference, summary orv1alpha1.ReportSummary, results []orv1alpha1.ReportResult) string {
	stripped := make([]orv1alpha1.ReportResult, len(results))
	for i, r := range results {
		r.Timestamp = metav1.Timestamp{}
		stripped[i] = r
	}
	data, _ := json.Marshal(struct {
		Labels  map[string]string         `json:"labels"`
		Scope   *corev1.ObjectReference   `json:"scope"`
		Owners  []metav1.OwnerReference   `json:"owners"`
		Summary orv1alpha1.ReportSummary  `json:"summary"`
		Results []orv1alpha1.ReportResult `json:"results"`
	}{labels, scope, owners, summary, stripped})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
