package nodescan

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// fixturesDir holds the node host-root fixtures shared with the CLI tests and the demo.
const fixturesDir = "../test/testdata/nodes"

// fileAttrs are a fixture file's mode and owner, which git does not keep.
type fileAttrs struct {
	mode     fs.FileMode
	uid, gid int
}

// standardAttrs are what a healthy node's kubelet files look like.
var standardAttrs = fileAttrs{mode: 0o644, uid: 0, gid: 0}

// fixtureAttrs overrides standardAttrs per fixture and node path.
var fixtureAttrs = map[string]map[string]fileAttrs{
	"wrong-perms": {
		"/etc/kubernetes/kubelet/kubelet-config.json": {mode: 0o666, uid: 1000, gid: 1000},
		"/var/lib/kubelet/kubeconfig":                 {mode: 0o600, uid: 0, gid: 1000},
	},
}

// hostFixture copies a fixture to a temporary host root and sets every file's mode and owner,
// so results do not depend on the checkout's umask or user. Owners need root: without it the
// test is skipped rather than compared against the wrong owners.
func hostFixture(tb testing.TB, name string) Host {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("setting fixture file owners to root:root needs root")
	}
	src := filepath.Join(fixturesDir, name)
	root := tb.TempDir()
	overrides := fixtureAttrs[name]
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		attrs, ok := overrides["/"+filepath.ToSlash(rel)]
		if !ok {
			attrs = standardAttrs
		}
		if err := os.WriteFile(dst, data, attrs.mode); err != nil {
			return err
		}
		if err := os.Chmod(dst, attrs.mode); err != nil {
			return err
		}
		return os.Chown(dst, attrs.uid, attrs.gid)
	})
	require.NoError(tb, err)
	return Host{Root: root}
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

// assertGolden compares got with testdata/golden/name, or rewrites it with -update.
func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./nodescan -update")
	require.Equal(t, string(want), string(got))
}

// TestFixtureGoldens scans every fixture under the default benchmark and compares the JSON.
func TestFixtureGoldens(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			report, err := Scan(hostFixture(t, name), policy.DefaultBenchmark, name)
			require.NoError(t, err)
			var out bytes.Buffer
			require.NoError(t, WriteJSON(&out, report))
			assertGolden(t, name+".json", out.Bytes())
		})
	}
}

// TestRendererGoldens pins the table and JUnit renderings of a passing and a failing host.
func TestRendererGoldens(t *testing.T) {
	for _, name := range []string{"al2", "flags-only-insecure"} {
		report, err := Scan(hostFixture(t, name), policy.DefaultBenchmark, name)
		require.NoError(t, err)
		for _, f := range []output.Format{output.FormatTable, output.FormatJUnit} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var out bytes.Buffer
				require.NoError(t, Write(&out, report, f))
				ext := ".txt"
				if f == output.FormatJUnit {
					ext = ".xml"
				}
				assertGolden(t, name+ext, out.Bytes())
			})
		}
	}
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
