package app

import (
	"fmt"

	"github.com/openreports/reports-api/pkg/client/clientset/versioned"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/cisgate/cisgate/openreports"
)

// newOpenReportsWriter returns the writer of the reports labelled writer, with its own clients:
// the typed one for applies and deletes, the metadata one for reading what is there; and the
// follower of the node scans' reports, on the same metadata client.
func newOpenReportsWriter(cfg *rest.Config, writer string, opts openreports.Options) (*openreports.Writer, *openreports.NodeReports, error) {
	typed, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("--openreports: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("--openreports: %w", err)
	}
	w, err := openreports.NewWriter(typed, meta, writer, opts)
	return w, openreports.NewNodeReports(meta), err
}
