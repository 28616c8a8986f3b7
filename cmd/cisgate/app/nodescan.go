package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/openreports/reports-api/pkg/client/clientset/versioned"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cisgate/cisgate/nodescan"
	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

func init() { subcommands = append(subcommands, newNodeScanCommand) }

// defaultNamespace is cisgate's namespace when neither --namespace nor $POD_NAMESPACE says.
const defaultNamespace = "cisgate-system"

// NodeScanReporter publishes one node's scan to the cluster: the CISNodeScan Event on the Node
// and the report ConfigMap key node.<node>.json.
type NodeScanReporter interface {
	ReportNodeScan(ctx context.Context, payload nodescan.NodeReport) error
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

	// newReporter builds the reporter for --report; tests replace it.
	newReporter func(*NodeScanOptions) (NodeScanReporter, error)
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
		NodeName:    os.Getenv("NODE_NAME"),
		Benchmark:   string(policy.DefaultBenchmark),
		Output:      string(output.FormatTable),
		Namespace:   namespace,
		newReporter: newClusterNodeScanReporter,
		now:         time.Now,
	}
}

// AddFlags binds the options to flags.
func (o *NodeScanOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.HostRoot, "host-root", o.HostRoot, "directory where the node's / is mounted (required), e.g. /host")
	fs.StringVar(&o.ProcRoot, "proc-root", o.ProcRoot, "the node's /proc (default <host-root>/proc; /proc in a Job with hostPID)")
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "name of the node scanned (default $NODE_NAME)")
	fs.StringVar(&o.Benchmark, "benchmark", o.Benchmark, "benchmark version, one of "+fmt.Sprint(policy.Benchmarks()))
	fs.StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or junit")
	fs.BoolVar(&o.Report, "report", o.Report, "also record the results as a CISNodeScan Event on the Node and in the report ConfigMap")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "for --report: "+kubeconfigHelp)
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "cisgate's namespace, holding the report ConfigMap (default $POD_NAMESPACE, else "+defaultNamespace+")")
	fs.BoolVar(&o.OpenReports, "openreports", o.OpenReports, "with --report: write the node's results to its OpenReports ClusterReport "+openreports.NodeReportName("<node>")+" instead of the report ConfigMap (the CRDs must be installed)")
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
	if _, err := output.ParseFormat(o.Output, nodescan.Formats()...); err != nil {
		errs = append(errs, err)
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
		reporter, err := o.newReporter(o)
		if err != nil {
			return err
		}
		if err := reporter.ReportNodeScan(ctx, nodescan.NewNodeReport(result, o.now())); err != nil {
			return err
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

// newClusterNodeScanReporter connects to the cluster as kubeconfigHelp says.
func newClusterNodeScanReporter(o *NodeScanOptions) (NodeScanReporter, error) {
	cfg, client, err := connect(o.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--report: %w", err)
	}
	r, err := newNodeScanReporter(client, o.Namespace)
	if err != nil || !o.OpenReports {
		return r, err
	}
	if r.openReports, err = versioned.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("--openreports: %w", err)
	}
	return r, nil
}

func newNodeScanReporter(client kubernetes.Interface, namespace string) (*clusterNodeScanReporter, error) {
	events, err := report.NewEventSink(client, report.ReportingController)
	if err != nil {
		return nil, err
	}
	return &clusterNodeScanReporter{client: client, namespace: namespace, events: events}, nil
}

// clusterNodeScanReporter writes the node's report ConfigMap key and its CISNodeScan Event, each
// once and synchronously: the Job exits right after.
type clusterNodeScanReporter struct {
	client    kubernetes.Interface
	namespace string
	events    *report.EventSink
	// openReports, when set, writes the node's ClusterReport.
	openReports versioned.Interface
}

// ReportNodeScan writes every sink; a failure of one does not skip the others.
func (r *clusterNodeScanReporter) ReportNodeScan(ctx context.Context, payload nodescan.NodeReport) error {
	var keyErr error
	if r.openReports == nil {
		keyErr = r.writeKey(ctx, payload)
	} else {
		// The node's results live in its ClusterReport; a key from before stays out of the
		// ConfigMap, whose size must not follow the node count.
		keyErr = report.ReleaseKey(ctx, r.client, r.namespace, report.NodeKey(payload.Node))
	}
	node, err := r.client.CoreV1().Nodes().Get(ctx, payload.Node, metav1.GetOptions{})
	if err != nil {
		return errors.Join(keyErr, fmt.Errorf("--report: the Event needs the Node (and so does the ClusterReport): %w", err))
	}
	var reportErr error
	if r.openReports != nil {
		cat, err := policy.CatalogueFor(payload.Benchmark)
		if err == nil {
			_, err = openreports.ApplyClusterReportIfChanged(ctx, r.openReports, openreports.BuildNode(cat, payload, node))
		}
		if err != nil {
			reportErr = fmt.Errorf("--openreports: %w", err)
		}
	}
	return errors.Join(keyErr, reportErr, r.emitEvent(ctx, node, payload))
}

// writeKey applies node.<node>.json within this node's share of the ConfigMap budget. The share
// depends on how many nodes write: one List of a single item tells the total.
func (r *clusterNodeScanReporter) writeKey(ctx context.Context, payload nodescan.NodeReport) error {
	nodes, err := r.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return fmt.Errorf("--report: counting nodes for the report budget: %w", err)
	}
	writers := len(nodes.Items)
	if nodes.RemainingItemCount != nil {
		writers += int(*nodes.RemainingItemCount)
	}
	data, err := report.MarshalWithin(payload, report.SplitBudget(report.NodeShare, writers))
	if err != nil {
		return err
	}
	return report.ApplyKey(ctx, r.client, r.namespace, report.NodeKey(payload.Node), data)
}

// emitEvent records the CISNodeScan Event on the Node: Warning when any check fails or the node
// could not be scanned.
func (r *clusterNodeScanReporter) emitEvent(ctx context.Context, node *corev1.Node, payload nodescan.NodeReport) error {
	eventType := report.EventNormal
	if payload.Counts[policy.StatusFail] > 0 || payload.NotScanned != nil {
		eventType = report.EventWarning
	}
	where := "ConfigMap " + report.ConfigMapName + " key " + report.NodeKey(payload.Node).Name
	if r.openReports != nil {
		where = "ClusterReport " + openreports.NodeReportName(payload.Node)
	}
	return r.events.EmitNow(ctx, node, eventType, report.ReasonNodeScan, report.ActionNodeScan, nodeScanNote(payload, where))
}

// nodeScanNote summarises a scan in an Event note, e.g.
// "eks-2.0.0 section 3: 2 FAIL, 0 WARN, 10 PASS; details in ConfigMap cisgate-report key
// node.n1.json; FAIL [3.2.1] anonymous-auth (true, flag --anonymous-auth); ...". The sink cuts
// it to the API server's limit, so the pointer to the details comes before the list.
func nodeScanNote(payload nodescan.NodeReport, where string) string {
	var b strings.Builder
	if n := payload.NotScanned; n != nil {
		// Nothing was decided: the counts would read as a node with WARNs.
		b.WriteString(string(payload.Benchmark) + " section 3: " + n.String())
		b.WriteString("; details in " + where)
		return b.String()
	}
	b.WriteString(string(payload.Benchmark) + " section 3: " +
		strconv.Itoa(payload.Counts[policy.StatusFail]) + " FAIL, " +
		strconv.Itoa(payload.Counts[policy.StatusWarn]) + " WARN, " +
		strconv.Itoa(payload.Counts[policy.StatusPass]) + " PASS")
	b.WriteString("; details in " + where)
	for _, res := range payload.Results {
		if res.Status == policy.StatusFail {
			b.WriteString("; FAIL [" + res.ID + "] " + string(res.Slug) + " (" + res.Actual + ", " + res.Source + ")")
		}
	}
	return b.String()
}
