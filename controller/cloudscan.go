package controller

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/openreports"
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
// every Interval it scans the cluster through the AWS API, writes cloud.json and records a
// CISCloudScan Event on the report ConfigMap. Nothing of it touches admission.
type CloudScanner struct {
	client    kubernetes.Interface
	namespace string
	opts      CloudScanOptions
	policy    func() *policy.Policy
	events    *report.EventSink
	// openReports writes each scan as the ClusterReport openreports.CloudReportName; nil: none.
	openReports *openreports.Writer
}

// WriteOpenReports makes every scan also write its results as an OpenReports ClusterReport
// through w, a writer of openreports.WriterCloudScan. Call it before Start.
func (s *CloudScanner) WriteOpenReports(w *openreports.Writer) { s.openReports = w }

// NewCloudScanner returns the scan of the cluster behind client, writing to the report ConfigMap
// in namespace, under the policy current at each run (its benchmark, and its exemptions for the
// Pods whose images 5.1.1 looks at). opts must have passed Validate.
func NewCloudScanner(client kubernetes.Interface, namespace string, opts CloudScanOptions, pol func() *policy.Policy, events *report.EventSink) *CloudScanner {
	return &CloudScanner{client: client, namespace: namespace, opts: opts, policy: pol, events: events}
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

// RunOnce scans once, writes cloud.json and then the Event, and returns the report. What AWS
// does not answer is in the report as WARNs; an error here is the report's own (the API server).
func (s *CloudScanner) RunOnce(ctx context.Context) (cloudscan.Report, error) {
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
	data, err := report.MarshalWithin(cloudscan.NewCloudReport(result, time.Now()), report.CloudShare)
	if err != nil {
		return result, err
	}
	if err := report.ApplyKey(ctx, s.client, s.namespace, report.CloudKey(), data); err != nil {
		return result, err
	}
	if s.openReports != nil {
		cr := openreports.BuildCloud(pol.Catalogue, result, time.Now())
		if _, err := s.openReports.Sync(ctx, nil, []*orv1alpha1.ClusterReport{cr}); err != nil {
			return result, fmt.Errorf("cloud scan: writing the OpenReports: %w", err)
		}
	}
	if s.events == nil {
		return result, nil
	}
	cm, err := s.client.CoreV1().ConfigMaps(s.namespace).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		return result, fmt.Errorf("the CISCloudScan Event needs the report ConfigMap: %w", err)
	}
	eventType := report.EventNormal
	if result.HasFailures() || len(result.Errors) > 0 {
		eventType = report.EventWarning
	}
	return result, s.events.EmitNow(ctx, cm, eventType, report.ReasonCloudScan, report.ActionCloudScan, cloudScanNote(result))
}

// cloudScanNote summarises a scan in an Event note, e.g. "eks-1.8.0 cloud scan of EKS cluster
// prod (us-east-1): 2 FAIL, 1 WARN, 6 PASS; details in ConfigMap cisgate-report key cloud.json;
// FAIL [2.1.1] control-plane-logging (enabled: api); ...". The pointer to the details comes
// before the list, which the sink may cut.
func cloudScanNote(r cloudscan.Report) string {
	counts := map[policy.Status]int{}
	for _, res := range r.Results {
		counts[res.Status]++
	}
	var b strings.Builder
	b.WriteString(string(r.Benchmark) + " cloud scan of EKS cluster " + r.Cluster + " (" + r.Region + "): " +
		strconv.Itoa(counts[policy.StatusFail]) + " FAIL, " + strconv.Itoa(counts[policy.StatusWarn]) + " WARN, " +
		strconv.Itoa(counts[policy.StatusPass]) + " PASS")
	b.WriteString("; details in ConfigMap " + report.ConfigMapName + " key " + report.CloudKey().Name)
	if r.Section3 != "" {
		b.WriteString("; section 3: " + r.Section3)
	}
	for _, res := range r.Results {
		if res.Status == policy.StatusFail {
			b.WriteString("; FAIL [" + res.ID + "] " + string(res.Slug) + " (" + res.Actual + ")")
		}
	}
	for _, e := range r.Errors {
		b.WriteString("; error: " + e)
	}
	return b.String()
}
