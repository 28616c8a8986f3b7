// Package openreports reads cisgate's OpenReports back from a real kube-apiserver with
// reports-api's CRDs, as a tool that is not cisgate would (Policy Reporter reads them with the same
// types): through reports-api's own typed clientset, holding them to the findings cisgate reports
// elsewhere (audit.json, the node scan's printed results).
package openreports

import (
	"fmt"
	"os"
	"testing"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

var env *framework.Env

func TestMain(m *testing.M) {
	dir, err := framework.OpenReportsCRDDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(framework.Main(m, framework.Options{CRDPaths: []string{dir}}, &env))
}
