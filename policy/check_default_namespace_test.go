package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
)

func TestDefaultNamespace(t *testing.T) {
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	partial := &metav1.PartialObjectMetadata{ObjectMeta: meta("default", "my-cert")}
	partial.SetGroupVersionKind(schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "Certificate"})
	finding := func(kind string) []got {
		return []got{{"4.5.2", policy.StatusFail, "metadata.namespace", kind + ` must not be created in namespace "default"; use a dedicated namespace`}}
	}
	for _, tc := range []struct {
		name string
		kind string
		obj  runtime.Object
		op   policy.Operation
		want []got
	}{
		{"ConfigMap elsewhere", "ConfigMap", &corev1.ConfigMap{ObjectMeta: meta("team-a", "cfg")}, policy.OperationCreate, []got{}},
		{"ConfigMap in default", "ConfigMap", &corev1.ConfigMap{ObjectMeta: meta("default", "cfg")}, policy.OperationCreate, finding("ConfigMap")},
		{"Secret in default", "Secret", &corev1.Secret{ObjectMeta: meta("default", "creds")}, policy.OperationCreate, finding("Secret")},
		{"Role in default", "Role", &rbacv1.Role{ObjectMeta: meta("default", "r")}, policy.OperationCreate, finding("Role")},
		{"custom resource in default", "Certificate", partial, policy.OperationCreate, finding("Certificate")},
		{"on update too", "ConfigMap", &corev1.ConfigMap{ObjectMeta: meta("default", "cfg")}, policy.OperationUpdate, finding("ConfigMap")},
		{"in a manifest", "ConfigMap", &corev1.ConfigMap{ObjectMeta: meta("default", "cfg")}, policy.OperationNone, finding("ConfigMap")},
		{"delete is never denied", "ConfigMap", &corev1.ConfigMap{ObjectMeta: meta("default", "cfg")}, policy.OperationDelete, []got{}},
		// #9 item 8: kubectl puts an object without a namespace into its context's namespace,
		// "default" unless set: a manifest cannot tell, so it is WARN, never silence.
		{"no namespace in a manifest is WARN", "ConfigMap", &corev1.ConfigMap{ObjectMeta: meta("", "cfg")}, policy.OperationNone,
			[]got{{"4.5.2", policy.StatusWarn, "metadata.namespace", `ConfigMap names no namespace: the namespace comes from the client, "default" unless its context says otherwise; set metadata.namespace (or check with --namespace)`}}},
		{"no namespace, custom kind", "Certificate", &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "cert-manager.io/v1", Kind: "Certificate"}, ObjectMeta: meta("", "c")}, policy.OperationNone,
			[]got{{"4.5.2", policy.StatusWarn, "metadata.namespace", `Certificate names no namespace: the namespace comes from the client (if Certificate is namespaced), "default" unless its context says otherwise; set metadata.namespace (or check with --namespace)`}}},
		// The generated scope table (zz_generated_scopes.go, from k8s.io/api): these are cluster-scoped.
		{"ServiceCIDR", "ServiceCIDR", &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "ServiceCIDR"}, ObjectMeta: meta("", "s")}, policy.OperationNone, []got{}},
		{"DeviceClass", "DeviceClass", &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "resource.k8s.io/v1", Kind: "DeviceClass"}, ObjectMeta: meta("", "d")}, policy.OperationNone, []got{}},
		{"cluster-scoped kind", "ClusterRole", &rbacv1.ClusterRole{ObjectMeta: meta("", "r")}, policy.OperationCreate, []got{}},
		// The control plane's own objects in default.
		{"Service kubernetes", "Service", &corev1.Service{ObjectMeta: meta("default", "kubernetes")}, policy.OperationCreate, []got{}},
		{"Endpoints kubernetes", "Endpoints", &corev1.Endpoints{ObjectMeta: meta("default", "kubernetes")}, policy.OperationUpdate, []got{}},
		{"EndpointSlice kubernetes", "EndpointSlice", &discoveryv1.EndpointSlice{ObjectMeta: meta("default", "kubernetes")}, policy.OperationUpdate, []got{}},
		{"ServiceAccount default", "ServiceAccount", &corev1.ServiceAccount{ObjectMeta: meta("default", "default"), AutomountServiceAccountToken: ptr.To(false)}, policy.OperationCreate, []got{}},
		{"ConfigMap kube-root-ca.crt", "ConfigMap", &corev1.ConfigMap{ObjectMeta: meta("default", "kube-root-ca.crt")}, policy.OperationCreate, []got{}},
		// The exceptions are by kind and name together.
		{"another Service", "Service", &corev1.Service{ObjectMeta: meta("default", "web")}, policy.OperationCreate, finding("Service")},
		{"another ServiceAccount", "ServiceAccount", &corev1.ServiceAccount{ObjectMeta: meta("default", "web")}, policy.OperationCreate, finding("ServiceAccount")},
		{"a ConfigMap named kubernetes", "ConfigMap", &corev1.ConfigMap{ObjectMeta: meta("default", "kubernetes")}, policy.OperationCreate, finding("ConfigMap")},
		// ... and API group: a Knative Service or a custom Event is a user's object.
		{"a Knative Service named kubernetes", "Service", &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "serving.knative.dev/v1", Kind: "Service"}, ObjectMeta: meta("default", "kubernetes")}, policy.OperationCreate, finding("Service")},
		{"a custom Event", "Event", &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "audit.example.com/v1", Kind: "Event"}, ObjectMeta: meta("default", "e")}, policy.OperationCreate, finding("Event")},
		{"a core Event", "Event", &corev1.Event{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Event"}, ObjectMeta: meta("default", "e")}, policy.OperationCreate, []got{}},
		{"an events.k8s.io Event", "Event", &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "events.k8s.io/v1", Kind: "Event"}, ObjectMeta: meta("default", "e")}, policy.OperationCreate, []got{}},
		{"a custom EndpointSlice named kubernetes", "EndpointSlice", &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "mesh.example.com/v1", Kind: "EndpointSlice"}, ObjectMeta: meta("default", "kubernetes")}, policy.OperationCreate, finding("EndpointSlice")},
		{"a Secret named kube-root-ca.crt", "Secret", &corev1.Secret{ObjectMeta: meta("default", "kube-root-ca.crt")}, policy.OperationCreate, finding("Secret")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, gotOf(evaluate(t, policy.EKS180, policy.DefaultSettings(), tc.kind, tc.obj, tc.op, nil, "default-namespace")))
		})
	}

	t.Run("every workload kind", func(t *testing.T) {
		for _, w := range workloads("default", corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{hardened("app")}}) {
			require.Equal(t, finding(w.Kind), gotOf(evaluate(t, policy.EKS180, policy.DefaultSettings(), w.Kind, w.Obj, policy.OperationCreate, nil, "default-namespace")), w.Kind)
		}
	})

	t.Run("ID across versions", func(t *testing.T) {
		cm := &corev1.ConfigMap{ObjectMeta: meta("default", "cfg")}
		for b, id := range map[policy.Benchmark]string{policy.EKS101: "4.6.3", policy.EKS110: "4.6.3", policy.EKS120: "4.6.3", policy.EKS150: "4.5.3", policy.EKS170: "4.5.2", policy.EKS180: "4.5.2"} {
			results := evaluate(t, b, policy.DefaultSettings(), "ConfigMap", cm, policy.OperationCreate, nil, "default-namespace")
			require.Len(t, results, 1, b)
			require.Equal(t, id, results[0].ID, b)
		}
	})
}
