package securityhub

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// Sink publishes scans into Security Hub, a report.Sink: a node scan in its node's scope (with the
// Node's UID and EC2 instance when the scan's subject, the Node, can be read), the cloud scan in
// ScopeCloud. Security Hub's own failures are the Publisher's to log and count: they never make
// Publish fail. Place it last: a node scan's Event is then not held up by Security Hub's rate.
type Sink struct {
	Publisher *Publisher
}

// Publish implements report.Sink. It returns only the subject's lookup error, which the report
// Publisher reports once whichever sink asked first; the findings are published without the
// Node's UID then.
func (s Sink) Publish(ctx context.Context, scan report.Scan, subject *report.Subject) error {
	if s.Publisher == nil {
		return nil
	}
	cat, err := policy.CatalogueFor(scan.Benchmark)
	if err != nil {
		return fmt.Errorf("security hub: %w", err)
	}
	if scan.CloudCluster != nil {
		s.Publisher.Publish(ctx, ScopeCloud, CloudRows(cat, scan.Results))
		return nil
	}
	ns := NodeScan{Node: scan.Node, Results: scan.Results}
	if scan.NotScanned != nil {
		ns.NotScanned = scan.NotScanned.String()
	}
	obj, lookupErr := subject.Get(ctx)
	if lookupErr == nil {
		ns.UID = string(obj.GetUID())
		if node, ok := obj.(*corev1.Node); ok {
			ns.InstanceID = InstanceID(node.Spec.ProviderID)
		}
	}
	s.Publisher.Publish(ctx, NodeScope(scan.Node), NodeRows(cat, ns))
	return lookupErr
}
