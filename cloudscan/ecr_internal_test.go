package cloudscan

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deniedECR refuses every call as ECR refuses a caller its policies do not allow.
type deniedECR struct{}

func (deniedECR) DescribeRepositories(context.Context, *ecr.DescribeRepositoriesInput, ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: ecr:DescribeRepositories"}
}

func (deniedECR) GetRegistryScanningConfiguration(context.Context, *ecr.GetRegistryScanningConfigurationInput, ...func(*ecr.Options)) (*ecr.GetRegistryScanningConfigurationOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}
}

// A registry of another account than the cluster's is refused by that registry's repository
// policy, not by the scan's IAM policy: the WARN says which (e.g. Amazon EKS's own add-on
// registry, 602401143452 in most regions: EKS User Guide, "View Amazon container image
// registries for Amazon EKS add-ons").
func TestDeniedRegistryOfAnotherAccount(t *testing.T) {
	ev := &Evidence{
		EKS: &ekstypes.Cluster{Arn: aws.String("arn:aws:eks:us-east-1:111122223333:cluster/prod")},
		Repositories: []Repository{
			{RegistryID: "602401143452", Region: "us-east-1", Name: "amazon-k8s-cni", Pod: "kube-system/aws-node-x"},
			{RegistryID: "111122223333", Region: "us-east-1", Name: "shop/api", Pod: "shop/api"},
		},
	}
	collectECR(context.Background(), Clients{ECR: deniedECR{}}, ev)
	require.NotNil(t, ev.Repositories[0].Err)
	assert.Equal(t, "access denied to ecr:DescribeRepositories: registry 602401143452 belongs to another account than the cluster's (111122223333), whose repository policy must allow the scan's role to describe it (AccessDeniedException: not authorized to perform: ecr:DescribeRepositories)", ev.Repositories[0].Err.Error())
	require.NotNil(t, ev.Repositories[1].Err)
	assert.Equal(t, "access denied to ecr:DescribeRepositories: the IAM policy must allow ecr:DescribeRepositories (AccessDeniedException: not authorized to perform: ecr:DescribeRepositories)", ev.Repositories[1].Err.Error())
}
