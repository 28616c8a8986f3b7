package cloudscan_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/policy"
)

// workloads creates n ECR repositories in moto (every other one scanning on push) and returns a
// Pod per repository pulling from it, plus a Node.
func workloads(tb testing.TB, cfg aws.Config, n int) []runtime.Object {
	tb.Helper()
	client := ecr.NewFromConfig(cfg)
	objs := []runtime.Object{node("ip-10-0-1-1")}
	for i := range n {
		name := fmt.Sprintf("team-%03d/app", i)
		_, err := client.CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String(name),
			ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: i%2 == 0}})
		require.NoError(tb, err)
		objs = append(objs, pod("team", fmt.Sprintf("app-%03d", i), ecrImage(name)))
	}
	return objs
}

func motoCluster(tb testing.TB) aws.Config {
	tb.Helper()
	m := moto.StartT(tb)
	m.Env(tb)
	overlay := moto.NewEKSOverlay(tb, m)
	tb.Setenv("AWS_ENDPOINT_URL_EKS", overlay.URL)
	overlay.Set("prod", moto.ClusterExtras{AuthenticationMode: "API", Addon: &moto.Addon{Status: "ACTIVE", ConfigurationValues: `{"enableNetworkPolicy":"true"}`}})
	cfg, err := config.LoadDefaultConfig(context.Background())
	require.NoError(tb, err)
	_, err = eks.NewFromConfig(cfg).CreateCluster(context.Background(), &eks.CreateClusterInput{Name: aws.String("prod"),
		RoleArn: aws.String("arn:aws:iam::" + moto.AccountID + ":role/eks"), ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}}})
	require.NoError(tb, err)
	return cfg
}

// Repositories are described up to 100 names per call: 201 repositories take three calls, not
// one per image.
func TestDescribeRepositoriesInBatches(t *testing.T) {
	cfg := motoCluster(t)
	_, ev := scan(t, "prod", workloads(t, cfg, 201)...)
	require.Empty(t, ev.Errors())
	require.Len(t, ev.Repositories, 201)
	require.Equal(t, 3, ev.Calls["ecr:DescribeRepositories"])
	require.Equal(t, 1, ev.Calls["ecr:GetRegistryScanningConfiguration"])
}

// BenchmarkScan is one whole scan (clients from the default chain, every AWS call, the
// Kubernetes lists, the verdicts) of a cluster whose Pods pull from 100 ECR repositories, against
// moto on loopback: its wall time (ns/op) and its AWS calls (aws-calls/op, counted by the SDK
// middleware of NewClients).
//
//	go test ./cloudscan/ -run '^$' -bench BenchmarkScan -benchtime 20x
func BenchmarkScan(b *testing.B) {
	for _, repos := range []int{100, 250} {
		b.Run(fmt.Sprintf("repositories=%d", repos), func(b *testing.B) {
			cfg := motoCluster(b)
			objs := workloads(b, cfg, repos)
			kube := fakeKube(objs...)
			calls := 0
			b.ResetTimer()
			for b.Loop() {
				clients, err := cloudscan.NewClients(context.Background(), "")
				if err != nil {
					b.Fatal(err)
				}
				r, err := cloudscan.Scan(context.Background(), cloudscan.Target{Cluster: "prod", AWS: clients, Kube: kube}, policy.EKS200)
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Errors) > 0 {
					b.Fatal(r.Errors)
				}
				calls = 0
				for _, n := range r.Calls {
					calls += n
				}
			}
			b.ReportMetric(float64(calls), "aws-calls/op")
		})
	}
}
