package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChartIsGenerated fails while the chart's rules for the checked kinds lag behind the Go
// code: run go generate ./webhook.
func TestChartIsGenerated(t *testing.T) {
	got, err := os.ReadFile("../../../charts/cisgate/templates/_checkedkinds.tpl")
	require.NoError(t, err)
	assert.Equal(t, string(render()), string(got), "charts/cisgate/templates/_checkedkinds.tpl is stale: run go generate ./webhook")
}
