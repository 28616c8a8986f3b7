package cloudscan

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/policy"
)

// The checks' verdicts on evidence as eks:DescribeCluster, eks:DescribeAddon, kms:DescribeKey and
// the Kubernetes API return it (the shapes of the EKS and KMS API references). The moto tests
// collect the same evidence through the SDK.

func cluster(mut func(*ekstypes.Cluster)) *Evidence {
	c := &ekstypes.Cluster{Name: aws.String("prod")}
	mut(c)
	return &Evidence{Cluster: "prod", Region: "us-east-1", EKS: c}
}

var denied = &ReadError{Action: actionDescribeCluster, Reason: ReasonAccessDenied, Err: errors.New("AccessDeniedException: not authorized")}

func logging(enabled []ekstypes.LogType, disabled []ekstypes.LogType) *ekstypes.Logging {
	return &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{
		{Enabled: aws.Bool(true), Types: enabled}, {Enabled: aws.Bool(false), Types: disabled},
	}}
}

func TestControlPlaneLogging(t *testing.T) {
	all := ekstypes.LogType("").Values()
	cases := []struct {
		name   string
		ev     *Evidence
		status policy.Status
		detail string
	}{
		// EKS User Guide, "Send control plane logs to CloudWatch Logs": five log types, each on or off.
		{"all five enabled", cluster(func(c *ekstypes.Cluster) { c.Logging = logging(all, nil) }), policy.StatusPass, "every control plane log type is enabled"},
		{"audit and scheduler off", cluster(func(c *ekstypes.Cluster) {
			c.Logging = logging([]ekstypes.LogType{"api", "authenticator", "controllerManager"}, []ekstypes.LogType{"audit", "scheduler"})
		}), policy.StatusFail, `cluster.logging.clusterLogging must enable the log types "audit", "scheduler" (aws eks update-cluster-config --logging)`},
		// A new cluster's default: every type disabled.
		{"no logging", cluster(func(c *ekstypes.Cluster) {}), policy.StatusFail, `cluster.logging.clusterLogging must enable the log types "api", "audit", "authenticator", "controllerManager", "scheduler" (aws eks update-cluster-config --logging)`},
		{"denied", &Evidence{EKSErr: denied}, policy.StatusWarn, "access denied to eks:DescribeCluster: the IAM policy must allow eks:DescribeCluster (AccessDeniedException: not authorized)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := controlPlaneLogging(tc.ev)
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.detail, o.Detail)
			assert.Equal(t, sourceLogging, o.Source)
		})
	}
}

func TestSecretsKMSEncryption(t *testing.T) {
	const arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	encrypted := func(c *ekstypes.Cluster) {
		c.EncryptionConfig = []ekstypes.EncryptionConfig{{Resources: []string{"secrets"}, Provider: &ekstypes.Provider{KeyArn: aws.String(arn)}}}
	}
	withKey := func(m kmstypes.KeyManagerType) *Evidence {
		ev := cluster(encrypted)
		ev.Key = &kmstypes.KeyMetadata{KeyManager: m}
		return ev
	}
	keyDenied := cluster(encrypted)
	keyDenied.KeyErr = &ReadError{Action: actionDescribeKey, Reason: ReasonAccessDenied, Err: errors.New("AccessDeniedException")}
	cases := []struct {
		name   string
		ev     *Evidence
		status policy.Status
		detail string
	}{
		// KMS API reference, KeyMetadata.KeyManager: CUSTOMER or AWS.
		{"customer managed key", withKey(kmstypes.KeyManagerTypeCustomer), policy.StatusPass, "secrets are encrypted with the customer managed key " + arn},
		{"AWS managed key", withKey(kmstypes.KeyManagerTypeAws), policy.StatusFail, "the key " + arn + " that encrypts secrets is managed by AWS; KeyManager must be CUSTOMER"},
		{"no encryption config", cluster(func(c *ekstypes.Cluster) {}), policy.StatusFail, `cluster.encryptionConfig must have an entry with resources ["secrets"] and a customer managed KMS key (aws eks associate-encryption-config)`},
		{"DescribeKey denied", keyDenied, policy.StatusWarn, "access denied to kms:DescribeKey: the IAM policy must allow kms:DescribeKey (AccessDeniedException)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := secretsKMSEncryption(tc.ev)
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.detail, o.Detail)
		})
	}
}

func TestEndpoint(t *testing.T) {
	vpc := func(private, public bool, cidrs ...string) *Evidence {
		return cluster(func(c *ekstypes.Cluster) {
			c.ResourcesVpcConfig = &ekstypes.VpcConfigResponse{EndpointPrivateAccess: private, EndpointPublicAccess: public, PublicAccessCidrs: cidrs}
		})
	}
	cases := []struct {
		name               string
		ev                 *Evidence
		restricted, priv   policy.Status
		restrictedDetail   string
		privateDetailStart string
	}{
		// The benchmark's 5.4.1 remediation: private on, public limited to CIDR blocks, else off.
		{"private only", vpc(true, false), policy.StatusPass, policy.StatusPass, "the endpoint is private, and public access is off or limited to known CIDR blocks", "the endpoint is reachable only from the VPC"},
		{"private and public from one /32", vpc(true, true, "203.0.113.5/32"), policy.StatusPass, policy.StatusFail, "the endpoint is private, and public access is off or limited to known CIDR blocks", "cluster.resourcesVpcConfig.endpointPublicAccess must be false"},
		// EKS's default: public from 0.0.0.0/0, private off.
		{"EKS default", vpc(false, true, "0.0.0.0/0"), policy.StatusFail, policy.StatusFail,
			"cluster.resourcesVpcConfig.endpointPrivateAccess must be true; cluster.resourcesVpcConfig.publicAccessCidrs must not admit every address: 0.0.0.0/0 (or set endpointPublicAccess false)",
			"cluster.resourcesVpcConfig.endpointPrivateAccess must be true; cluster.resourcesVpcConfig.endpointPublicAccess must be false"},
		{"private with public open among others", vpc(true, true, "10.0.0.0/8", "0.0.0.0/0"), policy.StatusFail, policy.StatusFail,
			"cluster.resourcesVpcConfig.publicAccessCidrs must not admit every address: 0.0.0.0/0 (or set endpointPublicAccess false)", "cluster.resourcesVpcConfig.endpointPublicAccess must be false"},
		{"denied", &Evidence{EKSErr: denied}, policy.StatusWarn, policy.StatusWarn, denied.Error(), denied.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := endpointAccessRestricted(tc.ev)
			assert.Equal(t, tc.restricted, r.Status, "5.4.1")
			assert.Equal(t, tc.restrictedDetail, r.Detail)
			p := endpointPrivate(tc.ev)
			assert.Equal(t, tc.priv, p.Status, "5.4.2")
			assert.Equal(t, tc.privateDetailStart, p.Detail)
		})
	}
}

func TestPrivateNodes(t *testing.T) {
	cases := []struct {
		name   string
		ev     *Evidence
		status policy.Status
		actual string
		detail string
	}{
		{"private", &Evidence{Nodes: []NodeAddresses{{Name: "a"}, {Name: "b"}}}, policy.StatusPass, "0 of 2 Nodes with an ExternalIP", "no Node has an ExternalIP address"},
		{"one public", &Evidence{Nodes: []NodeAddresses{{Name: "a"}, {Name: "b", ExternalIPs: []string{"54.1.2.3"}}}}, policy.StatusFail, "1 of 2 Nodes with an ExternalIP",
			"Nodes must have no ExternalIP address in status.addresses (run them in private subnets): b (54.1.2.3)"},
		{"no nodes", &Evidence{}, policy.StatusWarn, "0 Nodes", "the cluster has no Node to decide on"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := privateNodes(tc.ev)
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.actual, o.Actual)
			assert.Equal(t, tc.detail, o.Detail)
		})
	}
}

func TestAccessEntries(t *testing.T) {
	mode := func(m ekstypes.AuthenticationMode) *Evidence {
		return cluster(func(c *ekstypes.Cluster) { c.AccessConfig = &ekstypes.AccessConfigResponse{AuthenticationMode: m} })
	}
	// Every value of the SDK's AuthenticationMode enum has a verdict: a mode AWS adds fails this
	// test until it is decided.
	want := map[ekstypes.AuthenticationMode]policy.Status{
		ekstypes.AuthenticationModeApi:             policy.StatusPass,
		ekstypes.AuthenticationModeApiAndConfigMap: policy.StatusPass,
		ekstypes.AuthenticationModeConfigMap:       policy.StatusFail,
	}
	for _, m := range ekstypes.AuthenticationMode("").Values() {
		status, ok := want[m]
		require.True(t, ok, "authentication mode %s has no verdict", m)
		assert.Equal(t, status, accessEntries(mode(m)).Status, string(m))
	}
	o := accessEntries(cluster(func(c *ekstypes.Cluster) {}))
	assert.Equal(t, policy.StatusWarn, o.Status)
	assert.Equal(t, "eks:DescribeCluster returned no cluster.accessConfig.authenticationMode", o.Detail)
}

func TestCNINetworkPolicy(t *testing.T) {
	addon := func(status ekstypes.AddonStatus, values string) *Evidence {
		ev := cluster(func(c *ekstypes.Cluster) {})
		ev.Addon = &ekstypes.Addon{AddonName: aws.String("vpc-cni"), Status: status}
		if values != "" {
			ev.Addon.ConfigurationValues = aws.String(values)
		}
		return ev
	}
	missing := cluster(func(c *ekstypes.Cluster) {})
	missing.AddonMissing = true
	autoMissing := cluster(func(c *ekstypes.Cluster) { c.ComputeConfig = &ekstypes.ComputeConfigResponse{Enabled: aws.Bool(true)} })
	autoMissing.AddonMissing = true
	cases := []struct {
		name   string
		ev     *Evidence
		status policy.Status
		actual string
		detail string
	}{
		// EKS User Guide, "Restrict Pod network traffic with Kubernetes network policies": the
		// add-on's configuration value enableNetworkPolicy "true" (a string in its schema).
		{"JSON true", addon(ekstypes.AddonStatusActive, `{"enableNetworkPolicy": "true"}`), policy.StatusPass, `status ACTIVE, enableNetworkPolicy "true"`, "the VPC CNI enforces network policies"},
		{"YAML true", addon(ekstypes.AddonStatusActive, "enableNetworkPolicy: \"true\"\nenv:\n  ENABLE_PREFIX_DELEGATION: \"true\"\n"), policy.StatusPass, `status ACTIVE, enableNetworkPolicy "true"`, "the VPC CNI enforces network policies"},
		{"no configuration values", addon(ekstypes.AddonStatusActive, ""), policy.StatusFail, `status ACTIVE, enableNetworkPolicy ""`, `the vpc-cni add-on's configurationValues must set enableNetworkPolicy: "true"`},
		{"false and degraded", addon(ekstypes.AddonStatusDegraded, `{"enableNetworkPolicy": "false"}`), policy.StatusFail, `status DEGRADED, enableNetworkPolicy "false"`,
			`the vpc-cni add-on's status must be ACTIVE, not DEGRADED; the vpc-cni add-on's configurationValues must set enableNetworkPolicy: "true"`},
		{"missing add-on", missing, policy.StatusFail, "no vpc-cni add-on", `the cluster has no vpc-cni EKS add-on: install it with configuration values {"enableNetworkPolicy": "true"}, or another CNI that enforces NetworkPolicies`},
		{"Auto Mode without add-on", autoMissing, policy.StatusWarn, "no vpc-cni add-on (Auto Mode)", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := cniNetworkPolicy(tc.ev)
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.actual, o.Actual)
			if tc.detail != "" {
				assert.Equal(t, tc.detail, o.Detail)
			}
		})
	}
}

func TestECRImageScanning(t *testing.T) {
	yes, no := true, false
	repo := func(name string, scan *bool, rule string) Repository {
		return Repository{RegistryID: "123456789012", Region: "us-east-1", Name: name, Pod: "team/" + name, Found: scan != nil, ScanOnPush: scan, Rule: rule}
	}
	ruleErr := repo("c", &no, "")
	ruleErr.RuleErr = &ReadError{Action: actionGetRegistryScanningConfiguration, Reason: ReasonAccessDenied, Err: errors.New("AccessDeniedException")}
	cases := []struct {
		name   string
		repos  []Repository
		status policy.Status
		actual string
		detail string
	}{
		{"scan on push and a rule", []Repository{repo("a", &yes, ""), repo("b", &no, "BASIC SCAN_ON_PUSH filter b*")}, policy.StatusPass, "2 of 2 repositories scanned", "every ECR repository in use is scanned (2)"},
		{"one unscanned", []Repository{repo("a", &yes, ""), repo("b", &no, "")}, policy.StatusFail, "1 of 2 repositories scanned",
			`these repositories must set imageScanningConfiguration.scanOnPush true or match a registry scanning rule: "123456789012.dkr.ecr.us-east-1.amazonaws.com/b (used by team/b)"`},
		{"rules unreadable", []Repository{repo("a", &yes, ""), ruleErr}, policy.StatusWarn, "1 of 2 repositories scanned",
			`not decided for "123456789012.dkr.ecr.us-east-1.amazonaws.com/c": access denied to ecr:GetRegistryScanningConfiguration: the IAM policy must allow ecr:GetRegistryScanningConfiguration (AccessDeniedException)`},
		{"missing repository", []Repository{repo("gone", nil, "")}, policy.StatusWarn, "0 of 1 repositories scanned",
			`these repositories do not exist in their registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com/gone (used by team/gone)"`},
		{"nothing from ECR", nil, policy.StatusWarn, "no Pod image in ECR", "no Pod pulls from a private ECR registry; scanning by a third-party provider is not decided"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := ecrImageScanning(&Evidence{Repositories: tc.repos})
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.actual, o.Actual)
			assert.Equal(t, tc.detail, o.Detail)
		})
	}
}

func TestParseECRImage(t *testing.T) {
	// Amazon ECR User Guide, "Private registry concepts": <account>.dkr.ecr.<region>.amazonaws.com.
	cases := []struct {
		image                  string
		ok                     bool
		registry, region, name string
	}{
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2", true, "123456789012", "us-east-1", "team/app"},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:" + sha, true, "123456789012", "eu-west-1", "app"},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app", true, "123456789012", "us-gov-west-1", "app"},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app", true, "123456789012", "cn-north-1", "app"},
		{"123456789012.dkr-ecr.us-east-1.on.aws/app", true, "123456789012", "us-east-1", "app"},
		{"public.ecr.aws/eks-distro/kubernetes/pause:3.9", false, "", "", ""},
		{"nginx:1.27", false, "", "", ""},
		{"evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com/app", false, "", "", ""},
		{"1234.dkr.ecr.us-east-1.amazonaws.com/app", false, "", "", ""},
	}
	for _, tc := range cases {
		registry, region, name, ok := parseECRImage(tc.image)
		assert.Equal(t, tc.ok, ok, tc.image)
		assert.Equal(t, []string{tc.registry, tc.region, tc.name}, []string{registry, region, name}, tc.image)
	}
}

const sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestFilterMatches(t *testing.T) {
	// Amazon ECR User Guide, "Filter wildcards": a filter without a wildcard matches every name
	// that contains it; * stands for zero or more characters.
	cases := []struct {
		filter, name string
		want         bool
	}{
		{"*", "anything", true},
		{"prod", "team/prod-api", true},
		{"prod", "team/dev", false},
		{"prod-*", "prod-api", true},
		{"prod-*", "team/prod-api", false},
		{"*-api", "team/prod-api", true},
		{"team/*/api", "team/x/api", true},
		{"team/*/api", "team/x/web", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, filterMatches(tc.filter, tc.name), "%s ~ %s", tc.filter, tc.name)
	}
}
