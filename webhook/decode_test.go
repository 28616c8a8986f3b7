package webhook

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/cisgate/cisgate/manifest"
)

// TestDecodeObjectMatchesEncodingJSON holds the webhook's fast decoder to encoding/json, the
// reference: every object of the manifest corpus, and a Deployment as the API server sends it
// (managedFields, quantities, int-or-string ports, timestamps, status), must decode to exactly
// what encoding/json gives.
func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	loaded := manifest.Load([]string{"../test/testdata/manifests/compliant", "../test/testdata/manifests/noncompliant"}, nil)
	require.Empty(t, loaded.Errors)
	objects := []runtime.Object{apiServerDeployment()}
	for _, o := range loaded.Objects {
		objects = append(objects, o.Raw)
	}
	require.Greater(t, len(objects), 30)
	for _, obj := range objects {
		gvk, err := apiGVK(obj)
		require.NoError(t, err)
		raw, err := json.Marshal(obj)
		require.NoError(t, err)

		want, err := scheme.Scheme.New(gvk)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, want))
		got, err := decodeObject(metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}, raw, "", "")
		require.NoError(t, err)
		if !reflect.DeepEqual(want, got.Raw) {
			t.Errorf("%s decodes differently from encoding/json:\nwant %#v\n got %#v", gvk.Kind, want, got.Raw)
		}
	}
}

func apiGVK(obj runtime.Object) (gvk schema.GroupVersionKind, err error) {
	kinds, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return gvk, err
	}
	return kinds[0], nil
}

// apiServerDeployment is a Deployment with what the API server adds before admission.
func apiServerDeployment() *appsv1.Deployment {
	now := metav1.NewTime(time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC))
	return &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "shop", Namespace: "team-a", UID: "6a1e6f4c-0c3e-4a8c-9f57-0a5b7d3c2e11", Generation: 3,
			CreationTimestamp: now, Labels: map[string]string{"app": "shop"},
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "7"},
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "apps/v1",
				Time: &now, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)},
			}},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "App", Name: "shop", UID: "1", Controller: ptr(true)}},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "shop"}},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr(intstr.FromString("25%")), MaxSurge: ptr(intstr.FromInt32(1)),
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "shop"}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "app", Image: "registry.example/app:1",
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
						},
						LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}, PeriodSeconds: 10},
						Env: []corev1.EnvVar{{Name: "DB", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
							LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password", Optional: ptr(false),
						}}}},
						SecurityContext: &corev1.SecurityContext{Privileged: ptr(true), RunAsUser: ptr[int64](0),
							Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}},
					}},
					TerminationGracePeriodSeconds: ptr[int64](30),
					HostNetwork:                   true,
				},
			},
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 3, Conditions: []appsv1.DeploymentCondition{{
			Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, LastUpdateTime: now, LastTransitionTime: now,
		}}},
	}
}
