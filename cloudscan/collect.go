package cloudscan

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// vpcCNIAddon is the name of the Amazon VPC CNI add-on (eks:DescribeAddon addonName).
const vpcCNIAddon = "vpc-cni"

// pageSize is how many Nodes or Pods one list request asks for.
const pageSize = 500

// Evidence is everything a scan read; checks decide on it and nothing else. A nil value with a
// nil error means there was nothing to read (e.g. no encryption key to describe).
type Evidence struct {
	Cluster string
	Region  string

	// EKS is eks:DescribeCluster's cluster.
	EKS    *ekstypes.Cluster
	EKSErr *ReadError
	// Addon is eks:DescribeAddon's vpc-cni add-on; AddonMissing when EKS answered that the cluster
	// has no such add-on.
	Addon        *ekstypes.Addon
	AddonMissing bool
	AddonErr     *ReadError
	// Key is kms:DescribeKey's metadata of the key that encrypts Secrets.
	Key    *kmstypes.KeyMetadata
	KeyErr *ReadError

	// Nodes are the cluster's Nodes with their ExternalIP addresses.
	Nodes    []NodeAddresses
	NodesErr *ReadError
	// Repositories are the ECR repositories the cluster's Pods pull from, sorted by reference.
	Repositories []Repository
	// PodsErr says why the Pods' images could not be listed.
	PodsErr *ReadError
	// ExemptPods is how many Pods the config exempts from 5.1.1 (Target.Exempt).
	ExemptPods int

	// Calls are the AWS calls made, by IAM action.
	Calls map[string]int

	errs []*ReadError
}

// NodeAddresses is one Node's ExternalIP addresses (status.addresses).
type NodeAddresses struct {
	Name        string
	ExternalIPs []string
}

// Errors are the failed reads, each once.
func (ev *Evidence) Errors() []*ReadError { return ev.errs }

func (ev *Evidence) errorStrings() []string {
	out := []string{}
	for _, e := range ev.errs {
		if s := e.Error(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func (ev *Evidence) failed(e *ReadError) *ReadError {
	if e != nil {
		ev.errs = append(ev.errs, e)
	}
	return e
}

// Target is what a scan reads: the EKS cluster and, for the items decided in the cluster, its
// Kubernetes API.
type Target struct {
	Cluster string
	AWS     Clients
	// AWSErr says why there are no AWS clients (NewClients failed); every AWS item then WARNs.
	AWSErr error
	// Kube is the cluster's API; nil with KubeErr saying why (5.1.1 and 5.4.3 then WARN).
	Kube    kubernetes.Interface
	KubeErr error
	// Exempt says whether the config exempts a Pod from 5.1.1 (its namespace, or a rule for
	// ecr-image-scanning), as the audit leaves it out; nil exempts none. Its images are not
	// counted: kube-system's add-ons pull from Amazon EKS's own registries, whose scanning is AWS's.
	Exempt func(namespace, name string) bool
}

// Collect reads everything the cloud items decide on. It never fails: each failed read is kept
// with its reason for the items that needed it, and counted in cisgate_cloudscan_errors_total.
func Collect(ctx context.Context, t Target) *Evidence {
	ev := &Evidence{Cluster: t.Cluster, Region: t.AWS.Region}
	defer func() {
		ev.Calls = t.AWS.Calls.Counts()
		for _, e := range ev.errs {
			countError(e.Reason)
		}
	}()
	collectKubernetes(ctx, t, ev)
	var noAWS *ReadError
	switch {
	case t.AWSErr != nil:
		noAWS = &ReadError{Action: "load the AWS configuration", Reason: ReasonOther, Err: t.AWSErr}
	case t.AWS.Credentials != nil:
		if _, err := t.AWS.Credentials.Retrieve(ctx); err != nil {
			noAWS = &ReadError{Action: "retrieve credentials", Reason: ReasonNoCredentials, Err: err}
		}
	}
	if noAWS != nil {
		ev.failed(noAWS)
		ev.EKSErr, ev.AddonErr = noAWS, noAWS
		for i := range ev.Repositories {
			ev.Repositories[i].Err = noAWS
		}
		return ev
	}
	collectEKS(ctx, t, ev)
	collectECR(ctx, t.AWS, ev)
	return ev
}

func collectEKS(ctx context.Context, t Target, ev *Evidence) {
	out, err := t.AWS.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(t.Cluster)})
	if err != nil {
		e := classify(actionDescribeCluster, err)
		var notFound *ekstypes.ResourceNotFoundException
		if errors.As(err, &notFound) {
			e.Reason = ReasonClusterNotFound
			e.Err = errors.New("cluster \"" + t.Cluster + "\" not found in region " + t.AWS.Region)
		}
		ev.EKSErr = ev.failed(e)
		// The add-on is the cluster's: without the cluster it says nothing new.
		ev.AddonErr = ev.EKSErr
		return
	}
	ev.EKS = out.Cluster
	if arn := secretsKeyARN(ev.EKS); arn != "" {
		key, err := t.AWS.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)})
		if err != nil {
			ev.KeyErr = ev.failed(classify(actionDescribeKey, err))
		} else {
			ev.Key = key.KeyMetadata
		}
	}
	addon, err := t.AWS.EKS.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(t.Cluster), AddonName: aws.String(vpcCNIAddon)})
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		ev.AddonMissing = true
	case err != nil:
		ev.AddonErr = ev.failed(classify(actionDescribeAddon, err))
	default:
		ev.Addon = addon.Addon
	}
}

// secretsKeyARN is the key of the encryption config entry that covers secrets, if any.
func secretsKeyARN(c *ekstypes.Cluster) string {
	for _, ec := range c.EncryptionConfig {
		if slices.Contains(ec.Resources, secretsResource) && ec.Provider != nil {
			return aws.ToString(ec.Provider.KeyArn)
		}
	}
	return ""
}

// secretsResource is the resource name an EKS encryption config lists for Secrets.
const secretsResource = "secrets"

func collectKubernetes(ctx context.Context, t Target, ev *Evidence) {
	if t.Kube == nil {
		err := t.KubeErr
		if err == nil {
			err = errors.New("no Kubernetes client")
		}
		ev.NodesErr = ev.failed(&ReadError{Action: "list nodes", Reason: ReasonKubernetes, Err: err})
		ev.PodsErr = ev.failed(&ReadError{Action: "list pods", Reason: ReasonKubernetes, Err: err})
		return
	}
	opts := metav1.ListOptions{Limit: pageSize}
	for {
		nodes, err := t.Kube.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			ev.NodesErr = ev.failed(&ReadError{Action: "list nodes", Reason: ReasonKubernetes, Err: err})
			ev.Nodes = nil
			break
		}
		for _, n := range nodes.Items {
			na := NodeAddresses{Name: n.Name}
			for _, a := range n.Status.Addresses {
				if a.Type == corev1.NodeExternalIP {
					na.ExternalIPs = append(na.ExternalIPs, a.Address)
				}
			}
			ev.Nodes = append(ev.Nodes, na)
		}
		if opts.Continue = nodes.Continue; opts.Continue == "" {
			break
		}
	}
	images := map[string]string{} // image to the first Pod seen with it
	opts = metav1.ListOptions{Limit: pageSize}
	for {
		pods, err := t.Kube.CoreV1().Pods(metav1.NamespaceAll).List(ctx, opts)
		if err != nil {
			ev.PodsErr = ev.failed(&ReadError{Action: "list pods", Reason: ReasonKubernetes, Err: err})
			return
		}
		for _, p := range pods.Items {
			if t.Exempt != nil && t.Exempt(p.Namespace, p.Name) {
				ev.ExemptPods++
				continue
			}
			for _, img := range podImages(&p.Spec) {
				if _, seen := images[img]; !seen {
					images[img] = p.Namespace + "/" + p.Name
				}
			}
		}
		if opts.Continue = pods.Continue; opts.Continue == "" {
			break
		}
	}
	ev.Repositories = ecrRepositories(images)
}

// podImages are the images of every container of a pod spec: init, regular and ephemeral.
func podImages(spec *corev1.PodSpec) []string {
	var out []string
	for _, c := range spec.InitContainers {
		out = append(out, c.Image)
	}
	for _, c := range spec.Containers {
		out = append(out, c.Image)
	}
	for _, c := range spec.EphemeralContainers {
		out = append(out, c.Image)
	}
	return slices.DeleteFunc(out, func(s string) bool { return strings.TrimSpace(s) == "" })
}
