package nodescan

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/internal/golden"
	"github.com/cisgate/cisgate/nodescan/nodescantest"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// fixturesDir holds the node host-root fixtures shared with the CLI tests and the demo.
const fixturesDir = "../test/testdata/nodes"

// fixtureAttrs are the files of a fixture that a healthy node would not have.
var fixtureAttrs = map[string]map[string]nodescantest.FileAttrs{
	"wrong-perms": {
		"/etc/kubernetes/kubelet/kubelet-config.json": {Mode: 0o666, UID: 1000, GID: 1000},
		"/var/lib/kubelet/kubeconfig":                 {Mode: 0o600, UID: 0, GID: 1000},
	},
}

// hostFixture copies a fixture to a temporary host root with its modes and owners.
func hostFixture(tb testing.TB, name string) Host {
	tb.Helper()
	return Host{Root: nodescantest.CopyHost(tb, filepath.Join(fixturesDir, name), fixtureAttrs[name])}
}

// fixtureNames lists every fixture directory.
func fixtureNames(t *testing.T) []string {
	entries, err := os.ReadDir(fixturesDir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	require.NotEmpty(t, names)
	return names
}

// assertGolden compares got with testdata/golden/name (golden.Assert).
func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Assert(t, filepath.Join("testdata", "golden", name), got)
}

// TestFixtureGoldens scans every fixture under the default benchmark and compares the JSON.
func TestFixtureGoldens(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			report, err := Scan(hostFixture(t, name), policy.DefaultBenchmark, name)
			require.NoError(t, err)
			var out bytes.Buffer
			require.NoError(t, Write(&out, report, output.FormatJSON))
			assertGolden(t, name+".json", out.Bytes())
		})
	}
}

// TestRendererGoldens pins the table, JUnit and SARIF renderings of a passing and a failing host.
func TestRendererGoldens(t *testing.T) {
	for _, name := range []string{"al2", "flags-only-insecure"} {
		report, err := Scan(hostFixture(t, name), policy.DefaultBenchmark, name)
		require.NoError(t, err)
		for _, f := range []output.Format{output.FormatTable, output.FormatJUnit, output.FormatSARIF} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var out bytes.Buffer
				require.NoError(t, Write(&out, report, f))
				ext := map[output.Format]string{output.FormatTable: ".txt", output.FormatJUnit: ".xml", output.FormatSARIF: ".sarif"}[f]
				assertGolden(t, name+ext, out.Bytes())
			})
		}
	}
}

// TestWriteUnknownFormat: nodescan's writer answers a format it does not render as every writer
// does (output.UnknownFormat), and writes nothing.
func TestWriteUnknownFormat(t *testing.T) {
	report, err := Scan(hostFixture(t, "al2"), policy.DefaultBenchmark, "al2")
	require.NoError(t, err)
	var out bytes.Buffer
	err = Write(&out, report, output.Format("yaml"))
	require.EqualError(t, err, `--output must be one of table, json, junit, sarif, got "yaml"`)
	require.Empty(t, out.String())
}

func BenchmarkScanFixtureHost(b *testing.B) {
	h := hostFixture(b, "al2023")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(h, policy.DefaultBenchmark, "al2023"); err != nil {
			b.Fatal(err)
		}
	}
}
