package chart

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

var openReportsOn = []string{"--set", "reports.openReports.enabled=true"}

// TestOpenReportsOff: by default the chart renders no CRD and grants nothing on openreports.io.
func TestOpenReportsOff(t *testing.T) {
	rendered := template(t, defaultRelease())
	assert.NotContains(t, rendered, "openreports")
}

// TestOpenReportsRendered: enabled, the chart renders reports-api's two CRDs as the module has
// them (plus the keep policy and the chart's labels), the RBAC the writers use, and serve's flags.
func TestOpenReportsRendered(t *testing.T) {
	objs := decode(t, template(t, defaultRelease(openReportsOn...)))
	for _, name := range []string{"reports.openreports.io", "clusterreports.openreports.io"} {
		got := convert[apiextensionsv1.CustomResourceDefinition](t, find(t, objs, "CustomResourceDefinition", name))
		file := filepath.Join(chartDir(t), "files", "openreports", "openreports.io_"+got.Spec.Names.Plural+".yaml")
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		var want apiextensionsv1.CustomResourceDefinition
		require.NoError(t, yaml.UnmarshalStrict(data, &want))
		assert.Equal(t, want.Spec, got.Spec, name)
		assert.Equal(t, "keep", got.Annotations["helm.sh/resource-policy"], "%s outlives the release: other tools' reports live in it", name)
	}

	roles := map[string][]rbacv1.PolicyRule{}
	for _, o := range ofKind(objs, "ClusterRole") {
		roles[o.GetName()] = convert[rbacv1.ClusterRole](t, o).Rules
	}
	// The leader: list its reports' metadata, apply (create or patch), delete stale ones
	// (openreports.Writer.Sync); watch the node scans' (openreports.NodeReports).
	assert.Contains(t, roles["cisgate"], rbacv1.PolicyRule{APIGroups: []string{"openreports.io"},
		Resources: []string{"reports", "clusterreports"}, Verbs: []string{"list", "watch", "create", "patch", "delete"}})
	// The node scan: read its node's ClusterReport, apply it (openreports.ApplyClusterReportIfChanged).
	assert.Contains(t, roles["cisgate-nodescan"], rbacv1.PolicyRule{APIGroups: []string{"openreports.io"},
		Resources: []string{"clusterreports"}, Verbs: []string{"get", "create", "patch"}})

	dep := convertDeployment(t, find(t, objs, "Deployment", releaseName))
	args := expandEnv(dep.Spec.Template.Spec.Containers[0].Args, map[string]string{"POD_NAMESPACE": releaseNamespace, "POD_NAME": "cisgate-0"})
	cmd, err := serveCommand(t, args)
	require.NoError(t, err, "cisgate serve rejects the chart's arguments %q", args)
	for flag, want := range map[string]string{"openreports": "true", "openreports-qps": "5", "openreports-burst": "10"} {
		assert.Equal(t, want, cmd.Flags().Lookup(flag).Value.String(), flag)
	}

	// installCRDs=false: the RBAC and flags stay, the CRDs are someone else's.
	objs = decode(t, template(t, defaultRelease(append(openReportsOn, "--set", "reports.openReports.installCRDs=false")...)))
	assert.Empty(t, ofKind(objs, "CustomResourceDefinition"))
}

// TestOpenReportsCRDOwnership installs the chart with OpenReports on a real API server without
// the CRDs, as `helm install` does: the release installs reports-api's CRDs and keeps them through
// an upgrade; a second release finds them owned by the first and leaves them alone (Helm would
// refuse to install an object another release owns); uninstalling the first keeps them, since
// other tools' reports live in them.
func TestOpenReportsCRDOwnership(t *testing.T) {
	framework.Helm(t)
	env := framework.StartT(t, framework.Options{})
	ctx := context.Background()
	helm := func(ns string, args ...string) {
		t.Helper()
		_, err := runHelm(t, append(args, "--kubeconfig", env.KubeConfig, "--namespace", ns)...)
		require.NoError(t, err)
	}
	owner := func(name string) (string, string) {
		t.Helper()
		crd, err := env.Client.Scheme().New(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
		require.NoError(t, err)
		got := crd.(*apiextensionsv1.CustomResourceDefinition)
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: name}, got))
		return got.Annotations["meta.helm.sh/release-name"], got.Annotations["helm.sh/resource-policy"]
	}
	crds := []string{"reports.openreports.io", "clusterreports.openreports.io"}
	on := []string{"--set", "certManager.enabled=false", "--set", "reports.openReports.enabled=true"}

	helm("first", append([]string{"install", "first", chartDir(t), "--create-namespace"}, on...)...)
	for _, name := range crds {
		release, policy := owner(name)
		assert.Equal(t, "first", release, name)
		assert.Equal(t, "keep", policy, name)
	}
	helm("first", "upgrade", "first", chartDir(t), "--reuse-values", "--set", "audit.pageSize=100") // audit mode: no failurePolicy Fail to block the second install
	for _, name := range crds {
		release, _ := owner(name)
		assert.Equal(t, "first", release, "%s survives the upgrade of the release that installed it", name)
	}
	// Still in the release, so an upgrade to a chart with newer CRDs updates them.
	manifest, err := runHelm(t, "get", "manifest", "first", "--kubeconfig", env.KubeConfig, "--namespace", "first")
	require.NoError(t, err)
	for _, name := range crds {
		assert.Contains(t, manifest, "name: "+name, "the upgraded release still manages %s", name)
	}
	helm("second", append([]string{"install", "second", chartDir(t), "--create-namespace"}, on...)...)
	for _, name := range crds {
		release, _ := owner(name)
		assert.Equal(t, "first", release, "%s stays the first release's", name)
	}
	helm("first", "uninstall", "first")
	for _, name := range crds {
		release, _ := owner(name)
		assert.Equal(t, "first", release, "%s is kept after its release is gone", name)
	}
}
