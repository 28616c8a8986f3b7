package app

import (
	"fmt"

	"github.com/openreports/reports-api/pkg/client/clientset/versioned"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/cisgate/cisgate/openreports"
)

// newOpenReportsWriter returns the writer of the reports labelled writer, with its own clients:
// the typed one for applies and deletes, the metadata one for reading what is there.
func newOpenReportsWriter(cfg *rest.Config, writer string, opts openreports.Options) (*openreports.Writer, error) {
	typed, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--openreports: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--openreports: %w", err)
	}
	return openreports.NewWriter(typed, meta, writer, opts)
}
