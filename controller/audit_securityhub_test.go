package controller

import (
	"context"
	"testing"

	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/securityhub"
)

// securityHubFindings reads every finding moto holds, by Id.
func securityHubFindings(t *testing.T, overlay *moto.SecurityHubOverlay) map[string]shtypes.AwsSecurityFinding {
	t.Helper()
	out, err := overlay.Findings(context.Background())
	require.NoError(t, err)
	return out
}

// TestAuditPublishesToSecurityHub: with a Security Hub publisher (moto's, through the overlay
// that serves BatchUpdateFindings), each audit imports its findings, leaves the control plane's
// own RBAC out as it does from Events, and archives and resolves a finding once fixed.
func TestAuditPublishesToSecurityHub(t *testing.T) {
	m := moto.StartT(t)
	m.Env(t)
	overlay := moto.NewSecurityHubOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL", overlay.URL)
	publisher := securityhub.New(t.Context(), securityhub.Config{Cluster: "prod", QPS: 50, Burst: 10, Logger: logr.Discard()})

	wildcards := []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
	priv := pod("shop", "p", privileged(podSpec("app")))
	client := fake.NewClientset(namespace("shop", nil), priv,
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin", UID: types.UID("uid-cluster-admin"),
			Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}}, Rules: wildcards})
	pol := mustPolicy(t, "mode: audit")
	auditor := NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, startEventSink(t, client), NewAuditOptions())
	auditor.PublishSecurityHub(publisher)

	require.NoError(t, auditor.RunOnce(t.Context()))
	id := securityhub.Identity{Partition: "aws", Account: moto.AccountID, Region: moto.Region, Cluster: "prod"}
	podID := securityhub.FindingID(id, "privileged", securityhub.Resource{Kind: "Pod", Namespace: "shop", Name: "p"})
	findings := securityHubFindings(t, overlay)
	require.Contains(t, findings, podID)
	f := findings[podID]
	assert.Equal(t, shtypes.ComplianceStatusFailed, f.Compliance.Status)
	assert.Equal(t, "uid-shop-p", f.Resources[0].Details.Other["uid"])
	assert.Equal(t, securityhub.ScopeAudit, f.ProductFields[securityhub.FieldScope])
	for fid := range findings {
		assert.NotContains(t, fid, "ClusterRole/cluster-admin", "the control plane's own RBAC stays out")
	}

	fixed := priv.DeepCopy()
	fixed.Spec = podSpec("app")
	_, err := client.CoreV1().Pods("shop").Update(t.Context(), fixed, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, auditor.RunOnce(t.Context()))
	f = securityHubFindings(t, overlay)[podID]
	assert.Equal(t, shtypes.RecordStateArchived, f.RecordState)
	assert.Equal(t, shtypes.WorkflowStatusResolved, f.Workflow.Status)
}
