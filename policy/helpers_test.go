package policy_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
)

// testNamespace is where the test objects live unless a case says otherwise.
const testNamespace = "team-a"

// workload is one pod spec wrapped in one of the kinds that carry a pod template.
type workload struct {
	Kind string
	// Prefix is the path of the pod spec from the object's root.
	Prefix string
	Obj    runtime.Object
}

// workloads wraps spec into every kind that carries a pod spec, each named "web" in namespace ns,
// so a pod check's table runs across all of them.
func workloads(ns string, spec corev1.PodSpec) []workload {
	meta := metav1.ObjectMeta{Name: "web", Namespace: ns}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: *spec.DeepCopy()}
	clone := func() corev1.PodTemplateSpec { return *tmpl.DeepCopy() }
	rcTmpl := clone()
	return []workload{
		{"Pod", "spec", &corev1.Pod{ObjectMeta: meta, Spec: *spec.DeepCopy()}},
		{"Deployment", "spec.template.spec", &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: clone()}}},
		{"ReplicaSet", "spec.template.spec", &appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Template: clone()}}},
		{"StatefulSet", "spec.template.spec", &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Template: clone()}}},
		{"DaemonSet", "spec.template.spec", &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: clone()}}},
		{"Job", "spec.template.spec", &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: clone()}}},
		{"CronJob", "spec.jobTemplate.spec.template.spec", &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{
			Schedule: "*/5 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: clone()}}}}},
		{"ReplicationController", "spec.template.spec", &corev1.ReplicationController{ObjectMeta: meta, Spec: corev1.ReplicationControllerSpec{Template: &rcTmpl}}},
		{"PodTemplate", "template.spec", &corev1.PodTemplate{ObjectMeta: meta, Template: clone()}},
	}
}

// got is the user-visible part of a result.
type got struct {
	ID     string
	Status policy.Status
	Path   string
	Detail string
}

// want is an expected finding of a pod check; Path is relative to the pod spec ("containers[0].image")
// and gets the kind's prefix, unless Abs says it is from the object's root.
type want struct {
	Status policy.Status
	Path   string
	Detail string
	Abs    bool
}

func fails(path, detail string) want {
	return want{Status: policy.StatusFail, Path: path, Detail: detail}
}
func warns(path, detail string) want {
	return want{Status: policy.StatusWarn, Path: path, Detail: detail}
}

func evaluator(t testing.TB, b policy.Benchmark, settings policy.Settings) *policy.Evaluator {
	t.Helper()
	cat, err := policy.CatalogueFor(b)
	require.NoError(t, err)
	return policy.NewEvaluator(cat, policy.DefaultRegistry(), settings)
}

// evaluate runs every check of benchmark b on obj and returns the results of one slug.
func evaluate(t testing.TB, b policy.Benchmark, settings policy.Settings, kind string, obj runtime.Object, op policy.Operation, lookup policy.Lookup, slug policy.Slug) []policy.Finding {
	t.Helper()
	var out []policy.Finding
	for _, r := range evaluator(t, b, settings).Evaluate(policy.NewObject(kind, obj), op, lookup) {
		if r.Slug == slug {
			out = append(out, r)
		}
	}
	return out
}

func gotOf(results []policy.Finding) []got {
	out := []got{}
	for _, r := range results {
		out = append(out, got{ID: r.ID, Status: r.Status, Path: r.Path, Detail: r.Detail})
	}
	return out
}

// podCase is one row of a pod check's table.
type podCase struct {
	name   string
	spec   corev1.PodSpec
	ns     string // default testNamespace
	noNS   bool   // no namespace at all (a manifest that takes kubectl's)
	lookup policy.Lookup
	want   []want
}

// podCheck runs a pod check's table across every workload kind in benchmark b, where the check
// has ID id, asserting each finding's ID, Status, Path (with the kind's prefix) and Detail.
func podCheck(t *testing.T, b policy.Benchmark, settings policy.Settings, slug policy.Slug, id string, cases []podCase) {
	t.Helper()
	for _, tc := range cases {
		ns := tc.ns
		if ns == "" && !tc.noNS {
			ns = testNamespace
		}
		for _, w := range workloads(ns, tc.spec) {
			t.Run(tc.name+"/"+w.Kind, func(t *testing.T) {
				expected := []got{}
				for _, wt := range tc.want {
					p := wt.Path
					if !wt.Abs {
						p = w.Prefix + "." + p
					}
					expected = append(expected, got{ID: id, Status: wt.Status, Path: p, Detail: wt.Detail})
				}
				require.Equal(t, expected, gotOf(evaluate(t, b, settings, w.Kind, w.Obj, policy.OperationCreate, tc.lookup, slug)))
			})
		}
	}
}

// ruleCase is one row of an RBAC rule check's table: the rules go in a Role and a ClusterRole.
type ruleCase struct {
	name  string
	rules []rbacv1.PolicyRule
	want  []want // Path is absolute ("rules[0]")
}

func rbacTable(t *testing.T, b policy.Benchmark, slug policy.Slug, id string, cases []ruleCase) {
	t.Helper()
	rbacTableScoped(t, b, slug, id, cases, false)
}

// clusterRBACTable is rbacTable for a check on cluster-scoped resources: a Role grants nothing on
// them (a Role's rules apply inside its namespace), so the Role never fails, whatever its rules.
func clusterRBACTable(t *testing.T, b policy.Benchmark, slug policy.Slug, id string, cases []ruleCase) {
	t.Helper()
	rbacTableScoped(t, b, slug, id, cases, true)
}

func rbacTableScoped(t *testing.T, b policy.Benchmark, slug policy.Slug, id string, cases []ruleCase, clusterScoped bool) {
	t.Helper()
	for _, tc := range cases {
		objs := map[string]runtime.Object{
			"Role":        &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: testNamespace}, Rules: tc.rules},
			"ClusterRole": &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Rules: tc.rules},
		}
		for kind, obj := range objs {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				expected := []got{}
				for _, wt := range tc.want {
					if clusterScoped && kind == "Role" {
						break
					}
					expected = append(expected, got{ID: id, Status: wt.Status, Path: wt.Path, Detail: wt.Detail})
				}
				require.Equal(t, expected, gotOf(evaluate(t, b, policy.DefaultSettings(), kind, obj, policy.OperationCreate, nil, slug)))
			})
		}
	}
}

func rule(groups, resources, verbs []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs}
}

func ss(s ...string) []string { return s }

var errForbidden = errors.New(`serviceaccounts "app" is forbidden: User "cisgate" cannot get resource`)

// container builders.

func ctr(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "registry.example/app:1"}
}

func withSC(c corev1.Container, sc corev1.SecurityContext) corev1.Container {
	c.SecurityContext = &sc
	return c
}

func ephemeral(c corev1.Container) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c)}
}

// hardened is a container that passes every container-level check of every benchmark.
func hardened(name string) corev1.Container {
	return withSC(ctr(name), corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		RunAsNonRoot:             ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	})
}

func windows(spec corev1.PodSpec) corev1.PodSpec {
	spec.OS = &corev1.PodOS{Name: corev1.Windows}
	return spec
}
