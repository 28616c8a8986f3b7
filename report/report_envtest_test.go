package report

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestOnAPIServer checks the sinks against a real kube-apiserver and etcd: server-side apply's
// merging of field managers, the events API's validation, and the least RBAC the chart grants.
func TestOnAPIServer(t *testing.T) {
	if os.Getenv(framework.AssetsEnv) == "" {
		t.Skip("needs make test: KUBEBUILDER_ASSETS names the kube-apiserver and etcd binaries")
	}
	env := framework.StartT(t, framework.Options{})

	t.Run("writers keep each other's keys", func(t *testing.T) {
		client := env.Clientset
		ns := env.Namespace(t, "report")
		keys := []Key{AdmissionKey("replica-a"), AdmissionKey("replica-b"), AuditKey(), SummaryKey()}
		var running, setting sync.WaitGroup
		ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
		for i, key := range keys {
			w, err := NewWriter(client, ns, key, SplitBudget(AuditShare, 1), WithWriteInterval(20*time.Millisecond))
			require.NoError(t, err)
			running.Go(func() { assert.NoError(t, w.Start(ctx)) })
			setting.Go(func() {
				for n := 1; n <= 30; n++ {
					assert.NoError(t, w.Set(newTestReport(i*1000+n)))
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
		node := NodeKey("ip-10-0-1-1.ec2.internal")
		setting.Go(func() {
			data, err := MarshalWithin(newTestReport(7), SplitBudget(NodeShare, 100))
			assert.NoError(t, err)
			assert.NoError(t, ApplyKey(ctx, client, ns, node, data))
		})
		setting.Wait()
		cancel()
		running.Wait() // each writer flushes its last payload

		cm, err := client.CoreV1().ConfigMaps(ns).Get(t.Context(), ConfigMapName, metav1.GetOptions{})
		require.NoError(t, err)
		for i, key := range keys {
			var got testReport
			require.NoError(t, json.Unmarshal([]byte(cm.Data[key.Name]), &got), key.Name)
			assert.Equal(t, i*1000+30, got.Total, key.Name)
		}
		assert.Contains(t, cm.Data[node.Name], `"total":7`)
		owners := keyOwners(t, cm)
		for _, key := range append(keys, node) {
			assert.Equal(t, []string{key.FieldManager}, owners[key.Name], key.Name)
		}

		// A released key goes; the others stay.
		require.NoError(t, ReleaseKey(t.Context(), client, ns, keys[0]))
		cm, err = client.CoreV1().ConfigMaps(ns).Get(t.Context(), ConfigMapName, metav1.GetOptions{})
		require.NoError(t, err)
		assert.NotContains(t, cm.Data, keys[0].Name)
		assert.Len(t, cm.Data, len(keys))
	})

	t.Run("events are accepted and aggregated", func(t *testing.T) {
		client := env.Clientset
		ns := env.Namespace(t, "report")
		sink, err := NewEventSink(client, "cisgate.io/webhook")
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), logr.Discard()))
		t.Cleanup(cancel)
		go func() { _ = sink.Start(ctx) }()

		// The API server rejects a note over 1 KiB: a long one must arrive cut, not be lost.
		p := pod(ns, "web")
		require.NoError(t, sink.Emit(p, EventWarning, ReasonDenied, ActionAdmission, strings.Repeat("日本", MaxNoteBytes)))
		got := waitForEvents(t, client, ns, func(evs []eventsv1.Event) bool { return len(evs) == 1 })[0]
		assert.Equal(t, string(ReasonDenied), got.Reason)
		assert.Equal(t, "web", got.Regarding.Name)
		assert.Equal(t, 340*3+len(noteEllipsis), len(got.Note)) // as many whole three-byte runes as fit, and "…"

		for range 3 {
			require.NoError(t, sink.Emit(p, EventWarning, ReasonDenied, ActionAdmission, "again"))
		}
		waitForEvents(t, client, ns, func(evs []eventsv1.Event) bool {
			return len(evs) == 1 && evs[0].Series != nil && evs[0].Series.Count >= 2
		})

		// A Node's Event, as the node scan Job writes it, lands in "default".
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-1-1.ec2.internal", UID: "node-uid"}}
		require.NoError(t, sink.EmitNow(t.Context(), node, EventNormal, ReasonNodeScan, ActionNodeScan, "0 FAIL"))
		evs, err := client.EventsV1().Events(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{FieldSelector: "regarding.name=" + node.Name})
		require.NoError(t, err)
		require.Len(t, evs.Items, 1)
		assert.Equal(t, string(ReasonNodeScan), evs.Items[0].Reason)
	})

	t.Run("least RBAC is enough", func(t *testing.T) {
		ns := env.Namespace(t, "report")
		client := clientWithOnly(t, env.Clientset, env.Config, ns)

		// create and patch on the one ConfigMap, create and patch on Events.
		w, err := NewWriter(client, ns, AuditKey(), AuditShare, WithWriteInterval(time.Hour))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
		done := make(chan error, 1)
		go func() { done <- w.Start(ctx) }()
		require.NoError(t, w.Set(newTestReport(1)))
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, ApplyKey(t.Context(), client, ns, NodeKey("n1"), []byte(`{"schemaVersion":1}`)))
		cm, err := env.Clientset.CoreV1().ConfigMaps(ns).Get(t.Context(), ConfigMapName, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Contains(t, cm.Data, AuditKey().Name)

		sink, err := NewEventSink(client, "cisgate.io/audit")
		require.NoError(t, err)
		evCtx, evCancel := context.WithCancel(logr.NewContext(context.Background(), logr.Discard()))
		t.Cleanup(evCancel)
		go func() { _ = sink.Start(evCtx) }()
		ref := &corev1.ObjectReference{Kind: "Deployment", APIVersion: "apps/v1", Namespace: ns, Name: "api"}
		// The first is created, and the repeats patch its series (had they raced its creation, the
		// broadcaster would retry them after ten seconds).
		require.NoError(t, sink.Emit(ref, EventWarning, ReasonViolation, ActionAudit, "[4.2.1] privileged"))
		waitForEvents(t, env.Clientset, ns, func(evs []eventsv1.Event) bool { return len(evs) == 1 })
		for range 2 {
			require.NoError(t, sink.Emit(ref, EventWarning, ReasonViolation, ActionAudit, "[4.2.1] privileged"))
		}
		waitForEvents(t, env.Clientset, ns, func(evs []eventsv1.Event) bool {
			return len(evs) == 1 && evs[0].Series != nil && evs[0].Series.Count >= 2
		})
	})
}

// keyOwners maps each data key to the field managers that own it.
func keyOwners(t *testing.T, cm *corev1.ConfigMap) map[string][]string {
	t.Helper()
	owners := map[string][]string{}
	for _, entry := range cm.ManagedFields {
		if entry.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Data map[string]json.RawMessage `json:"f:data"`
		}
		require.NoError(t, json.Unmarshal(entry.FieldsV1.Raw, &fields))
		for key := range fields.Data {
			name := strings.TrimPrefix(key, "f:")
			owners[name] = append(owners[name], entry.Manager)
		}
	}
	return owners
}

// clientWithOnly returns a client for a ServiceAccount in namespace that may only patch the report
// ConfigMap there (create too: server-side apply of an absent object needs it) and create and
// patch Events: what the chart must grant a writer.
func clientWithOnly(t *testing.T, admin kubernetes.Interface, config *rest.Config, namespace string) kubernetes.Interface {
	t.Helper()
	ctx := t.Context()
	const name = "cisgate-report-writer"
	_, err := admin.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = admin.RbacV1().Roles(namespace).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{ConfigMapName}, Verbs: []string{"create", "patch"}},
			{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = admin.RbacV1().RoleBindings(namespace).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	cfg := rest.CopyConfig(config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", namespace, name)}
	client, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	// The binding takes effect once the authorizer's cache has it.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, ApplyKey(ctx, client, namespace, SummaryKey(), []byte(`{"schemaVersion":1}`)))
	}, 10*time.Second, 100*time.Millisecond)
	return client
}
