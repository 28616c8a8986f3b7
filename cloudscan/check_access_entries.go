package cloudscan

// access-manager (4.1.7 in eks-1.7.0 and later, "Cluster Access Manager API to streamline and
// enhance the management of access controls") and access-entries (5.5.1 in eks-2.0.0): the
// cluster authenticates through EKS access entries, accessConfig.authenticationMode API or
// API_AND_CONFIG_MAP; CONFIG_MAP alone is the aws-auth ConfigMap the benchmark moves away from
// (EKS API reference, AccessConfigResponse.authenticationMode).

import (
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/cisgate/cisgate/policy"
)

func init() {
	decides := "accessConfig.authenticationMode is API or API_AND_CONFIG_MAP"
	register(&Check{Slug: "access-manager", Decides: decides, Evaluate: accessEntries})
	register(&Check{Slug: "access-entries", Decides: decides, Evaluate: accessEntries})
}

func accessEntries(ev *Evidence) Outcome {
	expected := string(ekstypes.AuthenticationModeApi) + " or " + string(ekstypes.AuthenticationModeApiAndConfigMap)
	if ev.EKSErr != nil {
		return unread(expected, sourceAccessConfig, ev.EKSErr)
	}
	if ev.EKS.AccessConfig == nil || ev.EKS.AccessConfig.AuthenticationMode == "" {
		return Outcome{Status: policy.StatusWarn, Expected: expected, Actual: unknownValue, Source: sourceAccessConfig,
			Detail: "eks:DescribeCluster returned no cluster.accessConfig.authenticationMode"}
	}
	mode := ev.EKS.AccessConfig.AuthenticationMode
	switch mode {
	case ekstypes.AuthenticationModeApi, ekstypes.AuthenticationModeApiAndConfigMap:
		return decided(true, expected, string(mode), sourceAccessConfig, "cluster access is managed with EKS access entries")
	}
	return decided(false, expected, string(mode), sourceAccessConfig,
		"cluster.accessConfig.authenticationMode must be API or API_AND_CONFIG_MAP, not "+string(mode)+" (aws eks update-cluster-config --access-config authenticationMode=API_AND_CONFIG_MAP)")
}
