package admission

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
)

// checkInfoIDs reads cisgate_check_info as /metrics shows it: check slug to "benchmark/id".
func checkInfoIDs(t *testing.T) map[string]string {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range families {
		if f.GetName() != "cisgate_check_info" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["check"]] = labels["benchmark"] + "/" + labels["id"]
		}
	}
	return out
}

// TestFindingsAreCountedBySlugAcrossBenchmarkChange: CIS EKS Benchmark v1.0.1 numbers "Minimize
// the admission of containers with the NET_RAW capability" 4.2.7; v1.2.0 drops it and numbers
// "... with added capabilities" 4.2.7 instead. A reload between the two must not add the
// second's counts to the first's series (issue #9 item 9).
func TestFindingsAreCountedBySlugAcrossBenchmarkChange(t *testing.T) {
	old := mustPolicy(t, "benchmark: eks-1.0.1\nmode: audit\n")
	cur := old
	h := &Handler{Policy: func() *policy.Policy { return cur }, State: cluster()}

	c := hardened("app")
	c.SecurityContext.Capabilities.Add = []corev1.Capability{"NET_RAW"}
	podObj := mustJSON(t, pod(ns, "web", compliantSpec(c)))
	send := func() {
		resp := h.Handle(context.Background(), admissionRequest(reqOpts{kind: podGVK, resource: podResource, namespace: ns, name: "web", object: podObj}))
		require.True(t, resp.Allowed, "audit mode admits")
	}
	netRaw := findingsTotal.WithLabelValues("net-raw", "audit")
	added := findingsTotal.WithLabelValues("added-capabilities", "audit")
	netRaw0, added0 := counterValue(t, netRaw), counterValue(t, added)

	send()
	assert.Equal(t, 1.0, counterValue(t, netRaw)-netRaw0)
	assert.Equal(t, 1.0, counterValue(t, added)-added0)
	info := checkInfoIDs(t)
	assert.Equal(t, "eks-1.0.1/4.2.7", info["net-raw"])
	assert.Equal(t, "eks-1.0.1/4.2.8", info["added-capabilities"])

	cur = mustPolicy(t, "benchmark: eks-1.2.0\nmode: audit\n")
	send()
	assert.Equal(t, 1.0, counterValue(t, netRaw)-netRaw0, "eks-1.2.0 has no net-raw check: its series does not move")
	assert.Equal(t, 2.0, counterValue(t, added)-added0, "the same check keeps one series across versions")
	info = checkInfoIDs(t)
	assert.Equal(t, "eks-1.2.0/4.2.7", info["added-capabilities"], "the mapping follows the benchmark in force")
	assert.NotContains(t, info, "net-raw", "no stale mapping from the previous benchmark")
}

// TestFindingsAcrossTheSwitchToEKS200: CIS Amazon EKS Benchmark v1.8.0 numbers the load
// balancer TLS item 5.4.5, v2.0.0 numbers it 5.4.4 (kube-bench cfg/eks-2.0.0/managedservices.yaml)
// and no longer numbers the per-namespace NetworkPolicy check (its 4.3.2 is manual). A reload
// from eks-1.8.0 to eks-2.0.0 keeps lb-tls in one series, maps it to the new ID, and drops the
// mapping of the check 2.0.0 does not run; a check a config keeps by slug maps to its slug.
func TestFindingsAcrossTheSwitchToEKS200(t *testing.T) {
	cur := mustPolicy(t, "benchmark: eks-1.8.0\nmode: audit\n")
	h := &Handler{Policy: func() *policy.Policy { return cur }, State: cluster()}
	svc := mustJSON(t, &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}}},
	})
	send := func() {
		resp := h.Handle(context.Background(), admissionRequest(reqOpts{kind: metav1.GroupVersionKind{Version: "v1", Kind: "Service"},
			resource: metav1.GroupVersionResource{Version: "v1", Resource: "services"}, namespace: ns, name: "web", object: svc}))
		require.True(t, resp.Allowed, "audit mode admits")
	}
	lbTLS := findingsTotal.WithLabelValues("lb-tls", "audit")
	lbTLS0 := counterValue(t, lbTLS)

	send()
	assert.Equal(t, 1.0, counterValue(t, lbTLS)-lbTLS0)
	info := checkInfoIDs(t)
	assert.Equal(t, "eks-1.8.0/5.4.5", info["lb-tls"])
	assert.Equal(t, "eks-1.8.0/4.3.2", info["namespace-network-policy"])

	cur = mustPolicy(t, "benchmark: eks-2.0.0\nmode: audit\nchecks: {root-containers: audit}\n")
	send()
	assert.Equal(t, 2.0, counterValue(t, lbTLS)-lbTLS0, "the same check keeps one series across versions")
	info = checkInfoIDs(t)
	assert.Equal(t, "eks-2.0.0/5.4.4", info["lb-tls"], "the mapping follows the benchmark in force")
	assert.Equal(t, "eks-2.0.0/4.3.2", info["workload-network-policy"])
	assert.NotContains(t, info, "namespace-network-policy", "no stale mapping from the previous benchmark")
	assert.Equal(t, "eks-2.0.0/root-containers", info["root-containers"], "a kept check is known by its slug")
}
