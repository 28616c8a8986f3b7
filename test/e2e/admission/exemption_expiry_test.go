package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestAnExemptionStopsApplyingAtItsExpiry: `cisgate serve` behind a real kube-apiserver admits a
// privileged Pod in a namespace exempt until a few seconds from now, and from that instant on
// denies the same Pod, naming the expired exemption; /metrics counts it as expired. The clock is
// the real one: the denial is never seen before the expiry.
func TestAnExemptionStopsApplyingAtItsExpiry(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "expiring", "")
	expires := time.Now().Add(10 * time.Second).Truncate(time.Second)
	stamp := expires.UTC().Format(time.RFC3339)
	writeConfig(t, strings.Replace(baseConfig, "namespaces: [kube-system, cisgate-system, exempt-ns]",
		`namespaces: [kube-system, cisgate-system, exempt-ns, {name: `+ns+`, expires: "`+stamp+`", reason: e2e, owner: team-e2e}]`, 1))
	t.Cleanup(func() {
		writeConfig(t, baseConfig)
		framework.WaitFor(t, 20*time.Second, "the base config to be back", func() error {
			return metricsPresent(`cisgate_exemptions_expired{kind="namespace"} 0`)
		})
	})
	create := func() error {
		_, err := env.Clientset.CoreV1().Pods(ns).Create(ctx, privilegedPod(ns, "priv"), metav1.CreateOptions{DryRun: dryRun})
		return err
	}

	framework.WaitFor(t, 5*time.Second, "the exemption to be in force", create)
	framework.WaitFor(t, 30*time.Second, "the exemption to expire", func() error {
		if err := create(); !apierrors.IsForbidden(err) {
			return fmt.Errorf("still admitted (err %v)", err)
		}
		return nil
	})
	assert.False(t, time.Now().Before(expires), "denied only from the expiry on")
	err := create()
	requireDenied(t, err, `[4.2.1] container "app" must not set securityContext.privileged=true (exemption exemptions.namespaces[3] (namespace "`+ns+`", owner "team-e2e") expired at `+stamp+`)`)
	assert.NoError(t, metricsPresent(`cisgate_exemptions_expired{kind="namespace"} 1`, `cisgate_exemptions_expiring{kind="namespace"} 0`))
}
