package securityhub_test

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/securityhub"
)

func TestOptionsValidate(t *testing.T) {
	off := securityhub.NewOptions()
	assert.Empty(t, off.Validate(), "off: nothing required")
	assert.Nil(t, off.Args())

	bad := securityhub.NewOptions()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	bad.AddFlags(fs)
	require.NoError(t, fs.Parse([]string{"--securityhub", "--securityhub-qps=0", "--securityhub-burst=0"}))
	var msgs []string
	for _, err := range bad.Validate() {
		msgs = append(msgs, err.Error())
	}
	assert.Equal(t, []string{
		"--securityhub-cluster is required with --securityhub",
		"--securityhub-qps must be positive, got 0",
		"--securityhub-burst must be at least 1, got 0",
	}, msgs)
}

func TestOptionsArgsRoundTrip(t *testing.T) {
	o := securityhub.NewOptions()
	o.Enabled, o.Cluster, o.Region, o.QPS = true, "prod", "eu-west-1", 0.5
	args := o.Args()
	assert.Equal(t, []string{"--securityhub", "--securityhub-cluster=prod", "--securityhub-qps=0.5", "--securityhub-burst=5", "--securityhub-region=eu-west-1"}, args)
	parsed := securityhub.NewOptions()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	parsed.AddFlags(fs)
	require.NoError(t, fs.Parse(args))
	assert.Equal(t, o, parsed)
}
