package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/fixtures"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// createLegacy fills a new namespace (without a NetworkPolicy) with objects of every audited kind
// that were there before cisgate, each breaking one rule, and returns the namespace and what the
// audit must list: "Kind namespace/name" (or "Kind name") per check ID.
func createLegacy(t *testing.T) (string, map[string][]string) {
	t.Helper()
	ctx := context.Background()
	cs := env.Clientset
	ns := env.Namespace(t, "legacy")
	clusterRole, clusterBinding, albClass := ns+"-reads-apps", ns+"-admins", ns+"-external"
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoles().Delete(context.Background(), clusterRole, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), clusterBinding, metav1.DeleteOptions{})
		_ = cs.NetworkingV1().IngressClasses().Delete(context.Background(), albClass, metav1.DeleteOptions{})
	})
	create := func(_ any, err error) { t.Helper(); require.NoError(t, err) }
	create(cs.CoreV1().ServiceAccounts(ns).Create(ctx, serviceAccount(ns, "web", ptr.To(false)), metav1.CreateOptions{}))
	create(cs.CoreV1().ServiceAccounts(ns).Create(ctx, serviceAccount(ns, "default", nil), metav1.CreateOptions{}))
	create(cs.CoreV1().ServiceAccounts(ns).Create(ctx, serviceAccount(ns, "builder", nil), metav1.CreateOptions{}))
	create(cs.CoreV1().Pods(ns).Create(ctx, pod(ns, "privileged", spec(makePrivileged)), metav1.CreateOptions{}))
	create(cs.CoreV1().ReplicationControllers(ns).Create(ctx, replicationController(ns, "host-pid", spec(func(s *corev1.PodSpec) { s.HostPID = true })), metav1.CreateOptions{}))
	create(cs.CoreV1().PodTemplates(ns).Create(ctx, podTemplate(ns, "host-ipc", spec(func(s *corev1.PodSpec) { s.HostIPC = true })), metav1.CreateOptions{}))
	create(cs.CoreV1().Services(ns).Create(ctx, loadBalancer(ns, "public"), metav1.CreateOptions{}))
	create(cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "host-network", spec(func(s *corev1.PodSpec) { s.HostNetwork = true })), metav1.CreateOptions{}))
	create(cs.AppsV1().ReplicaSets(ns).Create(ctx, replicaSet(ns, "env-secrets", spec(func(s *corev1.PodSpec) {
		s.Containers[0].Env = []corev1.EnvVar{{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}}}
	})), metav1.CreateOptions{}))
	create(cs.AppsV1().StatefulSets(ns).Create(ctx, statefulSet(ns, "escalating", spec(func(s *corev1.PodSpec) {
		s.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	})), metav1.CreateOptions{}))
	create(cs.AppsV1().DaemonSets(ns).Create(ctx, daemonSet(ns, "default-sa", spec(func(s *corev1.PodSpec) { s.ServiceAccountName = "" })), metav1.CreateOptions{}))
	create(cs.BatchV1().Jobs(ns).Create(ctx, job(ns, "mounts-token", spec(func(s *corev1.PodSpec) {
		// Neither the pod nor its ServiceAccount turns the token off: decided by looking it up.
		s.ServiceAccountName, s.AutomountServiceAccountToken = "builder", nil
	})), metav1.CreateOptions{}))
	create(cs.BatchV1().CronJobs(ns).Create(ctx, cronJob(ns, "privileged-nightly", spec(makePrivileged)), metav1.CreateOptions{}))
	create(cs.RbacV1().Roles(ns).Create(ctx, secretReader(ns, "secret-reader"), metav1.CreateOptions{}))
	create(cs.RbacV1().ClusterRoles().Create(ctx, wildcardClusterRole(clusterRole), metav1.CreateOptions{}))
	create(cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "alice-admin"},
		RoleRef: clusterAdmin, Subjects: userSubject("alice")}, metav1.CreateOptions{}))
	create(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: clusterBinding},
		RoleRef: clusterAdmin, Subjects: userSubject("bob")}, metav1.CreateOptions{}))
	create(cs.NetworkingV1().Ingresses(ns).Create(ctx, albIngress(ns, "no-tls"), metav1.CreateOptions{}))
	// An ALB by its IngressClass, whatever the class is called (5.4.5 follows the class).
	create(cs.NetworkingV1().IngressClasses().Create(ctx, ingressClass(albClass, "ingress.k8s.aws/alb"), metav1.CreateOptions{}))
	create(cs.NetworkingV1().Ingresses(ns).Create(ctx, ingressOfClass(ns, "alb-by-class", albClass), metav1.CreateOptions{}))

	in := func(kind, name string) string { return kind + " " + ns + "/" + name }
	return ns, map[string][]string{
		"4.1.1": {in("RoleBinding", "alice-admin"), "ClusterRoleBinding " + clusterBinding},
		"4.1.2": {in("Role", "secret-reader")},
		"4.1.3": {"ClusterRole " + clusterRole},
		"4.1.5": {in("ServiceAccount", "default"), in("DaemonSet", "default-sa")},
		"4.1.6": {in("Job", "mounts-token")},
		"4.2.1": {in("Pod", "privileged"), in("CronJob", "privileged-nightly")},
		"4.2.2": {in("ReplicationController", "host-pid")},
		"4.2.3": {in("PodTemplate", "host-ipc")},
		"4.2.4": {in("Deployment", "host-network")},
		"4.2.5": {in("StatefulSet", "escalating")},
		"4.3.2": {"Namespace " + ns},
		"4.4.1": {in("ReplicaSet", "env-secrets")},
		"5.4.5": {in("Service", "public"), in("Ingress", "no-tls"), in("Ingress", "alb-by-class")},
	}
}

func TestPreexistingObjectsOfEveryKindAreInAuditJSON(t *testing.T) {
	framework.Require(t, env)
	_, want := createLegacy(t)
	require.NoError(t, newAuditor(t, env, nil).RunOnce(context.Background()))

	got, _ := reportKey[report.AuditReport](t, env, report.AuditKey())
	assert.Equal(t, report.SchemaVersion, got.SchemaVersion)
	assert.False(t, got.Truncated)
	for id, objects := range want {
		for _, obj := range objects {
			assert.Contains(t, failingObjects(got, id), obj, "audit.json lists %s under %s", obj, id)
		}
	}

	summary, _ := reportKey[controller.Summary](t, env, report.SummaryKey())
	assert.Equal(t, "eks-1.8.0", string(summary.Benchmark))
	require.Contains(t, summary.Checks, "4.2.1")
	assert.GreaterOrEqual(t, summary.Checks["4.2.1"].Audit.Fail, 2)
	assert.Equal(t, 1, summary.Sources[controller.SourceAudit].Merged)
}

func TestAFixedObjectLeavesAuditJSONAtTheNextCycle(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t, "fixing")
	_, err := env.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "api", spec(makePrivileged)), metav1.CreateOptions{})
	require.NoError(t, err)
	auditor := newAuditor(t, env, nil)
	object := "Deployment " + ns + "/api"

	require.NoError(t, auditor.RunOnce(ctx))
	got, _ := reportKey[report.AuditReport](t, env, report.AuditKey())
	require.True(t, listed(got, "4.2.1", object))

	d, err := env.Clientset.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	require.NoError(t, err)
	d.Spec.Template.Spec = fixtures.HardenedPodSpec()
	_, err = env.Clientset.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)

	require.NoError(t, auditor.RunOnce(ctx))
	got, _ = reportKey[report.AuditReport](t, env, report.AuditKey())
	assert.False(t, listed(got, "4.2.1", object), "fixed: no longer listed")
}

func TestANamespaceGainsAndLosesItsNetworkPolicyFinding(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t, "netpol")
	auditor := newAuditor(t, env, nil)
	object := "Namespace " + ns
	audit := func() report.AuditReport {
		t.Helper()
		require.NoError(t, auditor.RunOnce(ctx))
		got, _ := reportKey[report.AuditReport](t, env, report.AuditKey())
		return got
	}

	assert.True(t, listed(audit(), "4.3.2", object), "no NetworkPolicy yet")
	_, err := env.Clientset.NetworkingV1().NetworkPolicies(ns).Create(ctx, denyAll(ns), metav1.CreateOptions{})
	require.NoError(t, err)
	assert.False(t, listed(audit(), "4.3.2", object), "a NetworkPolicy was created")
	require.NoError(t, env.Clientset.NetworkingV1().NetworkPolicies(ns).Delete(ctx, "deny-all", metav1.DeleteOptions{}))
	assert.True(t, listed(audit(), "4.3.2", object), "its only NetworkPolicy was deleted")
}

// violations lists the CISViolation Events on an object.
func violations(t *testing.T, ns, kind, name string) []eventsv1.Event {
	t.Helper()
	list, err := env.Clientset.EventsV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == string(report.ReasonViolation) {
			out = append(out, e)
		}
	}
	return out
}

func TestAViolationRaisesOneEventUntilItIsFixed(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t, "events")
	_, err := env.Clientset.CoreV1().ServiceAccounts(ns).Create(ctx, serviceAccount(ns, "web", ptr.To(false)), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = env.Clientset.NetworkingV1().NetworkPolicies(ns).Create(ctx, denyAll(ns), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = env.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "api", spec(makePrivileged)), metav1.CreateOptions{})
	require.NoError(t, err)
	auditor := newAuditor(t, env, startEventSink(t, env))

	require.NoError(t, auditor.RunOnce(ctx))
	var first eventsv1.Event
	framework.WaitFor(t, 10*time.Second, "the CISViolation Event on the Deployment", func() error {
		evs := violations(t, ns, "Deployment", "api")
		if len(evs) != 1 {
			return fmt.Errorf("%d Events", len(evs))
		}
		first = evs[0]
		return nil
	})
	assert.Equal(t, string(report.ActionAudit), first.Action)
	assert.Equal(t, corev1.EventTypeWarning, first.Type)
	assert.Contains(t, first.Note, "audit: [4.2.1] ")

	for range 2 {
		require.NoError(t, auditor.RunOnce(ctx))
	}
	time.Sleep(time.Second) // room for an Event that must not come
	evs := violations(t, ns, "Deployment", "api")
	require.Len(t, evs, 1, "still one Event")
	assert.Nil(t, evs[0].Series, "raised once, not repeated in a series")

	// Fixed, then broken again: it alerts again.
	setSpec := func(s corev1.PodSpec) {
		d, err := env.Clientset.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
		require.NoError(t, err)
		d.Spec.Template.Spec = s
		_, err = env.Clientset.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	setSpec(fixtures.HardenedPodSpec())
	require.NoError(t, auditor.RunOnce(ctx))
	setSpec(spec(makePrivileged))
	require.NoError(t, auditor.RunOnce(ctx))
	framework.WaitFor(t, 10*time.Second, "a second report of the Deployment's finding", func() error {
		evs := violations(t, ns, "Deployment", "api")
		if len(evs) == 1 && evs[0].Series != nil && evs[0].Series.Count == 2 {
			return nil
		}
		if len(evs) == 2 {
			return nil
		}
		return fmt.Errorf("%d Events, want a second one or a series of 2", len(evs))
	})
}

func TestAuditCommandPrintsTheCheckJSONShape(t *testing.T) {
	framework.Require(t, env)
	ns, want := createLegacy(t)
	config := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(config, []byte(auditConfig), 0o644))

	var stdout, stderr bytes.Buffer
	code := app.Run(context.Background(), []string{"audit", "--kubeconfig", env.KubeConfig, "--config", config, "--output", "json"},
		app.IOStreams{Out: &stdout, ErrOut: &stderr})
	require.Equal(t, app.ExitOK, code, "audit mode blocks nothing; stderr: %s", stderr.String())

	var got struct {
		Benchmark string `json:"benchmark"`
		Findings  []struct {
			ID     string            `json:"id"`
			Status string            `json:"status"`
			Mode   string            `json:"mode"`
			Object map[string]string `json:"object"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &got), stdout.String())
	assert.Equal(t, "eks-1.8.0", got.Benchmark)
	printed := map[string][]string{}
	for _, f := range got.Findings {
		if f.Status != "FAIL" {
			continue
		}
		assert.Equal(t, "audit", f.Mode)
		obj := f.Object["kind"] + " " + f.Object["name"]
		if f.Object["namespace"] != "" {
			obj = f.Object["kind"] + " " + f.Object["namespace"] + "/" + f.Object["name"]
		}
		assert.NotContains(t, f.Object, "file", "a live object has no file")
		printed[f.ID] = append(printed[f.ID], obj)
	}
	for id, objects := range want {
		for _, obj := range objects {
			assert.Contains(t, printed[id], obj, "printed under %s", id)
		}
	}
	assert.Contains(t, printed["4.3.2"], "Namespace "+ns)

	// Without --config every check is enforced, as in check: the same findings exit 1.
	stdout.Reset()
	code = app.Run(context.Background(), []string{"audit", "--kubeconfig", env.KubeConfig, "-o", "json"}, app.IOStreams{Out: &stdout, ErrOut: &stderr})
	assert.Equal(t, app.ExitFindings, code)
}

// createInParallel runs create(i) for i in [0, n) on a few workers.
func createInParallel(t testing.TB, n, workers int, create func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := create(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestFiveThousandFailingObjectsStayWithinTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 5,000 objects")
	}
	// Its own API server, so the other tests' audit.json stays small.
	e := framework.StartT(t, framework.Options{})
	const roles = 5000
	ns := "crowded"
	ensureNamespace(t, e, ns)
	auditor := newAuditor(t, e, startEventSink(t, e))
	// What fails before the Roles exist: the control plane's own ClusterRoles and bindings.
	require.NoError(t, auditor.RunOnce(context.Background()))
	before, _ := reportKey[report.AuditReport](t, e, report.AuditKey())

	start := time.Now()
	createInParallel(t, roles, 8, func(i int) error {
		_, err := e.Clientset.RbacV1().Roles(ns).Create(context.Background(), wildcardRole(ns, fmt.Sprintf("wildcard-%04d", i)), metav1.CreateOptions{})
		return err
	})
	t.Logf("created %d Roles in %v", roles, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	require.NoError(t, auditor.RunOnce(context.Background()))
	t.Logf("audited in %v", time.Since(start).Round(time.Millisecond))

	got, cm := reportKey[report.AuditReport](t, e, report.AuditKey())
	size := 0
	for k, v := range cm.Data {
		size += len(k) + len(v)
	}
	assert.Less(t, size, 900*1024, "the report ConfigMap stays under 900 KiB")
	assert.True(t, got.Truncated)
	// A namespaced Role grants no cluster-scoped resource, so its wildcards fail neither 4.1.9
	// (persistentvolumes), 4.1.10 (nodes/proxy) nor 4.1.11 (webhook configurations): issue 9 item 4.
	for _, id := range []string{"4.1.2", "4.1.3", "4.1.4", "4.1.8", "4.1.12"} {
		require.Contains(t, got.Checks, id)
		previously := 0
		if c := before.Checks[id]; c != nil {
			previously = c.Total
		}
		assert.Equal(t, previously+roles, got.Checks[id].Total, "%s keeps the true total", id)
		assert.Less(t, len(got.Checks[id].Objects), roles, "%s lists fewer", id)
	}
	summary, _ := reportKey[controller.Summary](t, e, report.SummaryKey())
	assert.Equal(t, got.Checks["4.1.3"].Total, summary.Checks["4.1.3"].Audit.Fail)
}
