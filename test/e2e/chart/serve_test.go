package chart

import (
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/controller"
)

// serveCommand parses args (starting with "serve") with cisgate's own command line, as the
// container would start it, without running it.
func serveCommand(t *testing.T, args []string) (*cobra.Command, error) {
	t.Helper()
	root := app.NewRootCommand(app.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	cmd, rest, err := root.Find(args)
	require.NoError(t, err)
	require.Equal(t, "serve", cmd.Name())
	return cmd, cmd.ParseFlags(rest)
}

// TestServeAcceptsChartArgs: every flag the Deployment passes exists in `cisgate serve` and takes
// its value.
func TestServeAcceptsChartArgs(t *testing.T) {
	for _, v := range append(variants, struct {
		name string
		args []string
	}{"no node scan", []string{"--set", "nodeScan.enabled=false"}}) {
		t.Run(v.name, func(t *testing.T) {
			dep := convertDeployment(t, find(t, decode(t, template(t, defaultRelease(v.args...))), "Deployment", releaseName))
			c := dep.Spec.Template.Spec.Containers[0]
			args := expandEnv(c.Args, map[string]string{"POD_NAMESPACE": releaseNamespace, "POD_NAME": "cisgate-7d9f-abcde"})
			cmd, err := serveCommand(t, args)
			require.NoError(t, err, "cisgate serve rejects the chart's arguments %q", args)
			assert.Empty(t, cmd.Flags().Args())
			for flag, want := range map[string]string{
				"config": "/etc/cisgate/config.yaml", "cert-dir": "/tmp/k8s-webhook-server/serving-certs", "port": "9443",
				"namespace": releaseNamespace, "replica": "cisgate-7d9f-abcde",
				"metrics-bind-address": ":8080", "health-probe-bind-address": ":8081",
			} {
				assert.Equal(t, want, cmd.Flags().Lookup(flag).Value.String(), flag)
			}
			// The config file and the cert dir are the mounted volumes.
			mounts := map[string]bool{}
			for _, m := range c.VolumeMounts {
				mounts[m.MountPath] = true
			}
			assert.True(t, mounts[filepath.Dir(cmd.Flags().Lookup("config").Value.String())])
			assert.True(t, mounts[cmd.Flags().Lookup("cert-dir").Value.String()])

			for flag, want := range map[string]string{"audit-interval": "10m0s", "audit-page-size": "500"} {
				assert.Equal(t, want, cmd.Flags().Lookup(flag).Value.String(), flag)
			}
			scan := cmd.Flags().Lookup("nodescan-enabled")
			require.NotNil(t, scan, "cisgate serve has no --nodescan-enabled")
			assert.Equal(t, strconv.FormatBool(v.name != "no node scan"), scan.Value.String())
		})
	}
}

// TestNodeScanArgs: the node-scan values become the --nodescan-* flags of serve, which the
// node-scan scheduler's own flag set takes and validates.
func TestNodeScanArgs(t *testing.T) {
	args := nodescanArgs(t, defaultRelease())
	assert.Equal(t, []string{
		"--nodescan-enabled=true", "--nodescan-image=ghcr.io/cisgate/cisgate:0.1.0", "--nodescan-interval=24h",
		"--nodescan-parallelism=10", "--nodescan-job-qps=1", "--nodescan-ttl=1h", "--nodescan-active-deadline=5m",
		"--nodescan-service-account=cisgate-nodescan",
	}, args)
	opts := nodeScanOptions(t, args)
	assert.True(t, opts.Enabled)
	assert.Equal(t, 10, opts.Parallelism)

	opts = nodeScanOptions(t, nodescanArgs(t, defaultRelease(
		"--set", "nodeScan.image.repository=123456789012.dkr.ecr.us-east-1.amazonaws.com/cisgate",
		"--set", "nodeScan.image.tag=v9", "--set", "nodeScan.parallelism=3", "--set", "nodeScan.interval=6h",
		"--set-json", "nodeScan.jobQPS=1.2", "--set", "nodeScan.priorityClassName=system-node-critical")))
	assert.Equal(t, "123456789012.dkr.ecr.us-east-1.amazonaws.com/cisgate:v9", opts.Image)
	assert.Equal(t, 3, opts.Parallelism)
	assert.Equal(t, 1.2, opts.JobQPS, "100,000 nodes at 24h need 1.16 Jobs/s")
	assert.Equal(t, "6h0m0s", opts.Interval.String())
	assert.Equal(t, "system-node-critical", opts.PriorityClassName)

	assert.Empty(t, nodescanArgs(t, defaultRelease("--set", "nodeScan.enabled=false")))
}

// nodescanArgs are the --nodescan-* arguments of the rendered Deployment.
func nodescanArgs(t *testing.T, r release) []string {
	t.Helper()
	dep := convertDeployment(t, find(t, decode(t, template(t, r)), "Deployment", r.name))
	var out []string
	for _, a := range dep.Spec.Template.Spec.Containers[0].Args {
		if strings.HasPrefix(a, "--nodescan-") {
			out = append(out, a)
		}
	}
	return out
}

// nodeScanOptions parses --nodescan-* flags with the controller's own flag set.
func nodeScanOptions(t *testing.T, args []string) controller.NodeScanOptions {
	t.Helper()
	require.NotEmpty(t, args)
	opts := controller.NewNodeScanOptions()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	opts.AddFlags(fs)
	require.NoError(t, fs.Parse(args))
	require.Empty(t, opts.Validate())
	return *opts
}

// expandEnv replaces $(VAR) as the kubelet does in args.
func expandEnv(args []string, env map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for k, v := range env {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		out[i] = a
	}
	return out
}
