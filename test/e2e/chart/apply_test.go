package chart

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestApply creates every rendered object of each variant on a real kube-apiserver with
// cert-manager's CRDs, as `helm install` would, and then checks the RBAC as the chart's
// ServiceAccounts: what cisgate does is allowed, the rest is forbidden.
func TestApply(t *testing.T) {
	framework.Helm(t) // skip before starting an API server when there is no helm
	env := framework.StartT(t, framework.Options{CertManagerCRDs: true})

	// Each variant is its own release in its own namespace: the cluster-scoped objects are
	// named after the release.
	for _, tc := range []struct {
		name string
		r    release
	}{
		{"default", defaultRelease()},
		{"enforce", release{name: "cisgate-enforce", namespace: "cisgate-enforce", args: []string{"--set", "mode=enforce"}}},
		{"no-cert-manager", release{name: "cisgate-self", namespace: "cisgate-self", args: []string{"--set", "certManager.enabled=false"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applyRelease(t, env, tc.r)
		})
	}

	t.Run("webhook RBAC", func(t *testing.T) { webhookRBAC(t, env, releaseNamespace) })
	t.Run("nodescan RBAC", func(t *testing.T) { nodescanRBAC(t, env, releaseNamespace) })
}

// applyRelease creates the release's namespace and every rendered object, the webhook
// configuration last, then deletes that: no cisgate serves it here, and a Fail policy would
// block the other tests' writes.
func applyRelease(t *testing.T, env *framework.Env, r release) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := env.Clientset.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.namespace}}, metav1.CreateOptions{})
	require.NoError(t, err)

	objs := decode(t, template(t, r))
	var webhooks []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ValidatingWebhookConfiguration" {
			webhooks = append(webhooks, o)
			continue
		}
		create(ctx, t, env, o)
	}
	require.Len(t, webhooks, 1)
	create(ctx, t, env, webhooks[0])

	// Everything is there, as the API server stored it (after defaulting and validation).
	for _, o := range objs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(o), got), "%s %s", o.GetKind(), o.GetName())
	}
	vwc, err := env.Clientset.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, r.name, metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, vwc.Webhooks, 2)
	for _, w := range vwc.Webhooks {
		assert.Equal(t, r.namespace, w.ClientConfig.Service.Namespace)
		assert.Equal(t, ptr.To[int32](5), w.TimeoutSeconds)
	}
	require.NoError(t, env.Clientset.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, r.name, metav1.DeleteOptions{}))

	dep, err := env.Clientset.AppsV1().Deployments(r.namespace).Get(ctx, r.name, metav1.GetOptions{})
	require.NoError(t, err)
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			assert.Equal(t, ptr.To[int32](0o440), v.Secret.DefaultMode)
		}
	}
}

func create(ctx context.Context, t *testing.T, env *framework.Env, o *unstructured.Unstructured) {
	t.Helper()
	require.NoError(t, env.Client.Create(ctx, o.DeepCopy()), "the API server rejects %s %s", o.GetKind(), o.GetName())
}

// as returns a clientset that acts as a ServiceAccount, as its pod's token would.
func as(t *testing.T, env *framework.Env, namespace, serviceAccount string) kubernetes.Interface {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + namespace + ":" + serviceAccount,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return cs
}

func forbidden(t *testing.T, err error, what string) {
	t.Helper()
	assert.True(t, apierrors.IsForbidden(err), "%s: want Forbidden, got %v", what, err)
}

// webhookRBAC: what `cisgate serve` does with its ServiceAccount works; nothing else does.
func webhookRBAC(t *testing.T, env *framework.Env, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := as(t, env, ns, releaseName)

	// The report: a replica's key, by server-side apply, creating the ConfigMap first.
	require.NoError(t, report.ApplyKey(ctx, c, ns, report.AdmissionKey("cisgate-7d9f-abcde"), []byte(`{"schemaVersion":1}`)))
	require.NoError(t, report.ApplyKey(ctx, c, ns, report.SummaryKey(), []byte(`{"schemaVersion":1}`)))
	cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, cm.Data, "admission.cisgate-7d9f-abcde.json")
	assert.Contains(t, cm.Data, "summary.json")

	// Leader election.
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "cisgate-leader", Namespace: ns},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("cisgate-7d9f-abcde"), LeaseDurationSeconds: ptr.To[int32](15)}}
	lease, err = c.CoordinationV1().Leases(ns).Create(ctx, lease, metav1.CreateOptions{})
	require.NoError(t, err)
	lease.Spec.HolderIdentity = ptr.To("cisgate-7d9f-fghij")
	_, err = c.CoordinationV1().Leases(ns).Update(ctx, lease, metav1.UpdateOptions{})
	require.NoError(t, err)
	_, err = c.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: "cisgate-leader.", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Lease", Namespace: ns, Name: "cisgate-leader", APIVersion: "coordination.k8s.io/v1"},
		Reason:         "LeaderElection", Message: "became leader", Type: corev1.EventTypeNormal,
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	// The webhook's caches and the audit's lists, cluster-wide.
	for what, list := range map[string]func() error{
		"namespaces":          func() error { _, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); return err },
		"networkpolicies":     func() error { _, err := c.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{}); return err },
		"serviceaccounts":     func() error { _, err := c.CoreV1().ServiceAccounts("").List(ctx, metav1.ListOptions{}); return err },
		"pods":                func() error { _, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); return err },
		"deployments":         func() error { _, err := c.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); return err },
		"cronjobs":            func() error { _, err := c.BatchV1().CronJobs("").List(ctx, metav1.ListOptions{}); return err },
		"clusterrolebindings": func() error { _, err := c.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{}); return err },
		"ingresses":           func() error { _, err := c.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{}); return err },
		"nodes":               func() error { _, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); return err },
	} {
		assert.NoError(t, list(), "list %s", what)
	}

	// CISViolation on a cluster-scoped object: its Event lives in "default".
	cr, err := env.Clientset.RbacV1().ClusterRoles().Get(ctx, releaseName, metav1.GetOptions{})
	require.NoError(t, err)
	cr.SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind("ClusterRole"))
	sink, err := report.NewEventSink(c, "cisgate")
	require.NoError(t, err)
	require.NoError(t, sink.EmitNow(ctx, cr, report.EventWarning, report.ReasonViolation, report.ActionAudit, "[4.1.3] test"))

	// A node scan Job, in its namespace only.
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "cisgate-nodescan-ip-10-0-1-1", Namespace: ns},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, ServiceAccountName: releaseName + "-nodescan",
			Containers: []corev1.Container{{Name: "nodescan", Image: "ghcr.io/cisgate/cisgate:0.1.0"}},
		}}},
	}
	_, err = c.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, c.BatchV1().Jobs(ns).Delete(ctx, job.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}))
	other := job.DeepCopy()
	other.Namespace = "default"
	_, err = c.BatchV1().Jobs("default").Create(ctx, other, metav1.CreateOptions{})
	forbidden(t, err, "create a Job outside its namespace")

	// Forbidden: Secrets, other ConfigMaps (its config comes as a volume), pods, RBAC writes,
	// webhook configurations, other Leases.
	_, err = c.CoreV1().Secrets(ns).Get(ctx, releaseName+"-tls", metav1.GetOptions{})
	forbidden(t, err, "get its own TLS Secret")
	_, err = c.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	forbidden(t, err, "list Secrets")
	_, err = c.CoreV1().ConfigMaps(ns).Get(ctx, releaseName+"-config", metav1.GetOptions{})
	forbidden(t, err, "get the config ConfigMap")
	_, err = c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{})
	forbidden(t, err, "create another ConfigMap")
	err = report.ApplyKey(ctx, c, "default", report.SummaryKey(), []byte(`{}`))
	forbidden(t, err, "apply a report in another namespace")
	_, err = c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}, metav1.CreateOptions{})
	forbidden(t, err, "create a Pod")
	_, err = c.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "x"},
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"}}, metav1.CreateOptions{})
	forbidden(t, err, "create a ClusterRoleBinding")
	_, err = c.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	forbidden(t, err, "list webhook configurations")
	_, err = c.CoordinationV1().Leases(ns).Get(ctx, "someone-elses", metav1.GetOptions{})
	forbidden(t, err, "get another Lease")
	_, err = c.CoreV1().Nodes().Update(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}, metav1.UpdateOptions{})
	forbidden(t, err, "update a Node")
}

// nodescanRBAC: what `cisgate nodescan --report` does with the scan Job's ServiceAccount works;
// nothing else does.
func nodescanRBAC(t *testing.T, env *framework.Env, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node, err := env.Clientset.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-1-1.ec2.internal"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	c := as(t, env, ns, releaseName+"-nodescan")

	// What the reporter does: count the nodes, apply its key, get its Node, write the Event.
	_, err = c.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	require.NoError(t, err)
	require.NoError(t, report.ApplyKey(ctx, c, ns, report.NodeKey(node.Name), []byte(`{"schemaVersion":1}`)))
	got, err := c.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
	require.NoError(t, err)
	got.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Node"))
	sink, err := report.NewEventSink(c, "cisgate-nodescan")
	require.NoError(t, err)
	require.NoError(t, sink.EmitNow(ctx, got, report.EventNormal, report.ReasonNodeScan, report.ActionNodeScan, "eks-1.8.0 section 3: 0 FAIL"))
	events, err := env.Clientset.EventsV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=CISNodeScan"})
	require.NoError(t, err)
	assert.Len(t, events.Items, 1)

	_, err = c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	forbidden(t, err, "list Secrets")
	_, err = c.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	forbidden(t, err, "list Pods")
	_, err = c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{})
	forbidden(t, err, "create another ConfigMap")
	_, err = c.CoreV1().ConfigMaps(ns).Update(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: report.ConfigMapName}}, metav1.UpdateOptions{})
	forbidden(t, err, "replace the whole report ConfigMap")
	_, err = c.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "cisgate-leader"}}, metav1.CreateOptions{})
	forbidden(t, err, "take the leader Lease")
	_, err = c.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	forbidden(t, err, "list Jobs")
	_, err = c.CoreV1().Nodes().Patch(ctx, node.Name, "application/merge-patch+json", []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	forbidden(t, err, "patch its Node")
}
