package chart

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurityHubValues: securityHub.enabled passes serve's --securityhub flags, which serve
// accepts (and hands on to the scan Jobs); the cluster and region default to the cloud scan's;
// securityHub.roleArn and nodeScanRoleArn are the IRSA annotations of the webhook's and the
// node scans' ServiceAccounts (cloud.roleArn first: one role for the leader); a cluster name is
// required; the schema refuses a rate of zero.
func TestSecurityHubValues(t *testing.T) {
	const leader, scans = "arn:aws:iam::111122223333:role/cisgate", "arn:aws:iam::111122223333:role/cisgate-nodescan"
	objs := decode(t, template(t, defaultRelease("--set", "securityHub.enabled=true", "--set", "cloud.clusterName=prod",
		"--set", "cloud.region=eu-west-1", "--set-json", "securityHub.qps=1.5",
		"--set", "securityHub.roleArn="+leader, "--set", "securityHub.nodeScanRoleArn="+scans)))
	c := convertDeployment(t, find(t, objs, "Deployment", releaseName)).Spec.Template.Spec.Containers[0]
	cmd, err := serveCommand(t, expandEnv(c.Args, map[string]string{"POD_NAMESPACE": releaseNamespace, "POD_NAME": "cisgate-7d9f-abcde"}))
	require.NoError(t, err)
	for flag, want := range map[string]string{"securityhub": "true", "securityhub-cluster": "prod", "securityhub-region": "eu-west-1",
		"securityhub-qps": "1.5", "securityhub-burst": "5", "cloud-scan": "false"} {
		assert.Equal(t, want, cmd.Flags().Lookup(flag).Value.String(), flag)
	}
	assert.Equal(t, map[string]string{"eks.amazonaws.com/role-arn": leader}, find(t, objs, "ServiceAccount", releaseName).GetAnnotations())
	assert.Equal(t, map[string]string{"eks.amazonaws.com/role-arn": scans}, find(t, objs, "ServiceAccount", releaseName+"-nodescan").GetAnnotations())

	// With the cloud scan's role set, the leader has that one role.
	objs = decode(t, template(t, defaultRelease("--set", "securityHub.enabled=true", "--set", "securityHub.clusterName=prod",
		"--set", "securityHub.roleArn="+leader, "--set", "cloud.roleArn=arn:aws:iam::111122223333:role/cloud")))
	assert.Equal(t, map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/cloud"}, find(t, objs, "ServiceAccount", releaseName).GetAnnotations())

	// Off by default: no flag, no annotation, even with the roles set.
	objs = decode(t, template(t, defaultRelease("--set", "securityHub.roleArn="+leader, "--set", "securityHub.nodeScanRoleArn="+scans)))
	c = convertDeployment(t, find(t, objs, "Deployment", releaseName)).Spec.Template.Spec.Containers[0]
	cmd, err = serveCommand(t, expandEnv(c.Args, map[string]string{"POD_NAMESPACE": releaseNamespace, "POD_NAME": "p"}))
	require.NoError(t, err)
	assert.Equal(t, "false", cmd.Flags().Lookup("securityhub").Value.String())
	assert.Empty(t, find(t, objs, "ServiceAccount", releaseName).GetAnnotations())
	assert.Empty(t, find(t, objs, "ServiceAccount", releaseName+"-nodescan").GetAnnotations())

	_, err = runHelm(t, "template", releaseName, chartDir(t), "--namespace", releaseNamespace, "--set", "securityHub.enabled=true")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "securityHub.clusterName (or cloud.clusterName) is required")
	_, err = runHelm(t, "template", releaseName, chartDir(t), "--namespace", releaseNamespace, "--set", "securityHub.qps=0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "qps")
}
