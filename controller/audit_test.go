package controller

import (
	"context"
	"errors"
	"fmt"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/types"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

func TestAuditListsPageByPage(t *testing.T) {
	const roles = 1234
	objs := []runtime.Object{namespace("team", nil)}
	for i := range roles {
		objs = append(objs, wildcardRole("team", fmt.Sprintf("wild-%04d", i)))
	}
	client := fake.NewClientset(objs...)
	requests := paginate(client, "roles")

	run, err := Audit(t.Context(), client, mustPolicy(t, "mode: enforce"), 500)
	require.NoError(t, err)

	got := requests()
	require.Len(t, got, 3, "1234 Roles in pages of 500")
	for i, want := range []string{"", "500", "1000"} {
		assert.Equal(t, int64(500), got[i].Limit)
		assert.Equal(t, want, got[i].Continue)
	}
	assert.Len(t, failing(run, "4.1.3"), roles, "every Role of every page is judged once")
	assert.Equal(t, Counts{Fail: roles}, *run.Counts["rbac-wildcards"])
}

func TestAuditLeavesControlledPodsToTheirOwner(t *testing.T) {
	priv := privileged(podSpec("app"))
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-5d8f", OwnerReferences: []metav1.OwnerReference{controllerRef("apps/v1", "Deployment", "web")}},
		Spec:       appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{Spec: priv}},
	}
	cron := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "nightly"},
		Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: priv}}}}}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "nightly-29", OwnerReferences: []metav1.OwnerReference{controllerRef("batch/v1", "CronJob", "nightly")}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: priv}}}
	client := fake.NewClientset(
		namespace("shop", nil),
		deployment("shop", "web", priv), rs,
		pod("shop", "web-5d8f-x1", priv, controllerRef("apps/v1", "ReplicaSet", "web-5d8f")),
		cron, job,
		pod("shop", "nightly-29-x2", priv, controllerRef("batch/v1", "Job", "nightly-29")),
		pod("shop", "solo", priv),
		// Same kind name, another group: not one of the audited owners.
		pod("shop", "custom", priv, controllerRef("example.com/v1", "Deployment", "custom")),
	)

	run, err := Audit(t.Context(), client, mustPolicy(t, "mode: enforce"), 500)
	require.NoError(t, err)

	assert.ElementsMatch(t, []string{"Deployment shop/web", "CronJob shop/nightly", "Pod shop/solo", "Pod shop/custom"}, failing(run, "4.2.1"))
	for _, ref := range run.Report.Checked {
		assert.NotContains(t, []string{"ReplicaSet shop/web-5d8f", "Pod shop/web-5d8f-x1", "Job shop/nightly-29", "Pod shop/nightly-29-x2"}, ref.String(), "owned objects are not evaluated")
	}
	assert.Equal(t, Counts{Fail: 4}, *run.Counts["privileged"])
}

func TestAuditDecidesWithClusterState(t *testing.T) {
	pol := mustPolicy(t, `
benchmark: eks-1.8.0
mode: audit
exemptions:
  namespaces: [kube-system]
  rules:
    - {checks: ["4.2.4"], kind: Pod, name: "net-*", reason: "programs routes"}
    - {checks: ["4.3.2"], namespace: legacy, reason: "migrating off it"}
`)
	hostNet := podSpec("app")
	hostNet.HostNetwork = true
	client := fake.NewClientset(
		namespace("shop", nil),
		namespace("secure", map[string]string{policy.NamespaceModeLabel: "enforce"}),
		namespace("legacy", nil),
		namespace("kube-system", nil),
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "secure", Name: "deny-all"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "default", UID: "uid-sa-shop-default"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "app"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "secure", Name: "default"}, AutomountServiceAccountToken: ptr.To(false)},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "secure", Name: "app"}, AutomountServiceAccountToken: ptr.To(false)},
		pod("shop", "mounts-token", func() corev1.PodSpec { s := podSpec("app"); s.AutomountServiceAccountToken = nil; return s }()),
		pod("secure", "no-token", func() corev1.PodSpec { s := privileged(podSpec("app")); s.AutomountServiceAccountToken = nil; return s }()),
		pod("shop", "net-agent", hostNet),
		pod("kube-system", "proxy", privileged(podSpec("app"))),
	)
	run, err := Audit(t.Context(), client, pol, 500)
	require.NoError(t, err)

	// 4.1.6 is decided from the listed ServiceAccounts: FAIL or nothing, never WARN.
	tokens := findingsOf(run, "4.1.6", output.ObjectRef{Kind: "Pod", Namespace: "shop", Name: "mounts-token"})
	require.Len(t, tokens, 1)
	assert.Equal(t, policy.StatusFail, tokens[0].Status)
	assert.Contains(t, tokens[0].Detail, `neither it nor ServiceAccount "app"`)
	assert.Empty(t, findingsOf(run, "4.1.6", output.ObjectRef{Kind: "Pod", Namespace: "secure", Name: "no-token"}))

	// 4.1.5 on the default ServiceAccount that mounts its token; the one that does not passes.
	assert.Equal(t, []string{"ServiceAccount shop/default"}, failing(run, "4.1.5"))

	// 4.3.2 once per namespace, on kind Namespace, never on the workloads.
	assert.Equal(t, []string{"Namespace shop"}, failing(run, "4.3.2"))
	for _, f := range run.Report.Findings {
		if f.ID == "4.3.2" {
			assert.Equal(t, "Namespace", f.Object.Kind)
		}
	}
	assert.Equal(t, "namespace kube-system is exempt", findingsOf(run, "4.3.2", output.ObjectRef{Kind: "Namespace", Name: "kube-system"})[0].ExemptReason)
	assert.Equal(t, "migrating off it", findingsOf(run, "4.3.2", output.ObjectRef{Kind: "Namespace", Name: "legacy"})[0].ExemptReason)
	assert.Equal(t, Counts{Pass: 1, Fail: 1, Exempt: 2}, *run.Counts["namespace-network-policy"])

	// The namespace label sets the mode, as at admission.
	priv := findingsOf(run, "4.2.1", output.ObjectRef{Kind: "Pod", Namespace: "secure", Name: "no-token"})
	require.Len(t, priv, 1)
	assert.Equal(t, policy.ModeEnforce, priv[0].Mode)
	assert.Equal(t, 2, run.Report.Blocking(), "only the enforce-mode namespace blocks: 4.2.1 and 4.2.5 (privileged)")

	// Exemptions are reported with their reason, not as failures.
	assert.Equal(t, "programs routes", findingsOf(run, "4.2.4", output.ObjectRef{Kind: "Pod", Namespace: "shop", Name: "net-agent"})[0].ExemptReason)
	assert.Equal(t, "namespace kube-system is exempt", findingsOf(run, "4.2.1", output.ObjectRef{Kind: "Pod", Namespace: "kube-system", Name: "proxy"})[0].ExemptReason)
	assert.Equal(t, Counts{Pass: 2, Fail: 1, Exempt: 1}, *run.Counts["privileged"])

	// The items of eks-1.8.0 no object decides, as WARN on the cluster: the manual ones (2.1.2,
	// 4.4.2, 4.5.1, 5.1.2, 5.1.3, 5.2.1, 5.4.4, 5.5.1) and those decided through the AWS API (2.1.1,
	// 4.1.7, 4.3.1, 5.1.1, 5.3.1, 5.4.1 to 5.4.3), each with the detail that says which.
	var manual, cloud []string
	for _, f := range run.Report.Findings {
		if f.Object.Kind == ClusterKind {
			assert.Equal(t, policy.StatusWarn, f.Status)
			if strings.HasPrefix(f.Detail, "decided through the AWS API") {
				cloud = append(cloud, f.ID)
			} else {
				assert.True(t, strings.HasPrefix(f.Detail, "manual: "), f.Detail)
				manual = append(manual, f.ID)
			}
		}
	}
	assert.Equal(t, []string{"2.1.2", "4.4.2", "4.5.1", "5.1.2", "5.1.3", "5.2.1", "5.4.4", "5.5.1"}, manual)
	assert.Equal(t, []string{"2.1.1", "4.1.7", "4.3.1", "5.1.1", "5.3.1", "5.4.1", "5.4.2", "5.4.3"}, cloud)
}

// #9 item 10: the audit follows an Ingress to its IngressClass in the cluster (5.4.5); IngressClasses
// it cannot list leave 5.4.5 a WARN on the Ingresses that needed them, and the audit goes on.
func TestAuditFollowsIngressClasses(t *testing.T) {
	ingress := func(name string, class *string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}, Spec: networkingv1.IngressSpec{IngressClassName: class}}
	}
	external, nginx := "external", "nginx"
	objects := []runtime.Object{
		namespace("shop", nil),
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: external}, Spec: networkingv1.IngressClassSpec{Controller: "ingress.k8s.aws/alb"}},
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: nginx, Annotations: map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"}},
			Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
		ingress("public", &external),
		ingress("internal", &nginx),
		ingress("defaulted", nil),
	}
	pol := mustPolicy(t, "mode: audit")
	run, err := Audit(t.Context(), fake.NewClientset(objects...), pol, 500)
	require.NoError(t, err)
	assert.Equal(t, []string{"Ingress shop/public"}, failing(run, "5.4.5"))
	assert.Equal(t, Counts{Pass: 2, Fail: 1}, *run.Counts["lb-tls"])

	forbidden := fake.NewClientset(objects...)
	forbidden.PrependReactor("list", "ingressclasses", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New(`ingressclasses.networking.k8s.io is forbidden`)
	})
	run, err = Audit(t.Context(), forbidden, pol, 500)
	require.NoError(t, err, "the audit goes on without the IngressClasses")
	assert.Empty(t, failing(run, "5.4.5"))
	for _, name := range []string{"public", "internal", "defaulted"} {
		f := findingsOf(run, "5.4.5", output.ObjectRef{Kind: "Ingress", Namespace: "shop", Name: name})
		require.Len(t, f, 1, name)
		assert.Equal(t, policy.StatusWarn, f[0].Status, name)
		assert.Contains(t, f[0].Detail, "listing IngressClasses: ingressclasses.networking.k8s.io is forbidden", name)
	}
}

func TestAuditHonoursChecksTurnedOff(t *testing.T) {
	client := fake.NewClientset(namespace("shop", nil), pod("shop", "solo", privileged(podSpec("app"))))
	run, err := Audit(t.Context(), client, mustPolicy(t, `checks: {"4.2.1": "off", "4.3.2": "off"}`), 500)
	require.NoError(t, err)
	assert.Empty(t, failing(run, "4.2.1"))
	assert.Empty(t, failing(run, "4.3.2"))
	assert.NotContains(t, run.Counts, policy.Slug("privileged"))
	assert.NotContains(t, run.Counts, policy.Slug("namespace-network-policy"))
}

// eventWrites counts the Event creations and series updates the fake API server receives.
func eventWrites(client *fake.Clientset) *atomic.Int64 {
	var n atomic.Int64
	for _, verb := range []string{"create", "update", "patch"} {
		client.PrependReactor(verb, "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetNamespace() != sentinelNamespace {
				n.Add(1)
			}
			return false, nil, nil
		})
	}
	return &n
}

func startEventSink(t *testing.T, client *fake.Clientset) *report.EventSink {
	t.Helper()
	sink, err := report.NewEventSink(client, "cisgate.io/audit")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(log.IntoContext(t.Context(), log.Log))
	done := make(chan struct{})
	go func() { defer close(done); assert.NoError(t, sink.Start(ctx)) }()
	t.Cleanup(func() { cancel(); <-done })
	return sink
}

// settle waits until the Event writes stop changing and returns their number.
// sentinelNamespace holds the barrier Events of settle; eventWrites does not count them.
const sentinelNamespace = "sentinel"

var sentinels atomic.Int64

// settle waits for the wanted Event writes, then proves the sink has handed on every Event queued
// before it, then checks that no more were written. The barrier is a sentinel Event emitted last:
// the sink's one loop hands Events to the broadcaster in order, so an Event queued earlier was
// dispatched before the sentinel (the broadcaster writes each in its own goroutine).
func settle(t *testing.T, sink *report.EventSink, client *fake.Clientset, writes *atomic.Int64, want int64) {
	t.Helper()
	require.Eventually(t, func() bool { return writes.Load() >= want }, 10*time.Second, 10*time.Millisecond)
	name := "sentinel-" + strconv.FormatInt(sentinels.Add(1), 10)
	require.NoError(t, sink.Emit(&corev1.ObjectReference{Kind: "ConfigMap", APIVersion: "v1", Namespace: sentinelNamespace, Name: name},
		report.EventNormal, report.ReasonViolation, report.ActionAudit, "barrier"))
	require.Eventually(t, func() bool {
		list, err := client.EventsV1().Events(sentinelNamespace).List(t.Context(), metav1.ListOptions{})
		require.NoError(t, err)
		for _, e := range list.Items {
			if e.Regarding.Name == name {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, want, writes.Load())
}

func TestAuditorRaisesAnEventWhenAFindingFirstAppears(t *testing.T) {
	priv := pod("shop", "p", privileged(podSpec("app")))
	client := fake.NewClientset(namespace("shop", nil), priv)
	writes := eventWrites(client)
	pol := mustPolicy(t, "mode: audit")
	sink := startEventSink(t, client)
	auditor := NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, sink, NewAuditOptions())

	require.NoError(t, auditor.RunOnce(t.Context()))
	settle(t, sink, client, writes, 2) // the Pod's and the Namespace's
	// The Namespace's Event lives in "default", as Events on cluster-scoped objects do.
	events, err := client.EventsV1().Events(metav1.NamespaceAll).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	notes := map[string]eventsv1.Event{}
	for _, e := range events.Items {
		if e.Namespace == sentinelNamespace {
			continue
		}
		notes[e.Regarding.Kind] = e
		assert.Equal(t, string(report.ReasonViolation), e.Reason)
		assert.Equal(t, string(report.ActionAudit), e.Action)
		assert.Equal(t, corev1.EventTypeWarning, e.Type)
	}
	assert.Equal(t, corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "shop", Name: "p", UID: "uid-shop-p"}, notes["Pod"].Regarding)
	assert.True(t, strings.HasPrefix(notes["Pod"].Note, "audit: [4.2.1] "), notes["Pod"].Note)
	assert.Contains(t, notes["Namespace"].Note, `[4.3.2] namespace "shop" has no NetworkPolicy`)
	assert.Equal(t, corev1.ObjectReference{Kind: "Namespace", APIVersion: "v1", Name: "shop", UID: "uid-ns-shop"}, notes["Namespace"].Regarding)

	require.NoError(t, auditor.RunOnce(t.Context()))
	settle(t, sink, client, writes, 2) // still failing: no new Event

	fixed := priv.DeepCopy()
	fixed.Spec = podSpec("app")
	_, err = client.CoreV1().Pods("shop").Update(t.Context(), fixed, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, auditor.RunOnce(t.Context()))
	settle(t, sink, client, writes, 2) // fixed: nothing to say

	_, err = client.CoreV1().Pods("shop").Update(t.Context(), priv, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, auditor.RunOnce(t.Context()))
	settle(t, sink, client, writes, 3) // broken again: alerts again
}

// #9 item 9: the audit remembers its alerts and keeps its counts by check slug, and the summary
// renders them with the IDs of the benchmark running when it is written. A config that switches
// benchmark between two audits renumbers the checks: it neither raises the same findings again
// nor files one check's counts under another's ID (4.5.2 is security-context in eks-1.5.0 and
// default-namespace in eks-1.8.0).
func TestABenchmarkChangeKeepsEachCheckUnderItsOwnID(t *testing.T) {
	client := fake.NewClientset(namespace("default", nil), pod("default", "legacy", podSpec("app")))
	writes := eventWrites(client)
	sink := startEventSink(t, client)
	var current atomic.Pointer[policy.Policy]
	current.Store(mustPolicy(t, "benchmark: eks-1.5.0\nmode: audit"))
	auditor := NewAuditor(client, cisgateNamespace, current.Load, sink, NewAuditOptions())

	require.NoError(t, auditor.RunOnce(t.Context()))
	settle(t, sink, client, writes, 2) // the Pod in default (4.5.3) and the Namespace without a NetworkPolicy (4.3.2)
	summary, _ := reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, &CheckSummary{Slug: "default-namespace", Audit: &Counts{Fail: 1}}, summary.Checks["4.5.3"])
	assert.Equal(t, &CheckSummary{Slug: "security-context", Audit: &Counts{Pass: 1}}, summary.Checks["4.5.2"])

	current.Store(mustPolicy(t, "benchmark: eks-1.8.0\nmode: audit"))
	require.NoError(t, auditor.RefreshSummary(t.Context()))
	summary, _ = reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, policy.EKS180, summary.Benchmark)
	assert.Equal(t, &CheckSummary{Slug: "default-namespace", Audit: &Counts{Fail: 1}}, summary.Checks["4.5.2"],
		"the last audit's counts, under eks-1.8.0's ID of the same check")
	assert.NotContains(t, summary.Checks, "4.5.3")
	assert.Equal(t, 1, summary.Sources[SourceAudit].Merged)

	require.NoError(t, auditor.RunOnce(t.Context()))
	settle(t, sink, client, writes, 2) // the same findings under new IDs: no new Event
	summary, _ = reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, &CheckSummary{Slug: "default-namespace", Audit: &Counts{Fail: 1}}, summary.Checks["4.5.2"])
}

// The switch from eks-1.8.0 to eks-2.0.0 on a running replica: summary.json keeps each check's
// counts by slug and renders them under the new benchmark's IDs (lb-tls 5.4.5 becomes 5.4.4,
// kube-bench cfg/eks-2.0.0/managedservices.yaml); the per-namespace NetworkPolicy check, which
// v2.0.0 does not number (its 4.3.2 is manual, cfg/eks-2.0.0/policies.yaml), leaves the summary,
// and 4.3.2 names the manual item; the next audit raises no Event for findings already alerted.
func TestASwitchToEKS200KeepsEachCheckUnderItsOwnID(t *testing.T) {
	lb := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-svc-web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}}}}
	client := fake.NewClientset(namespace("default", nil), pod("default", "legacy", podSpec("app")), lb)
	writes := eventWrites(client)
	sink := startEventSink(t, client)
	var current atomic.Pointer[policy.Policy]
	current.Store(mustPolicy(t, "benchmark: eks-1.8.0\nmode: audit"))
	auditor := NewAuditor(client, cisgateNamespace, current.Load, sink, NewAuditOptions())

	require.NoError(t, auditor.RunOnce(t.Context()))
	settle(t, sink, client, writes, 3) // lb-tls on the Service, default-namespace, namespace-network-policy
	alerted := writes.Load()
	summary, _ := reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, policy.EKS180, summary.Benchmark)
	assert.Equal(t, &CheckSummary{Slug: "lb-tls", Audit: &Counts{Fail: 1}}, summary.Checks["5.4.5"])
	assert.Equal(t, policy.Slug("namespace-network-policy"), summary.Checks["4.3.2"].Slug)

	current.Store(mustPolicy(t, "benchmark: eks-2.0.0\nmode: audit"))
	require.NoError(t, auditor.RefreshSummary(t.Context()))
	summary, _ = reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, policy.EKS200, summary.Benchmark)
	assert.Equal(t, &CheckSummary{Slug: "lb-tls", Audit: &Counts{Fail: 1}}, summary.Checks["5.4.4"],
		"the last audit's counts, under eks-2.0.0's ID of the same check")
	assert.NotContains(t, summary.Checks, "5.4.5")
	for id, c := range summary.Checks {
		assert.NotEqual(t, policy.Slug("namespace-network-policy"), c.Slug, "%s: a check eks-2.0.0 does not run", id)
	}

	require.NoError(t, auditor.RunOnce(t.Context()))
	settle(t, sink, client, writes, alerted)
	assert.Equal(t, alerted, writes.Load(), "the same findings under new IDs: no new Event")
	summary, _ = reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, &CheckSummary{Slug: "lb-tls", Audit: &Counts{Fail: 1}}, summary.Checks["5.4.4"])
	require.Contains(t, summary.Checks, "4.3.2")
	assert.Equal(t, policy.Slug("workload-network-policy"), summary.Checks["4.3.2"].Slug)
}

func TestAuditOptionsValidate(t *testing.T) {
	opts := NewAuditOptions()
	assert.Empty(t, opts.Validate())
	assert.Equal(t, 10*time.Minute, opts.Interval)
	opts.Interval, opts.SummaryInterval, opts.PageSize = 0, -time.Second, 0
	errs := opts.Validate()
	require.Len(t, errs, 3)
	assert.ErrorContains(t, errs[0], "--audit-interval")
	assert.ErrorContains(t, errs[1], "--summary-interval")
	assert.ErrorContains(t, errs[2], "--audit-page-size")
}

func TestAuditorNeedsLeaderElection(t *testing.T) {
	assert.True(t, NewAuditor(fake.NewClientset(), cisgateNamespace, nil, nil, NewAuditOptions()).NeedLeaderElection())
}

func TestAuditorStartAuditsAtOnceAndEveryInterval(t *testing.T) {
	client := fake.NewClientset(namespace("shop", nil))
	pol := mustPolicy(t, "mode: audit")
	opts := NewAuditOptions()
	opts.Interval, opts.SummaryInterval = 100*time.Millisecond, 30*time.Millisecond
	auditor := NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, nil, opts)
	ctx, cancel := context.WithCancel(log.IntoContext(t.Context(), log.Log))
	stopped := make(chan error)
	go func() { stopped <- auditor.Start(ctx) }()

	audited := func(object string) func() bool {
		return func() bool {
			cm, err := client.CoreV1().ConfigMaps(cisgateNamespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
			return err == nil && strings.Contains(cm.Data[report.AuditKey().Name], object) && cm.Data[report.SummaryKey().Name] != ""
		}
	}
	require.Eventually(t, audited(`"name":"shop"`), 5*time.Second, 10*time.Millisecond, "the first audit runs at start")
	_, err := client.CoreV1().Pods("shop").Create(t.Context(), pod("shop", "late", privileged(podSpec("app"))), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, audited(`"name":"late"`), 5*time.Second, 10*time.Millisecond, "the next audit finds a new object")
	cancel()
	require.NoError(t, <-stopped)
}

// TestAuditPutsThePlatformsRBACInItsOwnBucket: the control plane's bootstrap RBAC is recognised by
// its mark and its name together, reported under platform in audit.json and summary.json, and
// raises no Event; the same name without the mark is an ordinary object.
func TestAuditPutsThePlatformsRBACInItsOwnBucket(t *testing.T) {
	bootstrap := map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}
	wildcards := []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
	clusterRole := func(name string, labels map[string]string) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, UID: types.UID("uid-" + name)}, Rules: wildcards}
	}
	client := fake.NewClientset(
		clusterRole("cluster-admin", bootstrap),
		clusterRole("system:controller:generic-garbage-collector", bootstrap),
		clusterRole("eks:addon-manager", map[string]string{"eks.amazonaws.com/component": "addon-manager"}),
		// Anyone may name a role system:x; without the mark it is the cluster's.
		clusterRole("system:my-operator", nil),
		// The mark on a name outside the bootstrap set proves nothing either.
		clusterRole("my-admin", bootstrap),
	)
	writes := eventWrites(client)
	sink := startEventSink(t, client)
	pol := mustPolicy(t, "mode: audit")
	require.NoError(t, NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, sink, NewAuditOptions()).RunOnce(t.Context()))
	settle(t, sink, client, writes, 2) // system:my-operator's and my-admin's

	audit, _ := reportKey[report.AuditReport](t, client, report.AuditKey())
	names := func(c *report.FailingObjects) []string {
		var out []string
		for _, o := range c.Objects {
			out = append(out, o.Name)
		}
		return out
	}
	require.Contains(t, audit.Platform, "4.1.3")
	assert.ElementsMatch(t, []string{"cluster-admin", "system:controller:generic-garbage-collector", "eks:addon-manager"}, names(audit.Platform["4.1.3"]))
	assert.ElementsMatch(t, []string{"system:my-operator", "my-admin"}, names(audit.Checks["4.1.3"]))

	summary, _ := reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, &Counts{Fail: 3}, summary.Checks["4.1.3"].Platform)
	assert.Equal(t, &Counts{Fail: 2}, summary.Checks["4.1.3"].Audit)
}

// TestAuditKeepsNamespaceNetworkPolicy: eks-2.0.0's 4.3.2 is manual ("Ensure required workloads
// are covered by Kubernetes network policies", kube-bench cfg/eks-2.0.0/policies.yaml), so the
// per-namespace check is off unless the config keeps it by slug; kept, it reports once per
// namespace under its slug.
func TestAuditKeepsNamespaceNetworkPolicy(t *testing.T) {
	client := func() *fake.Clientset {
		return fake.NewClientset(
			namespace("shop", nil),
			namespace("secure", nil),
			&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "secure", Name: "deny-all"}},
			pod("shop", "web", podSpec("app")),
			pod("secure", "web", podSpec("app")),
		)
	}
	plain, err := Audit(t.Context(), client(), mustPolicy(t, "benchmark: eks-2.0.0\nmode: audit\n"), 500)
	require.NoError(t, err)
	assert.Nil(t, plain.Counts["namespace-network-policy"])
	manual := findingsOf(plain, "4.3.2", output.ObjectRef{Kind: ClusterKind})
	require.Len(t, manual, 1)
	assert.Equal(t, policy.Slug("workload-network-policy"), manual[0].Slug)
	assert.Equal(t, policy.StatusWarn, manual[0].Status)

	kept, err := Audit(t.Context(), client(), mustPolicy(t, "benchmark: eks-2.0.0\nmode: audit\nchecks: {namespace-network-policy: audit}\n"), 500)
	require.NoError(t, err)
	assert.Equal(t, []string{"Namespace shop"}, failing(kept, "namespace-network-policy"))
	assert.Equal(t, Counts{Pass: 1, Fail: 1}, *kept.Counts["namespace-network-policy"])
	require.Len(t, findingsOf(kept, "4.3.2", output.ObjectRef{Kind: ClusterKind}), 1, "the manual item is still listed")
}
