// Package nodescantest lays out node host-root fixtures for tests, as net/http/httptest does
// servers: git keeps neither file modes nor owners, so each test copies a fixture and sets them.
package nodescantest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FileAttrs are a host file's mode and owner.
type FileAttrs struct {
	Mode     fs.FileMode
	UID, GID int
}

// Healthy is how a node keeps its kubelet files: 0644, root:root.
var Healthy = FileAttrs{Mode: 0o644}

// CopyHost copies the fixture directory src to a temporary host root and gives every file the
// Healthy attributes, or those overrides names by its host path ("/etc/kubernetes/..."). Owners
// need root: without it the test is skipped rather than run against the checkout's owners.
func CopyHost(tb testing.TB, src string, overrides map[string]FileAttrs) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("setting fixture file owners to root:root needs root")
	}
	root := tb.TempDir()
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
			attrs = Healthy
		}
		// WriteFile's mode is cut by the umask; Chmod sets it exactly.
		if err := os.WriteFile(dst, data, attrs.Mode); err != nil {
			return err
		}
		if err := os.Chmod(dst, attrs.Mode); err != nil {
			return err
		}
		return os.Chown(dst, attrs.UID, attrs.GID)
	})
	if err != nil {
		tb.Fatalf("copying host fixture %s: %v", src, err)
	}
	return root
}
