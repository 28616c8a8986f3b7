package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// Scan is one scan's rows and what they are about: a node scan's (Node set) or the cloud scan's
// (CloudCluster set). The scanners return it, their JSON output is its JSON (a fixed interface,
// the same shape for both), and the Publisher hands it to every Sink.
type Scan struct {
	Benchmark policy.Benchmark `json:"benchmark"`
	// Node is the node a node scan read; empty for the cloud scan.
	Node string `json:"node,omitempty"`
	// NotScanned is set when a node scan could not read what section 3 is decided on; the results
	// are then what could be decided, mostly WARN, and say nothing about the node.
	NotScanned *NotScanned `json:"notScanned,omitempty"`
	// CloudCluster is what the cloud scan says of the cluster; nil for a node scan.
	*CloudCluster
	Results []output.EvidenceResult `json:"results"`
	// Time is when the scan was published.
	Time time.Time `json:"-"`
}

// HasFailures reports whether any result is FAIL (the scanners' exit code 1).
func (s Scan) HasFailures() bool {
	return output.CountEvidence(s.Results)[policy.StatusFail] > 0
}

// Sink is one place scans are published to: the report ConfigMap key (KeySink), the Event
// (ScanEvents), OpenReports (openreports.ScanSink). Adding a sink is one type with Publish, and
// its test; docs/architecture.md, "Adding a report sink", says where it is switched on.
type Sink interface {
	// Publish sends one scan. subject looks up the object the scan is about (the Node, or the
	// report ConfigMap for the cloud scan), at most once per scan for all sinks; a sink that
	// refers to it returns the lookup's error as it is.
	Publish(ctx context.Context, scan Scan, subject *Subject) error
}

// Object is a Kubernetes object a sink can refer to: its metadata and its kind.
type Object interface {
	metav1.Object
	runtime.Object
}

// Subject is the object a scan is about, looked up when a sink first asks for it.
type Subject struct {
	lookup func(context.Context) (Object, error)
	obj    Object
	err    error
	asked  bool
}

// errSubjectReported stands for a failed lookup that an earlier sink already returned.
var errSubjectReported = errors.New("report: the scan's subject could not be looked up")

// Get returns the object. A failed lookup is returned to the first sink that asks, and to later
// ones as an error the Publisher leaves out, so the failure is reported once.
func (s *Subject) Get(ctx context.Context) (Object, error) {
	if !s.asked {
		s.asked = true
		s.obj, s.err = s.lookup(ctx)
		return s.obj, s.err
	}
	if s.err != nil {
		return nil, errSubjectReported
	}
	return s.obj, nil
}

// Publisher sends each scan to every enabled sink, in order; a failing sink does not stop the
// others, and Publish returns all their errors.
type Publisher struct {
	client    kubernetes.Interface
	namespace string
	sinks     []Sink
}

// NewPublisher publishes to sinks in order (the report ConfigMap key first: the cloud scan's
// Event refers to the ConfigMap); client and namespace find a scan's subject.
func NewPublisher(client kubernetes.Interface, namespace string, sinks ...Sink) *Publisher {
	return &Publisher{client: client, namespace: namespace, sinks: sinks}
}

// Publish sends scan to every sink and returns when all are done.
func (p *Publisher) Publish(ctx context.Context, scan Scan) error {
	subject := &Subject{lookup: func(ctx context.Context) (Object, error) { return p.subject(ctx, scan) }}
	var errs []error
	for _, sink := range p.sinks {
		if err := sink.Publish(ctx, scan, subject); err != nil && !errors.Is(err, errSubjectReported) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *Publisher) subject(ctx context.Context, scan Scan) (Object, error) {
	if scan.CloudCluster != nil {
		cm, err := p.client.CoreV1().ConfigMaps(p.namespace).Get(ctx, ConfigMapName, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("the CISCloudScan Event needs the report ConfigMap: %w", err)
		}
		return cm, nil
	}
	node, err := p.client.CoreV1().Nodes().Get(ctx, scan.Node, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("the Event needs the Node (and so does the ClusterReport): %w", err)
	}
	return node, nil
}

// KeySink writes a scan's payload to its key of the report ConfigMap: node.<node>.json within
// the node's share of the budget, cloud.json within the cloud scan's.
type KeySink struct {
	Client    kubernetes.Interface
	Namespace string
	// NodesInReports says the node scans' results live in their OpenReports ClusterReports: a
	// node key from before is released, so the ConfigMap's size does not follow the node count.
	NodesInReports bool
}

// Publish implements Sink.
func (k KeySink) Publish(ctx context.Context, scan Scan, _ *Subject) error {
	if scan.CloudCluster != nil {
		data, err := MarshalWithin(NewCloudReport(scan), CloudShare)
		if err != nil {
			return err
		}
		return ApplyKey(ctx, k.Client, k.Namespace, CloudKey(), data)
	}
	if k.NodesInReports {
		return ReleaseKey(ctx, k.Client, k.Namespace, NodeKey(scan.Node))
	}
	// The node's share depends on how many nodes write: one List of a single item tells the total.
	nodes, err := k.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return fmt.Errorf("counting nodes for the report budget: %w", err)
	}
	writers := len(nodes.Items)
	if nodes.RemainingItemCount != nil {
		writers += int(*nodes.RemainingItemCount)
	}
	data, err := MarshalWithin(NewNodeReport(scan), SplitBudget(NodeShare, writers))
	if err != nil {
		return err
	}
	return ApplyKey(ctx, k.Client, k.Namespace, NodeKey(scan.Node), data)
}

// ScanEvents records a scan's Event, written at once: CISNodeScan on the Node, CISCloudScan on
// the report ConfigMap. It is a Warning when a check fails, the node could not be scanned or AWS
// did not answer.
type ScanEvents struct {
	Events *EventSink
	// NodeDetails says where a node's details are, for the note; nil: its report ConfigMap key.
	NodeDetails func(node string) string
}

// Publish implements Sink.
func (e ScanEvents) Publish(ctx context.Context, scan Scan, subject *Subject) error {
	regarding, err := subject.Get(ctx)
	if err != nil {
		return err
	}
	eventType := EventNormal
	if scan.HasFailures() || scan.NotScanned != nil || scan.CloudCluster != nil && len(scan.Errors) > 0 {
		eventType = EventWarning
	}
	if scan.CloudCluster != nil {
		return e.Events.EmitNow(ctx, regarding, eventType, ReasonCloudScan, ActionCloudScan, cloudScanNote(scan))
	}
	where := "ConfigMap " + ConfigMapName + " key " + NodeKey(scan.Node).Name
	if e.NodeDetails != nil {
		where = e.NodeDetails(scan.Node)
	}
	return e.Events.EmitNow(ctx, regarding, eventType, ReasonNodeScan, ActionNodeScan, nodeScanNote(scan, where))
}
