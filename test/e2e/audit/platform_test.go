package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestBootstrapRBACIsThePlatforms: on a fresh API server, whose kube-apiserver wrote its bootstrap
// RBAC at start, the audit raises no CISViolation Event about those ClusterRoles and lists them
// under platform in audit.json and summary.json. A ClusterRole a user names system:* is the
// cluster's: listed under checks, with its Event.
func TestBootstrapRBACIsThePlatforms(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	const planted = "system:planted-by-a-user"
	_, err := env.Clientset.RbacV1().ClusterRoles().Create(ctx, wildcardClusterRole(planted), metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = env.Clientset.RbacV1().ClusterRoles().Delete(context.Background(), planted, metav1.DeleteOptions{})
	})
	// What makes cluster-admin the platform's is on the object the API server wrote.
	admin, err := env.Clientset.RbacV1().ClusterRoles().Get(ctx, "cluster-admin", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "rbac-defaults", admin.Labels["kubernetes.io/bootstrapping"])

	sink := startEventSink(t, env)
	require.NoError(t, newAuditor(t, env, sink).RunOnce(ctx))
	// Barrier: the sink hands Events to the broadcaster in order, so one about a bootstrap role
	// was dispatched before this one, emitted last; the planted role's Event is awaited too (the
	// broadcaster writes each in its own goroutine).
	sentinel := &corev1.ObjectReference{Kind: "ConfigMap", APIVersion: "v1", Namespace: cisgateNamespace, Name: "platform-barrier"}
	require.NoError(t, sink.Emit(sentinel, report.EventNormal, report.ReasonViolation, report.ActionAudit, "barrier"))
	framework.WaitFor(t, 30*time.Second, "the barrier Event and the planted role's", func() error {
		if len(violations(t, cisgateNamespace, "ConfigMap", "platform-barrier")) == 0 ||
			len(violations(t, metav1.NamespaceDefault, "ClusterRole", planted)) == 0 {
			return errors.New("not written yet")
		}
		return nil
	})

	list, err := env.Clientset.EventsV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var about []string
	for _, e := range list.Items {
		if e.Reason == string(report.ReasonViolation) && e.Regarding.Kind == "ClusterRole" {
			about = append(about, e.Regarding.Name)
		}
	}
	assert.Contains(t, about, planted, "a user's system:* role is judged like any other")
	for _, name := range about {
		assert.False(t, name == "cluster-admin" || name == "admin" || name == "edit" || name == "view" ||
			(strings.HasPrefix(name, "system:") && name != planted), "no Event about the bootstrap ClusterRole %s", name)
	}

	audit, _ := reportKey[report.AuditReport](t, env, report.AuditKey())
	require.Contains(t, audit.Platform, "4.1.3", "cluster-admin grants every verb on every resource")
	var platform []string
	for _, o := range audit.Platform["4.1.3"].Objects {
		platform = append(platform, o.Kind+" "+o.Name)
	}
	assert.Contains(t, platform, "ClusterRole cluster-admin")
	assert.NotContains(t, failingObjects(audit, "4.1.3"), "ClusterRole cluster-admin")
	assert.Contains(t, failingObjects(audit, "4.1.3"), "ClusterRole "+planted)

	summary, _ := reportKey[controller.Summary](t, env, report.SummaryKey())
	require.NotNil(t, summary.Checks["4.1.3"].Platform)
	assert.GreaterOrEqual(t, summary.Checks["4.1.3"].Platform.Fail, 1)
}
