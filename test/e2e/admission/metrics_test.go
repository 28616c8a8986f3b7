package admission

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
