package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/securityhub"
)

func init() { subcommands = append(subcommands, newCloudScanCommand) }

// CloudScanOptions configures `cisgate cloudscan`.
type CloudScanOptions struct {
	Cluster    string
	Region     string
	Benchmark  string
	Output     string
	Kubeconfig string
	ConfigFile string
	// SecurityHub also publishes the results into AWS Security Hub (scope cloud, as serve's); its
	// cluster and region default to --cluster and --region.
	SecurityHub *securityhub.Options
}

// NewCloudScanOptions returns the defaults.
func NewCloudScanOptions() *CloudScanOptions {
	return &CloudScanOptions{Output: string(output.FormatTable), SecurityHub: securityhub.NewOptions()}
}

// AddFlags binds the options to flags.
func (o *CloudScanOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Cluster, "cluster", o.Cluster, "name of the EKS cluster (required)")
	fs.StringVar(&o.Region, "region", o.Region, "AWS region of the cluster (default: the SDK's, $AWS_REGION or the shared config)")
	fs.StringVar(&o.Benchmark, "benchmark", o.Benchmark, fmt.Sprintf("benchmark version, one of %v (default: the config's, else %s)", policy.Benchmarks(), policy.DefaultBenchmark))
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "cisgate config file: its benchmark, and its exemptions (namespaces, rules for ecr-image-scanning) leave Pods out of 5.1.1 as the audit leaves them out")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json, junit or sarif")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "for the items decided in the cluster (5.1.1's images, 5.4.3's Nodes): "+kubeconfigHelp)
	o.SecurityHub.AddFlags(fs)
}

// Validate reports every problem with the options.
func (o *CloudScanOptions) Validate() []error {
	var errs []error
	if o.Cluster == "" {
		errs = append(errs, errors.New("--cluster is required"))
	}
	if o.Benchmark != "" {
		if _, err := policy.CatalogueFor(policy.Benchmark(o.Benchmark)); err != nil {
			errs = append(errs, fmt.Errorf("--benchmark: %w", err))
		}
	}
	if _, err := output.ParseFormat(o.Output, output.Formats()...); err != nil {
		errs = append(errs, err)
	}
	if o.SecurityHub.Cluster == "" {
		o.SecurityHub.Cluster = o.Cluster
	}
	if o.SecurityHub.Region == "" {
		o.SecurityHub.Region = o.Region
	}
	return append(errs, o.SecurityHub.Validate()...)
}

func newCloudScanCommand(streams IOStreams) *cobra.Command {
	o := NewCloudScanOptions()
	return withOptions(&cobra.Command{
		Use:   "cloudscan --cluster NAME [--region REGION]",
		Short: "Check an EKS cluster's AWS settings against the CIS Amazon EKS Benchmark through the AWS API",
		Long: `cloudscan decides the benchmark items that live in AWS rather than in Kubernetes objects:
control plane logging, Secrets encryption with a customer managed KMS key, the API endpoint's
access, private nodes, access entries, the VPC CNI's network policy and ECR image scanning of the
repositories the cluster's Pods pull from. Every result names the value read and where from.
Credentials and the endpoint come from the AWS SDK's default chain (AWS_ENDPOINT_URL is honoured).
A read that fails (no credentials, access denied, throttling, no such cluster, an unreachable
endpoint) makes the items that needed it WARN with the reason: the IAM action for a denied call.
Exit codes: 0 no FAIL, 1 any FAIL, 2 bad usage.`,
	}, o, func(ctx context.Context) error { return o.Run(ctx, streams) })
}

// Run scans the cluster and writes the results.
func (o *CloudScanOptions) Run(ctx context.Context, streams IOStreams) error {
	pol, err := loadPolicy(o.ConfigFile, o.Benchmark)
	if err != nil {
		return usageError(err)
	}
	clients, err := cloudscan.NewClients(ctx, o.Region)
	if err != nil {
		return usageError(err)
	}
	target := cloudscan.Target{Cluster: o.Cluster, AWS: clients, Exempt: controller.CloudScanExempt(pol)}
	if _, clientset, err := connect(o.Kubeconfig); err != nil {
		target.KubeErr = err
	} else {
		target.Kube = clientset
	}
	result, err := cloudscan.Scan(ctx, target, pol.Catalogue.Benchmark())
	if err != nil {
		return usageError(err)
	}
	if err := cloudscan.Write(streams.Out, result, output.Format(o.Output)); err != nil {
		return err
	}
	publishSecurityHub(ctx, o.SecurityHub, securityhub.ScopeCloud, func() []securityhub.Row { return securityhub.CloudRows(pol.Catalogue, result.Results) }, streams.ErrOut)
	if result.HasFailures() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}
