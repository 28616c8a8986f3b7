package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	ctrladmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/cisgate/cisgate/admission"
	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/internal/testcerts"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/webhook"
)

// warning is what cisgate answers for deploymentReview in audit mode.
const warning = `[4.2.5] container \"log-shipper\" must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)`

// deploymentReview is the review of admission/bench_test.go: a 3-container Deployment CREATE in
// namespace team-a, one audit finding (4.2.5).
var deploymentReview = func() []byte {
	c := func(name string, port int32) corev1.Container {
		return corev1.Container{
			Name: name, Image: "registry.example/" + name + ":1",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port}},
			Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
			},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}, PeriodSeconds: 5},
			VolumeMounts:   []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false), RunAsNonRoot: ptr.To(true),
				Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
		}
	}
	shipper := c("log-shipper", 2020)
	shipper.SecurityContext.AllowPrivilegeEscalation = nil
	labels := map[string]string{"app": "shop"}
	d := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "team-a",
			Labels:      map[string]string{"app.kubernetes.io/name": "shop", "app.kubernetes.io/part-of": "storefront"},
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "7"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				ServiceAccountName: "app", AutomountServiceAccountToken: ptr.To(false),
				Containers: []corev1.Container{c("app", 8080), c("proxy", 15001), shipper},
				Volumes:    []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			}},
		},
	}
	raw, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	review, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "0f8e5a8c-8b49-4d67-9a65-2b3f8a8f1c11", Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			Resource: metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
			Name:     "shop", Namespace: "team-a", Operation: admissionv1.Create,
			Object: runtime.RawExtension{Raw: raw}, DryRun: ptr.To(false),
		},
	})
	if err != nil {
		panic(err)
	}
	return review
}()

// uniqueKindReview is a review of a kind and operation no one has sent before (admitted: an
// unknown kind outside the default namespace has nothing to check).
func uniqueKindReview(i int) []byte {
	return fmt.Appendf(nil, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u%d",`+
		`"kind":{"group":"evil.example","version":"v1","kind":"Kind%d"},"operation":"OP%d","namespace":"team-a","name":"x",`+
		`"object":{"metadata":{"name":"x","namespace":"team-a"}}}}`, i, i, i)
}

// state is the cluster the harness's webhook sees: team-a has a NetworkPolicy and the
// ServiceAccount "app" without a token.
var state = &fakecluster.State{
	NetworkPolicies: map[string]int{"team-a": 1},
	ServiceAccounts: map[string]*corev1.ServiceAccount{fakecluster.Key("team-a", "app"): {
		ObjectMeta:                   metav1.ObjectMeta{Name: "app", Namespace: "team-a"},
		AutomountServiceAccountToken: ptr.To(false),
	}},
}

// counter counts the decisions the handler hands to reporting.
type counter struct{ n atomic.Int64 }

func (c *counter) Record(admission.Record) { c.n.Add(1) }

func serveWebhook(ctx context.Context, delay time.Duration) error {
	dir, err := os.MkdirTemp("", "cisgate-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if _, err := testcerts.WriteServing(dir); err != nil {
		return err
	}
	pol, err := policy.ParseConfig([]byte("mode: audit\n"))
	if err != nil {
		return err
	}
	rec := &counter{}
	srv := webhook.NewServer(webhook.ServerOptions{Host: "127.0.0.1", CertDir: dir, ShutdownDelay: delay, DrainTimeout: 10 * time.Second})
	srv.Register(webhook.Path, &admission.Handler{
		Policy: func() *policy.Policy { return pol }, State: state, Recorder: rec,
		Bodies: admission.NewBodyBudget(admission.DefaultBodyBudget),
	})
	// The ceiling: controller-runtime's admission.Webhook admitting everything, on the same server.
	srv.Register("/allow", &ctrladmission.Webhook{Handler: ctrladmission.HandlerFunc(func(context.Context, ctrladmission.Request) ctrladmission.Response {
		return ctrladmission.Allowed("")
	})})
	srv.Register("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	for srv.Addr() == "" {
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Millisecond):
		}
	}
	fmt.Println("listening", srv.Addr())
	err = <-done
	fmt.Println("recorded", rec.n.Load())
	return err
}
