package cloudscan

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestServePublishesToSecurityHub: `serve --cloud-scan --securityhub` (the chart's
// securityHub.enabled) publishes the leader's cloud scan and audit into Security Hub (moto's,
// through internal/moto's overlay), with the cloud scan's cluster and region: one finding per
// cloud item on the cluster, and the privileged Pod's finding with the Pod's UID.
func TestServePublishesToSecurityHub(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	m := moto.StartT(t)
	m.Env(t)
	eksOverlay := moto.NewEKSOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL_EKS", eksOverlay.URL)
	shOverlay := moto.NewSecurityHubOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL", shOverlay.URL)
	cfg, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(m.URL))
	require.NoError(t, err)
	_, err = eks.NewFromConfig(cfg).CreateCluster(ctx, &eks.CreateClusterInput{
		Name: aws.String("prod"), RoleArn: aws.String("arn:aws:iam::" + moto.AccountID + ":role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}},
	})
	require.NoError(t, err)

	ensureNamespace(t, namespace)
	team := env.Namespace(t, "team")
	pod, err := env.Clientset.CoreV1().Pods(team).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "public.ecr.aws/nginx/nginx:1",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}}}, metav1.CreateOptions{})
	require.NoError(t, err)

	startServe(t, "--cloud-scan", "--cloud-cluster=prod", "--cloud-region="+moto.Region, "--cloud-interval=1h", "--securityhub")

	const clusterARN = "arn:aws:eks:us-east-1:123456789012:cluster/prod"
	podID := clusterARN + "/cisgate/privileged/Pod/" + team + "/web"
	var findings map[string]shtypes.AwsSecurityFinding
	framework.WaitFor(t, 60*time.Second, "the cloud scan's and the audit's findings", func() error {
		var err error
		if findings, err = shOverlay.Findings(ctx); err != nil {
			return err
		}
		cloud := 0
		for _, f := range findings {
			if f.ProductFields["cisgate/Scope"] == "cloud" {
				cloud++
			}
		}
		// eks-1.8.0 (startServe's config) has 8 items decided through the AWS API.
		if _, ok := findings[podID]; !ok || cloud != 8 {
			return fmt.Errorf("%d cloud findings, the Pod's: %v", cloud, ok)
		}
		return nil
	})
	f := findings[podID]
	assert.Equal(t, shtypes.ComplianceStatusFailed, f.Compliance.Status)
	assert.Equal(t, "cisgate/cis-eks-1.8.0/4.2.1", aws.ToString(f.GeneratorId))
	assert.Equal(t, string(pod.UID), f.Resources[0].Details.Other["uid"])
	logging := findings[clusterARN+"/cisgate/control-plane-logging/cluster"]
	assert.Equal(t, shtypes.ComplianceStatusFailed, logging.Compliance.Status, "moto's cluster logs nothing")
	assert.Equal(t, "AwsEksCluster", aws.ToString(logging.Resources[0].Type))
}
