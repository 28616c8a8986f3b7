// Package audit tests the background audit and `cisgate audit` as users meet them: objects that
// already break the rules sit in a real kube-apiserver, the audit runs, and the tests read what a
// user would: audit.json and summary.json in the report ConfigMap, the CISViolation Events, and
// the printed JSON.
package audit

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

const cisgateNamespace = "cisgate-system"

// auditConfig is the chart's default (audit mode, kube-system and cisgate's namespace exempt)
// under eks-1.8.0, whose IDs these tests name.
const auditConfig = `
benchmark: eks-1.8.0
mode: audit
exemptions:
  namespaces: [kube-system, cisgate-system]
`

var env *framework.Env

func TestMain(m *testing.M) {
	// The audit logs each cycle through controller-runtime's logger, which serve sets up.
	log.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	os.Exit(framework.Main(m, framework.Options{}, &env))
}

// newAuditor is the leader's audit as serve runs it, against e, with Events to events (nil: none).
func newAuditor(t testing.TB, e *framework.Env, events *report.EventSink) *controller.Auditor {
	t.Helper()
	ensureNamespace(t, e, cisgateNamespace)
	pol, err := policy.ParseConfig([]byte(auditConfig))
	require.NoError(t, err)
	return controller.NewAuditor(e.Clientset, cisgateNamespace, func() *policy.Policy { return pol }, events, controller.NewAuditOptions())
}

func ensureNamespace(t testing.TB, e *framework.Env, name string) {
	t.Helper()
	_, err := e.Clientset.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// startEventSink runs an Event sink, as serve does, until the test ends.
func startEventSink(t *testing.T, e *framework.Env) *report.EventSink {
	t.Helper()
	sink, err := report.NewEventSink(e.Clientset, report.ReportingController)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(log.IntoContext(context.Background(), log.Log))
	done := make(chan struct{})
	go func() { defer close(done); _ = sink.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return sink
}

// reportKey reads one key of the report ConfigMap and returns it decoded, with the ConfigMap.
func reportKey[T any](t testing.TB, e *framework.Env, key report.Key) (T, *corev1.ConfigMap) {
	t.Helper()
	var v T
	cm, err := e.Clientset.CoreV1().ConfigMaps(cisgateNamespace).Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	data, ok := cm.Data[key.Name]
	require.True(t, ok, "the report ConfigMap has %s", key.Name)
	require.NoError(t, json.Unmarshal([]byte(data), &v))
	return v, cm
}

// failingObjects lists audit.json's objects for a check as "Kind namespace/name" (or "Kind name").
func failingObjects(r report.AuditReport, id string) []string {
	c := r.Checks[id]
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.Objects))
	for _, o := range c.Objects {
		if o.Namespace == "" {
			out = append(out, o.Kind+" "+o.Name)
		} else {
			out = append(out, o.Kind+" "+o.Namespace+"/"+o.Name)
		}
	}
	return out
}

func listed(r report.AuditReport, id, object string) bool {
	return slices.Contains(failingObjects(r, id), object)
}
