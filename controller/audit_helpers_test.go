package controller

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

const cisgateNamespace = "cisgate-system"

// paginate makes the fake clientset's lists of a resource honour Limit and Continue as the API
// server does (the fake ignores them), and returns the options of every list request.
func paginate(client *fake.Clientset, resource string) func() []metav1.ListOptions {
	var mu sync.Mutex
	var requests []metav1.ListOptions
	client.PrependReactor("list", resource, func(action k8stesting.Action) (bool, runtime.Object, error) {
		list, ok := action.(k8stesting.ListActionImpl)
		if !ok {
			return false, nil, nil
		}
		mu.Lock()
		requests = append(requests, list.ListOptions)
		mu.Unlock()
		all, err := client.Tracker().List(list.GetResource(), list.Kind, list.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		items, err := meta.ExtractList(all)
		if err != nil {
			return true, nil, err
		}
		slices.SortFunc(items, func(a, b runtime.Object) int {
			ma, _ := meta.Accessor(a)
			mb, _ := meta.Accessor(b)
			return cmp.Or(cmp.Compare(ma.GetNamespace(), mb.GetNamespace()), cmp.Compare(ma.GetName(), mb.GetName()))
		})
		from := 0
		if list.ListOptions.Continue != "" {
			if from, err = strconv.Atoi(list.ListOptions.Continue); err != nil {
				return true, nil, err
			}
		}
		to := len(items)
		if limit := int(list.ListOptions.Limit); limit > 0 {
			to = min(from+limit, len(items))
		}
		if err := meta.SetList(all, items[from:to]); err != nil {
			return true, nil, err
		}
		listMeta, err := meta.ListAccessor(all)
		if err != nil {
			return true, nil, err
		}
		if to < len(items) {
			listMeta.SetContinue(strconv.Itoa(to))
		}
		return true, all, nil
	})
	return func() []metav1.ListOptions {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(requests)
	}
}

// mustPolicy parses a config; one that names no benchmark is read under eks-1.8.0, whose IDs
// these tests were written with (the tests that are about eks-2.0.0 name it).
func mustPolicy(t testing.TB, config string) *policy.Policy {
	t.Helper()
	if !strings.Contains(config, "benchmark:") {
		config = "benchmark: eks-1.8.0\n" + config
	}
	p, err := policy.ParseConfig([]byte(config))
	require.NoError(t, err)
	return p
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, UID: types.UID("uid-ns-" + name)}}
}

func wildcardRole(ns, name string) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}},
	}
}

// podSpec is a spec that passes every pod check except what the test sets on it.
func podSpec(serviceAccount string) corev1.PodSpec {
	return corev1.PodSpec{
		ServiceAccountName:           serviceAccount,
		AutomountServiceAccountToken: ptr.To(false),
		SecurityContext:              &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "app", Image: "app:1", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}}},
	}
}

func privileged(spec corev1.PodSpec) corev1.PodSpec {
	spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
	return spec
}

func pod(ns, name string, spec corev1.PodSpec, owner ...metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name), OwnerReferences: owner}, Spec: spec}
}

func deployment(ns, name string, spec corev1.PodSpec) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)},
		Spec:       appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: spec}},
	}
}

func controllerRef(apiVersion, kind, name string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-owner-" + name), Controller: ptr.To(true)}
}

// failing lists the objects with an unexempted FAIL of a check, as "Kind namespace/name".
func failing(run *AuditRun, id string) []string {
	var out []string
	for _, f := range run.Report.Findings {
		if f.ID == id && f.Status == policy.StatusFail && f.ExemptReason == "" && !slices.Contains(out, f.Object.String()) {
			out = append(out, f.Object.String())
		}
	}
	return out
}

func findingsOf(run *AuditRun, id string, obj output.ObjectRef) []output.Finding {
	var out []output.Finding
	for _, f := range run.Report.Findings {
		if f.ID == id && f.Object == obj {
			out = append(out, f)
		}
	}
	return out
}

// reportKey reads and decodes one key of the report ConfigMap.
func reportKey[T any](t testing.TB, client *fake.Clientset, key report.Key) (T, int) {
	t.Helper()
	var v T
	cm, err := client.CoreV1().ConfigMaps(cisgateNamespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	data, ok := cm.Data[key.Name]
	require.True(t, ok, "the report ConfigMap has key %s", key.Name)
	require.NoError(t, json.Unmarshal([]byte(data), &v))
	return v, len(data)
}
