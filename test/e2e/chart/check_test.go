package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// runCheck runs `cisgate check -f manifest --config config -o json` as a user would and returns
// the exit code and the report.
func runCheck(t *testing.T, manifest, config string) (int, output.Report) {
	t.Helper()
	dir := t.TempDir()
	manifestFile := filepath.Join(dir, "rendered.yaml")
	require.NoError(t, os.WriteFile(manifestFile, []byte(manifest), 0o644))
	args := []string{"check", "-f", manifestFile, "-o", "json"}
	if config != "" {
		configFile := filepath.Join(dir, "config.yaml")
		require.NoError(t, os.WriteFile(configFile, []byte(config), 0o644))
		args = append(args, "--config", configFile)
	}
	var stdout, stderr bytes.Buffer
	code := app.Run(context.Background(), args, app.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr})
	var report output.Report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &report), "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	require.NotEqual(t, app.ExitUsage, code, "stderr: %s", stderr.String())
	return code, report
}

// finding is the part of a finding these tests pin.
type finding struct {
	ID, Status, Object, ExemptReason string
}

func summarize(r output.Report) []finding {
	var out []finding
	for _, f := range r.Findings {
		out = append(out, finding{ID: f.ID, Status: string(f.Status), Object: f.Object.String(), ExemptReason: f.ExemptReason})
	}
	return out
}

// TestCheckRenderedChart: `cisgate check` on the rendered chart, with the config the chart
// renders, blocks nothing and leaves no finding without an exemption.
func TestCheckRenderedChart(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			rendered := template(t, defaultRelease(v.args...))
			code, report := runCheck(t, rendered, renderedConfig(t, decode(t, rendered), releaseName))
			assert.Equal(t, app.ExitOK, code)
			assert.NotEmpty(t, report.Findings, "the webhook Deployment's own 4.1.6 and 4.3.2 are expected, exempt")
			for _, f := range report.Findings {
				assert.NotEmpty(t, f.ExemptReason, "finding without exemption: %+v", f)
				assert.False(t, f.Blocks(), "%+v", f)
			}
		})
	}
}

// TestCheckRenderedChartOwnRules: the same check with the release namespace taken out of the
// exempt namespaces, so that only the chart's declared rules can exempt. Exactly one finding
// remains, on the webhook Deployment: 4.1.6 (it mounts its API token, which it needs), exempt by
// the chart's rule with its reason. Under eks-1.8.0, 4.3.2 is a WARN as well, which `cisgate
// check` cannot decide without the cluster (in the cluster the chart's NetworkPolicy makes it
// pass; see TestNetworkPolicyFor432); eks-2.0.0, the chart's default, numbers no such check.
func TestCheckRenderedChartOwnRules(t *testing.T) {
	for _, v := range variants {
		for _, b := range []struct {
			set  []string
			want func(reason string) []finding
		}{
			{nil, func(reason string) []finding {
				return []finding{{ID: "4.1.6", Status: "FAIL", Object: "Deployment cisgate-system/cisgate", ExemptReason: reason}}
			}},
			{[]string{"--set", "benchmark=eks-1.8.0"}, func(reason string) []finding {
				return []finding{
					{ID: "4.1.6", Status: "FAIL", Object: "Deployment cisgate-system/cisgate", ExemptReason: reason},
					{ID: "4.3.2", Status: "WARN", Object: "Deployment cisgate-system/cisgate"},
				}
			}},
		} {
			t.Run(v.name+strings.Join(b.set, " "), func(t *testing.T) {
				rendered := template(t, defaultRelease(append(slices.Clone(v.args), b.set...)...))
				config := withoutExemptNamespace(t, renderedConfig(t, decode(t, rendered), releaseName), releaseNamespace)
				p, err := policy.ParseConfig([]byte(config))
				require.NoError(t, err)
				webhookReason, ok := p.ExemptionFor("sa-token-automount", obj("Deployment", releaseNamespace, releaseName))
				require.True(t, ok)

				code, report := runCheck(t, rendered, config)
				assert.Equal(t, app.ExitOK, code)
				assert.Equal(t, b.want(webhookReason), summarize(report))
				for _, f := range report.Findings {
					if f.ID == "4.3.2" {
						assert.Contains(t, f.Detail, "needs cluster state")
					}
				}
			})
		}
	}
}

// TestCheckWithoutConfig: without --config every check is enforced with no exemptions, as a CI
// pipeline runs it; the chart then has exactly the webhook's token mount to answer for.
func TestCheckWithoutConfig(t *testing.T) {
	code, report := runCheck(t, template(t, defaultRelease()), "")
	assert.Equal(t, app.ExitFindings, code)
	assert.Equal(t, []finding{
		{ID: "4.1.6", Status: "FAIL", Object: "Deployment cisgate-system/cisgate"},
	}, summarize(report))
}

// TestNetworkPolicyFor432: the chart ships a NetworkPolicy in its namespace, which is what 4.3.2
// asks of a namespace that runs workloads: with one there, the Deployment passes it.
func TestNetworkPolicyFor432(t *testing.T) {
	objs := decode(t, template(t, defaultRelease()))
	nps := ofKind(objs, "NetworkPolicy")
	require.Len(t, nps, 2)
	for _, np := range nps {
		assert.Equal(t, releaseNamespace, np.GetNamespace())
	}

	p, err := policy.ParseConfig([]byte(withoutExemptNamespace(t, renderedConfig(t, objs, releaseName), releaseNamespace)))
	require.NoError(t, err)
	dep := find(t, objs, "Deployment", releaseName)
	depObj := policy.Object{Kind: "Deployment", Namespace: releaseNamespace, Name: releaseName, Namespaced: true, Raw: convertDeployment(t, dep)}
	for _, j := range p.Judge(depObj, policy.OperationCreate, installed(len(nps), depObj), "") {
		assert.NotEqual(t, "namespace-network-policy", string(j.Slug), "%+v", j)
		if j.Status == policy.StatusFail {
			assert.NotEmpty(t, j.ExemptReason, "%+v", j)
		}
	}
}

// withoutExemptNamespace removes ns from the config's exemptions.namespaces.
func withoutExemptNamespace(t *testing.T, config, ns string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(config), &m))
	ex := m["exemptions"].(map[string]any)
	var kept []any
	for _, n := range ex["namespaces"].([]any) {
		if n != ns {
			kept = append(kept, n)
		}
	}
	require.Len(t, kept, len(ex["namespaces"].([]any))-1, "%s was not exempt", ns)
	ex["namespaces"] = kept
	out, err := yaml.Marshal(m)
	require.NoError(t, err)
	require.False(t, slices.Contains(kept, any(ns)))
	return string(out)
}

func convertDeployment(t *testing.T, u *unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	return convert[appsv1.Deployment](t, u)
}

// installed is the cluster state after the chart is installed: its NetworkPolicies, and the
// Deployment's ServiceAccount as rendered, without a token.
func installed(networkPolicies int, dep policy.Object) *fakecluster.State {
	sa := dep.Raw.(*appsv1.Deployment).Spec.Template.Spec.ServiceAccountName
	return &fakecluster.State{
		NetworkPolicies: map[string]int{dep.Namespace: networkPolicies},
		ServiceAccounts: map[string]*corev1.ServiceAccount{fakecluster.Key(dep.Namespace, sa): {
			ObjectMeta:                   metav1.ObjectMeta{Namespace: dep.Namespace, Name: sa},
			AutomountServiceAccountToken: ptr.To(false),
		}},
	}
}
