package openreports

import (
	"context"
	"fmt"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/openreports/reports-api/pkg/client/clientset/versioned"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// ScanSink publishes scans as ClusterReports, a report.Sink: a node's through Client, applied
// only when its content changed (the node scan Job writes its one report and exits), the cloud
// scan's through Writer (the leader's, which also deletes what it no longer writes).
type ScanSink struct {
	// Client writes node scans' reports; nil: node scans are not published here.
	Client versioned.Interface
	// Writer, of WriterCloudScan, writes the cloud scan's report; nil: it is not published here.
	Writer *Writer
}

// Publish implements report.Sink.
func (s ScanSink) Publish(ctx context.Context, scan report.Scan, subject *report.Subject) error {
	cat, err := policy.CatalogueFor(scan.Benchmark)
	if err != nil {
		return fmt.Errorf("writing the OpenReports: %w", err)
	}
	if scan.CloudCluster != nil {
		if s.Writer == nil {
			return nil
		}
		if _, err := s.Writer.Sync(ctx, nil, []*orv1alpha1.ClusterReport{BuildCloud(cat, scan)}); err != nil {
			return fmt.Errorf("writing the OpenReports: %w", err)
		}
		return nil
	}
	if s.Client == nil {
		return nil
	}
	node, err := subject.Get(ctx)
	if err != nil {
		return err
	}
	if _, err := ApplyClusterReportIfChanged(ctx, s.Client, BuildNode(cat, scan, node)); err != nil {
		return fmt.Errorf("writing the OpenReports: %w", err)
	}
	return nil
}

// NodeDetails names a node's ClusterReport, where its scan Event points when node scans are
// published here (report.ScanEvents.NodeDetails).
func NodeDetails(node string) string { return "ClusterReport " + NodeReportName(node) }
