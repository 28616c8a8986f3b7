package admission

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestMetrics reads /metrics as Prometheus scrapes it after a denial.
func TestMetrics(t *testing.T) {
	serve(t)
	ns := prepareNamespace(t, "metrics", "")
	_, err := env.Clientset.CoreV1().Pods(ns).Create(context.Background(), privilegedPod(ns, "priv"), metav1.CreateOptions{})
	requireDenied(t, err, "[4.2.1]")

	want := []string{
		`cisgate_admission_requests_total{decision="denied",kind="Pod",operation="CREATE"}`,
		`cisgate_admission_duration_seconds_bucket{le="`,
		`cisgate_findings_total{check="privileged",mode="enforce"}`,
		`cisgate_check_info{benchmark="eks-1.8.0",check="privileged",id="4.2.1"} 1`,
		`cisgate_report_dropped_total{sink="events"}`,
		`cisgate_report_write_errors_total{sink="configmap"}`,
	}
	framework.WaitFor(t, 10*time.Second, "the admission metrics", func() error { return metricsPresent(want...) })
}

// metricsPresent is nil once /metrics shows every series.
func metricsPresent(series ...string) error {
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	for _, s := range series {
		if !strings.Contains(string(body), s) {
			return fmt.Errorf("no %s in /metrics", s)
		}
	}
	return nil
}

// TestDashboardSeries: every series the chart's Grafana dashboard selects
// (charts/cisgate/dashboards/series.txt, which test/dashboards holds to the dashboard's parsed
// PromQL) is on a running cisgate's /metrics, so no panel stays empty for a misspelt name.
func TestDashboardSeries(t *testing.T) {
	serve(t)
	ns := prepareNamespace(t, "dashboard", "")
	_, err := env.Clientset.CoreV1().Pods(ns).Create(context.Background(), privilegedPod(ns, "priv"), metav1.CreateOptions{})
	requireDenied(t, err, "[4.2.1]") // cisgate_check_info maps the checks once a request was decided
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "charts", "cisgate", "dashboards", "series.txt"))
	require.NoError(t, err)
	names := strings.Fields(string(data))
	require.NotEmpty(t, names)
	framework.WaitFor(t, 10*time.Second, "the dashboard's series", func() error {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		exported := map[string]bool{}
		for _, line := range strings.Split(string(body), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			exported[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
		}
		for _, n := range names {
			if !exported[n] {
				return fmt.Errorf("the dashboard selects %s, which /metrics does not have", n)
			}
		}
		return nil
	})
}
