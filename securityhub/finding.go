package securityhub

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/cisgate/cisgate/policy"
)

// Result is a row's outcome, as cisgate's reports say it.
type Result string

const (
	ResultPass Result = "PASS"
	ResultFail Result = "FAIL"
	ResultWarn Result = "WARN"
	// ResultSkip is a result the config exempts (its reason in the row's Detail).
	ResultSkip Result = "SKIP"
	// ResultError is a check that could not be decided at all (a node not scanned).
	ResultError Result = "ERROR"
)

// Row is one result of a scan to publish: one check on one resource.
type Row struct {
	// ID is the check's ID in Benchmark (its slug for a check the version does not number).
	ID        string
	Slug      policy.Slug
	Title     string
	Benchmark policy.Benchmark
	Result    Result
	// Severity is cisgate's: "high", "medium" or "low" (openreports.Severity).
	Severity    string
	Remediation string
	Resource    Resource
	// Detail is what was found, e.g. `container "app" must not set securityContext.privileged=true`.
	Detail string
}

// Resource is what a row is about: a Kubernetes object, or the cluster itself (Kind "Cluster").
type Resource struct {
	Kind      string
	Namespace string
	Name      string
	UID       string
	// InstanceID is a Node's EC2 instance (from its providerID), when known: the finding then
	// also names the instance, where Amazon Inspector's findings on it are.
	InstanceID string
}

// KindCluster is the Kind of a row about the cluster itself (the cloud scan's items, manual items).
const KindCluster = "Cluster"

// key is the resource's part of a finding's Id: "cluster", "Node/<name>", "<Kind>/<name>" or
// "<Kind>/<namespace>/<name>".
func (r Resource) key() string {
	switch {
	case r.Kind == KindCluster:
		return "cluster"
	case r.Namespace == "":
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Identity is where findings go and what they are about: the account and region of the Security
// Hub they are imported into, which the cluster is in.
type Identity struct {
	Partition string
	Account   string
	Region    string
	Cluster   string
}

// ClusterARN is the EKS cluster's ARN.
func (id Identity) ClusterARN() string {
	return "arn:" + id.Partition + ":eks:" + id.Region + ":" + id.Account + ":cluster/" + id.Cluster
}

// ProductARN is the account's default product, the one for findings a customer imports itself
// (arn:<partition>:securityhub:<region>:<account>:product/<account>/default).
func (id Identity) ProductARN() string {
	return "arn:" + id.Partition + ":securityhub:" + id.Region + ":" + id.Account + ":product/" + id.Account + "/default"
}

// Product fields cisgate sets on each finding (ProductFields), by which it reads its own back.
const (
	// FieldCluster is the cluster's ARN.
	FieldCluster = "cisgate/Cluster"
	// FieldScope is the writer's scope: ScopeAudit, ScopeCloud or NodeScope(node). Each writer
	// reads back and resolves the findings of its scope only.
	FieldScope     = "cisgate/Scope"
	FieldSlug      = "cisgate/Slug"
	FieldBenchmark = "cisgate/Benchmark"
	FieldCheckID   = "cisgate/CheckId"
	FieldResult    = "cisgate/Result"
	// FieldContentHash is a hash of what the finding says, timestamps and workflow left out: a
	// rescan that finds the same imports nothing until RefreshAfter.
	FieldContentHash = "cisgate/ContentHash"
)

// RefreshAfter is how long an unchanged finding goes without an import. Security Hub deletes a
// finding 90 days after its last update, and bills each import: a weekly refresh keeps a
// standing failure (and its LastObservedAt within a week) at a seventh of a daily scan's imports.
const RefreshAfter = 7 * 24 * time.Hour

// Scopes of the writers.
const (
	ScopeAudit = "audit"
	ScopeCloud = "cloud"
)

// NodeScope is one node scan's scope.
func NodeScope(node string) string { return "node/" + node }

// FindingType is the ASFF type of every finding: a configuration check against an industry
// benchmark (the ASFF types taxonomy's classifier for CIS benchmarks of hosts).
const FindingType = "Software and Configuration Checks/Industry and Regulatory Standards/CIS Host Hardening Benchmarks"

// SchemaVersion is the ASFF version.
const SchemaVersion = "2018-10-08"

// ChecksDocURL is the page describing each check, anchored by slug.
const ChecksDocURL = "https://github.com/cisgate/cisgate/blob/main/docs/checks.md"

// ASFF limits (the AwsSecurityFinding reference): longer values are cut.
const (
	maxIDLength          = 512
	maxTitleLength       = 256
	maxDescriptionLength = 1024
	maxRemediationLength = 512
	maxOtherValueLength  = 1024
)

// FindingID is the finding's stable Id: the cluster's ARN (account, region, cluster), the check's
// slug (stable across benchmark versions, which renumber items) and the resource, e.g.
// "arn:aws:eks:us-east-1:123456789012:cluster/prod/cisgate/privileged/Pod/team-a/web". A rescan
// imports the same Id, which Security Hub updates instead of adding a finding. An Id over
// the ASFF's 512 characters keeps its prefix and ends in a hash of the whole.
func FindingID(id Identity, slug policy.Slug, r Resource) string {
	s := id.ClusterARN() + "/cisgate/" + string(slug) + "/" + r.key()
	if len(s) <= maxIDLength {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:16])
	return s[:maxIDLength-len(h)-1] + "-" + h
}

// GeneratorID names the check in its benchmark version, e.g. "cisgate/cis-eks-2.0.0/4.2.1".
func GeneratorID(b policy.Benchmark, checkID string) string {
	return "cisgate/cis-" + string(b) + "/" + checkID
}

// Requirement is the benchmark item in Compliance.RelatedRequirements, e.g.
// "CIS Amazon EKS Benchmark v2.0.0/4.2.1".
func Requirement(b policy.Benchmark, checkID string) string {
	return "CIS Amazon EKS Benchmark v" + strings.TrimPrefix(string(b), "eks-") + "/" + checkID
}

// compliance maps a result to Compliance.Status: a skip (exempt) and an error (not decided) are
// NOT_AVAILABLE, the status ASFF gives a check that was not performed.
func compliance(r Result) types.ComplianceStatus {
	switch r {
	case ResultPass:
		return types.ComplianceStatusPassed
	case ResultFail:
		return types.ComplianceStatusFailed
	case ResultWarn:
		return types.ComplianceStatusWarning
	}
	return types.ComplianceStatusNotAvailable
}

// severity maps cisgate's severity; a passing check is INFORMATIONAL, as Security Hub's own
// controls rate their PASSED findings.
func severity(row Row) types.SeverityLabel {
	if row.Result == ResultPass {
		return types.SeverityLabelInformational
	}
	switch row.Severity {
	case "high":
		return types.SeverityLabelHigh
	case "low":
		return types.SeverityLabelLow
	}
	return types.SeverityLabelMedium
}

// initialWorkflow is the workflow of a finding created now: a passing one is RESOLVED (nothing to
// do), an exempt one SUPPRESSED (the config decided), the rest NEW. BatchImportFindings sets
// Workflow only when it creates a finding; a later change is BatchUpdateFindings's.
func initialWorkflow(r Result) types.WorkflowStatus {
	switch r {
	case ResultPass:
		return types.WorkflowStatusResolved
	case ResultSkip:
		return types.WorkflowStatusSuppressed
	}
	return types.WorkflowStatusNew
}

// timestamp is the ASFF's date format (RFC 3339 with fractional seconds).
func timestamp(t time.Time) *string { return aws.String(t.UTC().Format(time.RFC3339Nano)) }

// seen is what is known of a finding already in Security Hub, read back before an import.
type seen struct {
	createdAt, firstObservedAt string
	compliance                 types.ComplianceStatus
	workflow                   types.WorkflowStatus
	recordState                types.RecordState
	finding                    types.AwsSecurityFinding
}

// Finding maps a row to the ASFF finding a first import of it sends at now.
func Finding(id Identity, scope string, row Row, now time.Time) types.AwsSecurityFinding {
	return finding(id, scope, row, now, nil)
}

// finding maps a row to its ASFF finding, imported at now; prev, when the finding exists,
// keeps its CreatedAt and FirstObservedAt, and its workflow (which an import cannot change).
func finding(id Identity, scope string, row Row, now time.Time, prev *seen) types.AwsSecurityFinding {
	created, first := timestamp(now), timestamp(now)
	if prev != nil {
		if prev.createdAt != "" {
			created = aws.String(prev.createdAt)
		}
		if prev.firstObservedAt != "" {
			first = aws.String(prev.firstObservedAt)
		}
	}
	sev := severity(row)
	title := row.ID + " " + row.Title
	description := row.Detail
	if description == "" {
		description = string(row.Result) + ": " + row.Title
	}
	record := types.RecordStateActive
	if row.Result == ResultSkip {
		// The config exempts it here: not an open finding, kept so the exemption is visible.
		record = types.RecordStateArchived
	}
	f := types.AwsSecurityFinding{
		SchemaVersion:   aws.String(SchemaVersion),
		Id:              aws.String(FindingID(id, row.Slug, row.Resource)),
		ProductArn:      aws.String(id.ProductARN()),
		ProductName:     aws.String("cisgate"),
		CompanyName:     aws.String("cisgate"),
		GeneratorId:     aws.String(GeneratorID(row.Benchmark, row.ID)),
		AwsAccountId:    aws.String(id.Account),
		Region:          aws.String(id.Region),
		Types:           []string{FindingType},
		CreatedAt:       created,
		FirstObservedAt: first,
		UpdatedAt:       timestamp(now),
		LastObservedAt:  timestamp(now),
		Severity:        &types.Severity{Label: sev, Original: aws.String(row.Severity)},
		FindingProviderFields: &types.FindingProviderFields{
			Severity: &types.FindingProviderSeverity{Label: sev, Original: aws.String(row.Severity)},
			Types:    []string{FindingType},
		},
		Title:       aws.String(cut(title, maxTitleLength)),
		Description: aws.String(cut(description, maxDescriptionLength)),
		Compliance: &types.Compliance{
			Status:              compliance(row.Result),
			RelatedRequirements: []string{Requirement(row.Benchmark, row.ID)},
		},
		Remediation: &types.Remediation{Recommendation: &types.Recommendation{
			Text: aws.String(cut(row.Remediation, maxRemediationLength)),
			Url:  aws.String(ChecksDocURL + "#" + string(row.Slug)),
		}},
		SourceUrl:   aws.String(ChecksDocURL + "#" + string(row.Slug)),
		RecordState: record,
		ProductFields: map[string]string{
			FieldCluster: id.ClusterARN(), FieldScope: scope, FieldSlug: string(row.Slug),
			FieldBenchmark: string(row.Benchmark), FieldCheckID: row.ID, FieldResult: string(row.Result),
		},
		Resources: resources(id, row.Resource),
	}
	f.ProductFields[FieldContentHash] = contentHash(f)
	if prev == nil {
		f.Workflow = &types.Workflow{Status: initialWorkflow(row.Result)}
	}
	return f
}

// contentHash hashes the finding without its timestamps and workflow (and without the hash).
func contentHash(f types.AwsSecurityFinding) string {
	f.CreatedAt, f.FirstObservedAt, f.UpdatedAt, f.LastObservedAt, f.Workflow = nil, nil, nil, nil, nil
	fields := make(map[string]string, len(f.ProductFields))
	for k, v := range f.ProductFields {
		if k != FieldContentHash {
			fields[k] = v
		}
	}
	f.ProductFields = fields
	data, _ := json.Marshal(f) // plain structs, maps and strings: it cannot fail
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

// unchanged says whether a finding read back already says what f says, and was updated within
// RefreshAfter of now.
func unchanged(prev seen, f types.AwsSecurityFinding, now time.Time) bool {
	if prev.finding.ProductFields[FieldContentHash] != f.ProductFields[FieldContentHash] || prev.recordState != f.RecordState {
		return false
	}
	updated, err := time.Parse(time.RFC3339Nano, aws.ToString(prev.finding.UpdatedAt))
	return err == nil && now.Sub(updated) < RefreshAfter
}

// resources are the finding's resources: the Kubernetes object (type Other, its kind, namespace,
// name and uid in Details.Other), a Node's EC2 instance when known, and always the EKS cluster,
// so a filter on the cluster's ARN finds every finding of the cluster.
func resources(id Identity, r Resource) []types.Resource {
	cluster := types.Resource{
		Type: aws.String("AwsEksCluster"), Id: aws.String(id.ClusterARN()),
		Partition: types.Partition(id.Partition), Region: aws.String(id.Region),
		Details: &types.ResourceDetails{AwsEksCluster: &types.AwsEksClusterDetails{
			Arn: aws.String(id.ClusterARN()), Name: aws.String(id.Cluster),
		}},
	}
	if r.Kind == KindCluster {
		return []types.Resource{cluster}
	}
	other := map[string]string{"cluster": id.Cluster, "kind": r.Kind, "name": cut(r.Name, maxOtherValueLength)}
	if r.Namespace != "" {
		other["namespace"] = r.Namespace
	}
	if r.UID != "" {
		other["uid"] = r.UID
	}
	out := []types.Resource{{
		Type: aws.String("Other"), Id: aws.String(cut(id.ClusterARN()+"/"+r.key(), maxIDLength)),
		Partition: types.Partition(id.Partition), Region: aws.String(id.Region),
		Details: &types.ResourceDetails{Other: other},
	}}
	if r.InstanceID != "" {
		out = append(out, types.Resource{
			Type:      aws.String("AwsEc2Instance"),
			Id:        aws.String("arn:" + id.Partition + ":ec2:" + id.Region + ":" + id.Account + ":instance/" + r.InstanceID),
			Partition: types.Partition(id.Partition), Region: aws.String(id.Region),
		})
	}
	return append(out, cluster)
}

// cut shortens s to at most n bytes on a rune boundary, ending in "…" when cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	i := n - len(ellipsis)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + ellipsis
}
