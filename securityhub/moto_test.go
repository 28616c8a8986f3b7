package securityhub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/internal/golden"
	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/securityhub"
)

// These tests run against moto's server (internal/moto) through moto.SecurityHubOverlay, which
// adds what moto 5.2.1 leaves out of Security Hub (BatchUpdateFindings; the rule that an import
// does not change an existing finding's workflow) and injects throttling and denials. moto's
// GetFindings ignores filters, so the publisher's own check of each finding read back is what
// keeps the scopes apart here. The findings are read back with the SDK straight from moto.

const cluster = "prod"

// env starts moto and the overlay and points the SDK's default chain at the overlay.
func env(t *testing.T) *moto.SecurityHubOverlay {
	t.Helper()
	m := moto.StartT(t)
	m.Env(t)
	overlay := moto.NewSecurityHubOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL", overlay.URL)
	return overlay
}

// clock is a test's time: each scan an hour after the last.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }
func (c *clock) next()          { c.t = c.t.Add(time.Hour) }

func newPublisher(t *testing.T, c *clock) *securityhub.Publisher {
	t.Helper()
	return securityhub.New(context.Background(), securityhub.Config{Cluster: cluster, QPS: 50, Burst: 10, Logger: logr.Discard(), Now: c.now})
}

// allFindings reads every finding moto holds, by Id.
func allFindings(t *testing.T, overlay *moto.SecurityHubOverlay) map[string]types.AwsSecurityFinding {
	t.Helper()
	out, err := overlay.Findings(context.Background())
	require.NoError(t, err)
	return out
}

var identity = securityhub.Identity{Partition: "aws", Account: moto.AccountID, Region: moto.Region, Cluster: cluster}

// nodeResults are a node scan's results under eks-2.0.0: anonymous-auth as given, read-only-port
// passing, event-qps a WARN (values as the node scan reports them).
func nodeResults(anonymousAuth policy.Status) []output.EvidenceResult {
	anon := output.EvidenceResult{ID: "3.2.1", Slug: "anonymous-auth", Status: anonymousAuth, Expected: "false", Actual: "true",
		Source: "flag --anonymous-auth", Detail: "authentication.anonymous.enabled must be false"}
	if anonymousAuth == policy.StatusPass {
		anon.Actual, anon.Detail = "false", ""
	}
	return []output.EvidenceResult{
		anon,
		{ID: "3.2.4", Slug: "read-only-port", Status: policy.StatusPass, Expected: "0", Actual: "0", Source: "default"},
		{ID: "3.2.6", Slug: "event-qps", Status: policy.StatusWarn, Expected: ">= 0", Detail: "eventRecordQPS not found"},
	}
}

func nodeRows(t *testing.T, anonymousAuth policy.Status) []securityhub.Row {
	return nodeRowsOf(t, "n1", anonymousAuth)
}

func nodeRowsOf(t *testing.T, node string, anonymousAuth policy.Status) []securityhub.Row {
	t.Helper()
	cat, err := policy.CatalogueFor(policy.EKS200)
	require.NoError(t, err)
	return securityhub.NodeRows(cat, securityhub.NodeScan{Node: node, UID: "uid-" + node,
		InstanceID: securityhub.InstanceID("aws:///us-east-1a/i-0123456789abcdef0"), Results: nodeResults(anonymousAuth)})
}

func TestFirstImportAndUnchangedRescan(t *testing.T) {
	overlay := env(t)
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	p := newPublisher(t, c)
	scope := securityhub.NodeScope("n1")

	out := p.Publish(context.Background(), scope, nodeRows(t, policy.StatusFail))
	require.NoError(t, out.Err())
	assert.Equal(t, 3, out.Imported)

	first := allFindings(t, overlay)
	require.Len(t, first, 3)
	anonID := securityhub.FindingID(identity, "anonymous-auth", securityhub.Resource{Kind: "Node", Name: "n1"})
	assert.Equal(t, "arn:aws:eks:us-east-1:123456789012:cluster/prod/cisgate/anonymous-auth/Node/n1", anonID)
	f := first[anonID]
	assert.Equal(t, "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default", aws.ToString(f.ProductArn))
	assert.Equal(t, "123456789012", aws.ToString(f.AwsAccountId))
	assert.Equal(t, "2018-10-08", aws.ToString(f.SchemaVersion))
	// CIS Amazon EKS Benchmark v2.0.0 3.2.1: "Ensure kubelet anonymous authentication is disabled".
	assert.Equal(t, "cisgate/cis-eks-2.0.0/3.2.1", aws.ToString(f.GeneratorId))
	assert.Equal(t, "3.2.1 Ensure kubelet anonymous authentication is disabled", aws.ToString(f.Title))
	assert.Equal(t, []string{"CIS Amazon EKS Benchmark v2.0.0/3.2.1"}, f.Compliance.RelatedRequirements)
	assert.Equal(t, types.ComplianceStatusFailed, f.Compliance.Status)
	assert.Equal(t, types.WorkflowStatusNew, f.Workflow.Status)
	assert.Equal(t, types.RecordStateActive, f.RecordState)
	// Anonymous auth hands the kubelet to anyone: high in cisgate's table (openreports.Severity).
	assert.Equal(t, types.SeverityLabelHigh, f.Severity.Label)
	assert.Equal(t, types.SeverityLabelHigh, f.FindingProviderFields.Severity.Label)
	assert.Equal(t, "Ensure kubelet anonymous authentication is disabled: expected false, found true (flag --anonymous-auth)",
		aws.ToString(f.Remediation.Recommendation.Text))
	assert.Equal(t, "https://github.com/cisgate/cisgate/blob/main/docs/checks.md#anonymous-auth", aws.ToString(f.Remediation.Recommendation.Url))
	assert.Equal(t, "authentication.anonymous.enabled must be false", aws.ToString(f.Description))
	assert.Equal(t, []string{securityhub.FindingType}, f.Types)
	var resourceTypes []string
	for _, r := range f.Resources {
		resourceTypes = append(resourceTypes, aws.ToString(r.Type))
	}
	assert.Equal(t, []string{"Other", "AwsEc2Instance", "AwsEksCluster"}, resourceTypes)
	assert.Equal(t, map[string]string{"cluster": "prod", "kind": "Node", "name": "n1", "uid": "uid-n1"}, f.Resources[0].Details.Other)
	assert.Equal(t, "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0", aws.ToString(f.Resources[1].Id))
	assert.Equal(t, "arn:aws:eks:us-east-1:123456789012:cluster/prod", aws.ToString(f.Resources[2].Id))

	pass := first[securityhub.FindingID(identity, "read-only-port", securityhub.Resource{Kind: "Node", Name: "n1"})]
	assert.Equal(t, types.ComplianceStatusPassed, pass.Compliance.Status)
	assert.Equal(t, types.WorkflowStatusResolved, pass.Workflow.Status, "a check that never failed is not an open finding")
	assert.Equal(t, types.SeverityLabelInformational, pass.Severity.Label)
	warn := first[securityhub.FindingID(identity, "event-qps", securityhub.Resource{Kind: "Node", Name: "n1"})]
	assert.Equal(t, types.ComplianceStatusWarning, warn.Compliance.Status)
	assert.Equal(t, types.SeverityLabelMedium, warn.Severity.Label)

	// The same scan an hour later: Security Hub already says the same, nothing is imported
	// (each import is billed); the same three Ids, none added.
	c.next()
	out = p.Publish(context.Background(), scope, nodeRows(t, policy.StatusFail))
	require.NoError(t, out.Err())
	assert.Equal(t, 0, out.Imported)
	assert.Equal(t, 3, out.Unchanged)
	assert.Equal(t, 1, overlay.Calls(moto.PathBatchImportFindings), "no second import")
	second := allFindings(t, overlay)
	assert.ElementsMatch(t, keys(first), keys(second))
	assert.Equal(t, "2026-12-07T10:00:00Z", aws.ToString(second[anonID].UpdatedAt))

	// A week on, the unchanged findings are imported again, so that Security Hub (which deletes a
	// finding 90 days after its last update) keeps them: updated, CreatedAt kept, none added.
	c.t = c.t.Add(securityhub.RefreshAfter)
	out = p.Publish(context.Background(), scope, nodeRows(t, policy.StatusFail))
	require.NoError(t, out.Err())
	assert.Equal(t, 3, out.Imported)
	assert.Zero(t, out.Archived)
	third := allFindings(t, overlay)
	assert.ElementsMatch(t, keys(first), keys(third))
	g := third[anonID]
	assert.Equal(t, aws.ToString(f.CreatedAt), aws.ToString(g.CreatedAt), "CreatedAt is kept across rescans")
	assert.Equal(t, aws.ToString(f.FirstObservedAt), aws.ToString(g.FirstObservedAt))
	assert.Equal(t, "2026-12-14T11:00:00Z", aws.ToString(g.UpdatedAt))
	assert.Equal(t, types.WorkflowStatusNew, g.Workflow.Status)
	assert.Zero(t, overlay.Calls(moto.PathBatchUpdateFindings), "nothing changed: no workflow update")
}

func TestRescanAfterFixResolves(t *testing.T) {
	overlay := env(t)
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	p := newPublisher(t, c)
	scope := securityhub.NodeScope("n1")
	require.NoError(t, p.Publish(context.Background(), scope, nodeRows(t, policy.StatusFail)).Err())

	c.next()
	out := p.Publish(context.Background(), scope, nodeRows(t, policy.StatusPass))
	require.NoError(t, out.Err())
	assert.Equal(t, 1, out.Resolved)
	assert.Equal(t, 1, overlay.Calls(moto.PathBatchUpdateFindings))

	findings := allFindings(t, overlay)
	require.Len(t, findings, 3)
	f := findings[securityhub.FindingID(identity, "anonymous-auth", securityhub.Resource{Kind: "Node", Name: "n1"})]
	assert.Equal(t, types.ComplianceStatusPassed, f.Compliance.Status)
	assert.Equal(t, types.WorkflowStatusResolved, f.Workflow.Status)
	assert.Equal(t, types.RecordStateActive, f.RecordState)
	assert.Equal(t, types.SeverityLabelInformational, f.Severity.Label)
	assert.Equal(t, "2026-12-07T10:00:00Z", aws.ToString(f.CreatedAt))

	// Failing again: Security Hub itself reopens a RESOLVED finding whose compliance leaves PASSED.
	c.next()
	require.NoError(t, p.Publish(context.Background(), scope, nodeRows(t, policy.StatusFail)).Err())
	f = allFindings(t, overlay)[aws.ToString(f.Id)]
	assert.Equal(t, types.ComplianceStatusFailed, f.Compliance.Status)
	assert.Equal(t, types.WorkflowStatusNew, f.Workflow.Status)
}

// auditRows are an audit's findings on Pods of team-a named in failing.
func auditRows(t *testing.T, failing ...string) []securityhub.Row {
	t.Helper()
	cat, err := policy.CatalogueFor(policy.EKS200)
	require.NoError(t, err)
	var findings []output.Finding
	for _, name := range failing {
		findings = append(findings, output.Finding{ID: "4.2.1", Slug: "privileged", Status: policy.StatusFail, Mode: policy.ModeAudit,
			Object: output.ObjectRef{Kind: "Pod", Namespace: "team-a", Name: name},
			Detail: `container "app" must not set securityContext.privileged=true`})
	}
	return securityhub.AuditRows(cat, findings, nil)
}

func TestFindingNoLongerFoundIsArchivedInItsScopeOnly(t *testing.T) {
	overlay := env(t)
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	p := newPublisher(t, c)
	require.NoError(t, p.Publish(context.Background(), securityhub.NodeScope("n1"), nodeRows(t, policy.StatusFail)).Err())
	require.NoError(t, p.Publish(context.Background(), securityhub.ScopeAudit, auditRows(t, "web", "db")).Err())

	// Pod db was fixed or deleted: the next audit no longer finds it.
	c.next()
	out := p.Publish(context.Background(), securityhub.ScopeAudit, auditRows(t, "web"))
	require.NoError(t, out.Err())
	assert.Equal(t, 1, out.Archived)
	assert.Equal(t, 1, out.Resolved)

	findings := allFindings(t, overlay)
	require.Len(t, findings, 5, "3 of the node, 2 of the audit")
	db := findings[securityhub.FindingID(identity, "privileged", securityhub.Resource{Kind: "Pod", Namespace: "team-a", Name: "db"})]
	assert.Equal(t, types.RecordStateArchived, db.RecordState)
	assert.Equal(t, types.WorkflowStatusResolved, db.Workflow.Status)
	web := findings[securityhub.FindingID(identity, "privileged", securityhub.Resource{Kind: "Pod", Namespace: "team-a", Name: "web"})]
	assert.Equal(t, types.RecordStateActive, web.RecordState)
	assert.Equal(t, "cisgate/cis-eks-2.0.0/4.2.1", aws.ToString(web.GeneratorId))
	// CIS Amazon EKS Benchmark v2.0.0 4.2.1 "Minimize the admission of privileged containers".
	assert.Equal(t, `Minimize the admission of privileged containers: container "app" must not set securityContext.privileged=true`,
		aws.ToString(web.Remediation.Recommendation.Text))
	// The node's findings, in another scope, are untouched by the audit's.
	for id, f := range findings {
		if f.ProductFields[securityhub.FieldScope] == securityhub.NodeScope("n1") {
			assert.Equal(t, types.RecordStateActive, f.RecordState, id)
		}
	}
}

func TestMoreThanOneHundredFindingsGoInBatches(t *testing.T) {
	overlay := env(t)
	p := newPublisher(t, &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)})
	var names []string
	for i := range 250 {
		names = append(names, fmt.Sprintf("pod-%03d", i))
	}
	out := p.Publish(context.Background(), securityhub.ScopeAudit, auditRows(t, names...))
	require.NoError(t, out.Err())
	assert.Equal(t, 250, out.Imported)
	assert.Equal(t, []int{100, 100, 50}, overlay.ImportBatches())
	assert.Len(t, allFindings(t, overlay), 250)
}

func TestThrottlingIsRetried(t *testing.T) {
	overlay := env(t)
	p := newPublisher(t, &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)})
	overlay.Fail(moto.PathBatchImportFindings, 2, moto.Throttled)
	out := p.Publish(context.Background(), securityhub.NodeScope("n1"), nodeRows(t, policy.StatusFail))
	require.NoError(t, out.Err())
	assert.Equal(t, 3, out.Imported)
	assert.Equal(t, 3, overlay.Calls(moto.PathBatchImportFindings), "two throttled attempts, then the import")
	assert.Len(t, allFindings(t, overlay), 3)
}

func TestThrottledOrDeniedIsCountedAndLosesNothing(t *testing.T) {
	overlay := env(t)
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	p := newPublisher(t, c)
	scope := securityhub.NodeScope("n1")

	// Throttled past the SDK's attempts: the findings are not imported, the publisher says so.
	throttledBefore := errorCount(t, securityhub.ActionBatchImportFindings, securityhub.ReasonThrottled)
	failedBefore := findingCount(t, "nodescan", "failed")
	overlay.Fail(moto.PathBatchImportFindings, 10, moto.Throttled)
	out := p.Publish(context.Background(), scope, nodeRows(t, policy.StatusFail))
	assert.Equal(t, 0, out.Imported)
	assert.Equal(t, 3, out.Failed)
	require.Len(t, out.Errors, 1)
	assert.Contains(t, out.Errors[0], "securityhub:BatchImportFindings throttled after the SDK's retries: TooManyRequestsException")
	assert.Equal(t, throttledBefore+1, errorCount(t, securityhub.ActionBatchImportFindings, securityhub.ReasonThrottled))
	assert.Equal(t, failedBefore+3, findingCount(t, "nodescan", "failed"))
	assert.Empty(t, allFindings(t, overlay))

	// GetFindings denied: the findings are still imported; only the read back is missing.
	overlay.Clear()
	deniedBefore := errorCount(t, securityhub.ActionGetFindings, securityhub.ReasonAccessDenied)
	overlay.Fail(moto.PathGetFindings, 1, moto.AccessDenied)
	c.next()
	out = p.Publish(context.Background(), scope, nodeRows(t, policy.StatusFail))
	assert.Equal(t, 3, out.Imported)
	require.Len(t, out.Errors, 1)
	assert.Contains(t, out.Errors[0], "access denied to securityhub:GetFindings: the IAM policy must allow securityhub:GetFindings (AccessDeniedException")
	assert.Equal(t, deniedBefore+1, errorCount(t, securityhub.ActionGetFindings, securityhub.ReasonAccessDenied))
	assert.Len(t, allFindings(t, overlay), 3)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// errorCount and findingCount read cisgate_securityhub_errors_total and
// cisgate_securityhub_findings_total from the registry serve exposes.
func errorCount(t *testing.T, action string, reason securityhub.Reason) float64 {
	return counter(t, "cisgate_securityhub_errors_total", map[string]string{"action": action, "reason": string(reason)})
}

func findingCount(t *testing.T, source, outcome string) float64 {
	return counter(t, "cisgate_securityhub_findings_total", map[string]string{"source": source, "outcome": outcome})
}

func counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func TestFindingsOfOneObjectAndCheckAreOneFinding(t *testing.T) {
	overlay := env(t)
	p := newPublisher(t, &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)})
	cat, err := policy.CatalogueFor(policy.EKS200)
	require.NoError(t, err)
	pod := output.ObjectRef{Kind: "Pod", Namespace: "team-a", Name: "web"}
	rows := securityhub.AuditRows(cat, []output.Finding{
		{ID: "4.2.1", Slug: "privileged", Status: policy.StatusFail, Object: pod, Detail: `container "app" must not set securityContext.privileged=true`},
		{ID: "4.2.1", Slug: "privileged", Status: policy.StatusFail, Object: pod, Detail: `initContainer "init" must not set securityContext.privileged=true`},
	}, nil)
	out := p.Publish(context.Background(), securityhub.ScopeAudit, rows)
	require.NoError(t, out.Err())
	assert.Equal(t, 1, out.Imported)
	findings := allFindings(t, overlay)
	require.Len(t, findings, 1)
	for _, f := range findings {
		assert.Equal(t, `container "app" must not set securityContext.privileged=true; initContainer "init" must not set securityContext.privileged=true`, aws.ToString(f.Description))
	}
}

func TestRetireArchivesADeletedNodesFindings(t *testing.T) {
	overlay := env(t)
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	p := newPublisher(t, c)
	require.NoError(t, p.Publish(context.Background(), securityhub.NodeScope("n1"), nodeRows(t, policy.StatusFail)).Err())
	require.NoError(t, p.Publish(context.Background(), securityhub.NodeScope("n2"), nodeRowsOf(t, "n2", policy.StatusFail)).Err())

	c.next()
	out := p.Retire(context.Background(), securityhub.NodeScope("n1"))
	require.NoError(t, out.Err())
	assert.Equal(t, 3, out.Archived)
	assert.Equal(t, 2, out.Resolved, "the FAIL and the WARN were open; the PASS was RESOLVED already")
	assert.Equal(t, 1, overlay.Calls(moto.PathBatchUpdateFindings))
	for id, f := range allFindings(t, overlay) {
		switch f.ProductFields[securityhub.FieldScope] {
		case securityhub.NodeScope("n1"):
			assert.Equal(t, types.RecordStateArchived, f.RecordState, id)
			assert.Equal(t, types.WorkflowStatusResolved, f.Workflow.Status, id)
			assert.Equal(t, "2026-12-07T10:00:00Z", aws.ToString(f.CreatedAt), id)
		default:
			assert.Equal(t, types.RecordStateActive, f.RecordState, id)
		}
	}
	// Retired again: nothing left to archive, no call but the read.
	out = p.Retire(context.Background(), securityhub.NodeScope("n1"))
	assert.Zero(t, out.Archived+out.Imported)
}

// No region anywhere: every Publish fails with that reason, counted and returned; nothing panics.
func TestNoRegionFailsEachPublishWithItsReason(t *testing.T) {
	for k, v := range (&moto.Server{URL: "http://127.0.0.1:1"}).Environ() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	p := securityhub.New(context.Background(), securityhub.Config{Cluster: cluster, Logger: logr.Discard()})
	out := p.Publish(context.Background(), securityhub.NodeScope("n1"), nodeRows(t, policy.StatusFail))
	assert.Equal(t, 3, out.Failed)
	require.Len(t, out.Errors, 1)
	assert.Contains(t, out.Errors[0], "security hub: AWS configuration: no AWS region")
}

// TestFindingGolden: a node's failing anonymous-auth finding as cisgate sends it to
// BatchImportFindings (the request's JSON), the ASFF document a reviewer reads.
func TestFindingGolden(t *testing.T) {
	overlay := env(t)
	p := newPublisher(t, &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)})
	rows := nodeRows(t, policy.StatusFail)
	require.NoError(t, p.Publish(context.Background(), securityhub.NodeScope("n1"), rows[:1]).Err())
	sent := overlay.Imported()
	require.Len(t, sent, 1)
	got, err := json.MarshalIndent(sent[0], "", "  ")
	require.NoError(t, err)
	golden.Assert(t, "testdata/finding.golden.json", append(got, '\n'))
}
