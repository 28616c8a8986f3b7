package faults

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// Every failing part's drill runs serve with this shutdown (delay + drain: 3 s); partBound is the
// time serve may take from start to exit: the start itself, the shutdown, the manager's stop.
var (
	partShutdown = []string{"--shutdown-delay", "1s", "--drain-timeout", "2s", "--leader-elect=false"}
	partBound    = 20 * time.Second
)

// TestAFailingPartEndsServe: each part of serve fails in turn. serve logs the part and its
// error, and returns a non-zero exit code within the bound. Before, a taken metrics port left a
// replica up, neither serving nor ready, with nothing in its log (issue 20, item 1): the
// leader's loops ran on the process's context and serve waited for them forever.
func TestAFailingPartEndsServe(t *testing.T) {
	framework.Require(t, env)
	taken := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		return ln.Addr().String()
	}
	for _, tc := range []struct {
		name string
		args func(t *testing.T) (kubeconfig string, args []string)
		// want is in the error serve ends with: the part and its cause. (Only the first serve of
		// the test binary logs through its own file: controller-runtime takes one logger per
		// process.)
		want []string
	}{
		{"metrics port taken", func(t *testing.T) (string, []string) {
			return env.KubeConfig, []string{"--metrics-bind-address", taken(t)}
		}, []string{"manager:", "address already in use"}},
		// The manager binds the probes' port when it is built, before the other parts start.
		{"health probe port taken", func(t *testing.T) (string, []string) {
			return env.KubeConfig, []string{"--health-probe-bind-address", taken(t)}
		}, []string{"address already in use"}},
		{"webhook port taken", func(t *testing.T) (string, []string) {
			_, port, _ := net.SplitHostPort(taken(t))
			return env.KubeConfig, []string{"--port", port}
		}, []string{"webhook server:", "address already in use"}},
		{"a cache never syncs", func(t *testing.T) (string, []string) {
			return withoutNetworkPolicies(t), []string{"--cache-sync-timeout", "3s"}
		}, []string{"caches: informer caches not synced within --cache-sync-timeout 3s"}},
		// client-go refuses a renew deadline within its jitter (1.2) of the retry period;
		// Validate's simpler ordering lets this one through to the elector.
		{"the elector cannot start", func(t *testing.T) (string, []string) {
			return env.KubeConfig, []string{"--leader-elect=true", "--leader-elect-lease-duration", "15s",
				"--leader-elect-renew-deadline", "2100ms", "--leader-elect-retry-period", "2s"}
		}, []string{"leader election: cannot start leader election"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kubeconfig, args := tc.args(t)
			start := time.Now()
			r := runReplica(t, env, "failing-part", kubeconfig, append(append([]string{}, partShutdown...), args...)...)
			var code int
			select {
			case code = <-r.exited:
			case <-time.After(partBound):
				data, _ := os.ReadFile(r.logs)
				t.Fatalf("serve still running %v after start; logs:\n%s", partBound, data)
			}
			data, err := os.ReadFile(r.logs)
			require.NoError(t, err)
			assert.NotZero(t, code, "exit code")
			for _, w := range tc.want {
				assert.Contains(t, string(data), w)
			}
			t.Logf("%s: exit code %d after %v", tc.name, code, time.Since(start).Round(time.Millisecond))
		})
	}
}

// withoutNetworkPolicies is a kubeconfig of env's API server for a user who may do everything
// serve does except list NetworkPolicies, so that informer never syncs.
func withoutNetworkPolicies(t *testing.T) string {
	t.Helper()
	const user = "cisgate-no-networkpolicies"
	ctx := context.Background()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"", "apps", "batch", "coordination.k8s.io", "events.k8s.io", "policy", "rbac.authorization.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"*"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingressclasses", "ingresses"}, Verbs: []string{"*"}},
	}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}}
	for _, obj := range []func() error{
		func() error {
			_, err := env.Clientset.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := env.Clientset.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
			return err
		},
	} {
		if err := obj(); err != nil && !apierrors.IsAlreadyExists(err) {
			require.NoError(t, err)
		}
	}
	cfg, err := clientcmd.LoadFromFile(env.KubeConfig)
	require.NoError(t, err)
	for _, a := range cfg.AuthInfos {
		a.Impersonate = user
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}
