package policy_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

// versionTable is each benchmark version's IDs, from its section tables, written out per
// version (oldest first: 1.0.1, 1.1.0, 1.2.0, 1.5.0, 1.7.0, 1.8.0, 2.0.0); "" means the version does not
// carry the item.
var versionTable = map[policy.Slug][7]string{
	// Section 2.
	"control-plane-logging": {"2.1.1", "2.1.1", "2.1.1", "2.1.1", "2.1.1", "2.1.1", "2.1.1"},
	"audit-log-collection":  {"", "", "", "", "2.1.2", "2.1.2", ""},
	// Section 3; 1.0.1 to 1.2.0 have protect-kernel-defaults and hostname-override, later IDs shift.
	"kubeconfig-perms":           {"3.1.1", "3.1.1", "3.1.1", "3.1.1", "3.1.1", "3.1.1", "3.1.1"},
	"kubeconfig-owner":           {"3.1.2", "3.1.2", "3.1.2", "3.1.2", "3.1.2", "3.1.2", "3.1.2"},
	"kubelet-config-perms":       {"3.1.3", "3.1.3", "3.1.3", "3.1.3", "3.1.3", "3.1.3", "3.1.3"},
	"kubelet-config-owner":       {"3.1.4", "3.1.4", "3.1.4", "3.1.4", "3.1.4", "3.1.4", "3.1.4"},
	"anonymous-auth":             {"3.2.1", "3.2.1", "3.2.1", "3.2.1", "3.2.1", "3.2.1", "3.2.1"},
	"authorization-mode":         {"3.2.2", "3.2.2", "3.2.2", "3.2.2", "3.2.2", "3.2.2", ""},
	"client-ca":                  {"3.2.3", "3.2.3", "3.2.3", "3.2.3", "3.2.3", "3.2.3", "3.2.3"},
	"read-only-port":             {"3.2.4", "3.2.4", "3.2.4", "3.2.4", "3.2.4", "3.2.4", "3.2.4"},
	"streaming-idle-timeout":     {"3.2.5", "3.2.5", "3.2.5", "3.2.5", "3.2.5", "3.2.5", ""},
	"protect-kernel-defaults":    {"3.2.6", "3.2.6", "3.2.6", "", "", "", ""},
	"iptables-util-chains":       {"3.2.7", "3.2.7", "3.2.7", "3.2.6", "3.2.6", "3.2.6", "3.2.5"},
	"hostname-override":          {"3.2.8", "3.2.8", "3.2.8", "", "", "", ""},
	"event-qps":                  {"3.2.9", "3.2.9", "3.2.9", "3.2.7", "3.2.7", "3.2.7", "3.2.6"},
	"rotate-certificates":        {"3.2.10", "3.2.10", "3.2.10", "3.2.8", "3.2.8", "3.2.8", "3.2.7"},
	"rotate-server-cert":         {"3.2.11", "3.2.11", "3.2.11", "3.2.9", "3.2.9", "3.2.9", ""},
	"authorization-mode-webhook": {"", "", "", "", "", "", "3.2.2"},
	"serving-cert-rotation":      {"", "", "", "", "", "", "3.2.8"},
	"container-optimized-os":     {"", "3.3.1", "3.3.1", "", "", "", ""},
	// Section 4.1.
	"cluster-admin-binding":     {"4.1.1", "4.1.1", "4.1.1", "4.1.1", "4.1.1", "4.1.1", "4.1.1"},
	"secrets-access":            {"4.1.2", "4.1.2", "4.1.2", "4.1.2", "4.1.2", "4.1.2", "4.1.2"},
	"rbac-wildcards":            {"4.1.3", "4.1.3", "4.1.3", "4.1.3", "4.1.3", "4.1.3", "4.1.3"},
	"create-pods":               {"4.1.4", "4.1.4", "4.1.4", "4.1.4", "4.1.4", "4.1.4", "4.1.4"},
	"default-service-account":   {"4.1.5", "4.1.5", "4.1.5", "4.1.5", "4.1.5", "4.1.5", "4.1.5"},
	"sa-token-automount":        {"4.1.6", "4.1.6", "4.1.6", "4.1.6", "4.1.6", "4.1.6", "4.1.6"},
	"system-masters-binding":    {"", "", "4.1.7", "4.1.7", "", "", ""},
	"access-manager":            {"", "", "", "", "4.1.7", "4.1.7", "4.1.7"},
	"bind-escalate-impersonate": {"", "", "4.1.8", "4.1.8", "4.1.8", "4.1.8", "4.1.8"},
	"create-persistentvolumes":  {"", "", "", "", "", "4.1.9", "4.1.9"},
	"node-proxy":                {"", "", "", "", "", "4.1.10", "4.1.10"},
	"webhook-config-access":     {"", "", "", "", "", "4.1.11", "4.1.11"},
	"sa-token-create":           {"", "", "", "", "", "4.1.12", "4.1.12"},
	// Section 4.2.
	"privileged":               {"4.2.1", "4.2.1", "4.2.1", "4.2.1", "4.2.1", "4.2.1", "4.2.1"},
	"host-pid":                 {"4.2.2", "4.2.2", "4.2.2", "4.2.2", "4.2.2", "4.2.2", "4.2.2"},
	"host-ipc":                 {"4.2.3", "4.2.3", "4.2.3", "4.2.3", "4.2.3", "4.2.3", "4.2.3"},
	"host-network":             {"4.2.4", "4.2.4", "4.2.4", "4.2.4", "4.2.4", "4.2.4", "4.2.4"},
	"privilege-escalation":     {"4.2.5", "4.2.5", "4.2.5", "4.2.5", "4.2.5", "4.2.5", "4.2.5"},
	"root-containers":          {"4.2.6", "4.2.6", "4.2.6", "", "", "", ""},
	"net-raw":                  {"4.2.7", "4.2.7", "", "", "", "", ""},
	"added-capabilities":       {"4.2.8", "4.2.8", "4.2.7", "", "", "", ""},
	"capabilities-not-dropped": {"4.2.9", "4.2.9", "4.2.8", "", "", "", ""},
	// Sections 4.3 to 4.6.
	// 1.0.1 and 1.1.0's 4.3.1 is "Ensure that the latest CNI version is used" (kube-bench
	// cfg/eks-1.0.1/policies.yaml, cfg/eks-1.1.0/policies.yaml); network policy support from 1.2.0.
	"cni-latest-version":       {"4.3.1", "4.3.1", "", "", "", "", ""},
	"cni-network-policy":       {"", "", "4.3.1", "4.3.1", "4.3.1", "4.3.1", "4.3.1"},
	"namespace-network-policy": {"4.3.2", "4.3.2", "4.3.2", "4.3.2", "4.3.2", "4.3.2", ""},
	"workload-network-policy":  {"", "", "", "", "", "", "4.3.2"},
	"image-provenance":         {"4.5.1", "", "", "", "", "", ""},
	"secrets-in-env":           {"4.4.1", "4.4.1", "4.4.1", "4.4.1", "4.4.1", "4.4.1", "4.4.1"},
	"external-secrets":         {"4.4.2", "4.4.2", "4.4.2", "4.4.2", "4.4.2", "4.4.2", "4.4.2"},
	"namespace-boundaries":     {"4.6.1", "4.6.1", "4.6.1", "4.5.1", "4.5.1", "4.5.1", "4.5.1"},
	"security-context":         {"4.6.2", "4.6.2", "4.6.2", "4.5.2", "", "", ""},
	"default-namespace":        {"4.6.3", "4.6.3", "4.6.3", "4.5.3", "4.5.2", "4.5.2", "4.5.2"},
	// Section 5.
	"approved-registries":         {"5.1.4", "5.1.4", "5.1.4", "5.1.4", "5.1.4", "5.1.4", "5.1.4"},
	"ecr-image-scanning":          {"5.1.1", "5.1.1", "5.1.1", "5.1.1", "5.1.1", "5.1.1", "5.1.1"},
	"ecr-user-access":             {"5.1.2", "5.1.2", "5.1.2", "5.1.2", "5.1.2", "5.1.2", "5.1.2"},
	"ecr-cluster-read-only":       {"5.1.3", "5.1.3", "5.1.3", "5.1.3", "5.1.3", "5.1.3", "5.1.3"},
	"dedicated-service-accounts":  {"5.2.1", "5.2.1", "5.2.1", "5.2.1", "5.2.1", "5.2.1", "5.2.1"},
	"secrets-kms-encryption":      {"5.3.1", "5.3.1", "5.3.1", "5.3.1", "5.3.1", "5.3.1", "5.3.1"},
	"endpoint-access-restricted":  {"5.4.1", "5.4.1", "5.4.1", "5.4.1", "5.4.1", "5.4.1", "5.4.1"},
	"endpoint-private":            {"5.4.2", "5.4.2", "5.4.2", "5.4.2", "5.4.2", "5.4.2", "5.4.2"},
	"private-nodes":               {"5.4.3", "5.4.3", "5.4.3", "5.4.3", "5.4.3", "5.4.3", "5.4.3"},
	"network-policy-enabled":      {"5.4.4", "5.4.4", "5.4.4", "5.4.4", "5.4.4", "5.4.4", ""},
	"iam-authenticator":           {"5.5.1", "5.5.1", "5.5.1", "5.5.1", "5.5.1", "5.5.1", ""},
	"access-entries":              {"", "", "", "", "", "", "5.5.1"},
	"fargate-untrusted-workloads": {"5.6.1", "5.6.1", "5.6.1", "", "", "", ""},
	"lb-tls":                      {"5.4.5", "5.4.5", "5.4.5", "5.4.5", "5.4.5", "5.4.5", "5.4.4"},
	// cisgate's own (no benchmark item): the namespace label that must never silence a check.
	"namespace-mode-label": {"cisgate.1", "cisgate.1", "cisgate.1", "cisgate.1", "cisgate.1", "cisgate.1", "cisgate.1"},
}

func versionIndex(t *testing.T, b policy.Benchmark) int {
	i := slices.Index(policy.Benchmarks(), b)
	require.GreaterOrEqual(t, i, 0, b)
	return i
}

func TestCatalogueIDsPerVersion(t *testing.T) {
	require.Equal(t, []policy.Benchmark{"eks-1.0.1", "eks-1.1.0", "eks-1.2.0", "eks-1.5.0", "eks-1.7.0", "eks-1.8.0", "eks-2.0.0"}, policy.Benchmarks())
	require.Equal(t, policy.EKS200, policy.DefaultBenchmark)
	for _, b := range policy.Benchmarks() {
		t.Run(string(b), func(t *testing.T) {
			cat, err := policy.CatalogueFor(b)
			require.NoError(t, err)
			require.Equal(t, b, cat.Benchmark())
			want := map[policy.Slug]string{}
			for slug, row := range versionTable {
				if id := row[versionIndex(t, b)]; id != "" {
					want[slug] = id
				}
			}
			have := map[policy.Slug]string{}
			for _, e := range cat.Entries() {
				have[e.Slug] = e.ID
				assert.NotEmpty(t, e.Title, e.Slug)
			}
			assert.Equal(t, want, have)
			// IDs are unique within a version, and entries are in ID order.
			ids := map[string]policy.Slug{}
			entries := cat.Entries()
			for i, e := range entries {
				if other, dup := ids[e.ID]; dup {
					t.Errorf("ID %s is both %s and %s", e.ID, other, e.Slug)
				}
				ids[e.ID] = e.Slug
				if i > 0 {
					assert.Negative(t, policy.CompareIDs(entries[i-1].ID, e.ID), "%s before %s", entries[i-1].ID, e.ID)
				}
			}
		})
	}
}

func TestCatalogueFor(t *testing.T) {
	_, err := policy.CatalogueFor("eks-1.3.0")
	require.EqualError(t, err, `unknown benchmark "eks-1.3.0" (supported: [eks-1.0.1 eks-1.1.0 eks-1.2.0 eks-1.5.0 eks-1.7.0 eks-1.8.0 eks-2.0.0])`)
}

func TestCatalogueResolve(t *testing.T) {
	cat, err := policy.CatalogueFor(policy.EKS120)
	require.NoError(t, err)
	for _, tc := range []struct {
		key  string
		slug policy.Slug
		ok   bool
	}{
		{"4.2.7", "added-capabilities", true}, // the 1.2.0 ID
		{"added-capabilities", "added-capabilities", true},
		{"4.2.9", "", false},      // 1.0.1's ID of capabilities-not-dropped
		{"node-proxy", "", false}, // only in 1.8.0
		{"3.2.11", "rotate-server-cert", true},
		{"nope", "", false},
	} {
		e, ok := cat.Resolve(tc.key)
		assert.Equal(t, tc.ok, ok, tc.key)
		assert.Equal(t, tc.slug, e.Slug, tc.key)
	}
}

// TestEvaluatedIDsPerVersion evaluates objects that break every object check and asserts the IDs
// the evaluator places them under in each benchmark version.
func TestEvaluatedIDsPerVersion(t *testing.T) {
	spec := corev1.PodSpec{
		HostPID: true, HostIPC: true, HostNetwork: true,
		Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{
			Privileged:   ptr.To(true),
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}},
			RunAsUser:    ptr.To(int64(0)),
		})},
	}
	spec.Containers[0].Env = []corev1.EnvVar{{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "pw"}}}}
	deployment := workloads("default", spec)[1]
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "everything"}, Rules: []rbacv1.PolicyRule{rule(ss("*"), ss("*"), ss("*"))}}
	binding := bindings("ClusterRole", "cluster-admin", masters, devs)["ClusterRoleBinding"]

	settings := policy.DefaultSettings()
	settings.Registries = []string{"123456789012.dkr.ecr.us-east-1.amazonaws.com/"}
	lookup := &fakecluster.State{NetworkPolicies: map[string]int{}, ServiceAccounts: map[string]*corev1.ServiceAccount{}}

	podSlugs := []policy.Slug{"default-service-account", "sa-token-automount", "privileged", "host-pid", "host-ipc", "host-network",
		"privilege-escalation", "root-containers", "net-raw", "added-capabilities", "capabilities-not-dropped",
		"namespace-network-policy", "secrets-in-env", "security-context", "default-namespace", "approved-registries"}
	roleSlugs := []policy.Slug{"secrets-access", "rbac-wildcards", "create-pods", "bind-escalate-impersonate",
		"create-persistentvolumes", "node-proxy", "webhook-config-access", "sa-token-create"}
	bindingSlugs := []policy.Slug{"cluster-admin-binding", "system-masters-binding"}

	// idsOf lists the IDs the version gives the slugs, sorted as the evaluator sorts them.
	idsOf := func(t *testing.T, b policy.Benchmark, slugs []policy.Slug) []string {
		var out []string
		for _, s := range slugs {
			row, ok := versionTable[s]
			require.True(t, ok, s)
			if id := row[versionIndex(t, b)]; id != "" {
				out = append(out, id)
			}
		}
		slices.SortFunc(out, policy.CompareIDs)
		return out
	}
	resultIDs := func(results []policy.Finding) []string {
		var out []string
		for _, r := range results {
			if len(out) == 0 || out[len(out)-1] != r.ID {
				out = append(out, r.ID)
			}
		}
		return out
	}

	for _, b := range policy.Benchmarks() {
		t.Run(string(b), func(t *testing.T) {
			ev := evaluator(t, b, settings)
			assert.Equal(t, idsOf(t, b, podSlugs), resultIDs(ev.Evaluate(policy.NewObject(deployment.Kind, deployment.Obj), policy.OperationCreate, lookup)), "Deployment")
			assert.Equal(t, idsOf(t, b, roleSlugs), resultIDs(ev.Evaluate(policy.NewObject("ClusterRole", role), policy.OperationCreate, lookup)), "ClusterRole")
			assert.Equal(t, idsOf(t, b, bindingSlugs), resultIDs(ev.Evaluate(policy.NewObject("ClusterRoleBinding", binding), policy.OperationCreate, lookup)), "ClusterRoleBinding")
		})
	}

	// Spot checks straight from the version table.
	for _, tc := range []struct {
		b    policy.Benchmark
		slug policy.Slug
		id   string
	}{
		{policy.EKS101, "added-capabilities", "4.2.8"},
		{policy.EKS120, "added-capabilities", "4.2.7"},
		{policy.EKS180, "added-capabilities", ""},
		{policy.EKS120, "system-masters-binding", "4.1.7"},
		{policy.EKS150, "system-masters-binding", "4.1.7"},
		{policy.EKS170, "system-masters-binding", ""},
		{policy.EKS180, "node-proxy", "4.1.10"},
		{policy.EKS170, "node-proxy", ""},
		{policy.EKS150, "security-context", "4.5.2"},
		{policy.EKS180, "default-namespace", "4.5.2"},
	} {
		cat, err := policy.CatalogueFor(tc.b)
		require.NoError(t, err)
		e, ok := cat.Entry(tc.slug)
		assert.Equal(t, tc.id != "", ok, "%s %s", tc.b, tc.slug)
		assert.Equal(t, tc.id, e.ID, "%s %s", tc.b, tc.slug)
	}
}

// TestCatalogueAssessment spot-checks the benchmark's Automated/Manual label per version, as the
// versions' section tables give it (kube-bench cfg/eks-<version>/*.yaml carry the same labels),
// and that every entry has one.
func TestCatalogueAssessment(t *testing.T) {
	for _, b := range policy.Benchmarks() {
		cat, err := policy.CatalogueFor(b)
		require.NoError(t, err)
		for _, e := range cat.Entries() {
			assert.Contains(t, []policy.Assessment{policy.Automated, policy.Manual}, e.Assessment, "%s %s", b, e.Slug)
		}
	}
	for _, tc := range []struct {
		b    policy.Benchmark
		key  string
		slug policy.Slug
		want policy.Assessment
	}{
		{policy.EKS101, "3.2.3", "client-ca", policy.Manual},
		{policy.EKS180, "3.2.3", "client-ca", policy.Automated},
		{policy.EKS180, "4.1.1", "cluster-admin-binding", policy.Automated},
		{policy.EKS200, "4.1.1", "cluster-admin-binding", policy.Manual}, // eks-2.0.0 policies.yaml 4.1.1
		{policy.EKS200, "4.1.7", "access-manager", policy.Automated},     // eks-2.0.0 policies.yaml 4.1.7
		{policy.EKS180, "4.1.7", "access-manager", policy.Manual},
		{policy.EKS200, "4.3.1", "cni-network-policy", policy.Automated},
		{policy.EKS200, "4.3.2", "workload-network-policy", policy.Manual},
		{policy.EKS150, "5.1.1", "ecr-image-scanning", policy.Automated},
		{policy.EKS170, "5.1.1", "ecr-image-scanning", policy.Manual},
		{policy.EKS200, "5.4.3", "private-nodes", policy.Manual},
		{policy.EKS200, "5.4.4", "lb-tls", policy.Manual},
		{policy.EKS200, "5.5.1", "access-entries", policy.Automated},
		{policy.EKS110, "4.2.8", "added-capabilities", policy.Manual},
		{policy.EKS101, "4.2.8", "added-capabilities", policy.Automated},
	} {
		cat, err := policy.CatalogueFor(tc.b)
		require.NoError(t, err)
		e, ok := cat.Resolve(tc.key)
		require.True(t, ok, "%s %s", tc.b, tc.key)
		assert.Equal(t, tc.slug, e.Slug, "%s %s", tc.b, tc.key)
		assert.Equal(t, tc.want, e.Assessment, "%s %s", tc.b, tc.key)
	}
}

// TestCatalogueTitlesOfEKS200 spot-checks that eks-2.0.0 entries carry that version's wording
// (kube-bench cfg/eks-2.0.0/*.yaml) and older versions keep theirs.
func TestCatalogueTitlesOfEKS200(t *testing.T) {
	for _, tc := range []struct {
		b     policy.Benchmark
		slug  policy.Slug
		title string
	}{
		{policy.EKS200, "lb-tls", "Use TLS certificates on EKS load balancer listeners for encrypted client connections"},
		{policy.EKS180, "lb-tls", "Encrypt traffic to HTTPS load balancers with TLS certificates"},
		{policy.EKS200, "iptables-util-chains", "Ensure the kubelet iptables utility chains are enabled"},
		{policy.EKS200, "control-plane-logging", "Enable EKS control plane logging"},
		{policy.EKS180, "control-plane-logging", "Enable audit Logs"},
		{policy.EKS101, "cni-latest-version", "Ensure that the latest CNI version is used"},  // kube-bench cfg/eks-1.0.1/policies.yaml 4.3.1
		{policy.EKS120, "cni-network-policy", "Ensure CNI plugin supports network policies"}, // kube-bench cfg/eks-1.2.0/policies.yaml 4.3.1
		{policy.EKS200, "cni-network-policy", "Ensure VPC CNI network policy support is enabled"},
	} {
		cat, err := policy.CatalogueFor(tc.b)
		require.NoError(t, err)
		e, ok := cat.Entry(tc.slug)
		require.True(t, ok, "%s %s", tc.b, tc.slug)
		assert.Equal(t, tc.title, e.Title, "%s %s", tc.b, tc.slug)
	}
}
