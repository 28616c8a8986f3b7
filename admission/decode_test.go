package admission

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/manifest"
	"github.com/cisgate/cisgate/policy"
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
		if _, custom := o.Raw.(*metav1.PartialObjectMetadata); custom {
			continue // a custom resource: only its metadata is decoded, by both
		}
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
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "App", Name: "shop", UID: "1", Controller: ptr.To(true)}},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "shop"}},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromString("25%")), MaxSurge: ptr.To(intstr.FromInt32(1)),
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
							LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password", Optional: ptr.To(false),
						}}}},
						SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true), RunAsUser: ptr.To[int64](0),
							Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}},
					}},
					TerminationGracePeriodSeconds: ptr.To[int64](30),
					HostNetwork:                   true,
				},
			},
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 3, Conditions: []appsv1.DeploymentCondition{{
			Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, LastUpdateTime: now, LastTransitionTime: now,
		}}},
	}
}

// TestReviewDecodingMatchesControllerRuntime holds the one-pass review decoding to what cisgate
// decided with before it: controller-runtime's codec for the AdmissionReview and encoding/json for
// the object. Every object of the manifest corpus (and a Deployment as the API server sends it, and
// a custom resource) goes in as CREATE, UPDATE (with itself as the old object) and DELETE, in a
// review with user info, dry run, and a name and namespace the object may not carry.
func TestReviewDecodingMatchesControllerRuntime(t *testing.T) {
	loaded := manifest.Load([]string{"../test/testdata/manifests/compliant", "../test/testdata/manifests/noncompliant"}, nil)
	require.Empty(t, loaded.Errors)
	raws := [][]byte{mustJSON(t, apiServerDeployment()),
		[]byte(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"generateName":"w-","labels":{"a":"b"}},"spec":{"containers":"not a list"}}`)}
	for _, o := range loaded.Objects {
		raws = append(raws, mustJSON(t, o.Raw))
	}
	require.Greater(t, len(raws), 30)

	admissionScheme := runtime.NewScheme()
	require.NoError(t, admissionv1.AddToScheme(admissionScheme))
	codec := serializer.NewCodecFactory(admissionScheme).UniversalDeserializer()

	for _, raw := range raws {
		var meta metav1.PartialObjectMetadata
		require.NoError(t, json.Unmarshal(raw, &meta))
		gv, err := schema.ParseGroupVersion(meta.APIVersion)
		require.NoError(t, err)
		gvk := metav1.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: meta.Kind}
		for _, op := range []admissionv1.Operation{admissionv1.Create, admissionv1.Update, admissionv1.Delete} {
			sent := admissionv1.AdmissionRequest{
				UID: "7b1f", Kind: gvk, Name: "from-the-request", Namespace: "team-b", Operation: op,
				UserInfo: authenticationv1.UserInfo{Username: "alice", Groups: []string{"dev", "system:authenticated"}},
				DryRun:   ptr.To(true),
			}
			switch op {
			case admissionv1.Create:
				sent.Object.Raw = raw
			case admissionv1.Update:
				sent.Object.Raw, sent.OldObject.Raw = raw, raw
			case admissionv1.Delete:
				sent.OldObject.Raw = raw
			}
			body := mustJSON(t, admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: &sent})

			// Before: controller-runtime's decoding of the review, encoding/json's of the object.
			var before admissionv1.AdmissionReview
			_, _, err := codec.Decode(body, nil, &before)
			require.NoError(t, err)
			want := referenceRequest(t, before.Request)

			var now review
			require.NoError(t, gojson.UnmarshalNoEscape(body, &now))
			got, err := decodeRequest(now.Request)
			require.NoError(t, err)
			if !reflect.DeepEqual(want, got) {
				t.Errorf("%s %s decodes differently:\nwant %#v\n got %#v", op, gvk.Kind, want, got)
			}
			assert.Equal(t, before.Request.UID, now.Request.UID)
			assert.Equal(t, before.Request.DryRun, now.Request.DryRun)
			assert.Equal(t, before.Request.Operation, now.Request.Operation)
		}
	}
}

// referenceRequest builds Decide's Request from a controller-runtime-decoded request with
// encoding/json, as the handler did before it decoded reviews itself.
func referenceRequest(t *testing.T, req *admissionv1.AdmissionRequest) Request {
	t.Helper()
	decode := func(raw []byte) *policy.Object {
		gvk := schema.GroupVersionKind{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind}
		var obj runtime.Object = &metav1.PartialObjectMetadata{}
		if typed, err := scheme.Scheme.New(gvk); err == nil {
			obj = typed
		}
		require.NoError(t, json.Unmarshal(raw, obj))
		o := policy.NewObjectOf(gvk.GroupKind(), obj)
		if o.Namespace == "" {
			o.Namespace = req.Namespace
		}
		if o.Scope == policy.ScopeUnknown {
			// A custom kind's scope is the request's: a namespace means namespaced.
			o.Scope, o.Namespaced = policy.ScopeCluster, req.Namespace != ""
			if o.Namespaced {
				o.Scope = policy.ScopeNamespaced
			}
		}
		if o.Scope == policy.ScopeCluster {
			o.Namespace = ""
		}
		if o.Name == "" {
			o.Name = req.Name
		}
		return &o
	}
	r := Request{SubResource: req.SubResource, Username: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	switch req.Operation {
	case admissionv1.Create:
		r.Operation, r.Object = policy.OperationCreate, *decode(req.Object.Raw)
	case admissionv1.Update:
		r.Operation, r.Object, r.OldObject = policy.OperationUpdate, *decode(req.Object.Raw), decode(req.OldObject.Raw)
	case admissionv1.Delete:
		r.Operation, r.Object = policy.OperationDelete, *decode(req.OldObject.Raw)
	}
	return r
}

// TestNamespaceHasNoNamespace: the API server sends a Namespace's own name as the request's
// namespace; the decoded Namespace must not take it as its namespace (denials would name
// "team-a/team-a").
func TestNamespaceHasNoNamespace(t *testing.T) {
	req := &reviewRequest{Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Namespace"}, Name: "team-a", Namespace: "team-a",
		Operation: admissionv1.Create, Object: []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}}`)}
	got, err := decodeRequest(req)
	require.NoError(t, err)
	assert.Equal(t, "team-a", got.Object.Name)
	assert.Empty(t, got.Object.Namespace)
}
