package cloudscan_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// Failures are findings: every read that fails makes the items that needed it WARN with the
// reason, and counts in cisgate_cloudscan_errors_total{reason}. The failing AWS answers come from
// a local server answering as the AWS APIs document their errors (an HTTP status with the error
// code in X-Amzn-ErrorType and in the JSON body's __type); cluster-not-found comes from moto.

// awsErrors answers every call with one AWS error, counting the attempts per operation.
type awsErrors struct {
	status int
	code   string

	mu       sync.Mutex
	attempts map[string]int
}

func (a *awsErrors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target") // KMS, ECR (JSON 1.1)
	if op == "" {
		op = r.Method + " " + r.URL.Path // EKS (REST JSON)
	}
	a.mu.Lock()
	a.attempts[op]++
	a.mu.Unlock()
	w.Header().Set("X-Amzn-ErrorType", a.code)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": a.code, "message": "injected " + a.code})
}

// errorCount reads cisgate_cloudscan_errors_total{reason} from the registry serve exposes.
func errorCount(t *testing.T, reason cloudscan.Reason) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "cisgate_cloudscan_errors_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == string(reason) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// scanWithEnv scans cluster "prod" (one Pod pulling from ECR, so 5.1.1 needs ECR too) with env.
func scanWithEnv(t *testing.T, env map[string]string) report.Scan {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	clients, err := cloudscan.NewClients(context.Background(), "")
	require.NoError(t, err)
	target := cloudscan.Target{Cluster: "prod", AWS: clients, Kube: fakeKube(pod("team", "api", ecrImage("team/api")), node("n1"))}
	r, err := cloudscan.Scan(context.Background(), target, policy.DefaultBenchmark)
	require.NoError(t, err)
	return r
}

// awsSlugs are the items decided from AWS (all but private-nodes, which reads Nodes).
func assertAWSItemsWarn(t *testing.T, r report.Scan, detail func(slug policy.Slug) string) {
	t.Helper()
	require.NotEmpty(t, r.Results)
	for _, res := range r.Results {
		if res.Slug == "private-nodes" {
			assert.Equal(t, policy.StatusPass, res.Status, "Nodes come from Kubernetes, not AWS")
			continue
		}
		assert.Equal(t, policy.StatusWarn, res.Status, res.Slug)
		assert.Equal(t, "unknown", res.Actual, res.Slug)
		assert.Equal(t, detail(res.Slug), res.Detail, res.Slug)
	}
}

func TestAccessDenied(t *testing.T) {
	srv := httptest.NewServer(&awsErrors{status: http.StatusForbidden, code: "AccessDeniedException", attempts: map[string]int{}})
	t.Cleanup(srv.Close)
	env := (&moto.Server{URL: srv.URL}).Environ()
	before := errorCount(t, cloudscan.ReasonAccessDenied)
	r := scanWithEnv(t, env)
	assertAWSItemsWarn(t, r, func(slug policy.Slug) string {
		action := "eks:DescribeCluster"
		if slug == "ecr-image-scanning" {
			return `not decided for "` + moto.AccountID + `.dkr.ecr.us-east-1.amazonaws.com/team/api": access denied to ecr:DescribeRepositories: the IAM policy must allow ecr:DescribeRepositories (AccessDeniedException: injected AccessDeniedException)`
		}
		return "access denied to " + action + ": the IAM policy must allow " + action + " (AccessDeniedException: injected AccessDeniedException)"
	})
	assert.Equal(t, before+2, errorCount(t, cloudscan.ReasonAccessDenied), "DescribeCluster and DescribeRepositories")
}

func TestThrottledWithinBoundedAttempts(t *testing.T) {
	errs := &awsErrors{status: http.StatusBadRequest, code: "ThrottlingException", attempts: map[string]int{}}
	srv := httptest.NewServer(errs)
	t.Cleanup(srv.Close)
	before := errorCount(t, cloudscan.ReasonThrottled)
	r := scanWithEnv(t, (&moto.Server{URL: srv.URL}).Environ())
	for _, res := range r.Results {
		if res.Slug != "private-nodes" {
			assert.Equal(t, policy.StatusWarn, res.Status, res.Slug)
			assert.Contains(t, res.Detail, "throttled after 3 attempts", res.Slug)
		}
	}
	// The SDK's standard retryer, bounded at three attempts per call.
	assert.Equal(t, map[string]int{"GET /clusters/prod": 3, "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories": 3}, errs.attempts)
	assert.Equal(t, before+2, errorCount(t, cloudscan.ReasonThrottled))
}

func TestEndpointUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	before := errorCount(t, cloudscan.ReasonUnreachable)
	r := scanWithEnv(t, (&moto.Server{URL: url}).Environ())
	for _, res := range r.Results {
		if res.Slug != "private-nodes" {
			assert.Equal(t, policy.StatusWarn, res.Status, res.Slug)
			assert.Contains(t, res.Detail, "AWS endpoint unreachable", res.Slug)
		}
	}
	assert.Equal(t, before+2, errorCount(t, cloudscan.ReasonUnreachable))
}

func TestNoCredentials(t *testing.T) {
	env := (&moto.Server{URL: "http://127.0.0.1:1"}).Environ()
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = "", ""
	for _, k := range []string{"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if _, ok := os.LookupEnv(k); ok {
			env[k] = ""
		}
	}
	before := errorCount(t, cloudscan.ReasonNoCredentials)
	r := scanWithEnv(t, env)
	for _, res := range r.Results {
		if res.Slug != "private-nodes" {
			assert.Equal(t, policy.StatusWarn, res.Status, res.Slug)
			assert.Contains(t, res.Detail, "no AWS credentials (the SDK's default chain: environment, IRSA web identity, EKS Pod Identity, instance role)", res.Slug)
		}
	}
	assert.Empty(t, r.Calls, "no call is made without credentials")
	assert.Equal(t, before+1, errorCount(t, cloudscan.ReasonNoCredentials))
}

func TestClusterNotFound(t *testing.T) {
	awsEnv(t)
	before := errorCount(t, cloudscan.ReasonClusterNotFound)
	r := scanWithEnv(t, nil)
	for _, res := range r.Results {
		if res.Slug != "private-nodes" && res.Slug != "ecr-image-scanning" {
			assert.Equal(t, policy.StatusWarn, res.Status, res.Slug)
			assert.Equal(t, `eks:DescribeCluster: cluster "prod" not found in region us-east-1`, res.Detail, res.Slug)
		}
	}
	assert.Equal(t, []string{`eks:DescribeCluster: cluster "prod" not found in region us-east-1`}, r.Errors[:1])
	assert.Equal(t, before+1, errorCount(t, cloudscan.ReasonClusterNotFound))
	assert.False(t, strings.Contains(strings.Join(r.Errors, " "), "panic"))
}
