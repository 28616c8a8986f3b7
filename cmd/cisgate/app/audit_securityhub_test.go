package app

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// TestAuditPublishesToSecurityHub: `audit --securityhub` imports the privileged Pod's finding
// (moto's Security Hub, through the overlay) and says so on stderr; the exit code is the audit's.
func TestAuditPublishesToSecurityHub(t *testing.T) {
	m := moto.StartT(t)
	m.Env(t)
	overlay := moto.NewSecurityHubOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL", overlay.URL)

	o := NewAuditOptions()
	o.SecurityHub.Enabled, o.SecurityHub.Cluster = true, "prod"
	require.Empty(t, o.Validate())
	pol, err := policy.ParseConfig([]byte("mode: audit"))
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	require.NoError(t, o.audit(t.Context(), liveCluster(), pol, output.FormatTable, IOStreams{Out: &out, ErrOut: &errOut}))
	assert.Contains(t, errOut.String(), "Security Hub: ")
	assert.NotContains(t, errOut.String(), "warning")

	found, err := overlay.Findings(context.Background())
	require.NoError(t, err)
	ids := map[string]string{}
	for id, f := range found {
		ids[id] = string(f.Compliance.Status)
	}
	// CIS EKS 2.0.0 4.2.1: the privileged container of Pod shop/web.
	assert.Equal(t, "FAILED", ids["arn:aws:eks:us-east-1:123456789012:cluster/prod/cisgate/privileged/Pod/shop/web"])
	for id := range ids {
		// 4.3.1 is the cloud scan's; the audit only points to it.
		assert.NotContains(t, id, "/cisgate/cni-network-policy/")
	}
}
