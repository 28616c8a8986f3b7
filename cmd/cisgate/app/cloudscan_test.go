package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/internal/golden"
	"github.com/cisgate/cisgate/internal/moto"
)

func TestCloudScanUsage(t *testing.T) {
	r := run(t, nil, "cloudscan")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--cluster is required")
	r = run(t, nil, "cloudscan", "--cluster", "prod", "-o", "yaml")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--output must be one of table, json, junit, sarif")
}

// TestCloudScanOutputs runs `cisgate cloudscan` against moto (internal/moto; the EKS overlay
// serves accessConfig and the vpc-cni add-on, which moto 5.2.1 lacks) with no Kubernetes API at
// hand: the items read from the cluster WARN, a FAIL exits 1, every format renders the same scan.
func TestCloudScanOutputs(t *testing.T) {
	m := moto.StartT(t)
	m.Env(t)
	overlay := moto.NewEKSOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL_EKS", overlay.URL)
	t.Setenv("KUBECONFIG", "")
	cfg, err := config.LoadDefaultConfig(context.Background())
	require.NoError(t, err)
	_, err = eks.NewFromConfig(cfg).CreateCluster(context.Background(), &eks.CreateClusterInput{
		Name: aws.String("prod"), RoleArn: aws.String("arn:aws:iam::" + moto.AccountID + ":role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}, EndpointPrivateAccess: aws.Bool(true), EndpointPublicAccess: aws.Bool(false)},
		Logging:            &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: ekstypes.LogType("").Values()}}},
	})
	require.NoError(t, err)
	overlay.Set("prod", moto.ClusterExtras{AuthenticationMode: "CONFIG_MAP", Addon: &moto.Addon{Status: "ACTIVE", ConfigurationValues: `{"enableNetworkPolicy":"true"}`}})

	for format, file := range map[string]string{"table": "cloudscan.txt", "json": "cloudscan.json", "junit": "cloudscan.junit.xml", "sarif": "cloudscan.sarif"} {
		r := run(t, nil, "cloudscan", "--cluster", "prod", "--benchmark", "eks-2.0.0", "--kubeconfig", "testdata/no-such-kubeconfig", "-o", format)
		assert.Equal(t, 1, r.code, "%s: a FAIL exits 1; stderr %s", format, r.stderr)
		golden.Assert(t, "testdata/"+file, []byte(r.stdout))
	}
	var out struct {
		Results []struct{ ID, Slug, Status, Source string }
		Calls   map[string]int `json:"awsCalls"`
	}
	r := run(t, nil, "cloudscan", "--cluster", "prod", "--benchmark", "eks-2.0.0", "--kubeconfig", "testdata/no-such-kubeconfig", "-o", "json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	assert.Equal(t, map[string]int{"eks:DescribeCluster": 1, "eks:DescribeAddon": 1}, out.Calls)

	// A valid --config is read and scanned with (its benchmark); an empty one is refused in
	// TestEmptyConfigIsBadInput.
	r = run(t, nil, "cloudscan", "--cluster", "prod", "--config", writeConfig(t, "benchmark: eks-2.0.0\n"), "--kubeconfig", "testdata/no-such-kubeconfig", "-o", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	golden.Assert(t, "testdata/cloudscan.json", []byte(r.stdout))
}

// TestCloudScanPublishesToSecurityHub: `cloudscan --securityhub` imports one finding per item on
// the cluster into Security Hub (moto's, through the overlay), with the cluster and region of
// --cluster and --region. A denied import is a warning on stderr: the results, their output and
// the exit code are the same.
func TestCloudScanPublishesToSecurityHub(t *testing.T) {
	m := moto.StartT(t)
	m.Env(t)
	eksOverlay := moto.NewEKSOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL_EKS", eksOverlay.URL)
	shOverlay := moto.NewSecurityHubOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL", shOverlay.URL)
	t.Setenv("KUBECONFIG", "")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithBaseEndpoint(m.URL))
	require.NoError(t, err)
	_, err = eks.NewFromConfig(cfg).CreateCluster(context.Background(), &eks.CreateClusterInput{
		Name: aws.String("prod"), RoleArn: aws.String("arn:aws:iam::" + moto.AccountID + ":role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}},
	})
	require.NoError(t, err)
	args := []string{"cloudscan", "--cluster", "prod", "--region", moto.Region, "--benchmark", "eks-2.0.0", "--kubeconfig", "testdata/no-such-kubeconfig", "-o", "json", "--securityhub"}

	shOverlay.Fail(moto.PathBatchImportFindings, 1, moto.AccessDenied)
	denied := run(t, nil, args...)
	assert.Equal(t, 1, denied.code, denied.stderr)
	assert.Contains(t, denied.stderr, "warning: Security Hub: access denied to securityhub:BatchImportFindings: the IAM policy must allow securityhub:BatchImportFindings")

	r := run(t, nil, args...)
	assert.Equal(t, 1, r.code, "a FAIL exits 1 as without Security Hub; stderr %s", r.stderr)
	assert.Equal(t, denied.stdout, r.stdout, "the scan's output does not depend on Security Hub")
	var scan struct{ Results []struct{ ID, Slug string } }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &scan))
	assert.Contains(t, r.stderr, fmt.Sprintf("Security Hub: %d findings imported, 0 unchanged, 0 failed", len(scan.Results)))

	found, err := shOverlay.Findings(context.Background())
	require.NoError(t, err)
	require.Len(t, found, len(scan.Results))
	for _, f := range found {
		assert.Equal(t, "cloud", f.ProductFields["cisgate/Scope"])
		require.Len(t, f.Resources, 1)
		assert.Equal(t, "AwsEksCluster", aws.ToString(f.Resources[0].Type))
		assert.Equal(t, "arn:aws:eks:us-east-1:123456789012:cluster/prod", aws.ToString(f.Resources[0].Id))
	}
}
