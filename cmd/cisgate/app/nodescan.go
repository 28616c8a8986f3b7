package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/openreports/reports-api/pkg/client/clientset/versioned"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/cisgate/cisgate/nodescan"
	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/securityhub"
)

func init() { subcommands = append(subcommands, newNodeScanCommand) }

// defaultNamespace is cisgate's namespace when neither --namespace nor $POD_NAMESPACE says.
const defaultNamespace = "cisgate-system"

// ScanPublisher publishes one node's scan to the cluster (a *report.Publisher): the CISNodeScan
// Event on the Node and the report ConfigMap key node.<node>.json or the node's ClusterReport.
type ScanPublisher interface {
	Publish(ctx context.Context, scan report.Scan) error
}

// NodeScanOptions configures `cisgate nodescan`.
type NodeScanOptions struct {
	HostRoot   string
	ProcRoot   string
	NodeName   string
	Benchmark  string
	Output     string
	Report     bool
	Kubeconfig string
	Namespace  string
	// OpenReports, with Report, also writes the node's OpenReports ClusterReport.
	OpenReports bool
	// SecurityHub, with Report, also publishes the node's findings into AWS Security Hub.
	SecurityHub *securityhub.Options

	// newPublisher builds the publisher for --report; tests replace it.
	newPublisher func(*NodeScanOptions) (ScanPublisher, error)
	// now is the scan's timestamp in the report payload; tests fix it.
	now func() time.Time
}

// NewNodeScanOptions returns the defaults: the node name from $NODE_NAME (the Job sets it from
// spec.nodeName), the namespace from $POD_NAMESPACE.
func NewNodeScanOptions() *NodeScanOptions {
	namespace := os.Getenv("POD_NAMESPACE")
	if namespace == "" {
		namespace = defaultNamespace
	}
	return &NodeScanOptions{
		NodeName:     os.Getenv("NODE_NAME"),
		Benchmark:    string(policy.DefaultBenchmark),
		Output:       string(output.FormatTable),
		Namespace:    namespace,
		SecurityHub:  securityhub.NewOptions(),
		newPublisher: newNodeScanPublisher,
		now:          time.Now,
	}
}

// AddFlags binds the options to flags.
func (o *NodeScanOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.HostRoot, "host-root", o.HostRoot, "directory where the node's / is mounted (required), e.g. /host")
	fs.StringVar(&o.ProcRoot, "proc-root", o.ProcRoot, "the node's /proc (default <host-root>/proc; /proc in a Job with hostPID)")
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "name of the node scanned (default $NODE_NAME)")
	fs.StringVar(&o.Benchmark, "benchmark", o.Benchmark, "benchmark version, one of "+fmt.Sprint(policy.Benchmarks()))
	fs.StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json, junit or sarif")
	fs.BoolVar(&o.Report, "report", o.Report, "also record the results as a CISNodeScan Event on the Node and in the report ConfigMap")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "for --report: "+kubeconfigHelp)
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "cisgate's namespace, holding the report ConfigMap (default $POD_NAMESPACE, else "+defaultNamespace+")")
	fs.BoolVar(&o.OpenReports, "openreports", o.OpenReports, "with --report: write the node's results to its OpenReports ClusterReport "+openreports.NodeReportName("<node>")+" instead of the report ConfigMap (the CRDs must be installed)")
	o.SecurityHub.AddFlags(fs)
}

// Validate reports every problem with the options.
func (o *NodeScanOptions) Validate() []error {
	var errs []error
	if o.HostRoot == "" {
		errs = append(errs, errors.New("--host-root is required"))
	} else if err := requireDir(o.HostRoot); err != nil {
		errs = append(errs, fmt.Errorf("--host-root: %w", err))
	}
	if o.ProcRoot != "" {
		if err := requireDir(o.ProcRoot); err != nil {
			errs = append(errs, fmt.Errorf("--proc-root: %w", err))
		}
	}
	if o.NodeName == "" {
		errs = append(errs, errors.New("--node-name is required (or set $NODE_NAME)"))
	}
	if _, err := policy.CatalogueFor(policy.Benchmark(o.Benchmark)); err != nil {
		errs = append(errs, fmt.Errorf("--benchmark: %w", err))
	}
	if _, err := output.ParseFormat(o.Output, output.Formats()...); err != nil {
		errs = append(errs, err)
	}
	if o.Report && o.Namespace == "" {
		errs = append(errs, errors.New("--namespace must not be empty with --report"))
	}
	if o.SecurityHub.Enabled && !o.Report {
		errs = append(errs, errors.New("--securityhub needs --report (Security Hub is one of the places the scan is reported to)"))
	}
	return append(errs, o.SecurityHub.Validate()...)
}

func requireDir(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", path)
	}
	return nil
}

func newNodeScanCommand(streams IOStreams) *cobra.Command {
	o := NewNodeScanOptions()
	return withOptions(&cobra.Command{
		Use:   "nodescan --host-root DIR --node-name NAME",
		Short: "Check a worker node's kubelet against CIS Amazon EKS Benchmark section 3",
		Long: `nodescan reads a node through --host-root: it finds the kubelet in proc/*/cmdline (else the
systemd unit and the known AL2, AL2023, Bottlerocket and kubeadm layouts), resolves its effective
configuration (flag > --config-dir drop-ins > --config file > the kubelet's default), stats its files
and decides every section 3 check of the benchmark. Every result names the source of its value.
Exit codes: 0 no FAIL, 1 any FAIL, 2 bad usage, 3 not scanned (the kubelet or its configuration
could not be read: the report says which path, and the Job's mounts are the usual cause).`,
	}, o, func(ctx context.Context) error { return o.Run(ctx, streams) })
}

// Run scans the host, writes the results and, with --report, records them in the cluster.
func (o *NodeScanOptions) Run(ctx context.Context, streams IOStreams) error {
	host := nodescan.Host{Root: o.HostRoot, ProcRoot: o.ProcRoot}
	result, err := nodescan.Scan(host, policy.Benchmark(o.Benchmark), o.NodeName)
	if err != nil {
		return usageError(err)
	}
	if err := nodescan.Write(streams.Out, result, output.Format(o.Output)); err != nil {
		return err
	}
	if o.Report {
		publisher, err := o.newPublisher(o)
		if err != nil {
			return err
		}
		// Security Hub's failures are logged here, the Job's log.
		ctx = log.IntoContext(ctx, zap.New(zap.WriteTo(streams.ErrOut)).WithName("securityhub"))
		result.Time = o.now()
		if err := publisher.Publish(ctx, result); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	switch {
	case result.NotScanned != nil:
		return &ExitError{Code: ExitNotScanned, Err: errors.New(result.NotScanned.String())}
	case result.HasFailures():
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// newNodeScanPublisher connects to the cluster as kubeconfigHelp says.
func newNodeScanPublisher(o *NodeScanOptions) (ScanPublisher, error) {
	cfg, client, err := connect(o.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--report: %w", err)
	}
	var reports versioned.Interface
	if o.OpenReports {
		if reports, err = versioned.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("--openreports: %w", err)
		}
	}
	return newNodeScanPublisherFor(client, reports, o.Namespace, o.securityHubSinks()...)
}

// securityHubSinks is the Security Hub sink with --securityhub, else none. Its failures are
// logged to the logger of the Publish context (Run's: the Job's log).
func (o *NodeScanOptions) securityHubSinks() []report.Sink {
	// The AWS configuration is read from the environment and files only: no call needs a context.
	if p := o.SecurityHub.NewPublisher(context.Background(), logr.Logger{}); p != nil {
		return []report.Sink{securityhub.Sink{Publisher: p}}
	}
	return nil
}

// newNodeScanPublisherFor writes the node's report ConfigMap key, or with reports its
// ClusterReport, and its CISNodeScan Event, each once and synchronously: the Job exits right
// after. The last sinks (Security Hub) come after the Event, which they cannot hold up.
func newNodeScanPublisherFor(client kubernetes.Interface, reports versioned.Interface, namespace string, last ...report.Sink) (*report.Publisher, error) {
	events, err := report.NewEventSink(client, report.ReportingController)
	if err != nil {
		return nil, err
	}
	if reports == nil {
		return report.NewPublisher(client, namespace, append([]report.Sink{
			report.KeySink{Client: client, Namespace: namespace},
			report.ScanEvents{Events: events}}, last...)...), nil
	}
	return report.NewPublisher(client, namespace, append([]report.Sink{
		report.KeySink{Client: client, Namespace: namespace, NodesInReports: true},
		openreports.ScanSink{Client: reports},
		report.ScanEvents{Events: events, NodeDetails: openreports.NodeDetails}}, last...)...), nil
}
