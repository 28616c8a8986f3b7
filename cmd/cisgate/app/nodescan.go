package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cisgate/cisgate/nodescan"
	"github.com/cisgate/cisgate/policy"
)

func init() { subcommands = append(subcommands, newNodescanCommand) }

// defaultNamespace is cisgate's namespace when neither --namespace nor $POD_NAMESPACE says.
const defaultNamespace = "cisgate-system"

// NodeScanReporter publishes one node's scan to the cluster: the CISNodeScan Event on the Node
// and the report ConfigMap key node.<node>.json.
type NodeScanReporter interface {
	ReportNodeScan(ctx context.Context, payload nodescan.NodeReport) error
}

// NodescanOptions configures `cisgate nodescan`.
type NodescanOptions struct {
	HostRoot   string
	ProcRoot   string
	NodeName   string
	Benchmark  string
	Output     string
	Report     bool
	Kubeconfig string
	Namespace  string

	// newReporter builds the reporter for --report; tests replace it.
	newReporter func(*NodescanOptions) (NodeScanReporter, error)
	// now is the scan's timestamp in the report payload; tests fix it.
	now func() time.Time
}

// NewNodescanOptions returns the defaults: the node name from $NODE_NAME (the Job sets it from
// spec.nodeName), the namespace from $POD_NAMESPACE.
func NewNodescanOptions() *NodescanOptions {
	namespace := os.Getenv("POD_NAMESPACE")
	if namespace == "" {
		namespace = defaultNamespace
	}
	return &NodescanOptions{
		NodeName:    os.Getenv("NODE_NAME"),
		Benchmark:   string(policy.DefaultBenchmark),
		Output:      string(nodescan.FormatTable),
		Namespace:   namespace,
		newReporter: newClusterNodeScanReporter,
		now:         time.Now,
	}
}

// AddFlags binds the options to flags.
func (o *NodescanOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.HostRoot, "host-root", o.HostRoot, "directory where the node's / is mounted (required), e.g. /host")
	fs.StringVar(&o.ProcRoot, "proc-root", o.ProcRoot, "the node's /proc (default <host-root>/proc; /proc in a Job with hostPID)")
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "name of the node scanned (default $NODE_NAME)")
	fs.StringVar(&o.Benchmark, "benchmark", o.Benchmark, "benchmark version, one of "+fmt.Sprint(policy.Benchmarks()))
	fs.StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or junit")
	fs.BoolVar(&o.Report, "report", o.Report, "also record the results as a CISNodeScan Event on the Node and in the report ConfigMap")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig for --report (absent: in-cluster)")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "cisgate's namespace, holding the report ConfigMap (default $POD_NAMESPACE, else "+defaultNamespace+")")
}

// Validate reports every problem with the options.
func (o *NodescanOptions) Validate() []error {
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
	if !slices.Contains(nodescan.Formats(), nodescan.Format(o.Output)) {
		errs = append(errs, fmt.Errorf("--output: unknown format %q (supported: %v)", o.Output, nodescan.Formats()))
	}
	if o.Report && o.Namespace == "" {
		errs = append(errs, errors.New("--namespace must not be empty with --report"))
	}
	return errs
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

func newNodescanCommand(streams IOStreams) *cobra.Command {
	o := NewNodescanOptions()
	cmd := &cobra.Command{
		Use:   "nodescan --host-root DIR --node-name NAME",
		Short: "Check a worker node's kubelet against CIS Amazon EKS Benchmark section 3",
		Long: `Nodescan reads a node through --host-root: it finds the kubelet in proc/*/cmdline (else the
systemd unit and the known AL2, AL2023, Bottlerocket and kubeadm layouts), resolves its effective
configuration (flag > --config-dir drop-ins > --config file > the kubelet's default), stats its files
and decides every section 3 check of the benchmark. Every result names the source of its value.
Exit codes: 0 no FAIL, 1 any FAIL, 2 bad usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validationError(o.Validate()); err != nil {
				return err
			}
			return o.Run(cmd.Context(), streams)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// Run scans the host, writes the results and, with --report, records them in the cluster.
func (o *NodescanOptions) Run(ctx context.Context, streams IOStreams) error {
	host := nodescan.Host{Root: o.HostRoot, ProcRoot: o.ProcRoot}
	result, err := nodescan.Scan(host, policy.Benchmark(o.Benchmark), o.NodeName)
	if err != nil {
		return usageError(err)
	}
	if err := nodescan.Write(streams.Out, result, nodescan.Format(o.Output)); err != nil {
		return err
	}
	if o.Report {
		reporter, err := o.newReporter(o)
		if err != nil {
			return err
		}
		if err := reporter.ReportNodeScan(ctx, nodescan.NewNodeReport(result, o.now())); err != nil {
			return err
		}
	}
	if result.HasFailures() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// errNoReportSink is returned for --report until the report sinks are wired into this binary.
var errNoReportSink = errors.New("--report needs the report sink")

func newClusterNodeScanReporter(*NodescanOptions) (NodeScanReporter, error) {
	return nil, errNoReportSink
}
