package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"
)

// CertManagerModule is the module whose deploy/crds directory holds cert-manager's CRDs. The
// version is the one go.mod requires (this package imports its API types, which keeps it there).
const CertManagerModule = "github.com/cert-manager/cert-manager"

// CertManagerCRDsEnv, when set, names a directory of cert-manager CRDs to use instead.
const CertManagerCRDsEnv = "CERT_MANAGER_CRDS"

// CertManagerCRDDir returns the deploy/crds directory of the cert-manager module this test binary
// was built with, in the Go module cache.
func CertManagerCRDDir() (string, error) {
	if dir := os.Getenv(CertManagerCRDsEnv); dir != "" {
		return dir, nil
	}
	modDir, err := moduleDir(CertManagerModule)
	if err != nil {
		return "", fmt.Errorf("finding cert-manager's CRDs: %w", err)
	}
	dir := filepath.Join(modDir, "deploy", "crds")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("finding cert-manager's CRDs: %w (try `go mod download %s`)", err, CertManagerModule)
	}
	return dir, nil
}

// moduleDir returns the directory of module path: from the test binary's build info and the module
// cache, or failing that from `go list -m`.
func moduleDir(path string) (string, error) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path != path {
				continue
			}
			if m.Replace != nil {
				m = m.Replace
			}
			if m.Version == "" || m.Sum == "" { // replaced by a local directory
				break
			}
			cache, err := goModCache()
			if err != nil {
				return "", err
			}
			dir := filepath.Join(cache, escapeModulePath(m.Path)+"@"+m.Version)
			if _, err := os.Stat(dir); err == nil {
				return dir, nil
			}
			break
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("module %s is not in the module cache (try `go mod download %s`)", path, path)
	}
	return dir, nil
}

func goModCache() (string, error) {
	if dir := os.Getenv("GOMODCACHE"); dir != "" {
		return dir, nil
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// escapeModulePath is the module cache's case encoding: "A" becomes "!a".
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// OpenReportsModule is the module whose config/crd directory holds the OpenReports CRDs (Report,
// ClusterReport), at the version go.mod requires.
const OpenReportsModule = "github.com/openreports/reports-api"

// OpenReportsCRDDir returns the config/crd directory of the reports-api module this test binary
// was built with, in the Go module cache.
func OpenReportsCRDDir() (string, error) {
	modDir, err := moduleDir(OpenReportsModule)
	if err != nil {
		return "", fmt.Errorf("finding reports-api's CRDs: %w", err)
	}
	dir := filepath.Join(modDir, "config", "crd")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("finding reports-api's CRDs: %w (try `go mod download %s`)", err, OpenReportsModule)
	}
	return dir, nil
}

// MonitoringModule is the Prometheus Operator's API module, whose types the tests decode
// ServiceMonitors with; its CRDs ship in the operator's main module (PrometheusOperatorModule)
// at the same version.
const (
	MonitoringModule         = "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring"
	PrometheusOperatorModule = "github.com/prometheus-operator/prometheus-operator"
)

// ServiceMonitorCRD returns the ServiceMonitor CRD file of the Prometheus Operator release whose
// API module go.mod requires, fetched into the module cache with `go mod download` (the main
// module is not a dependency: only its CRD files are needed).
func ServiceMonitorCRD() (string, error) {
	apiDir, err := moduleDir(MonitoringModule)
	if err != nil {
		return "", fmt.Errorf("finding the Prometheus Operator's version: %w", err)
	}
	version := apiDir[strings.LastIndex(apiDir, "@")+1:]
	out, err := exec.Command("go", "mod", "download", "-json", PrometheusOperatorModule+"@"+version).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", PrometheusOperatorModule, version, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s %v", PrometheusOperatorModule, version, mod.Error, err)
	}
	file := filepath.Join(mod.Dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_servicemonitors.yaml")
	if _, err := os.Stat(file); err != nil {
		return "", err
	}
	return file, nil
}
