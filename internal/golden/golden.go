// Package golden compares what a test produced with a file checked into the repository, the one
// way every golden test of cisgate does it. `go test ./PKG -update` rewrites the files from what
// the tests produce; review the diff before committing it.
//
// Only tests import this package.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

var update = flag.Bool("update", false, "rewrite the golden files from what the tests produce")

// Assert compares got with the file at path, relative to the test's package directory. With
// -update it writes got there instead (making its directory) and passes.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	assert.Equal(t, string(want), string(got), "differs from %s; run the test with -update if the change is intended", path)
}
