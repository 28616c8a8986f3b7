package admission

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestNamespaceLabelOffIsNoExemption (#9 item 1): `cisgate.io/mode: off` on a Namespace is
// ignored and reported; the privileged Pod in it is still denied. The barrier is the metric of
// ignored labels for that namespace: once it counts, the webhook's cache has seen the label, so
// the denial that follows was decided with it.
func TestNamespaceLabelOffIsNoExemption(t *testing.T) {
	serve(t)
	ctx := context.Background()
	cs, w := userClient(t, "")
	nsObj, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "off-", Labels: map[string]string{"cisgate.io/mode": "off"}}}, metav1.CreateOptions{})
	require.NoError(t, err, "a Namespace is never denied for its label")
	ns := nsObj.Name
	requireWarned(t, w, `[cisgate.1] label cisgate.io/mode="off" is ignored: only "enforce" or "audit" are accepted`)

	ignored := `cisgate_namespace_mode_ignored_total{namespace="` + ns + `"}`
	framework.WaitFor(t, 20*time.Second, "the webhook to see the label of "+ns, func() error {
		_, err := cs.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "probe"), metav1.CreateOptions{DryRun: dryRun})
		if err == nil {
			t.Fatalf("a privileged Pod was admitted in namespace %s labelled off", ns)
		}
		return metricsPresent(ignored)
	})
	_, err = cs.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "priv"), metav1.CreateOptions{})
	requireDenied(t, err, `[4.2.1] container "app" must not set securityContext.privileged=true`)
}

// TestNamespaceModeEditors (#9 item 1): with namespaceModeEditors set, a change of the label by
// anyone else is denied, and by an editor admitted. Users are impersonated, as kubectl --as does.
func TestNamespaceModeEditors(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "editors", "")
	bob, _ := userClient(t, "bob", "devs")
	alice, _ := userClient(t, "alice")
	setMode := func(cs kubernetes.Interface, mode string) error {
		nsObj, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if nsObj.Labels == nil {
			nsObj.Labels = map[string]string{}
		}
		nsObj.Labels["cisgate.io/mode"] = mode
		_, err = cs.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{DryRun: dryRun})
		return err
	}

	writeConfig(t, baseConfig+"namespaceModeEditors: {users: [alice]}\n")
	t.Cleanup(func() {
		writeConfig(t, baseConfig)
		// Barrier: the base config (no editors) is in force again before the next test.
		framework.WaitFor(t, 20*time.Second, "the base config to be reloaded", func() error { return setMode(bob, "audit") })
	})
	framework.WaitFor(t, 20*time.Second, "namespaceModeEditors to be reloaded", func() error {
		if err := setMode(bob, "audit"); err == nil {
			return errors.New("bob may still change the label")
		}
		return nil
	})

	err := setMode(bob, "audit")
	requireDenied(t, err, `cisgate denied Namespace "`+ns+`": user "bob" may not set label cisgate.io/mode="audit"; only the users and groups in the cisgate config's namespaceModeEditors may`)
	assert.NoError(t, setMode(alice, "audit"), "an editor may")
}
