package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cisgate/cisgate/clusterstate"
	"github.com/cisgate/cisgate/test/e2e/fixtures"
	"github.com/cisgate/cisgate/test/e2e/framework"
	"github.com/cisgate/cisgate/webhook"
)

// verdict is one answer to a Pod review, and when it was asked.
type verdict struct {
	sent, answered time.Time
	allowed        bool
	message        string
	warnings       []string
	err            error
}

// TestNoNetworkPolicyDuringAnOutage (4.3.2 while the API server is down): the replica reads the
// API server through a proxy that drops every connection, then stalls them. A Pod in a namespace
// without a NetworkPolicy is denied only on a live read begun and answered within the request's
// lookup budget (clusterstate.LookupBudget): every request whose budget ran out inside the outage is
// admitted with the WARN that says why, and each is answered within the budget. Before, the
// live read had 3 s of its own and client-go retried it a second after a dropped connection, so
// a request sent during the outage could be denied on a read answered once it was over, 2 to 3 s
// later (the issue: 5 of 64, 4 of 63 and 2 of 7 denied, answers up to 3.0 s).
func TestNoNetworkPolicyDuringAnOutage(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	apiServer, err := url.Parse(env.Config.Host)
	require.NoError(t, err)
	p := startProxy(t, apiServer.Host)
	r := startReplica(t, env, "netpol-drill", proxiedKubeconfig(t, p), "--leader-elect=false")
	ns, err := env.Clientset.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "no-netpol-"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	review := podReview(t, ns.Name)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 8,
	}}
	// eks-2.0.0 does not number the check; the config keeps it by slug, so it reports under its slug.
	noNetworkPolicy := `[namespace-network-policy] namespace "` + ns.Name + `" has no NetworkPolicy`
	cannotCount := `cannot count NetworkPolicies in namespace "` + ns.Name + `"`
	ask := func() verdict {
		v := verdict{sent: time.Now()}
		resp, err := client.Post("https://"+r.webhook+webhook.Path, "application/json", bytes.NewReader(review))
		v.answered = time.Now()
		if err != nil {
			v.err = err
			return v
		}
		defer resp.Body.Close()
		var out admissionv1.AdmissionReview
		if v.err = json.NewDecoder(resp.Body).Decode(&out); v.err == nil {
			v.allowed, v.warnings = out.Response.Allowed, out.Response.Warnings
			if out.Response.Result != nil {
				v.message = out.Response.Result.Message
			}
		}
		return v
	}
	// Baseline: the API server answers, the namespace has none: denied.
	framework.WaitFor(t, 30*time.Second, "a denial on the live read", func() error {
		if v := ask(); !strings.Contains(v.message, noNetworkPolicy) {
			return fmt.Errorf("answer %+v", v)
		}
		return nil
	})
	liveNone := func() float64 {
		return r.metric(t, `cisgate_networkpolicy_lookups_total{result="none",source="live"}`)
	}

	for _, outage := range []struct {
		name  string
		begin func()
		end   func()
	}{
		{"connections dropped", func() { p.setCut(true) }, func() { p.setCut(false) }},
		{"connections stalled", func() { p.setStalled(true) }, func() { p.setStalled(false) }},
	} {
		t.Run(outage.name, func(t *testing.T) {
			liveNoneBefore := liveNone()
			const length = 4 * time.Second
			var mu sync.Mutex
			var verdicts []verdict
			stop := make(chan struct{})
			var wg sync.WaitGroup
			outage.begin()
			begun := time.Now()
			// Staggered, so that requests arrive all through the outage, not in lockstep.
			for i := range 8 {
				wg.Go(func() {
					time.Sleep(time.Duration(i) * 250 * time.Millisecond)
					for {
						select {
						case <-stop:
							return
						default:
						}
						v := ask()
						mu.Lock()
						verdicts = append(verdicts, v)
						mu.Unlock()
					}
				})
			}
			time.Sleep(length)
			outage.end()
			ended := time.Now()
			// Past the outage, until the API server answers again: requests straddling its end
			// may be denied (their read began after they arrived and ended within budget).
			framework.WaitFor(t, 30*time.Second, "a denial once the API server answers again", func() error {
				if v := ask(); !strings.Contains(v.message, noNetworkPolicy) {
					return fmt.Errorf("answer %+v", v)
				}
				return nil
			})
			close(stop)
			wg.Wait()

			var inside, denied int
			for _, v := range verdicts {
				require.NoError(t, v.err)
				if strings.Contains(v.message, noNetworkPolicy) {
					denied++
				}
				took := v.answered.Sub(v.sent)
				// The budget, and time for the rest of the request on a busy machine.
				assert.Less(t, took, clusterstate.LookupBudget+750*time.Millisecond, "an answer took %v", took)
				if v.sent.Before(begun) || !v.sent.Add(clusterstate.LookupBudget).Before(ended) {
					continue
				}
				inside++
				assert.True(t, v.allowed, "denied %v into the outage: %s", v.sent.Sub(begun), v.message)
				assert.True(t, containsOne(v.warnings, cannotCount), "no 4.3.2 WARN %v into the outage: %q", v.sent.Sub(begun), v.warnings)
			}
			assert.Positive(t, inside)
			// Every denial stood on a live read that found none (the metric's source label).
			assert.GreaterOrEqual(t, liveNone()-liveNoneBefore, float64(denied+1))
			t.Logf("%s for %v: %d requests inside it admitted with the WARN, %d denials around it (all on live reads)", outage.name, length, inside, denied)
		})
	}
}

func containsOne(all []string, part string) bool {
	for _, s := range all {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// podReview is the review of a hardened Pod's creation in namespace: 4.3.2 alone decides it.
func podReview(t *testing.T, namespace string) []byte {
	t.Helper()
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "web"}, Spec: fixtures.HardenedPodSpec()}
	raw, err := json.Marshal(pod)
	require.NoError(t, err)
	data, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID("u"), Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, Operation: admissionv1.Create,
			Namespace: namespace, Name: "web", Object: runtime.RawExtension{Raw: raw}},
	})
	require.NoError(t, err)
	return data
}
