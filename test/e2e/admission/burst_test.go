package admission

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/test/e2e/fixtures"
)

// TestNoNetworkPolicyHoldsUnderABurst: in enforce mode, a namespace without a NetworkPolicy gets
// no Pod however many arrive at once (4.3.2). Before, the live confirmation of "no
// NetworkPolicy" queued behind client-go's default limiter (5/s, burst 10) past its 1 s budget,
// turned WARN and admitted the Pod: 285 of 300 Pods created at concurrency 16.
func TestNoNetworkPolicyHoldsUnderABurst(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns, err := env.Clientset.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "burst-"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = env.Clientset.CoreV1().ServiceAccounts(ns.Name).Create(ctx, serviceAccount(ns.Name, "web"), metav1.CreateOptions{})
	require.NoError(t, err)

	const pods, workers = 300, 16
	names := make(chan string, pods)
	for i := range pods {
		names <- "web-" + strconv.Itoa(i)
	}
	close(names)
	var mu sync.Mutex
	var admitted, other []string
	denied := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for name := range names {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: name}, Spec: fixtures.HardenedPodSpec()}
				_, err := env.Clientset.CoreV1().Pods(ns.Name).Create(ctx, pod, metav1.CreateOptions{})
				mu.Lock()
				switch {
				case err == nil:
					admitted = append(admitted, name)
				case apierrors.IsForbidden(err) && containsAll(err.Error(), `[4.3.2] namespace "`+ns.Name+`" has no NetworkPolicy`):
					denied++
				default:
					other = append(other, err.Error())
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Empty(t, admitted, "Pods admitted into a namespace without a NetworkPolicy")
	assert.Empty(t, other)
	assert.Equal(t, pods, denied)
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
