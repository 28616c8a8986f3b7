package admission

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

// ns is the namespace test objects live in: it has one NetworkPolicy and the ServiceAccount
// "app", which does not mount its token, so a compliant pod there passes every check.
const ns = "team-a"

const enforceConfig = "mode: enforce\n"

// mustPolicy parses a config; one that names no benchmark is read under eks-1.8.0, whose IDs
// (4.3.2 a NetworkPolicy per namespace, 5.4.5 load balancer TLS) these tests were written with.
func mustPolicy(t testing.TB, config string) *policy.Policy {
	t.Helper()
	if !strings.Contains(config, "benchmark:") {
		config = "benchmark: eks-1.8.0\n" + config
	}
	p, err := policy.ParseConfig([]byte(config))
	require.NoError(t, err)
	return p
}

// cluster is the state of a cluster where namespace ns is ready for compliant workloads.
func cluster() *fakecluster.State {
	return &fakecluster.State{
		NetworkPolicies: map[string]int{ns: 1},
		ServiceAccounts: map[string]*corev1.ServiceAccount{fakecluster.Key(ns, "app"): {
			ObjectMeta:                   metav1.ObjectMeta{Name: "app", Namespace: ns},
			AutomountServiceAccountToken: ptr.To(false),
		}},
	}
}

var errBoom = errors.New("the cache is not synced")

// hardened is a container that passes every container check of eks-1.8.0.
func hardened(name string) corev1.Container {
	return corev1.Container{
		Name:  name,
		Image: "registry.example/" + name + ":1",
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			RunAsNonRoot:             ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

func privileged(c corev1.Container) corev1.Container {
	c.SecurityContext = c.SecurityContext.DeepCopy()
	c.SecurityContext.Privileged = ptr.To(true)
	return c
}

// compliantSpec passes every eks-1.8.0 check in namespace ns of cluster().
func compliantSpec(containers ...corev1.Container) corev1.PodSpec {
	if len(containers) == 0 {
		containers = []corev1.Container{hardened("app")}
	}
	return corev1.PodSpec{
		ServiceAccountName:           "app",
		AutomountServiceAccountToken: ptr.To(false),
		Containers:                   containers,
	}
}

func pod(namespace, name string, spec corev1.PodSpec) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       spec,
	}
}

func deployment(namespace, name string, replicas int32, spec corev1.PodSpec) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
}

// object describes a typed object as the handler does.
func object(o runtime.Object) policy.Object {
	return policy.NewObject(o.GetObjectKind().GroupVersionKind().Kind, o)
}

func objPtr(o runtime.Object) *policy.Object {
	obj := object(o)
	return &obj
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

// counterValue reads a counter as /metrics would show it.
func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	return m.GetCounter().GetValue()
}
