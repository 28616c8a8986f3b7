package chart

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/policy"
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
	t.Run("node-scan scheduler", func(t *testing.T) { nodeScanScheduler(t, env, releaseNamespace) })
	t.Run("background audit", func(t *testing.T) { backgroundAudit(t, env, releaseNamespace) })
	t.Run("helm install, upgrade, uninstall", func(t *testing.T) { helmInstall(t, env) })
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

	// Leader election: client-go's elector, as serve runs it, takes the release's Lease (created by
	// the chart, without a holder) with the Role's get and update alone.
	leading := make(chan struct{})
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Namespace: ns, Name: "cisgate-leader"},
			Client: c.CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: "cisgate-7d9f-abcde"}},
		LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 500 * time.Millisecond,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(leading) },
			OnStoppedLeading: func() {},
		},
	})
	require.NoError(t, err)
	electCtx, stopElecting := context.WithCancel(ctx)
	elected := make(chan struct{})
	go func() { defer close(elected); elector.Run(electCtx) }()
	select {
	case <-leading:
	case <-ctx.Done():
		t.Fatal("the elector never took the chart's Lease")
	}
	stopElecting()
	<-elected
	lease, err := env.Clientset.CoordinationV1().Leases(ns).Get(ctx, "cisgate-leader", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, releaseName, lease.Labels["app.kubernetes.io/instance"], "the release's Lease")
	_, err = c.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: "cisgate-leader.", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Lease", Namespace: ns, Name: "cisgate-leader", APIVersion: "coordination.k8s.io/v1"},
		Reason:         "LeaderElection", Message: "became leader", Type: corev1.EventTypeNormal,
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	// The webhook's caches and the audit's lists, cluster-wide.
	for what, list := range map[string]func() error{
		"namespaces": func() error { _, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); return err },
		"networkpolicies": func() error {
			_, err := c.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
			return err
		},
		"serviceaccounts":     func() error { _, err := c.CoreV1().ServiceAccounts("").List(ctx, metav1.ListOptions{}); return err },
		"pods":                func() error { _, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); return err },
		"deployments":         func() error { _, err := c.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); return err },
		"cronjobs":            func() error { _, err := c.BatchV1().CronJobs("").List(ctx, metav1.ListOptions{}); return err },
		"clusterrolebindings": func() error { _, err := c.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{}); return err },
		"ingresses":           func() error { _, err := c.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{}); return err },
		"ingressclasses":      func() error { _, err := c.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{}); return err },
		"nodes":               func() error { _, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); return err },
	} {
		assert.NoError(t, list(), "list %s", what)
	}

	// CISViolation on a cluster-scoped object: its Event lives in "default".
	cr, err := env.Clientset.RbacV1().ClusterRoles().Get(ctx, releaseName, metav1.GetOptions{})
	require.NoError(t, err)
	cr.SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind("ClusterRole"))
	sink, err := report.NewEventSink(c, report.ReportingController)
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

	// Its config and the report, followed through the API by name: get, and list and watch with a
	// metadata.name field selector (what an informer on one object sends).
	for _, name := range []string{releaseName + "-config", report.ConfigMapName} {
		_, err = c.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		assert.NoError(t, err, "get ConfigMap %s", name)
		byName := metav1.ListOptions{FieldSelector: "metadata.name=" + name}
		_, err = c.CoreV1().ConfigMaps(ns).List(ctx, byName)
		assert.NoError(t, err, "list ConfigMap %s by name", name)
		w, err := c.CoreV1().ConfigMaps(ns).Watch(ctx, byName)
		if assert.NoError(t, err, "watch ConfigMap %s by name", name) {
			w.Stop()
		}
	}
	_, err = c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	forbidden(t, err, "list every ConfigMap of its namespace")

	// Forbidden: Secrets, other ConfigMaps, pods, RBAC writes, webhook configurations, other
	// Leases.
	_, err = c.CoreV1().Secrets(ns).Get(ctx, releaseName+"-tls", metav1.GetOptions{})
	forbidden(t, err, "get its own TLS Secret")
	_, err = c.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	forbidden(t, err, "list Secrets")
	_, err = c.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
	forbidden(t, err, "get another ConfigMap")
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
	sink, err := report.NewEventSink(c, report.ReportingController)
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
	forbidden(t, err, "create the leader Lease (the chart does)")
	_, err = c.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "another"}}, metav1.CreateOptions{})
	forbidden(t, err, "create a Lease")
	_, err = c.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	forbidden(t, err, "list Jobs")
	_, err = c.CoreV1().Nodes().Patch(ctx, node.Name, "application/merge-patch+json", []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	forbidden(t, err, "patch its Node")
}

// nodeScanScheduler runs cisgate's node-scan scheduler with the chart's ServiceAccount and the
// settings the chart passes to `cisgate serve`: the RBAC lets it list and watch Nodes and its
// Jobs, read the report and create a node's scan Job, and the Job the controller writes (hostPID,
// hostPath, uid 0, its API token) leaves nothing that the chart's exemption rules do not cover.
func nodeScanScheduler(t *testing.T, env *framework.Env, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node, err := env.Clientset.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: "ip-10-0-2-2.ec2.internal", Labels: map[string]string{corev1.LabelOSStable: "linux"},
	}}, metav1.CreateOptions{})
	require.NoError(t, err)
	node.Status = corev1.NodeStatus{
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
		NodeInfo:   corev1.NodeSystemInfo{OSImage: "Amazon Linux 2023.6.20250115"},
	}
	_, err = env.Clientset.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	require.NoError(t, err)

	opts := nodeScanOptions(t, nodescanArgs(t, defaultRelease()))
	s, err := controller.NewNodeScanScheduler(as(t, env, ns, releaseName), ns, opts, func() policy.Benchmark { return policy.EKS180 })
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Start(runCtx) }()
	defer func() {
		stop()
		assert.NoError(t, <-done)
	}()

	var job *batchv1.Job
	require.Eventually(t, func() bool {
		jobs, err := env.Clientset.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for i := range jobs.Items {
			if jobs.Items[i].Spec.Template.Spec.NodeName == node.Name {
				job = &jobs.Items[i]
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the scheduler created no scan Job for %s", node.Name)
	assert.Equal(t, releaseName+"-nodescan", job.Spec.Template.Spec.ServiceAccountName)
	assert.Equal(t, "ghcr.io/cisgate/cisgate:0.1.0", job.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, ptr.To[int32](3600), job.Spec.TTLSecondsAfterFinished)
	// The chart's node-scan NetworkPolicy selects the scan Pods.
	np, err := env.Clientset.NetworkingV1().NetworkPolicies(ns).Get(ctx, releaseName+"-nodescan", metav1.GetOptions{})
	require.NoError(t, err)
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	require.NoError(t, err)
	assert.True(t, sel.Matches(labels.Set(job.Spec.Template.Labels)), "NetworkPolicy %s does not select the scan Pods %v", np.Name, job.Spec.Template.Labels)
	assert.Empty(t, np.Spec.Ingress)

	// The Job as `cisgate check` sees it, with the chart's config without the namespace
	// exemption: only the chart's node-scan rule exempts it (and 4.3.2 needs the cluster).
	job.SetGroupVersionKind(batchv1.SchemeGroupVersion.WithKind("Job"))
	job.ManagedFields = nil
	manifest, err := yaml.Marshal(job)
	require.NoError(t, err)
	for _, b := range policy.Benchmarks() {
		t.Run(string(b), func(t *testing.T) {
			config := withoutExemptNamespace(t, renderedConfig(t, decode(t, template(t, defaultRelease("--set", "benchmark="+string(b)))), releaseName), ns)
			p, err := policy.ParseConfig([]byte(config))
			require.NoError(t, err)
			scanReason, ok := p.ExemptionFor("host-pid", obj("Job", ns, job.Name))
			require.True(t, ok)
			code, report := runCheck(t, string(manifest), config)
			assert.Equal(t, app.ExitOK, code)
			var exempt []string
			for _, f := range report.Findings {
				if f.Slug == "namespace-network-policy" {
					assert.Equal(t, policy.StatusWarn, f.Status)
					continue
				}
				assert.Equal(t, scanReason, f.ExemptReason, "%+v", f)
				exempt = append(exempt, string(f.Slug))
			}
			assert.Contains(t, exempt, "host-pid")
			assert.Contains(t, exempt, "sa-token-automount")
		})
	}
}

// helmInstall installs the chart with helm itself, without cert-manager, upgrades it to enforce
// mode and uninstalls it: the NOTES tell how to read the report and enforce, the upgrade keeps
// the generated certificate (Helm's lookup) so that the caBundle still matches what the pods
// serve, and the uninstall leaves no webhook configuration behind.
func helmInstall(t *testing.T, env *framework.Env) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const name, ns = "cisgate-helm", "cisgate-helm"
	helm := func(args ...string) string {
		t.Helper()
		out, err := runHelm(t, append(args, "--kubeconfig", env.KubeConfig, "--namespace", ns)...)
		require.NoError(t, err)
		return out
	}
	out := helm("install", name, chartDir(t), "--create-namespace", "--set", "certManager.enabled=false")
	for _, want := range []string{
		`kubectl -n cisgate-helm get configmap cisgate-report -o jsonpath='{.data.summary\.json}'`,
		"kubectl get events -A --field-selector reason=CISViolation",
		"--set mode=enforce",
		"cisgate.io/mode=enforce",
	} {
		assert.Contains(t, out, want)
	}

	caBundles := func() [][]byte {
		vwc, err := env.Clientset.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		var out [][]byte
		for _, w := range vwc.Webhooks {
			out = append(out, w.ClientConfig.CABundle)
		}
		return out
	}
	secret, err := env.Clientset.CoreV1().Secrets(ns).Get(ctx, name+"-tls", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, [][]byte{secret.Data["ca.crt"], secret.Data["ca.crt"]}, caBundles())

	out = helm("upgrade", name, chartDir(t), "--reuse-values", "--set", "mode=enforce")
	assert.Contains(t, out, "Enforce mode")
	upgraded, err := env.Clientset.CoreV1().Secrets(ns).Get(ctx, name+"-tls", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, secret.Data, upgraded.Data, "the upgrade generated a new certificate")
	assert.Equal(t, [][]byte{secret.Data["ca.crt"], secret.Data["ca.crt"]}, caBundles())
	vwc, err := env.Clientset.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	for _, w := range vwc.Webhooks {
		assert.Equal(t, ptr.To(admissionregistrationv1.Fail), w.FailurePolicy)
	}

	// The leader's term, as a replica's elector writes it into the release's Lease: the holder
	// survives the upgrade above and the uninstall below removes the Lease all the same.
	lease, err := env.Clientset.CoordinationV1().Leases(ns).Get(ctx, "cisgate-leader", metav1.GetOptions{})
	require.NoError(t, err, "the release has its Lease")
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds = ptr.To("cisgate-7d9f-abcde_1"), ptr.To[int32](15)
	_, err = env.Clientset.CoordinationV1().Leases(ns).Update(ctx, lease, metav1.UpdateOptions{})
	require.NoError(t, err)
	helm("upgrade", name, chartDir(t), "--reuse-values")
	lease, err = env.Clientset.CoordinationV1().Leases(ns).Get(ctx, "cisgate-leader", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "cisgate-7d9f-abcde_1", ptr.Deref(lease.Spec.HolderIdentity, ""), "the upgrade kept the leader's term")

	helm("uninstall", name)
	_, err = env.Clientset.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the webhook configuration outlives the release: %v", err)
	_, err = env.Clientset.CoordinationV1().Leases(ns).Get(ctx, "cisgate-leader", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the Lease outlives the release: %v", err)
}

// backgroundAudit runs cisgate's background audit with the chart's ServiceAccount: its lists and
// report writes are allowed, and of the chart's own objects as they live in the cluster (and the
// scan Job the scheduler made) nothing is left that the chart's rules do not exempt, even with
// the release namespace not exempt as a whole; 4.3.2 passes for the namespace, which has the
// chart's NetworkPolicies.
func backgroundAudit(t *testing.T, env *framework.Env, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := as(t, env, ns, releaseName)
	objs := decode(t, template(t, defaultRelease()))
	shipped, err := policy.ParseConfig([]byte(renderedConfig(t, objs, releaseName)))
	require.NoError(t, err)
	sink, err := report.NewEventSink(c, report.ReportingController)
	require.NoError(t, err)
	require.NoError(t, controller.NewAuditor(c, ns, func() *policy.Policy { return shipped }, sink, controller.NewAuditOptions()).RunOnce(ctx))
	cm, err := env.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, cm.Data, report.AuditKey().Name)
	assert.Contains(t, cm.Data, report.SummaryKey().Name)

	strict, err := policy.ParseConfig([]byte(withoutExemptNamespace(t, renderedConfig(t, objs, releaseName), ns)))
	require.NoError(t, err)
	run, err := controller.Audit(ctx, c, strict, controller.DefaultPageSize)
	require.NoError(t, err)
	ours := map[string]bool{}
	for _, o := range objs {
		if o.GetNamespace() == "" {
			ours[o.GetKind()+"/"+o.GetName()] = true
		}
	}
	var seen []string
	for _, f := range run.Report.Findings {
		switch {
		case f.Object.Kind == "Namespace" && f.Object.Name == ns:
			t.Errorf("namespace %s has a finding: %+v", ns, f)
		case f.Object.Namespace == ns || ours[f.Object.Kind+"/"+f.Object.Name]:
			assert.Contains(t, f.ExemptReason, "(chart)", "%+v", f)
			seen = append(seen, f.ID+" "+f.Object.String())
		}
	}
	t.Logf("chart findings in the audit: %q", seen)
	assert.Contains(t, seen, "4.1.6 Deployment "+ns+"/"+releaseName)
}
