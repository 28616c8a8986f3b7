// Package cloudscan decides the items of the CIS Amazon EKS Benchmark that live in AWS, not in any
// Kubernetes object, through the AWS API: control plane logging (2.1.1), image scanning in ECR
// (5.1.1), envelope encryption of Secrets with a customer managed KMS key (5.3.1), the API
// endpoint's access (5.4.1, 5.4.2), private nodes (5.4.3, from the Nodes' addresses), cluster
// access through EKS access entries (4.1.7 in eks-1.7.0 and later, 5.5.1 in eks-2.0.0) and the
// VPC CNI's network policy (4.3.1).
//
// A scan collects its Evidence once (one eks:DescribeCluster answers most items; ECR repositories
// are described in batches of up to 100 names) and every check decides on it, naming the value
// it read and where from, e.g. `eks:DescribeCluster cluster.logging.clusterLogging`. Nothing
// passes for lack of evidence, and no failure of AWS is a crash: missing credentials, a denied
// call (the WARN names the IAM action), throttling after the SDK's bounded retries, a cluster
// that is not there or an unreachable endpoint make the items that needed the call WARN with
// the reason, and count in cisgate_cloudscan_errors_total{reason}.
//
// Credentials and the endpoint come from the SDK's default chain (environment, IRSA web
// identity, EKS Pod Identity, instance role; AWS_ENDPOINT_URL).
package cloudscan
