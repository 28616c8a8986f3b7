package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/warnlog"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

var dryRun = []string{metav1.DryRunAll}

// prepareNamespace makes a namespace that a hardened workload can run in (a NetworkPolicy and
// the ServiceAccount "web"), labelled with the given cisgate mode ("" for none), and waits until
// the webhook's caches have seen it.
func prepareNamespace(t testing.TB, prefix, mode string) string {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{}
	if mode != "" {
		labels["cisgate.io/mode"] = mode
	}
	ns, err := env.Clientset.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-", Labels: labels}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = env.Clientset.NetworkingV1().NetworkPolicies(ns.Name).Create(ctx, denyAllPolicy(ns.Name, "default-deny"), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = env.Clientset.CoreV1().ServiceAccounts(ns.Name).Create(ctx, serviceAccount(ns.Name, "web"), metav1.CreateOptions{})
	require.NoError(t, err)
	waitForMode(t, ns.Name, mode)
	return ns.Name
}

// waitForMode waits until a dry-run privileged Pod in ns is treated as the mode says ("" means
// the global enforce), and a dry-run hardened Deployment is admitted (the NetworkPolicy is seen).
func waitForMode(t testing.TB, ns, mode string) {
	t.Helper()
	framework.WaitFor(t, 20*time.Second, "namespace "+ns+" in mode "+mode, func() error {
		_, err := env.Clientset.AppsV1().Deployments(ns).Create(context.Background(), deployment(ns, "probe", nil), metav1.CreateOptions{DryRun: dryRun})
		if err != nil {
			return err
		}
		_, err = env.Clientset.CoreV1().Pods(ns).Create(context.Background(), privilegedPod(ns, "probe"), metav1.CreateOptions{DryRun: dryRun})
		switch denied := err != nil; {
		case mode == "audit" && denied:
			return fmt.Errorf("still denied: %v", err)
		case mode != "audit" && !denied:
			return fmt.Errorf("privileged pod still admitted")
		}
		return nil
	})
}

func requireDenied(t *testing.T, err error, wants ...string) {
	t.Helper()
	require.Error(t, err, "the request should have been denied")
	require.True(t, apierrors.IsForbidden(err), "want a 403 denial, got %v", err)
	msg := err.Error()
	assert.Contains(t, msg, `admission webhook "validate.cisgate.io" denied the request: cisgate denied`)
	for _, want := range wants {
		assert.Contains(t, msg, want)
	}
}

func requireWarned(t *testing.T, w *warnlog.Log, wants ...string) {
	t.Helper()
	got := strings.Join(w.Take(), "\n")
	for _, want := range wants {
		assert.Contains(t, got, want)
	}
}

func TestEnforceDeniesWithIDs(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "enforce", "")
	cs, w := userClient(t, "")

	_, err := cs.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "priv"), metav1.CreateOptions{})
	requireDenied(t, err, `Pod "`+ns+`/priv"`, `[4.2.1] container "app" must not set securityContext.privileged=true`)

	_, err = cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "hostnet", hostNetwork), metav1.CreateOptions{})
	requireDenied(t, err, "[4.2.4] pod must not set hostNetwork=true")

	_, err = cs.RbacV1().Roles(ns).Create(ctx, wildcardRole(ns, "wild"), metav1.CreateOptions{})
	requireDenied(t, err, `[4.1.3] rules[0].verbs must list its values explicitly, not "*"`)

	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, clusterAdminBinding("devs-admin", "devs"), metav1.CreateOptions{})
	requireDenied(t, err, `[4.1.1] must not bind ClusterRole "cluster-admin" to Group "devs"`)

	// Every enforce finding is listed, sorted by ID.
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "both", func(s *corev1.PodSpec) {
		hostNetwork(s)
		s.HostPID = true
	}), metav1.CreateOptions{})
	requireDenied(t, err, "[4.2.2] pod must not set hostPID=true; [4.2.4] pod must not set hostNetwork=true")

	w.Take()
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", nil), metav1.CreateOptions{})
	require.NoError(t, err, "a compliant Deployment is admitted")
	assert.Empty(t, w.Take(), "and draws no warning")
}

func TestAuditAdmitsWithWarnings(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "audit", "audit")
	cs, w := userClient(t, "")

	_, err := cs.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "priv"), metav1.CreateOptions{})
	require.NoError(t, err)
	requireWarned(t, w, `[4.2.1] container "app" must not set securityContext.privileged=true`)

	_, err = cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "hostnet", hostNetwork), metav1.CreateOptions{})
	require.NoError(t, err)
	requireWarned(t, w, "[4.2.4] pod must not set hostNetwork=true")

	_, err = cs.RbacV1().Roles(ns).Create(ctx, wildcardRole(ns, "wild"), metav1.CreateOptions{})
	require.NoError(t, err)
	requireWarned(t, w, "[4.1.3] rules[0].verbs")

	// A ClusterRoleBinding has no namespace: the global mode decides. Switch it to audit.
	writeConfig(t, strings.Replace(baseConfig, "mode: enforce", "mode: audit", 1))
	t.Cleanup(func() {
		writeConfig(t, baseConfig)
		framework.WaitFor(t, 20*time.Second, "the enforce config to be back", func() error {
			_, err := env.Clientset.RbacV1().ClusterRoleBindings().Create(ctx, clusterAdminBinding("probe", "devs"), metav1.CreateOptions{DryRun: dryRun})
			if err == nil {
				return fmt.Errorf("still admitted")
			}
			return nil
		})
	})
	framework.WaitFor(t, 20*time.Second, "the audit config to be loaded", func() error {
		_, err := env.Clientset.RbacV1().ClusterRoleBindings().Create(ctx, clusterAdminBinding("probe", "devs"), metav1.CreateOptions{DryRun: dryRun})
		return err
	})
	w.Take()
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, clusterAdminBinding("devs-admin-audit", "devs"), metav1.CreateOptions{})
	require.NoError(t, err)
	requireWarned(t, w, `[4.1.1] must not bind ClusterRole "cluster-admin" to Group "devs"`)
}

func TestNamespaceLabelOverridesGlobalMode(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "label", "audit")
	_, err := env.Clientset.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "before"), metav1.CreateOptions{})
	require.NoError(t, err, "audit label: admitted although the global mode is enforce")

	nsObj, err := env.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	require.NoError(t, err)
	nsObj.Labels["cisgate.io/mode"] = "enforce"
	_, err = env.Clientset.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{})
	require.NoError(t, err)
	waitForMode(t, ns, "enforce")
	_, err = env.Clientset.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "after"), metav1.CreateOptions{})
	requireDenied(t, err, "[4.2.1]")
}

func TestExemptions(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "exempt", "")
	before := settledReport(t)

	t.Run("namespace", func(t *testing.T) {
		cs, w := userClient(t, "")
		_, err := cs.CoreV1().Pods("exempt-ns").Create(ctx, privilegedPod("exempt-ns", "priv"), metav1.CreateOptions{})
		require.NoError(t, err)
		assert.Empty(t, w.Take(), "an exempt finding is not warned either")
	})
	t.Run("username", func(t *testing.T) {
		cs, w := userClient(t, "ci-bot")
		_, err := cs.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "by-ci-bot"), metav1.CreateOptions{})
		require.NoError(t, err)
		assert.Empty(t, w.Take())
	})
	t.Run("group", func(t *testing.T) {
		cs, w := userClient(t, "alice", "platform:break-glass")
		_, err := cs.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "break-glass"), metav1.CreateOptions{})
		require.NoError(t, err)
		assert.Empty(t, w.Take())
	})
	t.Run("rule", func(t *testing.T) {
		cs, w := userClient(t, "")
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "net-agent-eu", hostNetwork), metav1.CreateOptions{})
		require.NoError(t, err, "the rule exempts 4.2.4 for Deployments named net-agent-*")
		assert.Empty(t, w.Take())
		_, err = cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "other-agent", hostNetwork), metav1.CreateOptions{})
		requireDenied(t, err, "[4.2.4]")
	})

	// The report counts exempt findings with their reason.
	framework.WaitFor(t, 20*time.Second, "exempt findings in the report", func() error {
		after := admissionReport(t)
		if got := counts(after, "4.2.1").Exempt - counts(before, "4.2.1").Exempt; got != 3 {
			return fmt.Errorf("4.2.1 exempt went up by %d, want 3", got)
		}
		if got := counts(after, "4.2.4").Exempt - counts(before, "4.2.4").Exempt; got != 1 {
			return fmt.Errorf("4.2.4 exempt went up by %d, want 1", got)
		}
		for _, f := range after.Recent {
			if f.ID == "4.2.4" && f.Name == "net-agent-eu" && f.ExemptReason == "needs the host network to program routes" {
				return nil
			}
		}
		return fmt.Errorf("no recent 4.2.4 finding on net-agent-eu with the rule's reason")
	})
}

func TestUpdateOfLegacyWorkloadAfterSwitchToEnforce(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "legacy", "audit")
	cs, w := userClient(t, "")
	_, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "legacy", hostNetwork), metav1.CreateOptions{})
	require.NoError(t, err)
	requireWarned(t, w, "[4.2.4]")

	nsObj, err := env.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	require.NoError(t, err)
	nsObj.Labels["cisgate.io/mode"] = "enforce"
	_, err = env.Clientset.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{})
	require.NoError(t, err)
	waitForMode(t, ns, "enforce")

	scale := func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](3) }
	relabel := func(d *appsv1.Deployment) { d.Labels = map[string]string{"team": "payments"} }
	for name, change := range map[string]func(*appsv1.Deployment){"scale": scale, "relabel": relabel} {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "legacy", metav1.GetOptions{})
		require.NoError(t, err)
		change(d)
		_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		require.NoError(t, err, "%s of a legacy workload is not blocked", name)
		requireWarned(t, w, "[4.2.4] pod must not set hostNetwork=true (already present before this update; not denied)")
	}

	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "legacy", metav1.GetOptions{})
	require.NoError(t, err)
	d.Spec.Template.Spec.HostPID = true
	_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
	requireDenied(t, err, "[4.2.2] pod must not set hostPID=true")
	assert.NotContains(t, err.Error(), "[4.2.4]", "the pre-existing finding is not part of the denial")
}

func TestNetworkPolicyLastDeleteDenied(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "netpol", "")
	err := env.Clientset.NetworkingV1().NetworkPolicies(ns).Delete(ctx, "default-deny", metav1.DeleteOptions{})
	requireDenied(t, err, `[4.3.2] deleting NetworkPolicy "default-deny" would leave namespace "`+ns+`" without any NetworkPolicy`)

	_, err = env.Clientset.NetworkingV1().NetworkPolicies(ns).Create(ctx, denyAllPolicy(ns, "second"), metav1.CreateOptions{})
	require.NoError(t, err)
	framework.WaitFor(t, 20*time.Second, "the delete of one of two NetworkPolicies to be admitted", func() error {
		return env.Clientset.NetworkingV1().NetworkPolicies(ns).Delete(ctx, "default-deny", metav1.DeleteOptions{DryRun: dryRun})
	})
	require.NoError(t, env.Clientset.NetworkingV1().NetworkPolicies(ns).Delete(ctx, "default-deny", metav1.DeleteOptions{}))
}

func TestEventsAndReportKey(t *testing.T) {
	serve(t)
	ctx := context.Background()
	enforceNS := prepareNamespace(t, "events", "")
	auditNS := prepareNamespace(t, "events-audit", "audit")
	before := settledReport(t)

	for _, name := range []string{"evt-1", "evt-2"} {
		_, err := env.Clientset.CoreV1().Pods(enforceNS).Create(ctx, privilegedPod(enforceNS, name), metav1.CreateOptions{})
		requireDenied(t, err, "[4.2.1]")
	}
	_, err := env.Clientset.AppsV1().Deployments(auditNS).Create(ctx, deployment(auditNS, "evt-audit", hostNetwork), metav1.CreateOptions{})
	require.NoError(t, err)

	denied := waitForEvent(t, env.Clientset, enforceNS, "evt-1")
	assert.Equal(t, string(report.ReasonDenied), denied.Reason)
	assert.Equal(t, "Pod", denied.Regarding.Kind)
	assert.Equal(t, corev1.EventTypeWarning, denied.Type)
	assert.Contains(t, denied.Note, `[4.2.1] container "app" must not set securityContext.privileged=true`)

	violation := waitForEvent(t, env.Clientset, auditNS, "evt-audit")
	assert.Equal(t, string(report.ReasonViolation), violation.Reason)
	assert.Equal(t, "Deployment", violation.Regarding.Kind)
	assert.Contains(t, violation.Note, "[4.2.4] pod must not set hostNetwork=true")

	framework.WaitFor(t, 20*time.Second, "the replica's report key to count the findings", func() error {
		after := admissionReport(t)
		if got := counts(after, "4.2.1").Deny - counts(before, "4.2.1").Deny; got != 2 {
			return fmt.Errorf("4.2.1 deny went up by %d, want 2", got)
		}
		if got := counts(after, "4.2.4").Warn - counts(before, "4.2.4").Warn; got != 1 {
			return fmt.Errorf("4.2.4 warn went up by %d, want 1", got)
		}
		if after.SchemaVersion != 1 || after.Replica != replica || after.Benchmark != "eks-1.8.0" {
			return fmt.Errorf("header: %+v", after.Header)
		}
		return nil
	})
}

func TestDryRunIsDecidedButRecordsNothing(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "dryrun", "")
	before := settledReport(t)

	_, err := env.Clientset.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "dry"), metav1.CreateOptions{DryRun: dryRun})
	requireDenied(t, err, "[4.2.1]")
	// A real denial afterwards: once its Event and count are there, a recorded dry run would be too.
	_, err = env.Clientset.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "real"), metav1.CreateOptions{})
	requireDenied(t, err, "[4.2.1]")
	waitForEvent(t, env.Clientset, ns, "real")
	framework.WaitFor(t, 20*time.Second, "the real denial in the report", func() error {
		if got := counts(admissionReport(t), "4.2.1").Deny - counts(before, "4.2.1").Deny; got != 1 {
			return fmt.Errorf("4.2.1 deny went up by %d, want exactly 1 (the dry run must not count)", got)
		}
		return nil
	})
	evs, err := env.Clientset.EventsV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("regarding.name", "dry").String()})
	require.NoError(t, err)
	assert.Empty(t, evs.Items, "a dry run leaves no Event")
	for _, f := range admissionReport(t).Recent {
		assert.NotEqual(t, "dry", f.Name, "a dry run leaves no report entry")
	}
}

func waitForEvent(t *testing.T, cs kubernetes.Interface, ns, name string) *eventsv1.Event {
	t.Helper()
	var found *eventsv1.Event
	framework.WaitFor(t, 30*time.Second, "an Event regarding "+ns+"/"+name, func() error {
		evs, err := cs.EventsV1().Events(ns).List(context.Background(), metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("regarding.name", name).String(),
		})
		if err != nil {
			return err
		}
		if len(evs.Items) == 0 {
			return fmt.Errorf("none yet")
		}
		found = &evs.Items[0]
		return nil
	})
	return found
}

// settledReport reads the replica's key once earlier requests have reached it: two reads a few
// report intervals apart agree.
func settledReport(t *testing.T) *report.AdmissionReport {
	t.Helper()
	prev := admissionReport(t)
	for range 50 {
		time.Sleep(time.Second)
		cur := admissionReport(t)
		if reflect.DeepEqual(prev.Checks, cur.Checks) {
			return cur
		}
		prev = cur
	}
	t.Fatal("the report key never settled")
	return nil
}

// admissionReport reads this replica's key of the report ConfigMap (empty when not written yet).
func admissionReport(t *testing.T) *report.AdmissionReport {
	t.Helper()
	r := &report.AdmissionReport{}
	cm, err := env.Clientset.CoreV1().ConfigMaps(cisgateNamespace).Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return r
	}
	require.NoError(t, err)
	data, ok := cm.Data[report.AdmissionKey(replica).Name]
	if !ok {
		return r
	}
	require.NoError(t, json.Unmarshal([]byte(data), r))
	return r
}

func counts(r *report.AdmissionReport, id string) report.CheckCounts {
	if c := r.Checks[id]; c != nil {
		return *c
	}
	return report.CheckCounts{}
}
