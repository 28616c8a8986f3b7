package cloudscan_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/policy"
)

// TestEndpointHalvesOfIPv4FromMoto: a cluster whose public endpoint admits 0.0.0.0/1 and
// 128.0.0.0/1 admits every IPv4 address, as EKS's default 0.0.0.0/0 does (CIS EKS Benchmark
// 5.4.1: public access limited to known CIDR blocks), so 5.4.1 FAILs naming both blocks.
func TestEndpointHalvesOfIPv4FromMoto(t *testing.T) {
	overlay, cfg := awsEnv(t)
	createCluster(t, cfg, "halves", eks.CreateClusterInput{
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}, EndpointPrivateAccess: aws.Bool(true),
			EndpointPublicAccess: aws.Bool(true), PublicAccessCidrs: []string{"0.0.0.0/1", "128.0.0.0/1"}},
	})
	overlay.Set("halves", moto.ClusterExtras{AuthenticationMode: "API"})
	r, ev := scan(t, "halves")
	require.NotNil(t, ev.EKS)
	res := result(t, r, "endpoint-access-restricted")
	assert.Equal(t, "5.4.1", res.ID)
	assert.Equal(t, policy.StatusFail, res.Status)
	assert.Equal(t, "endpointPrivateAccess=true, endpointPublicAccess=true, publicAccessCidrs=[0.0.0.0/1, 128.0.0.0/1]", res.Actual)
	assert.Equal(t, "cluster.resourcesVpcConfig.publicAccessCidrs must not admit every address: "+
		"0.0.0.0/1, 128.0.0.0/1 (together every IPv4 address) (or set endpointPublicAccess false)", res.Detail)
}

// TestCNIItemPerVersion: eks-1.0.1 and eks-1.1.0 number "Ensure that the latest CNI version is
// used" 4.3.1 (kube-bench cfg/eks-1.0.1/policies.yaml, cfg/eks-1.1.0/policies.yaml), a manual
// item; network policy support is 4.3.1 from eks-1.2.0 (cfg/eks-1.2.0/policies.yaml). The cloud
// scan's network-policy verdict must not appear as 4.3.1 under the first two.
func TestCNIItemPerVersion(t *testing.T) {
	overlay, cfg := awsEnv(t)
	createCluster(t, cfg, "cni", eks.CreateClusterInput{})
	overlay.Set("cni", moto.ClusterExtras{AuthenticationMode: "API", Addon: &moto.Addon{Status: "ACTIVE", ConfigurationValues: `{"enableNetworkPolicy":"true"}`}})
	_, ev := scan(t, "cni")
	for _, tc := range []struct {
		b      policy.Benchmark
		result bool
	}{{policy.EKS101, false}, {policy.EKS110, false}, {policy.EKS120, true}, {policy.EKS180, true}, {policy.EKS200, true}} {
		cat, err := policy.CatalogueFor(tc.b)
		require.NoError(t, err)
		r := cloudscan.Evaluate(ev, cat)
		var ids []string
		for _, res := range r.Results {
			if res.ID == "4.3.1" || res.Slug == "cni-network-policy" {
				ids = append(ids, res.ID+" "+string(res.Slug)+" "+string(res.Status))
			}
		}
		if tc.result {
			assert.Equal(t, []string{"4.3.1 cni-network-policy PASS"}, ids, tc.b)
		} else {
			assert.Empty(t, ids, tc.b)
			e, ok := cat.Resolve("4.3.1")
			require.True(t, ok, tc.b)
			assert.Equal(t, "Ensure that the latest CNI version is used", e.Title, tc.b)
			assert.Equal(t, policy.SectionManual, e.Section, tc.b)
		}
	}
}
