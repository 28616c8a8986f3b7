package policy_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

func TestNamespaceNetworkPolicyWorkloads(t *testing.T) {
	cluster := &fakecluster.State{NetworkPolicies: map[string]int{"team-a": 2, "bare": 0}}
	broken := &fakecluster.State{NetworkPolicyErr: errors.New("networkpolicies.networking.k8s.io is forbidden")}
	spec := corev1.PodSpec{Containers: []corev1.Container{hardened("app")}}
	nsPath := func(w want) want { w.Abs = true; return w }
	podCheck(t, policy.EKS180, policy.DefaultSettings(), "namespace-network-policy", "4.3.2", []podCase{
		{name: "namespace has NetworkPolicies", spec: spec, lookup: cluster},
		{name: "namespace has none", spec: spec, ns: "bare", lookup: cluster,
			want: []want{nsPath(fails("metadata.namespace", `namespace "bare" has no NetworkPolicy; add one before running workloads there`))}},
		{name: "namespace unknown to the lookup counts zero", spec: spec, ns: "new-team", lookup: cluster,
			want: []want{nsPath(fails("metadata.namespace", `namespace "new-team" has no NetworkPolicy; add one before running workloads there`))}},
		{name: "lookup error", spec: spec, lookup: broken,
			want: []want{nsPath(warns("metadata.namespace", `cannot count NetworkPolicies in namespace "team-a": networkpolicies.networking.k8s.io is forbidden`))}},
		{name: "nil lookup", spec: spec,
			want: []want{nsPath(warns("metadata.namespace", "needs cluster state: cannot tell whether the namespace has a NetworkPolicy"))}},
		{name: "no namespace", spec: spec, noNS: true, lookup: cluster,
			want: []want{nsPath(warns("metadata.namespace", "needs cluster state: cannot tell whether the namespace has a NetworkPolicy"))}},
	})

	t.Run("deleting a workload is not judged", func(t *testing.T) {
		for _, w := range workloads("bare", spec) {
			require.Empty(t, evaluate(t, policy.EKS180, policy.DefaultSettings(), w.Kind, w.Obj, policy.OperationDelete, cluster, "namespace-network-policy"), w.Kind)
		}
	})
}

func TestNamespaceNetworkPolicyDelete(t *testing.T) {
	np := func(ns string) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: ns}}
	}
	cluster := &fakecluster.State{NetworkPolicies: map[string]int{"two": 2, "one": 1, "stale": 0}}
	for _, tc := range []struct {
		name   string
		np     *networkingv1.NetworkPolicy
		op     policy.Operation
		lookup policy.Lookup
		want   []got
	}{
		{"create", np("one"), policy.OperationCreate, cluster, []got{}},
		{"update", np("one"), policy.OperationUpdate, cluster, []got{}},
		{"manifest", np("one"), policy.OperationNone, nil, []got{}},
		{"delete one of two", np("two"), policy.OperationDelete, cluster, []got{}},
		{"delete the last", np("one"), policy.OperationDelete, cluster, []got{{"4.3.2", policy.StatusFail, "metadata.name",
			`deleting NetworkPolicy "default-deny" would leave namespace "one" without any NetworkPolicy`}}},
		{"delete with a stale count of zero", np("stale"), policy.OperationDelete, cluster, []got{{"4.3.2", policy.StatusFail, "metadata.name",
			`deleting NetworkPolicy "default-deny" would leave namespace "stale" without any NetworkPolicy`}}},
		{"delete, lookup error", np("one"), policy.OperationDelete, &fakecluster.State{NetworkPolicyErr: errors.New("cache not synced")}, []got{{"4.3.2", policy.StatusWarn, "metadata.namespace",
			`cannot count NetworkPolicies in namespace "one": cache not synced`}}},
		{"delete, nil lookup", np("one"), policy.OperationDelete, nil, []got{{"4.3.2", policy.StatusWarn, "metadata.namespace",
			"needs cluster state: cannot tell whether the namespace has a NetworkPolicy"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, gotOf(evaluate(t, policy.EKS180, policy.DefaultSettings(), "NetworkPolicy", tc.np, tc.op, tc.lookup, "namespace-network-policy")))
		})
	}
}
