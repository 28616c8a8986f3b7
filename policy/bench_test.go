package policy_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

// benchPodTemplate is a realistic hardened pod: an init container and two regular ones (app and
// a log-shipping sidecar), seccomp RuntimeDefault, non-root, every capability dropped, probes,
// resources, env and volumes. It passes PSA restricted and every eks-1.8.0 check.
func benchPodTemplate() corev1.PodTemplateSpec {
	hardenedSC := func() *corev1.SecurityContext {
		return &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsNonRoot:             ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}
	}
	res := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
	const registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/"
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "storefront", "app.kubernetes.io/version": "1.8.2"},
			Annotations: map[string]string{"prometheus.io/scrape": "true"}},
		Spec: corev1.PodSpec{
			ServiceAccountName: "storefront",
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(10001)), RunAsGroup: ptr.To(int64(10001)), FSGroup: ptr.To(int64(10001)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			InitContainers: []corev1.Container{{
				Name: "migrate", Image: registry + "storefront-migrate:1.8.2", Args: []string{"--up"},
				Env:             []corev1.EnvVar{{Name: "DB_HOST", Value: "postgres.shop.svc"}, {Name: "DB_CREDENTIALS_FILE", Value: "/var/run/secrets/db/password"}},
				VolumeMounts:    []corev1.VolumeMount{{Name: "db-credentials", MountPath: "/var/run/secrets/db", ReadOnly: true}},
				Resources:       res,
				SecurityContext: hardenedSC(),
			}},
			Containers: []corev1.Container{
				{
					Name: "app", Image: registry + "storefront:1.8.2",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
					Env: []corev1.EnvVar{
						{Name: "DB_CREDENTIALS_FILE", Value: "/var/run/secrets/db/password"},
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "LOG_LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "storefront"}, Key: "logLevel"}}},
					},
					EnvFrom:         []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "storefront-env"}}}},
					ReadinessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}},
					LivenessProbe:   &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/livez", Port: intstr.FromString("http")}}},
					VolumeMounts:    []corev1.VolumeMount{{Name: "db-credentials", MountPath: "/var/run/secrets/db", ReadOnly: true}, {Name: "tmp", MountPath: "/tmp"}},
					Resources:       res,
					SecurityContext: hardenedSC(),
				},
				{
					Name: "log-shipper", Image: registry + "fluent-bit:3.2",
					Args:            []string{"-c", "/fluent-bit/etc/fluent-bit.conf"},
					VolumeMounts:    []corev1.VolumeMount{{Name: "fluent-bit-config", MountPath: "/fluent-bit/etc", ReadOnly: true}},
					Resources:       res,
					SecurityContext: hardenedSC(),
				},
			},
			Volumes: []corev1.Volume{
				{Name: "db-credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "storefront-db"}}},
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "fluent-bit-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "fluent-bit"}}}},
			},
		},
	}
}

func benchDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "storefront", Namespace: "shop", Labels: map[string]string{"app.kubernetes.io/name": "storefront"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "storefront"}},
			Template: benchPodTemplate(),
		},
	}
}

// benchLookup answers as an informer cache would: the namespace has NetworkPolicies and the
// ServiceAccount does not mount its token (so 4.1.6 is decided through the lookup).
var benchLookup = &fakecluster.State{
	NetworkPolicies: map[string]int{"shop": 2},
	ServiceAccounts: map[string]*corev1.ServiceAccount{"shop/storefront": {
		ObjectMeta: metav1.ObjectMeta{Name: "storefront", Namespace: "shop"}, AutomountServiceAccountToken: ptr.To(false)}},
}

// BenchmarkEvaluateDeployment is the per-request cost of the policy engine on a Deployment at
// admission: describing the object (pod-spec extraction) and every eks-1.8.0 check that applies.
func BenchmarkEvaluateDeployment(b *testing.B) {
	ev := evaluator(b, policy.EKS180, policy.DefaultSettings())
	d := benchDeployment()
	if r := ev.Evaluate(policy.NewObject("Deployment", d), policy.OperationCreate, benchLookup); len(r) != 0 {
		b.Fatalf("the benchmark Deployment should pass every check, got %v", r)
	}
	b.ReportAllocs()
	for b.Loop() {
		ev.Evaluate(policy.NewObject("Deployment", d), policy.OperationCreate, benchLookup)
	}
}

// BenchmarkEvaluateClusterRole evaluates a controller-style ClusterRole of 10 rules, one of
// which reads Secrets (one finding).
func BenchmarkEvaluateClusterRole(b *testing.B) {
	ev := evaluator(b, policy.EKS180, policy.DefaultSettings())
	cr := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "storefront-operator"},
		Rules: []rbacv1.PolicyRule{
			rule(ss(""), ss("configmaps"), ss("get", "list", "watch")),
			rule(ss(""), ss("secrets"), ss("get", "list", "watch")),
			rule(ss(""), ss("services", "endpoints"), ss("get", "list", "watch")),
			rule(ss(""), ss("events"), ss("create", "patch")),
			rule(ss("apps"), ss("deployments", "statefulsets"), ss("get", "list", "watch", "update", "patch")),
			rule(ss("apps"), ss("deployments/status"), ss("get", "update")),
			rule(ss("batch"), ss("jobs", "cronjobs"), ss("get", "list", "watch")),
			rule(ss("networking.k8s.io"), ss("ingresses", "networkpolicies"), ss("get", "list", "watch")),
			rule(ss("coordination.k8s.io"), ss("leases"), ss("get", "create", "update")),
			rule(ss("shop.example.com"), ss("storefronts", "storefronts/status", "storefronts/finalizers"), ss("get", "list", "watch", "update", "patch")),
		},
	}
	if r := ev.Evaluate(policy.NewObject("ClusterRole", cr), policy.OperationCreate, benchLookup); len(r) != 1 {
		b.Fatalf("want the one secrets-access finding, got %v", r)
	}
	b.ReportAllocs()
	for b.Loop() {
		ev.Evaluate(policy.NewObject("ClusterRole", cr), policy.OperationCreate, benchLookup)
	}
}

// BenchmarkPSARestrictedPod is Pod Security Admission's evaluator, level restricted, version
// latest, on the same pod spec: the yardstick for BenchmarkEvaluateDeployment.
func BenchmarkPSARestrictedPod(b *testing.B) {
	ev, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		b.Fatal(err)
	}
	lv := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "storefront", Namespace: "shop"}, Spec: benchPodTemplate().Spec}
	for _, r := range ev.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec) {
		if !r.Allowed {
			b.Fatalf("the benchmark pod should pass PSA restricted: %s: %s", r.ForbiddenReason, r.ForbiddenDetail)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		ev.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec)
	}
}
