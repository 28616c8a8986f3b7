package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
)

func TestDefaultServiceAccountPods(t *testing.T) {
	const mustName = `pod must set serviceAccountName to a dedicated ServiceAccount, not "default" (empty means "default")`
	podCheck(t, policy.EKS180, policy.DefaultSettings(), "default-service-account", "4.1.5", []podCase{
		{name: "dedicated ServiceAccount", spec: corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{ctr("app")}}},
		{name: "deprecated serviceAccount field", spec: corev1.PodSpec{DeprecatedServiceAccount: "web", Containers: []corev1.Container{ctr("app")}}},
		{name: "empty", spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}}, want: []want{fails("serviceAccountName", mustName)}},
		{name: "default", spec: corev1.PodSpec{ServiceAccountName: "default", Containers: []corev1.Container{ctr("app")}}, want: []want{fails("serviceAccountName", mustName)}},
		{
			name: "default even with automount off",
			spec: corev1.PodSpec{ServiceAccountName: "default", AutomountServiceAccountToken: ptr.To(false), Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("serviceAccountName", mustName)},
		},
	})
}

func TestDefaultServiceAccountObject(t *testing.T) {
	sa := func(name string, automount *bool) *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace}, AutomountServiceAccountToken: automount}
	}
	for _, tc := range []struct {
		name string
		sa   *corev1.ServiceAccount
		want []got
	}{
		{"default with automount false", sa("default", ptr.To(false)), []got{}},
		{"another ServiceAccount with automount unset", sa("web", nil), []got{}},
		{"default with automount unset", sa("default", nil), []got{{"4.1.5", policy.StatusFail, "automountServiceAccountToken", `ServiceAccount "default" must set automountServiceAccountToken=false`}}},
		{"default with automount true", sa("default", ptr.To(true)), []got{{"4.1.5", policy.StatusFail, "automountServiceAccountToken", `ServiceAccount "default" must set automountServiceAccountToken=false`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			results := evaluate(t, policy.EKS180, policy.DefaultSettings(), "ServiceAccount", tc.sa, policy.OperationCreate, nil, "default-service-account")
			require.Equal(t, tc.want, gotOf(results))
			for _, r := range results {
				// The control plane creates it in every namespace: never denied, only warned.
				require.True(t, r.Advisory, "the default ServiceAccount finding must be advisory")
			}
		})
	}

	t.Run("advisory is not denied in enforce mode", func(t *testing.T) {
		p, err := policy.ParseConfig([]byte("mode: enforce\nexemptions: {namespaces: []}\n"))
		require.NoError(t, err)
		judged := p.Judge(policy.NewObject("ServiceAccount", sa("default", nil)), policy.OperationCreate, nil, "")
		require.Len(t, judged, 1)
		require.Equal(t, policy.StatusFail, judged[0].Status)
		require.Equal(t, policy.ModeEnforce, judged[0].Mode)
		require.False(t, judged[0].Denies())
	})
	t.Run("pod findings are not advisory", func(t *testing.T) {
		w := workloads(testNamespace, corev1.PodSpec{Containers: []corev1.Container{ctr("app")}})[1]
		results := evaluate(t, policy.EKS180, policy.DefaultSettings(), w.Kind, w.Obj, policy.OperationCreate, nil, "default-service-account")
		require.Len(t, results, 1)
		require.False(t, results[0].Advisory)
	})
}
