package cloudscan

import (
	"strings"

	"github.com/cisgate/cisgate/evidence"
	"github.com/cisgate/cisgate/policy"
)

// unknownValue is the actual value of an item that could not be decided.
const unknownValue = "unknown"

// Sources of the values, as each result names them.
const (
	sourceLogging      = "eks:DescribeCluster cluster.logging.clusterLogging"
	sourceEncryption   = "eks:DescribeCluster cluster.encryptionConfig"
	sourceKeyManager   = "kms:DescribeKey KeyMetadata.KeyManager"
	sourceEndpoint     = "eks:DescribeCluster cluster.resourcesVpcConfig"
	sourceAccessConfig = "eks:DescribeCluster cluster.accessConfig.authenticationMode"
	sourceAddon        = "eks:DescribeAddon vpc-cni (status, configurationValues)"
	sourceNodes        = "Kubernetes API: Node status.addresses"
	sourceImages       = "Kubernetes API: Pod container images; ecr:DescribeRepositories imageScanningConfiguration.scanOnPush; ecr:GetRegistryScanningConfiguration rules"
)

// unread is the WARN of an item whose evidence could not be read.
func unread(expected, source string, err *ReadError) Outcome {
	return Outcome{Status: policy.StatusWarn, Expected: expected, Actual: unknownValue, Source: source, Detail: err.Error()}
}

// decided is PASS when compliant, else FAIL.
func decided(compliant bool, expected, actual, source, detail string) Outcome {
	return Outcome{Status: evidence.PassOrFail(compliant), Expected: expected, Actual: actual, Source: source, Detail: detail}
}

// quoteAll quotes each name and joins them with ", ".
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}

// listOrNone joins values with ", ", or says none.
func listOrNone(values []string) string {
	if len(values) == 0 {
		return "none"
	}
	return strings.Join(values, ", ")
}
