package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// CloudScanOptions configure the leader's cloud scan in `cisgate serve`.
type CloudScanOptions struct {
	Enabled  bool
	Cluster  string
	Region   string
	Interval time.Duration
}

// NewCloudScanOptions returns the defaults: off, every 6 hours once on.
func NewCloudScanOptions() *CloudScanOptions { return &CloudScanOptions{Interval: 6 * time.Hour} }

// AddFlags binds the options to flags.
func (o *CloudScanOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Enabled, "cloud-scan", o.Enabled, "run the cloud scan on the leader: the benchmark items decided through the AWS API (needs AWS credentials: IRSA or EKS Pod Identity)")
	fs.StringVar(&o.Cluster, "cloud-cluster", o.Cluster, "for --cloud-scan: the EKS cluster's name (required)")
	fs.StringVar(&o.Region, "cloud-region", o.Region, "for --cloud-scan: the cluster's AWS region (default: the SDK's, $AWS_REGION)")
	fs.DurationVar(&o.Interval, "cloud-interval", o.Interval, "for --cloud-scan: time between two cloud scans (the first runs when the replica becomes leader)")
}

// Validate reports every problem with the options.
func (o *CloudScanOptions) Validate() []error {
	if !o.Enabled {
		return nil
	}
	var errs []error
	if o.Cluster == "" {
		errs = append(errs, errors.New("--cloud-cluster is required with --cloud-scan"))
	}
	if o.Interval <= 0 {
		errs = append(errs, fmt.Errorf("--cloud-interval must be positive, got %v", o.Interval))
	}
	return errs
}

// CloudScanner is the leader's cloud scan, a controller-runtime manager.Runnable: at start and
// every Interval it scans the cluster through the AWS API and publishes the result (cloud.json, a
// CISCloudScan Event on the report ConfigMap, the OpenReports: whatever the publisher's sinks
// are). Nothing of it touches admission.
type CloudScanner struct {
	client    kubernetes.Interface
	opts      CloudScanOptions
	policy    func() *policy.Policy
	publisher *report.Publisher
}

// NewCloudScanner returns the scan of the cluster behind client, published through publisher,
// under the policy current at each run (its benchmark, and its exemptions for the Pods whose
// images 5.1.1 looks at). opts must have passed Validate.
func NewCloudScanner(client kubernetes.Interface, opts CloudScanOptions, pol func() *policy.Policy, publisher *report.Publisher) *CloudScanner {
	return &CloudScanner{client: client, opts: opts, policy: pol, publisher: publisher}
}

// CloudScanExempt is the Pods a policy leaves out of 5.1.1, as the audit leaves them out: those
// of an exempt namespace and those a rule for ecr-image-scanning exempts.
func CloudScanExempt(pol *policy.Policy) func(namespace, name string) bool {
	return func(namespace, name string) bool {
		if pol.ExemptNamespace(namespace) {
			return true
		}
		_, ok := pol.ExemptionFor("ecr-image-scanning", policy.Object{Kind: "Pod", Namespace: namespace, Name: name, Namespaced: true})
		return ok
	}
}

// NeedLeaderElection: only the leader scans, once per interval for the cluster.
func (s *CloudScanner) NeedLeaderElection() bool { return true }

// Start scans at once and then every Interval until ctx ends. A failed scan is logged and runs
// again at the next tick.
func (s *CloudScanner) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("cloudscan")
	run := func() {
		if err := survive(func() error { _, err := s.RunOnce(ctx); return err }); err != nil && ctx.Err() == nil {
			logger.Error(err, "Cloud scan failed; retrying at the next interval")
		}
	}
	run()
	ticker := time.NewTicker(s.opts.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			run()
		}
	}
}

// RunOnce scans once, publishes the result and returns it. What AWS does not answer is in the
// result as WARNs; an error here is the publishing's (the API server).
func (s *CloudScanner) RunOnce(ctx context.Context) (report.Scan, error) {
	clients, awsErr := cloudscan.NewClients(ctx, s.opts.Region)
	pol := s.policy()
	target := cloudscan.Target{Cluster: s.opts.Cluster, AWS: clients, AWSErr: awsErr, Kube: s.client, Exempt: CloudScanExempt(pol)}
	if awsErr != nil {
		target.AWS.Region = s.opts.Region
	}
	result, err := cloudscan.Scan(ctx, target, pol.Catalogue.Benchmark())
	if err != nil {
		return result, err
	}
	result.Time = time.Now()
	if err := s.publisher.Publish(ctx, result); err != nil {
		return result, fmt.Errorf("cloud scan: %w", err)
	}
	return result, nil
}
