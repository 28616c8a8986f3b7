package cloudscan_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// These tests run against moto's server (internal/moto): clusters, KMS keys and ECR repositories
// are created through the SDK the scan uses, then scanned with the SDK's default chain pointed at
// moto by AWS_ENDPOINT_URL. moto 5.2.1 returns no accessConfig or computeConfig and has no add-on
// API: those three come from moto.EKSOverlay, which serves EKS's documented response shapes in
// front of moto (AWS_ENDPOINT_URL_EKS). The Kubernetes side is a fake clientset.

// awsEnv starts moto and the overlay and points the SDK's default chain at them.
func awsEnv(t *testing.T) (*moto.EKSOverlay, aws.Config) {
	t.Helper()
	m := moto.StartT(t)
	m.Env(t)
	overlay := moto.NewEKSOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL_EKS", overlay.URL)
	cfg, err := config.LoadDefaultConfig(context.Background())
	require.NoError(t, err)
	return overlay, cfg
}

// createCluster creates an EKS cluster in moto.
func createCluster(t *testing.T, cfg aws.Config, name string, in eks.CreateClusterInput) {
	t.Helper()
	in.Name = aws.String(name)
	in.RoleArn = aws.String("arn:aws:iam::" + moto.AccountID + ":role/eks")
	if in.ResourcesVpcConfig == nil {
		in.ResourcesVpcConfig = &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}}
	}
	_, err := eks.NewFromConfig(cfg).CreateCluster(context.Background(), &in)
	require.NoError(t, err)
}

func createRepository(t *testing.T, cfg aws.Config, name string, scanOnPush bool) {
	t.Helper()
	_, err := ecr.NewFromConfig(cfg).CreateRepository(context.Background(), &ecr.CreateRepositoryInput{
		RepositoryName: aws.String(name), ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: scanOnPush},
	})
	require.NoError(t, err)
}

func pod(ns, name string, images ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for i, img := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c" + string(rune('a'+i)), Image: img})
	}
	return p
}

func node(name string, addrs ...corev1.NodeAddress) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
}

func ecrImage(repo string) string {
	return moto.AccountID + ".dkr.ecr." + moto.Region + ".amazonaws.com/" + repo + ":1"
}

func scan(t *testing.T, cluster string, objs ...runtime.Object) (report.Scan, *cloudscan.Evidence) {
	t.Helper()
	clients, err := cloudscan.NewClients(context.Background(), "")
	require.NoError(t, err)
	target := cloudscan.Target{Cluster: cluster, AWS: clients, Kube: fakeKube(objs...)}
	ev := cloudscan.Collect(context.Background(), target)
	cat, err := policy.CatalogueFor(policy.EKS200)
	require.NoError(t, err)
	return cloudscan.Evaluate(ev, cat), ev
}

func TestCollectFromMoto(t *testing.T) {
	overlay, cfg := awsEnv(t)
	key, err := kms.NewFromConfig(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("eks secrets")})
	require.NoError(t, err)
	createCluster(t, cfg, "prod", eks.CreateClusterInput{
		Logging:          &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: ekstypes.LogType("").Values()}}},
		EncryptionConfig: []ekstypes.EncryptionConfig{{Resources: []string{"secrets"}, Provider: &ekstypes.Provider{KeyArn: key.KeyMetadata.Arn}}},
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}, EndpointPrivateAccess: aws.Bool(true),
			EndpointPublicAccess: aws.Bool(true), PublicAccessCidrs: []string{"203.0.113.5/32"}},
	})
	overlay.Set("prod", moto.ClusterExtras{AuthenticationMode: "API_AND_CONFIG_MAP", Addon: &moto.Addon{Status: "ACTIVE", ConfigurationValues: `{"enableNetworkPolicy":"true"}`}})
	createRepository(t, cfg, "team/api", true)
	createRepository(t, cfg, "team/web", false)
	createRepository(t, cfg, "batch/jobs", false)
	_, err = ecr.NewFromConfig(cfg).PutRegistryScanningConfiguration(context.Background(), &ecr.PutRegistryScanningConfigurationInput{
		ScanType: ecrtypes.ScanTypeBasic,
		Rules: []ecrtypes.RegistryScanningRule{{ScanFrequency: ecrtypes.ScanFrequencyScanOnPush,
			RepositoryFilters: []ecrtypes.ScanningRepositoryFilter{{Filter: aws.String("batch/*"), FilterType: ecrtypes.ScanningRepositoryFilterTypeWildcard}}}},
	})
	require.NoError(t, err)

	r, ev := scan(t, "prod",
		node("ip-10-0-1-1", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.1.1"}),
		node("ip-10-0-1-2", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.1.2"}, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "54.0.0.2"}),
		pod("team", "api-1", ecrImage("team/api"), "nginx:1.27"),
		pod("team", "web-1", ecrImage("team/web")),
		pod("batch", "jobs-1", ecrImage("batch/jobs")),
		pod("team", "api-2", ecrImage("team/api")),
	)
	require.Empty(t, ev.Errors())
	require.NotNil(t, ev.EKS)
	assert.Equal(t, ekstypes.AuthenticationModeApiAndConfigMap, ev.EKS.AccessConfig.AuthenticationMode)
	assert.Equal(t, ekstypes.AddonStatusActive, ev.Addon.Status)
	assert.Equal(t, "CUSTOMER", string(ev.Key.KeyManager))
	assert.Equal(t, []cloudscan.NodeAddresses{{Name: "ip-10-0-1-1"}, {Name: "ip-10-0-1-2", ExternalIPs: []string{"54.0.0.2"}}}, ev.Nodes)
	var got []string
	for _, r := range ev.Repositories {
		got = append(got, r.Name+" scanOnPush="+map[bool]string{true: "true", false: "false"}[aws.ToBool(r.ScanOnPush)]+" rule="+r.Rule)
	}
	assert.Equal(t, []string{
		"batch/jobs scanOnPush=false rule=BASIC SCAN_ON_PUSH filter batch/*",
		"team/api scanOnPush=true rule=",
		"team/web scanOnPush=false rule=",
	}, got)
	// One DescribeRepositories for the three names; the registry's rules once, for the region.
	assert.Equal(t, map[string]int{"eks:DescribeCluster": 1, "eks:DescribeAddon": 1, "kms:DescribeKey": 1,
		"ecr:DescribeRepositories": 1, "ecr:GetRegistryScanningConfiguration": 1}, ev.Calls)
	var called []string
	for action := range ev.Calls {
		called = append(called, action)
	}
	assert.ElementsMatch(t, cloudscan.IAMActions(), called, "the IAM policy of docs/install.md names every action called")

	// The verdicts under eks-2.0.0, which carries every cloud item, by their IDs in its catalogue.
	assertStatuses(t, r, map[policy.Slug]policy.Status{
		"control-plane-logging":      policy.StatusPass,
		"secrets-kms-encryption":     policy.StatusPass,
		"endpoint-access-restricted": policy.StatusPass, // private, public from one /32
		"endpoint-private":           policy.StatusFail, // public access is on
		"private-nodes":              policy.StatusFail, // ip-10-0-1-2 has an ExternalIP
		"access-manager":             policy.StatusPass,
		"access-entries":             policy.StatusPass,
		"cni-network-policy":         policy.StatusPass,
		"ecr-image-scanning":         policy.StatusFail, // team/web: no scanOnPush, no rule
	})
	assert.Equal(t, "1 of 2 Nodes with an ExternalIP", result(t, r, "private-nodes").Actual)
	assert.Equal(t, "2 of 3 repositories scanned", result(t, r, "ecr-image-scanning").Actual)
	assert.Equal(t, `these repositories must set imageScanningConfiguration.scanOnPush true or match a registry scanning rule: "`+
		moto.AccountID+`.dkr.ecr.us-east-1.amazonaws.com/team/web (used by team/web-1)"`, result(t, r, "ecr-image-scanning").Detail)
	require.NotNil(t, r.AutoMode)
	assert.False(t, *r.AutoMode)
	assert.Empty(t, r.Section3)
}

// assertStatuses checks that the report holds exactly the given items, each under its ID in the
// report's benchmark and with its status.
func assertStatuses(t *testing.T, r report.Scan, want map[policy.Slug]policy.Status) {
	t.Helper()
	cat, err := policy.CatalogueFor(r.Benchmark)
	require.NoError(t, err)
	got := map[policy.Slug]policy.Status{}
	for _, res := range r.Results {
		got[res.Slug] = res.Status
		e, ok := cat.Entry(res.Slug)
		require.True(t, ok, res.Slug)
		assert.Equal(t, e.ID, res.ID, res.Slug)
		assert.Equal(t, e.Title, res.Title, res.Slug)
	}
	assert.Equal(t, want, got)
}

func result(t *testing.T, r report.Scan, slug policy.Slug) output.EvidenceResult {
	t.Helper()
	for _, res := range r.Results {
		if res.Slug == slug {
			return res
		}
	}
	t.Fatalf("no result for %s", slug)
	return output.EvidenceResult{}
}

func TestAutoMode(t *testing.T) {
	overlay, cfg := awsEnv(t)
	createCluster(t, cfg, "auto", eks.CreateClusterInput{})
	overlay.Set("auto", moto.ClusterExtras{AuthenticationMode: "API", AutoMode: true})
	r, _ := scan(t, "auto", node("i-0abc"))
	require.NotNil(t, r.AutoMode)
	assert.True(t, *r.AutoMode)
	assert.Equal(t, cloudscan.AutoModeSection3, r.Section3)
	// Auto Mode has no vpc-cni add-on: its network policy is set in the NodeClass.
	cni := result(t, r, "cni-network-policy")
	assert.Equal(t, policy.StatusWarn, cni.Status)
	assert.Equal(t, "no vpc-cni add-on (Auto Mode)", cni.Actual)
}

func TestMissingAddonAndRepository(t *testing.T) {
	_, cfg := awsEnv(t)
	createCluster(t, cfg, "bare", eks.CreateClusterInput{})
	createRepository(t, cfg, "there", true)
	r, ev := scan(t, "bare", pod("a", "p", ecrImage("there"), ecrImage("gone")))
	require.Empty(t, ev.Errors())
	assert.True(t, ev.AddonMissing)
	assert.Nil(t, ev.Key, "no encryption config: no key to describe")
	require.Len(t, ev.Repositories, 2)
	assert.False(t, ev.Repositories[0].Found, "gone")
	assert.True(t, ev.Repositories[1].Found, "there")
	// The batch named a repository the registry lacks, so the registry was listed instead.
	assert.Equal(t, 2, ev.Calls["ecr:DescribeRepositories"])
	cni := result(t, r, "cni-network-policy")
	assert.Equal(t, policy.StatusFail, cni.Status)
	assert.Equal(t, "no vpc-cni add-on", cni.Actual)
	assert.Equal(t, policy.StatusWarn, result(t, r, "ecr-image-scanning").Status, "a repository that is not there decides nothing")
}

func fakeKube(objs ...runtime.Object) *fake.Clientset { return fake.NewClientset(objs...) }
