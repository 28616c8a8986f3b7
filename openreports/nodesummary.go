package openreports

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// NodeSummaryAnnotation is the annotation of a node's ClusterReport that holds its NodeSummary:
// what summary.json needs of the node, readable from the report's metadata alone, so the leader
// follows every node with a metadata informer instead of reading every node's results.
const NodeSummaryAnnotation = "cisgate.io/node-summary"

// ScannedAtAnnotation is the time of the node's last scan (RFC 3339, UTC), set by every scan even
// when the results did not change: a new leader reads it from the reports' metadata (LastScans)
// and scans a node again an interval after it, instead of rescanning the whole fleet.
const ScannedAtAnnotation = "cisgate.io/scanned-at"

// scannedAt is the annotation's value for a scan.
func scannedAt(scan report.Scan) string {
	return scan.Time.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// NodeSummary is a node's scan in short: its checks by result, or why it was not scanned.
type NodeSummary struct {
	Node       string             `json:"node"`
	Benchmark  policy.Benchmark   `json:"benchmark"`
	NotScanned *report.NotScanned `json:"notScanned,omitempty"`
	Pass       []string           `json:"pass,omitempty"`
	Fail       []string           `json:"fail,omitempty"`
	Warn       []string           `json:"warn,omitempty"`
}

// nodeSummary is the annotation's value for a scan.
func nodeSummary(scan report.Scan) string {
	s := NodeSummary{Node: scan.Node, Benchmark: scan.Benchmark, NotScanned: scan.NotScanned}
	if scan.NotScanned == nil {
		for _, r := range scan.Results {
			switch r.Status {
			case policy.StatusPass:
				s.Pass = append(s.Pass, r.ID)
			case policy.StatusFail:
				s.Fail = append(s.Fail, r.ID)
			default:
				s.Warn = append(s.Warn, r.ID)
			}
		}
	}
	data, _ := json.Marshal(s) // strings and slices of strings always encode
	return string(data)
}

// NodeReports follows the node scans' ClusterReports through their metadata (one watch, no
// results): the leader's source of the node counts in summary.json when the scans write
// OpenReports instead of node keys in the report ConfigMap.
type NodeReports struct {
	meta metadata.Interface

	mu       sync.Mutex
	informer cache.SharedIndexInformer
}

// NewNodeReports returns the follower; Run starts it.
func NewNodeReports(meta metadata.Interface) *NodeReports { return &NodeReports{meta: meta} }

// Run follows the reports until ctx ends, calling changed after each change once the first list
// is in.
func (n *NodeReports) Run(ctx context.Context, changed func()) {
	factory := metadatainformer.NewFilteredSharedInformerFactory(n.meta, 0, metav1.NamespaceAll, func(o *metav1.ListOptions) {
		o.LabelSelector = k8slabels.Set{ManagedByLabel: Source, WriterLabel: WriterNodeScan}.String()
	})
	informer := factory.ForResource(clusterReportsGVR).Informer()
	notify := func(any) {
		if informer.HasSynced() {
			changed()
		}
	}
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: notify, UpdateFunc: func(_, obj any) { notify(obj) }, DeleteFunc: notify,
	})
	n.mu.Lock()
	n.informer = informer
	n.mu.Unlock()
	factory.Start(ctx.Done())
	if cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		changed()
	}
	<-ctx.Done()
	factory.Shutdown()
}

// Summaries returns every node's summary, by node name, and whether the follower has listed the
// reports yet (before that it knows nothing, which is not the same as no node).
func (n *NodeReports) Summaries() ([]NodeSummary, bool) {
	n.mu.Lock()
	informer := n.informer
	n.mu.Unlock()
	if informer == nil || !informer.HasSynced() {
		return nil, false
	}
	var out []NodeSummary
	for _, obj := range informer.GetStore().List() {
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			continue
		}
		if s, ok := summaryOf(m); ok {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b NodeSummary) int { return strings.Compare(a.Node, b.Node) })
	return out, true
}

// summaryOf reads a node report's NodeSummaryAnnotation; false when it has none that names a node.
func summaryOf(m *metav1.PartialObjectMetadata) (NodeSummary, bool) {
	var s NodeSummary
	if json.Unmarshal([]byte(m.Annotations[NodeSummaryAnnotation]), &s) != nil || s.Node == "" {
		return NodeSummary{}, false
	}
	return s, true
}

// lastScansPageSize is how many reports' metadata one list request of LastScans asks for.
const lastScansPageSize = 500

// LastScans lists the node scans' ClusterReports' metadata, page by page, and returns when each
// node was last scanned (ScannedAtAnnotation), by node name. A node whose last scan could not read
// it (NotScanned), or whose report has no scan time (written before the annotation), is left out:
// it counts as never scanned.
func (n *NodeReports) LastScans(ctx context.Context) (map[string]time.Time, error) {
	opts := metav1.ListOptions{
		LabelSelector: k8slabels.Set{ManagedByLabel: Source, WriterLabel: WriterNodeScan}.String(),
		Limit:         lastScansPageSize,
	}
	out := map[string]time.Time{}
	for {
		page, err := n.meta.Resource(clusterReportsGVR).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("openreports: listing the node scans' ClusterReports: %w", err)
		}
		for i := range page.Items {
			m := &page.Items[i]
			s, ok := summaryOf(m)
			if !ok || s.NotScanned != nil {
				continue
			}
			at, err := time.Parse(time.RFC3339, m.Annotations[ScannedAtAnnotation])
			if err != nil {
				continue
			}
			out[s.Node] = at
		}
		if page.Continue == "" {
			return out, nil
		}
		opts.Continue = page.Continue
	}
}
