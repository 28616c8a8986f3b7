package chart

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCloudValues: cloud.enabled passes the cloud scan's flags to `cisgate serve`, which accepts
// them; cloud.roleArn is the IRSA annotation of the webhook's ServiceAccount; a cluster name is
// required.
func TestCloudValues(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/cisgate-cloudscan"
	objs := decode(t, template(t, defaultRelease("--set", "cloud.enabled=true", "--set", "cloud.clusterName=prod",
		"--set", "cloud.region=eu-west-1", "--set", "cloud.interval=2h", "--set", "cloud.roleArn="+role)))
	c := convertDeployment(t, find(t, objs, "Deployment", releaseName)).Spec.Template.Spec.Containers[0]
	cmd, err := serveCommand(t, expandEnv(c.Args, map[string]string{"POD_NAMESPACE": releaseNamespace, "POD_NAME": "cisgate-7d9f-abcde"}))
	require.NoError(t, err)
	for flag, want := range map[string]string{"cloud-scan": "true", "cloud-cluster": "prod", "cloud-region": "eu-west-1", "cloud-interval": "2h0m0s"} {
		assert.Equal(t, want, cmd.Flags().Lookup(flag).Value.String(), flag)
	}
	sa := find(t, objs, "ServiceAccount", releaseName)
	assert.Equal(t, map[string]string{"eks.amazonaws.com/role-arn": role}, sa.GetAnnotations())

	// Off by default: no flag, no annotation.
	objs = decode(t, template(t, defaultRelease()))
	c = convertDeployment(t, find(t, objs, "Deployment", releaseName)).Spec.Template.Spec.Containers[0]
	cmd, err = serveCommand(t, expandEnv(c.Args, map[string]string{"POD_NAMESPACE": releaseNamespace, "POD_NAME": "p"}))
	require.NoError(t, err)
	assert.Equal(t, "false", cmd.Flags().Lookup("cloud-scan").Value.String())
	assert.Empty(t, find(t, objs, "ServiceAccount", releaseName).GetAnnotations())

	_, err = runHelm(t, "template", releaseName, chartDir(t), "--namespace", releaseNamespace, "--set", "cloud.enabled=true")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "clusterName")
}
