package output_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/internal/golden"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

var (
	deployment = output.ObjectRef{Kind: "Deployment", Namespace: "shop", Name: "web", File: "manifests/web.yaml"}
	role       = output.ObjectRef{Kind: "ClusterRole", Name: "everything", File: "manifests/rbac.yaml"}
	defaultSA  = output.ObjectRef{Kind: "ServiceAccount", Namespace: "shop", Name: "default", File: "manifests/web.yaml"}
	configMap  = output.ObjectRef{Kind: "ConfigMap", Namespace: "shop", Name: "settings", File: "manifests/web.yaml"}
	liveNS     = output.ObjectRef{Kind: "Namespace", Name: "legacy"} // a live object, as `audit` reports it
)

// report is one representative report: blocking FAILs, an audit-mode FAIL, a WARN, an exempt
// finding, an advisory one, findings on an object without a file, and an object with none.
func report() *output.Report {
	r := &output.Report{
		Benchmark: policy.EKS180,
		Checked:   []output.ObjectRef{defaultSA, configMap, deployment, role, liveNS},
		Findings: []output.Finding{
			{ID: "4.4.1", Slug: "secrets-in-env", Title: "Prefer using secrets as files over secrets as environment variables", Status: policy.StatusFail, Mode: policy.ModeEnforce,
				Object: deployment, Path: "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef",
				Detail: `container "app" must not read Secret "db" into env "DB_PASSWORD"; mount it as a volume`, ExemptReason: "migrating to mounted secrets (JIRA-12)"},
			{ID: "4.2.1", Slug: "privileged", Title: "Minimize the admission of privileged containers", Status: policy.StatusFail, Mode: policy.ModeEnforce,
				Object: deployment, Path: "spec.template.spec.containers[0].securityContext.privileged", Detail: `container "app" must not set securityContext.privileged=true`},
			{ID: "4.3.2", Slug: "namespace-network-policy", Title: "Ensure that all Namespaces have Network Policies defined", Status: policy.StatusWarn, Mode: policy.ModeEnforce,
				Object: deployment, Path: "metadata.namespace", Detail: "needs cluster state: cannot tell whether the namespace has a NetworkPolicy"},
			{ID: "4.3.2", Slug: "namespace-network-policy", Title: "Ensure that all Namespaces have Network Policies defined", Status: policy.StatusFail, Mode: policy.ModeAudit,
				Object: liveNS, Path: "metadata.name", Detail: `namespace "legacy" has no NetworkPolicy`},
			{ID: "4.1.10", Slug: "node-proxy", Title: "Minimize access to the proxy sub-resource of nodes", Status: policy.StatusFail, Mode: policy.ModeEnforce,
				Object: role, Path: "rules[0]", Detail: `rules[0] must not grant any verb on nodes/proxy (grants "*" on "nodes/proxy")`},
			{ID: "4.1.3", Slug: "rbac-wildcards", Title: "Minimize wildcard use in Roles and ClusterRoles", Status: policy.StatusFail, Mode: policy.ModeEnforce,
				Object: role, Path: "rules[0].apiGroups", Detail: `rules[0].apiGroups must list its values explicitly, not "*"`},
			{ID: "4.1.3", Slug: "rbac-wildcards", Title: "Minimize wildcard use in Roles and ClusterRoles", Status: policy.StatusFail, Mode: policy.ModeEnforce,
				Object: role, Path: "rules[0].verbs", Detail: `rules[0].verbs must list its values explicitly, not "*"`},
			{ID: "4.2.5", Slug: "privilege-escalation", Title: "Minimize the admission of containers with allowPrivilegeEscalation", Status: policy.StatusFail, Mode: policy.ModeAudit,
				Object: deployment, Path: "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
				Detail: `container "app" must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)`},
			{ID: "4.1.5", Slug: "default-service-account", Title: "Ensure that default service accounts are not actively used", Status: policy.StatusFail, Mode: policy.ModeEnforce,
				Object: defaultSA, Path: "automountServiceAccountToken", Detail: `ServiceAccount "default" must set automountServiceAccountToken=false`, Advisory: true},
		},
	}
	r.Sort()
	return r
}

func render(t *testing.T, r *output.Report, f output.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, output.Write(&buf, r, f))
	return buf.Bytes()
}

// goldenExt is the extension of each format's golden files.
var goldenExt = map[output.Format]string{
	output.FormatTable: ".txt", output.FormatJSON: ".json", output.FormatJUnit: ".junit.xml", output.FormatSARIF: ".sarif",
}

// TestGolden renders a report with findings of every kind, and one without, in every format.
func TestGolden(t *testing.T) {
	for name, r := range map[string]*output.Report{
		"report": report(),
		"empty":  {Benchmark: policy.EKS120, Checked: []output.ObjectRef{configMap}},
	} {
		for _, f := range output.Formats() {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				golden.Assert(t, filepath.Join("testdata", name+goldenExt[f]), render(t, r, f))
			})
		}
	}
}

func TestSortAndBlocking(t *testing.T) {
	r := report()
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID+" "+f.Object.Kind+" "+f.Path)
	}
	assert.Equal(t, []string{
		"4.1.3 ClusterRole rules[0].apiGroups",
		"4.1.3 ClusterRole rules[0].verbs",
		"4.1.5 ServiceAccount automountServiceAccountToken",
		"4.1.10 ClusterRole rules[0]",
		"4.2.1 Deployment spec.template.spec.containers[0].securityContext.privileged",
		"4.2.5 Deployment spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
		// Same ID: by file (an object without one first), then object.
		"4.3.2 Namespace metadata.name",
		"4.3.2 Deployment metadata.namespace",
		"4.4.1 Deployment spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef",
	}, ids)
	// The rbac-wildcards FAILs, node-proxy and privileged; not the exempt, audit, WARN or advisory ones.
	assert.Equal(t, 4, r.Blocking())
}

func TestFindingBlocks(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    output.Finding
		want bool
	}{
		{"enforce FAIL", output.Finding{Status: policy.StatusFail, Mode: policy.ModeEnforce}, true},
		{"audit FAIL", output.Finding{Status: policy.StatusFail, Mode: policy.ModeAudit}, false},
		{"enforce WARN", output.Finding{Status: policy.StatusWarn, Mode: policy.ModeEnforce}, false},
		{"exempt", output.Finding{Status: policy.StatusFail, Mode: policy.ModeEnforce, ExemptReason: "r"}, false},
		{"advisory", output.Finding{Status: policy.StatusFail, Mode: policy.ModeEnforce, Advisory: true}, false},
	} {
		assert.Equal(t, tc.want, tc.f.Blocks(), tc.name)
	}
}

func TestNewFinding(t *testing.T) {
	j := policy.Finding{ID: "4.1.5", Slug: "default-service-account", Title: "T",
		Status: policy.StatusFail, Path: "automountServiceAccountToken", Detail: "d", Advisory: true,
		Mode: policy.ModeEnforce, ExemptReason: ""}
	f := output.NewFinding(j, defaultSA)
	assert.Equal(t, output.Finding{ID: "4.1.5", Slug: "default-service-account", Title: "T", Status: policy.StatusFail, Mode: policy.ModeEnforce,
		Object: defaultSA, Path: "automountServiceAccountToken", Detail: "d", Advisory: true}, f)
	assert.False(t, f.Blocks(), "an advisory finding never blocks, as it is never denied")
}

// TestJSONContract holds the field names docs/architecture.md fixes for scripts and dashboards.
func TestJSONContract(t *testing.T) {
	var doc struct {
		Benchmark string           `json:"benchmark"`
		Findings  []map[string]any `json:"findings"`
	}
	require.NoError(t, json.Unmarshal(render(t, report(), output.FormatJSON), &doc))
	assert.Equal(t, "eks-1.8.0", doc.Benchmark)
	require.NotEmpty(t, doc.Findings)
	for _, f := range doc.Findings {
		for _, key := range []string{"id", "slug", "title", "status", "mode", "object", "path", "detail"} {
			assert.Contains(t, f, key)
		}
		obj := f["object"].(map[string]any)
		assert.Contains(t, obj, "kind")
		assert.Contains(t, obj, "name")
		assert.NotContains(t, obj, "line", "the line is for SARIF, not the JSON contract")
	}
	var empty map[string]any
	require.NoError(t, json.Unmarshal(render(t, &output.Report{Benchmark: policy.EKS180}, output.FormatJSON), &empty))
	assert.Equal(t, []any{}, empty["findings"], `no findings is "findings": [], not null`)
}

func TestJUnitAndSARIFParse(t *testing.T) {
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	require.NoError(t, xml.Unmarshal(render(t, report(), output.FormatJUnit), &suites))
	assert.Equal(t, 5, suites.Tests, "one test case per object checked")
	assert.Equal(t, 2, suites.Failures, "the Deployment and the ClusterRole block")

	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(render(t, report(), output.FormatSARIF), &sarif))
	assert.Equal(t, "2.1.0", sarif.Version)
	levels := map[string]int{}
	for _, r := range sarif.Runs[0].Results {
		levels[r.Level]++
	}
	assert.Equal(t, map[string]int{"error": 4, "warning": 3, "note": 2}, levels)
}

func TestParseFormat(t *testing.T) {
	f, err := output.ParseFormat("sarif", output.FormatTable, output.FormatJSON, output.FormatJUnit, output.FormatSARIF)
	require.NoError(t, err)
	assert.Equal(t, output.FormatSARIF, f)
	_, err = output.ParseFormat("sarif", output.FormatTable, output.FormatJSON, output.FormatJUnit)
	assert.EqualError(t, err, `--output must be one of table, json, junit, got "sarif"`)
	_, err = output.ParseFormat("yaml", output.FormatTable, output.FormatJSON)
	assert.EqualError(t, err, `--output must be one of table, json, got "yaml"`)
}

// TestWriteUnknownFormat: an unknown format is ParseFormat's error, listing the known ones, and
// nothing is written (no fallback to a table).
func TestWriteUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	err := output.Write(&buf, report(), "yaml")
	assert.EqualError(t, err, `--output must be one of table, json, junit, sarif, got "yaml"`)
	_, parseErr := output.ParseFormat("yaml", output.Formats()...)
	assert.Equal(t, parseErr, err)
	assert.Empty(t, buf.String())
}

func TestObjectRefString(t *testing.T) {
	assert.Equal(t, "Deployment shop/web", deployment.String())
	assert.Equal(t, "ClusterRole everything", role.String())
}

// TestAnExpiredExemptionIsNamedInEveryFormat: a finding an exemption covered until it expired
// names that exemption in each format, so a CI user sees why a manifest that passed now fails.
func TestAnExpiredExemptionIsNamedInEveryFormat(t *testing.T) {
	const expired = `exemption exemptions.namespaces[1] (namespace "shop", owner "team-a") expired at 2026-12-01T00:00:00Z`
	r := &output.Report{Benchmark: policy.EKS180, Checked: []output.ObjectRef{deployment}, Findings: []output.Finding{{
		ID: "4.2.1", Slug: "privileged", Title: "Minimize the admission of privileged containers", Status: policy.StatusFail, Mode: policy.ModeEnforce,
		Object: deployment, Path: "spec.template.spec.containers[0].securityContext.privileged", Detail: `container "app" must not set securityContext.privileged=true`,
		ExpiredExemption: expired,
	}}}
	for _, f := range output.Formats() {
		out := string(render(t, r, f))
		if f == output.FormatJSON {
			assert.Contains(t, out, `"expiredExemption": "exemption exemptions.namespaces[1] (namespace \"shop\", owner \"team-a\") expired at 2026-12-01T00:00:00Z"`)
			continue
		}
		// XML escapes the quotes as &#34;, JSON (SARIF) as \".
		out = strings.NewReplacer("&#34;", `"`, `\"`, `"`).Replace(out)
		assert.Contains(t, out, "["+expired+"]", f)
	}
	assert.Equal(t, 1, r.Blocking(), "it blocks as if it had never been exempt")
}
