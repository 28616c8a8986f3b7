package dashboards

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

var chartDir = filepath.Join("..", "..", "charts", "cisgate")

// expressions are every PromQL expression of the dashboard: each panel's targets[].expr and each
// templating variable's query.
func expressions(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "dashboards", "cisgate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("cisgate.json: %v", err)
	}
	out := map[string]string{}
	for _, p := range d.Panels {
		for i, target := range p.Targets {
			out[p.Title+"#"+string(rune('A'+i))] = target.Expr
		}
	}
	if len(out) == 0 {
		t.Fatal("the dashboard has no expression")
	}
	return out
}

// TestDashboardParses: every expression parses, and the metric names they select are exactly
// dashboards/series.txt, which the main module's test holds to a running cisgate's /metrics.
func TestDashboardParses(t *testing.T) {
	names := map[string]bool{}
	for where, expr := range expressions(t) {
		// Grafana's interval variable, replaced before Prometheus sees the query.
		expr = strings.ReplaceAll(expr, "$__rate_interval", "5m")
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			t.Errorf("%s: %q: %v", where, expr, err)
			continue
		}
		for _, vs := range parser.ExtractSelectors(e) {
			for _, m := range vs {
				if m.Name == "__name__" {
					names[m.Value] = true
				}
			}
		}
	}
	var got []string
	for n := range names {
		got = append(got, n)
	}
	slices.Sort(got)
	data, err := os.ReadFile(filepath.Join(chartDir, "dashboards", "series.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(data))
	if !slices.Equal(got, want) {
		t.Errorf("the dashboard selects %q; dashboards/series.txt lists %q", got, want)
	}
}
