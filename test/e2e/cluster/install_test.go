package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/warnlog"
	"github.com/cisgate/cisgate/test/cluster"
	"github.com/cisgate/cisgate/test/cluster/clustertest"
	"github.com/cisgate/cisgate/webhook"
)

// userClient is a client-go client as a user has one, recording warnings.
func userClient(t *testing.T) (kubernetes.Interface, *warnlog.Log) {
	t.Helper()
	w := &warnlog.Log{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = w
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return cs, w
}

func namespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Clientset.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// privilegedPod: 4.2.1 (privileged), 4.1.5 (default ServiceAccount) among others.
func privilegedPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			Containers: []corev1.Container{{
				Name: "shell", Image: cluster.PauseImage,
				SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
			}},
		},
	}
}

// legacyDeployment: hostNetwork and hostPID (4.2.4, 4.2.2), no NetworkPolicy in its namespace.
func legacyDeployment(ns string) *appsv1.Deployment {
	labels := map[string]string{"app": "node-agent"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "node-agent", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork: true, HostPID: true,
					AutomountServiceAccountToken: ptr.To(false),
					Containers:                   []corev1.Container{{Name: "agent", Image: cluster.PauseImage}},
				},
			},
		},
	}
}

// waitWebhookReady waits for both replicas behind the webhook's Service.
func waitWebhookReady(t *testing.T, r *clustertest.Release) {
	t.Helper()
	ctx := context.Background()
	err := clustertest.WaitFor(ctx, 2*time.Minute, "two ready endpoints behind Service "+r.Name, func() error {
		slices, err := c.Clientset.DiscoveryV1().EndpointSlices(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + r.Name})
		if err != nil {
			return err
		}
		ready := 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if ptr.Deref(e.Conditions.Ready, false) {
					ready++
				}
			}
		}
		if ready != 2 {
			return fmt.Errorf("%d ready endpoints", ready)
		}
		return nil
	})
	require.NoError(t, err)
}

func webhookPods(t *testing.T, r *clustertest.Release) []corev1.Pod {
	t.Helper()
	pods, err := c.Clientset.CoreV1().Pods(r.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=webhook"})
	require.NoError(t, err)
	return pods.Items
}

// reviewDirectly sends a pod an AdmissionReview for creating obj through the API server's pod
// proxy (bypassing the Service) and checks it answers.
func reviewDirectly(t *testing.T, r *clustertest.Release, pod string, obj *corev1.Pod) {
	t.Helper()
	raw, err := json.Marshal(obj)
	require.NoError(t, err)
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("direct-" + pod),
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: obj.Namespace, Name: obj.Name, Operation: admissionv1.Create,
			UserInfo: authenticationv1.UserInfo{Username: "e2e-user"},
			Object:   runtime.RawExtension{Raw: raw},
		},
	}
	body, err := json.Marshal(review)
	require.NoError(t, err)
	out, err := c.Clientset.CoreV1().RESTClient().Post().
		AbsPath("/api/v1/namespaces/"+r.Namespace+"/pods/https:"+pod+":9443/proxy"+webhook.Path).
		SetHeader("Content-Type", "application/json").Body(body).DoRaw(context.Background())
	require.NoError(t, err, "%s", out)
	var resp admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(out, &resp), "%s", out)
	require.NotNil(t, resp.Response, "%s", out)
	assert.Equal(t, review.Request.UID, resp.Response.UID)
}

// reportData is the report ConfigMap's data.
func reportData(ctx context.Context, r *clustertest.Release) (map[string]string, error) {
	cm, err := c.Clientset.CoreV1().ConfigMaps(r.Namespace).Get(ctx, "cisgate-report", metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return cm.Data, nil
}

// What an EKS user does first: helm install in audit mode, read what it says, then helm upgrade
// to enforce. Everything below goes through the API server, which calls the webhook through its
// Service (the chart's webhook configuration names the Service, never an address).
func TestInstallAuditThenEnforce(t *testing.T) {
	clustertest.Require(t, c)
	ctx := context.Background()
	// A ClusterRole of the cluster's own, with a wildcard (4.1.3), made before the install: the
	// first audit's CISViolation Event about it is the barrier after which the audit's Events
	// about the control plane's bootstrap ClusterRoles would have been written too.
	userRole := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-everything"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get"}}},
	}
	_, err := c.Clientset.RbacV1().ClusterRoles().Create(ctx, userRole, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Clientset.RbacV1().ClusterRoles().Delete(context.Background(), userRole.Name, metav1.DeleteOptions{})
	})
	r := clustertest.Install(t, c, "--set", "mode=audit")
	waitWebhookReady(t, r)

	pods := webhookPods(t, r)
	require.Len(t, pods, 2)
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			assert.Zero(t, cs.RestartCount, "pod %s container %s restarted", p.Name, cs.Name)
		}
		assert.Equal(t, int64(65532), ptr.Deref(p.Spec.Containers[0].SecurityContext.RunAsUser, 0))
	}
	// No readiness or liveness probe failed on the way up (issue 13: each pod failed its first
	// readiness probe). The kubelet records every failed probe as an Unhealthy Event on the Pod;
	// the start-up probe's are expected (it polls every second until the pod is ready, and holds
	// the other probes off meanwhile).
	evs, err := c.Clientset.CoreV1().Events(r.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "reason=Unhealthy"})
	require.NoError(t, err)
	for _, e := range evs.Items {
		if !strings.HasPrefix(e.Message, "Startup probe failed") {
			t.Errorf("%s %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
		}
	}

	user, warned := userClient(t)
	namespace(t, "legacy", map[string]string{"cisgate.io/mode": "audit"})
	namespace(t, "shop", nil)

	// Audit mode: admitted, with the findings as warnings. Several requests, so the Service
	// spreads them over both replicas (each replica's report key is checked below).
	for i := range 12 {
		_, err := user.CoreV1().Pods("shop").Create(ctx, privilegedPod("shop", fmt.Sprintf("audit-%d", i)), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		require.NoError(t, err, "audit mode admits")
	}
	ws := warned.Take()
	require.NotEmpty(t, ws)
	assert.True(t, slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, "4.2.1") }), "a warning names 4.2.1: %q", ws)

	// Enforce: right after `helm upgrade` returns, the privileged Pod is denied and the denial
	// lists its check IDs. Issue 13: the pods read the mode from their mounted ConfigMap, which
	// the kubelet synced up to a minute later, and a Pod created 8 s after the upgrade was
	// admitted; they follow the ConfigMap through the API now (docs/install.md).
	r.Upgrade(t, "--set", "mode=enforce")
	_, denial := user.CoreV1().Pods("shop").Create(ctx, privilegedPod("shop", "debug-shell"), metav1.CreateOptions{})
	require.Error(t, denial, "a privileged Pod right after the upgrade to enforce returned")
	deniedAt := time.Now()
	waitWebhookReady(t, r)
	require.True(t, apierrors.IsForbidden(denial) || apierrors.IsInvalid(denial) || strings.Contains(denial.Error(), "denied the request"), "%v", denial)
	for _, id := range []string{"4.2.1", "4.1.5"} {
		assert.Contains(t, denial.Error(), id)
	}
	assert.Contains(t, denial.Error(), "privileged")

	// An audit-labelled namespace keeps admitting with warnings under global enforce.
	warned.Take()
	_, err = user.AppsV1().Deployments("legacy").Create(ctx, legacyDeployment("legacy"), metav1.CreateOptions{})
	require.NoError(t, err, "cisgate.io/mode=audit admits")
	ws = warned.Take()
	assert.True(t, slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, "4.2.4") }), "hostNetwork warned with 4.2.4: %q", ws)

	// Events: a CISDenied on the denied Pod's namespace and a CISViolation on the Deployment.
	require.NoError(t, clustertest.WaitFor(ctx, time.Minute, "the Events", func() error {
		var reasons []string
		for _, ns := range []string{"shop", "legacy"} {
			evs, err := c.Clientset.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			for _, e := range evs.Items {
				reasons = append(reasons, ns+"/"+e.Reason)
			}
		}
		for _, want := range []string{"shop/CISDenied", "legacy/CISViolation"} {
			if !slices.Contains(reasons, want) {
				return fmt.Errorf("no %s among %v", want, reasons)
			}
		}
		return nil
	}))

	// Each replica reports what it judged. The API server keeps one HTTP/2 connection to the
	// Service, so kube-proxy may send it all to one replica: each pod gets a review directly too.
	for _, p := range webhookPods(t, r) {
		reviewDirectly(t, r, p.Name, privilegedPod("legacy", "direct-"+p.Name))
	}

	// The report: both replicas' admission keys, the audit, the summary and this node's scan.
	want := []string{"audit.json", "summary.json", "node." + cluster.NodeName + ".json"}
	for _, p := range webhookPods(t, r) {
		want = append(want, "admission."+p.Name+".json")
	}
	var keys []string
	err = clustertest.WaitFor(ctx, 3*time.Minute, "the report keys "+strings.Join(want, ", "), func() error {
		data, err := reportData(ctx, r)
		if err != nil {
			return err
		}
		keys = keys[:0]
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range want {
			if _, ok := data[k]; !ok {
				return fmt.Errorf("no %s in %v", k, keys)
			}
		}
		return nil
	})
	require.NoError(t, err)
	data, err := reportData(ctx, r)
	require.NoError(t, err)
	var node struct {
		Node    string         `json:"node"`
		Counts  map[string]int `json:"counts"`
		Results []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(data["node."+cluster.NodeName+".json"]), &node))
	assert.Equal(t, cluster.NodeName, node.Node)
	assert.NotEmpty(t, node.Results)

	// summary.json carries the denial within one summary interval (--summary-interval, a minute;
	// the leader also refreshes it when a replica's admission key changes, which a replica
	// writes within its --report-interval of 5 s).
	const summaryInterval, reportInterval = time.Minute, 5 * time.Second
	require.NoError(t, clustertest.WaitFor(ctx, summaryInterval+reportInterval-time.Since(deniedAt), "summary.json to count the denial", func() error {
		data, err := reportData(ctx, r)
		if err != nil {
			return err
		}
		var summary struct {
			Denials int `json:"denials"`
			Checks  map[string]struct {
				Admission *struct {
					Deny int `json:"deny"`
				} `json:"admission"`
			} `json:"checks"`
		}
		if err := json.Unmarshal([]byte(data["summary.json"]), &summary); err != nil {
			return err
		}
		if a := summary.Checks["4.2.1"].Admission; summary.Denials < 1 || a == nil || a.Deny < 1 {
			return fmt.Errorf("denials %d, 4.2.1's admission counts %+v", summary.Denials, a)
		}
		return nil
	}))

	// The control plane's bootstrap ClusterRoles are the platform's (controller/platform.go):
	// audit.json lists them under platform, apart from the cluster's own findings, and the audit
	// raises no CISViolation Event about them. The user's ClusterRole is a finding as before.
	type listed struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	var audit struct {
		Checks   map[string]struct{ Objects []listed } `json:"checks"`
		Platform map[string]struct{ Objects []listed } `json:"platform"`
	}
	require.NoError(t, json.Unmarshal([]byte(data["audit.json"]), &audit))
	clusterRole := func(name string) func(listed) bool {
		return func(o listed) bool { return o.Kind == "ClusterRole" && o.Name == name }
	}
	// cluster-admin grants * on * (4.1.3, rbac-wildcards).
	assert.True(t, slices.ContainsFunc(audit.Platform["4.1.3"].Objects, clusterRole("cluster-admin")), "cluster-admin under platform 4.1.3: %+v", audit.Platform["4.1.3"])
	assert.False(t, slices.ContainsFunc(audit.Checks["4.1.3"].Objects, clusterRole("cluster-admin")), "cluster-admin among the cluster's findings")
	assert.True(t, slices.ContainsFunc(audit.Checks["4.1.3"].Objects, clusterRole(userRole.Name)), "the user's ClusterRole among the findings: %+v", audit.Checks["4.1.3"])
	var violations []string
	require.NoError(t, clustertest.WaitFor(ctx, time.Minute, "the audit's CISViolation Event about ClusterRole "+userRole.Name, func() error {
		evs, err := c.Clientset.EventsV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		violations = violations[:0]
		for _, e := range evs.Items {
			if e.Reason == "CISViolation" && e.Regarding.Kind == "ClusterRole" {
				violations = append(violations, e.Regarding.Name)
			}
		}
		if !slices.Contains(violations, userRole.Name) {
			return fmt.Errorf("CISViolation Events about ClusterRoles %v", violations)
		}
		return nil
	}))
	for _, name := range violations {
		assert.False(t, name == "cluster-admin" || name == "admin" || name == "edit" || name == "view" || strings.HasPrefix(name, "system:"),
			"a CISViolation Event about the bootstrap ClusterRole %q", name)
	}
}
