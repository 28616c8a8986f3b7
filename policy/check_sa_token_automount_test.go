package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

func TestSATokenAutomount(t *testing.T) {
	sa := func(name string, automount *bool) *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace}, AutomountServiceAccountToken: automount}
	}
	cluster := &fakecluster.State{ServiceAccounts: map[string]*corev1.ServiceAccount{
		testNamespace + "/no-token": sa("no-token", ptr.To(false)),
		testNamespace + "/token":    sa("token", ptr.To(true)),
		testNamespace + "/unset":    sa("unset", nil),
		testNamespace + "/default":  sa("default", nil),
	}}
	broken := &fakecluster.State{ServiceAccountErr: errForbidden}
	spec := func(saName string, automount *bool) corev1.PodSpec {
		return corev1.PodSpec{ServiceAccountName: saName, AutomountServiceAccountToken: automount, Containers: []corev1.Container{ctr("app")}}
	}
	const path = "automountServiceAccountToken"
	podCheck(t, policy.EKS180, policy.DefaultSettings(), "sa-token-automount", "4.1.6", []podCase{
		// Decided by the pod alone.
		{name: "pod false, no lookup", spec: spec("web", ptr.To(false))},
		{name: "pod false, ServiceAccount mounts", spec: spec("token", ptr.To(false)), lookup: cluster},
		{name: "pod true overrides the ServiceAccount's false", spec: spec("no-token", ptr.To(true)), lookup: cluster,
			want: []want{fails(path, "pod must set automountServiceAccountToken=false, not true, unless it needs the API token")}},
		{name: "pod true, no lookup", spec: spec("web", ptr.To(true)),
			want: []want{fails(path, "pod must set automountServiceAccountToken=false, not true, unless it needs the API token")}},
		// Unset on the pod: the ServiceAccount decides.
		{name: "unset, ServiceAccount false", spec: spec("no-token", nil), lookup: cluster},
		{name: "unset, ServiceAccount true", spec: spec("token", nil), lookup: cluster,
			want: []want{fails(path, `pod must set automountServiceAccountToken=false (neither it nor ServiceAccount "token" does)`)}},
		{name: "unset, ServiceAccount unset", spec: spec("unset", nil), lookup: cluster,
			want: []want{fails(path, `pod must set automountServiceAccountToken=false (neither it nor ServiceAccount "unset" does)`)}},
		{name: "unset, no serviceAccountName looks up default", spec: spec("", nil), lookup: cluster,
			want: []want{fails(path, `pod must set automountServiceAccountToken=false (neither it nor ServiceAccount "default" does)`)}},
		// Never PASS without evidence.
		{name: "unset, ServiceAccount not found", spec: spec("ghost", nil), lookup: cluster,
			want: []want{warns(path, `ServiceAccount "ghost" not found in namespace "team-a"; cannot tell whether it mounts its token`)}},
		{name: "unset, lookup error", spec: spec("web", nil), lookup: broken,
			want: []want{warns(path, `cannot read ServiceAccount "web": `+errForbidden.Error())}},
		{name: "unset, nil lookup", spec: spec("web", nil),
			want: []want{warns(path, `needs cluster state: pod leaves automountServiceAccountToken unset and ServiceAccount "web" cannot be read here; set automountServiceAccountToken=false on the pod to decide it`)}},
	})
	t.Run("no namespace", func(t *testing.T) {
		podCheck(t, policy.EKS180, policy.DefaultSettings(), "sa-token-automount", "4.1.6", []podCase{
			{name: "unset, lookup but no namespace", spec: spec("no-token", nil), noNS: true, lookup: cluster,
				want: []want{warns(path, `needs cluster state: pod leaves automountServiceAccountToken unset and ServiceAccount "no-token" cannot be read here; set automountServiceAccountToken=false on the pod to decide it`)}},
		})
	})
}
