// Package chart tests the Helm chart in charts/cisgate: helm lint, helm template against golden
// files, the rendered objects on a real kube-apiserver (with cert-manager's CRDs) and their RBAC
// as the chart's ServiceAccounts see it, `cisgate check` on the rendered chart, and the rendered
// config and webhook configuration against the Go code they must agree with.
//
// helm is the binary test/tools builds from the Go module proxy ($HELM, or helm in
// $KUBEBUILDER_ASSETS); without it the tests skip. Run them with
//
//	KUBEBUILDER_ASSETS=$(make -s tools-path) HELM=$(make -s tools-path)/helm go test ./test/e2e/chart/
//
// and rewrite the golden files with -update.
package chart

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// The release the tests render, unless a test says otherwise.
const (
	releaseName      = "cisgate"
	releaseNamespace = "cisgate-system"
)

// chartDir is charts/cisgate, found from this file so that the tests run from any directory.
func chartDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "charts", "cisgate")
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		t.Fatalf("chart: %v", err)
	}
	return dir
}

// runHelm runs helm with args and returns stdout, or stderr in the error.
func runHelm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(framework.Helm(t), args...)
	// No repository config, cache or plugins from the user's home leak in.
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(err.Error() + ": " + stderr.String() + stdout.String())
	}
	return stdout.String(), nil
}

// release is one `helm template` of the chart.
type release struct {
	name, namespace string
	args            []string // --set and -f flags
}

func defaultRelease(args ...string) release {
	return release{name: releaseName, namespace: releaseNamespace, args: args}
}

// template renders the release.
func template(t testing.TB, r release) string {
	t.Helper()
	args := append([]string{"template", r.name, chartDir(t), "--namespace", r.namespace}, r.args...)
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// decode splits rendered YAML into objects.
func decode(t testing.TB, rendered string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(rendered), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decoding rendered chart: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// find returns the one object of kind and name, failing the test when there is none.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("rendered chart has no %s %q", kind, name)
	return nil
}

func ofKind(objs []*unstructured.Unstructured, kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		for _, k := range kinds {
			if o.GetKind() == k {
				out = append(out, o)
			}
		}
	}
	return out
}

// secretData matches the generated certificate material of certManager.enabled=false: random on
// every render, so the golden files hold a placeholder.
var secretData = regexp.MustCompile(`(?m)^(\s*(?:caBundle|tls\.crt|tls\.key|ca\.crt): )[A-Za-z0-9+/=]{16,}$`)

func maskCerts(rendered string) string {
	return secretData.ReplaceAllString(rendered, "${1}<generated>")
}
