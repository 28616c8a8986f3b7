package admission

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/webhook"
)

// contentTypes are the Content-Type headers the fuzzer picks from.
var contentTypes = []string{"application/json", "", "text/plain", "application/json; charset=utf-8", "application/yaml"}

// servedWebhook is the /validate endpoint as cisgate serves it: enforce mode, cluster state, and a
// real ReportRecorder whose Event sink is never started (its queue fills and drops).
func servedWebhook(t testing.TB) http.Handler {
	t.Helper()
	log.SetLogger(logr.Discard())
	sink, err := report.NewEventSink(fake.NewClientset(), "cisgate.io/webhook", report.WithEventQueueSize(16))
	require.NoError(t, err)
	return newHandler(t, enforceConfig, cluster(), NewReportRecorder("replica-0", sink, nil))
}

// sentReview is what the oracle reads of a request body with encoding/json: the UID and the
// version and kind the answer must carry.
type sentReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Request    *struct {
		UID types.UID `json:"uid"`
	} `json:"request"`
}

// decodeSent is the oracle: a body encoding/json reads as an AdmissionReview is answered with its
// UID, in the version and kind it names (admission.k8s.io/v1 AdmissionReview when it names
// neither; the API server sends admission.k8s.io/v1, AdmissionReviewVersions: v1).
func decodeSent(body []byte) (uid types.UID, answer schema.GroupVersionKind, ok bool) {
	var r sentReview
	if err := json.Unmarshal(body, &r); err != nil {
		return "", schema.GroupVersionKind{}, false
	}
	answer = admissionv1.SchemeGroupVersion.WithKind("AdmissionReview")
	if r.APIVersion != "" || r.Kind != "" {
		answer = schema.FromAPIVersionAndKind(r.APIVersion, r.Kind)
	}
	if r.Request == nil {
		return "", answer, true
	}
	return r.Request.UID, answer, true
}

// serve posts body to the webhook and returns the HTTP status and the decoded answer.
func serve(t *testing.T, wh http.Handler, body []byte, contentType string) (int, *admissionv1.AdmissionReview) {
	t.Helper()
	// An empty body reaches the handler as http.NoBody, as net/http's server passes it.
	var reader io.Reader
	if len(body) > 0 {
		reader = bytes.NewReader(body)
	}
	req := httptest.NewRequest(http.MethodPost, webhook.Path, reader)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	wh.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return rec.Code, nil
	}
	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review), "the answer is no JSON: %q", rec.Body.String())
	require.NotNil(t, review.Response, "the answer has no response: %q", rec.Body.String())
	return rec.Code, &review
}

// checkAnswer asserts the fuzz property: an HTTP error, or an AdmissionReview whose response is
// either a bad-request error (for a body that is no AdmissionReview) or cisgate's decision, with
// the request's UID, in the request's version. A panic recovered by controller-runtime (500)
// fails.
func checkAnswer(t *testing.T, body []byte, contentType string, code int, review *admissionv1.AdmissionReview) {
	t.Helper()
	if code != http.StatusOK {
		return
	}
	res := review.Response
	if res.Result != nil {
		require.NotEqual(t, int32(http.StatusInternalServerError), res.Result.Code, "handler failed: %s", res.Result.Message)
		require.False(t, strings.HasPrefix(res.Result.Message, "panic:"), "handler panicked: %s", res.Result.Message)
	}
	uid, gvk, decodable := decodeSent(body)
	decodable = decodable && contentType == "application/json" && len(body) > 0
	if !decodable {
		require.False(t, res.Allowed, "a body that is no AdmissionReview is not admitted")
		require.NotNil(t, res.Result)
		require.Contains(t, []int32{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, res.Result.Code)
		return
	}
	require.Equal(t, uid, res.UID, "the response carries the request's UID")
	require.Equal(t, gvk.Kind, review.Kind)
	require.Equal(t, gvk.GroupVersion().String(), review.APIVersion)
	if res.Result != nil {
		require.NotEqual(t, int32(http.StatusBadRequest), res.Result.Code, "a decodable review was refused: %s", res.Result.Message)
	}
	if !res.Allowed {
		require.NotEmpty(t, res.Result.Message, "a denial says why")
	}
}

func FuzzServeHTTP(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"team-a","object":{"metadata":{"name":"p"},"spec":{"hostPID":true,"containers":[{"name":"c"}]}}}}`), uint8(0))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u2","kind":{"group":"rbac.authorization.k8s.io","version":"v1","kind":"ClusterRoleBinding"},"operation":"CREATE","object":{"metadata":{"name":"b"},"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"bob"}]}}}`), uint8(0))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u3","kind":{"version":"v1","kind":"Pod"},"subResource":"ephemeralcontainers","operation":"UPDATE","object":{},"oldObject":null}}`), uint8(3))
	f.Add([]byte(`{"request":{"uid":"u4","operation":"DELETE","kind":{"group":"networking.k8s.io","version":"v1","kind":"NetworkPolicy"},"oldObject":{"metadata":{"name":"n","namespace":"team-a"}}}}`), uint8(0))
	f.Add([]byte("apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest: {uid: u5, operation: CREATE, kind: {version: v1, kind: ConfigMap}, namespace: default, object: {metadata: {name: c}}}\n"), uint8(4))
	f.Add([]byte(`null`), uint8(1))
	wh := servedWebhook(f)
	f.Fuzz(func(t *testing.T, body []byte, ct uint8) {
		contentType := contentTypes[int(ct)%len(contentTypes)]
		code, review := serve(t, wh, body, contentType)
		checkAnswer(t, body, contentType, code, review)
	})
}

// readSeed reads a corpus file in the "go test fuzz v1" format of FuzzServeHTTP.
func readSeed(t *testing.T, name string) ([]byte, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzServeHTTP", name))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 3)
	require.Equal(t, "go test fuzz v1", lines[0])
	quoted, ok := strings.CutPrefix(lines[1], "[]byte(")
	require.True(t, ok)
	body, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
	require.NoError(t, err)
	ctText, ok := strings.CutPrefix(lines[2], "uint8(")
	require.True(t, ok)
	ct, err := strconv.Atoi(strings.TrimSuffix(ctText, ")"))
	require.NoError(t, err)
	return []byte(body), contentTypes[ct%len(contentTypes)]
}

// TestServeHTTPSeeds pins what the corpus files answer, so the corpus stays what its names say.
func TestServeHTTPSeeds(t *testing.T) {
	wh := servedWebhook(t)
	cases := []struct {
		file       string
		badRequest string // the error of a request that is no AdmissionReview
		uid        types.UID
		apiVersion string
		allowed    bool
		message    string
		warnings   []string
	}{
		{file: "privileged-pod", uid: "11111111-1111-1111-1111-111111111111", apiVersion: "admission.k8s.io/v1",
			message: deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.5] " + msgEscalates},
		{file: "v1beta1-review", uid: "11111111-1111-1111-1111-111111111111", apiVersion: "admission.k8s.io/v1beta1",
			message: deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.5] " + msgEscalates},
		{file: "deployment-update", uid: "22222222-2222-2222-2222-222222222222", apiVersion: "admission.k8s.io/v1", allowed: true,
			warnings: []string{"[4.2.4] " + msgHostNetwork + preexisting}},
		{file: "role-wildcards", uid: "33333333-3333-3333-3333-333333333333", apiVersion: "admission.k8s.io/v1",
			message: deniedPrefix("Role", "team-a/admin") + `[4.1.2] rules[0] must not grant get, list or watch on secrets (grants "*" on "secrets"); ` +
				`[4.1.3] rules[0].apiGroups must list its values explicitly, not "*" (or "*/subresource"); ` +
				`[4.1.3] rules[0].resources must list its values explicitly, not "*" (or "*/subresource"); ` +
				`[4.1.3] rules[0].verbs must list its values explicitly, not "*" (or "*/subresource"); ` +
				`[4.1.4] rules[0] must not grant create on pods (grants "*" on "pods"); ` +
				// A Role grants nothing on cluster-scoped resources (4.1.9, 4.1.10, 4.1.11).
				`[4.1.8] rules[0] must not grant bind, escalate or impersonate (grants "*" on "*"); ` +
				`[4.1.12] rules[0] must not grant create on serviceaccounts/token (grants "*" on "serviceaccounts/token")`},
		{file: "netpol-delete", uid: "55555555-5555-5555-5555-555555555555", apiVersion: "admission.k8s.io/v1",
			message: deniedPrefix("NetworkPolicy", "team-a/deny-all") + "[4.3.2] " + msgLastNetpol},
		{file: "crd-in-default", uid: "66666666-6666-6666-6666-666666666666", apiVersion: "admission.k8s.io/v1",
			message: deniedPrefix("Widget", "default/w") + `[4.5.2] Widget must not be created in namespace "default"; use a dedicated namespace`},
		{file: "huge-number", uid: "44444444-4444-4444-4444-444444444444", apiVersion: "admission.k8s.io/v1", allowed: true,
			warnings: []string{"cisgate could not evaluate this request: decoding Deployment: json: cannot unmarshal number 1e999999999999999999999 into Go struct field "}},
		{file: "truncated-json", badRequest: "json parse error: unexpected end of JSON input"},
		{file: "empty-body", badRequest: "request body is empty"},
		// controller-runtime decodes a review of any version into v1 and answers in the version it
		// was asked in; the API server only ever sends admission.k8s.io/v1 to cisgate.
		{file: "wrong-api-version", uid: "11111111-1111-1111-1111-111111111111", apiVersion: "admission.k8s.io/v2",
			message: deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.5] " + msgEscalates},
		{file: "wrong-content-type", badRequest: "contentType=text/plain, expected application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			body, contentType := readSeed(t, tc.file)
			code, review := serve(t, wh, body, contentType)
			require.Equal(t, http.StatusOK, code)
			checkAnswer(t, body, contentType, code, review)
			res := review.Response
			if tc.badRequest != "" {
				assert.False(t, res.Allowed)
				assert.Equal(t, int32(http.StatusBadRequest), res.Result.Code)
				assert.Contains(t, res.Result.Message, tc.badRequest)
				return
			}
			assert.Equal(t, tc.uid, res.UID)
			assert.Equal(t, tc.apiVersion, review.APIVersion)
			assert.Equal(t, tc.allowed, res.Allowed)
			if !tc.allowed {
				assert.Equal(t, tc.message, res.Result.Message)
				assert.Equal(t, int32(http.StatusForbidden), res.Result.Code)
			}
			require.Len(t, res.Warnings, len(tc.warnings))
			for i, w := range tc.warnings {
				assert.True(t, strings.HasPrefix(res.Warnings[i], w), "warning %q should start with %q", res.Warnings[i], w)
			}
		})
	}
}
