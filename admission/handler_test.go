package admission

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/cisgate/cisgate/clusterstate"
	"github.com/cisgate/cisgate/policy"
)

// fakeRecorder keeps what the handler records.
type fakeRecorder struct {
	mu      sync.Mutex
	records []Record
}

func (f *fakeRecorder) Record(r Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = append(f.records, r)
}

func (f *fakeRecorder) all() []Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Record(nil), f.records...)
}

func newHandler(t testing.TB, config string, state clusterstate.State, rec Recorder) *Handler {
	pol := mustPolicy(t, config)
	return &Handler{Policy: func() *policy.Policy { return pol }, State: state, Recorder: rec}
}

var (
	podGVK         = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	podResource    = metav1.GroupVersionResource{Version: "v1", Resource: "pods"}
	deploymentGVK  = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	deploymentRes  = metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	replicaSetGVK  = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}
	roleGVK        = metav1.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"}
	networkPolGVK  = metav1.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	serviceAcctGVK = metav1.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"}
)

// reqOpts is one admission request; Object and OldObject are raw JSON as the API server sends it.
type reqOpts struct {
	op        admissionv1.Operation
	kind      metav1.GroupVersionKind
	resource  metav1.GroupVersionResource
	sub       string
	namespace string
	name      string
	object    []byte
	oldObject []byte
	dryRun    bool
	user      string
	groups    []string
}

func admissionRequest(o reqOpts) *reviewRequest {
	if o.op == "" {
		o.op = admissionv1.Create
	}
	r := &reviewRequest{
		UID:         types.UID("705ab4f5-6393-11e8-b7cc-42010a800002"),
		Kind:        o.kind,
		SubResource: o.sub,
		Name:        o.name,
		Namespace:   o.namespace,
		Operation:   o.op,
		Object:      o.object,
		OldObject:   o.oldObject,
		DryRun:      &o.dryRun,
	}
	r.UserInfo.Username, r.UserInfo.Groups = o.user, o.groups
	return r
}

// podJSON is a privileged pod as kubectl would send it.
const podJSON = `{
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web"}},
  "spec": {
    "serviceAccountName": "app", "automountServiceAccountToken": false, "hostNetwork": true,
    "containers": [{"name": "app", "image": "registry.example/app:1",
      "securityContext": {"privileged": true, "allowPrivilegeEscalation": false}}]
  }
}`

func TestHandleDecodesTypedKinds(t *testing.T) {
	sidecar := hardened("sidecar")
	sidecar.SecurityContext.AllowPrivilegeEscalation = nil
	deploy := deployment(ns, "shop", 3, compliantSpec(hardened("app"), privileged(hardened("proxy")), sidecar))
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
	}
	cases := []struct {
		name     string
		req      reqOpts
		allowed  bool
		message  string
		warnings []string
	}{
		{
			name:    "Pod",
			req:     reqOpts{kind: podGVK, resource: podResource, namespace: ns, name: "web", object: []byte(podJSON)},
			message: deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.4] " + msgHostNetwork + "; [4.2.5] " + msgEscalates,
		},
		{
			name: "Deployment",
			req:  reqOpts{kind: deploymentGVK, resource: deploymentRes, namespace: ns, name: "shop", object: mustJSON(t, deploy)},
			message: deniedPrefix("Deployment", "team-a/shop") + `[4.2.1] container "proxy" must not set securityContext.privileged=true; ` +
				`[4.2.5] container "proxy" escalates privileges whatever allowPrivilegeEscalation says: it sets securityContext.privileged=true; ` +
				`[4.2.5] container "sidecar" must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)`,
		},
		{
			name: "Role",
			req:  reqOpts{kind: roleGVK, namespace: ns, name: "reader", object: mustJSON(t, role)},
			message: deniedPrefix("Role", "team-a/reader") +
				`[4.1.2] rules[0] must not grant get, list or watch on secrets (grants "get" on "secrets")`,
		},
		{
			name: "ServiceAccount default (advisory)",
			req: reqOpts{kind: serviceAcctGVK, namespace: ns, name: "default",
				object: []byte(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"team-a"}}`)},
			allowed:  true,
			warnings: []string{`[4.1.5] ServiceAccount "default" must set automountServiceAccountToken=false (advisory; never denied)`},
		},
		{
			name: "unknown kind in default: metadata only",
			req: reqOpts{kind: metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, namespace: "default", name: "w",
				object: []byte(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"default","uid":"1"},"spec":{"size":3,"containers":"not a list"}}`)},
			message: deniedPrefix("Widget", "default/w") + `[4.5.2] Widget must not be created in namespace "default"; use a dedicated namespace`,
		},
		{
			name: "unknown kind elsewhere",
			req: reqOpts{kind: metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, namespace: ns, name: "w",
				object: []byte(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"team-a"}}`)},
			allowed: true,
		},
		{
			name: "generateName: the name and namespace come from the request",
			req: reqOpts{kind: podGVK, resource: podResource, namespace: ns, name: "web-x7k2p",
				object: []byte(strings.Replace(podJSON, `"name": "web", "namespace": "team-a"`, `"generateName": "web-"`, 1))},
			message: deniedPrefix("Pod", "team-a/web-x7k2p") + "[4.2.1] " + msgPrivileged + "; [4.2.4] " + msgHostNetwork + "; [4.2.5] " + msgEscalates,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := newHandler(t, enforceConfig, cluster(), nil).Handle(context.Background(), admissionRequest(tc.req))
			assert.Equal(t, tc.allowed, resp.Allowed)
			assert.Equal(t, tc.warnings, []string(resp.Warnings))
			require.NotNil(t, resp.Result)
			if tc.allowed {
				assert.Equal(t, int32(http.StatusOK), resp.Result.Code)
				return
			}
			assert.Equal(t, tc.message, resp.Result.Message)
			assert.Equal(t, int32(http.StatusForbidden), resp.Result.Code)
			assert.Equal(t, metav1.StatusReasonForbidden, resp.Result.Reason)
		})
	}
}

func TestHandleUsesClusterState(t *testing.T) {
	req := admissionRequest(reqOpts{kind: podGVK, resource: podResource, namespace: ns, name: "web", object: []byte(podJSON)})

	t.Run("namespace label enforce beats global audit", func(t *testing.T) {
		state := cluster()
		state.Modes = map[string]string{ns: "enforce"}
		resp := newHandler(t, "mode: audit\n", state, nil).Handle(context.Background(), req)
		assert.False(t, resp.Allowed)
		assert.Equal(t, deniedPrefix("Pod", "team-a/web")+"[4.2.1] "+msgPrivileged+"; [4.2.4] "+msgHostNetwork+"; [4.2.5] "+msgEscalates, resp.Result.Message)
	})
	t.Run("unknown namespace mode falls back to the config", func(t *testing.T) {
		state := cluster()
		state.ModeErr = errBoom
		resp := newHandler(t, "mode: audit\n", state, nil).Handle(context.Background(), req)
		assert.True(t, resp.Allowed)
		assert.Equal(t, []string{"[4.2.1] " + msgPrivileged, "[4.2.4] " + msgHostNetwork, "[4.2.5] " + msgEscalates}, []string(resp.Warnings))
	})
	t.Run("namespace without NetworkPolicy", func(t *testing.T) {
		state := cluster()
		state.NetworkPolicies = nil
		resp := newHandler(t, enforceConfig, state, nil).Handle(context.Background(), admissionRequest(reqOpts{
			kind: deploymentGVK, resource: deploymentRes, namespace: ns, name: "shop", object: mustJSON(t, deployment(ns, "shop", 1, compliantSpec())),
		}))
		assert.False(t, resp.Allowed)
		assert.Equal(t, deniedPrefix("Deployment", "team-a/shop")+`[4.3.2] namespace "team-a" has no NetworkPolicy; add one before running workloads there`, resp.Result.Message)
	})
	t.Run("no cluster state: WARN only", func(t *testing.T) {
		resp := newHandler(t, enforceConfig, nil, nil).Handle(context.Background(), admissionRequest(reqOpts{
			kind: deploymentGVK, resource: deploymentRes, namespace: ns, name: "shop", object: mustJSON(t, deployment(ns, "shop", 1, compliantSpec())),
		}))
		assert.True(t, resp.Allowed)
		assert.Equal(t, []string{`[4.3.2] needs cluster state: cannot tell whether the namespace has a NetworkPolicy` + undecided}, []string(resp.Warnings))
	})
}

func TestHandleUpdateAndDelete(t *testing.T) {
	legacySpec := compliantSpec()
	legacySpec.HostNetwork = true
	legacy := deployment(ns, "legacy", 3, legacySpec)
	scaled := legacy.DeepCopy()
	scaled.Spec.Replicas = ptr.To(int32(10))
	withDebug := legacy.DeepCopy()
	withDebug.Spec.Template.Spec.Containers = append(withDebug.Spec.Template.Spec.Containers, privileged(hardened("debug")))
	netpol := mustJSON(t, networkPolicy(ns, "deny-all"))
	h := newHandler(t, enforceConfig, cluster(), nil)

	resp := h.Handle(context.Background(), admissionRequest(reqOpts{op: admissionv1.Update, kind: deploymentGVK, resource: deploymentRes,
		namespace: ns, name: "legacy", object: mustJSON(t, scaled), oldObject: mustJSON(t, legacy)}))
	assert.True(t, resp.Allowed, "scaling a legacy Deployment")
	assert.Equal(t, []string{"[4.2.4] " + msgHostNetwork + preexisting}, []string(resp.Warnings))

	resp = h.Handle(context.Background(), admissionRequest(reqOpts{op: admissionv1.Update, kind: deploymentGVK, resource: deploymentRes,
		namespace: ns, name: "legacy", object: mustJSON(t, withDebug), oldObject: mustJSON(t, legacy)}))
	assert.False(t, resp.Allowed, "adding a privileged container")
	assert.Equal(t, deniedPrefix("Deployment", "team-a/legacy")+`[4.2.1] container "debug" must not set securityContext.privileged=true; `+
		`[4.2.5] container "debug" escalates privileges whatever allowPrivilegeEscalation says: it sets securityContext.privileged=true`, resp.Result.Message)

	resp = h.Handle(context.Background(), admissionRequest(reqOpts{op: admissionv1.Update, kind: metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"},
		resource: deploymentRes, sub: "scale", namespace: ns, name: "legacy",
		object:    []byte(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"legacy","namespace":"team-a"},"spec":{"replicas":10}}`),
		oldObject: []byte(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"legacy","namespace":"team-a"},"spec":{"replicas":3}}`)}))
	assert.True(t, resp.Allowed, "scale subresource")
	assert.Empty(t, resp.Warnings)

	// On DELETE the API server sends the object in oldObject and no object.
	resp = h.Handle(context.Background(), admissionRequest(reqOpts{op: admissionv1.Delete, kind: networkPolGVK, namespace: ns, name: "deny-all", oldObject: netpol}))
	assert.False(t, resp.Allowed, "deleting the last NetworkPolicy")
	assert.Equal(t, deniedPrefix("NetworkPolicy", "team-a/deny-all")+"[4.3.2] "+msgLastNetpol, resp.Result.Message)

	state := cluster()
	state.NetworkPolicies[ns] = 2
	resp = newHandler(t, enforceConfig, state, nil).Handle(context.Background(), admissionRequest(reqOpts{op: admissionv1.Delete, kind: networkPolGVK, namespace: ns, name: "deny-all", oldObject: netpol}))
	assert.True(t, resp.Allowed, "deleting one of two NetworkPolicies")
	assert.Empty(t, resp.Warnings)

	resp = h.Handle(context.Background(), admissionRequest(reqOpts{op: admissionv1.Delete, kind: podGVK, resource: podResource, namespace: ns, name: "web", oldObject: []byte(podJSON)}))
	assert.True(t, resp.Allowed, "deleting a privileged Pod")
	assert.Empty(t, resp.Warnings)
}

func TestHandleRecords(t *testing.T) {
	controlled := func(obj metav1.Object, apiVersion, kind, name string, controller bool) {
		obj.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: "u", Controller: &controller}})
	}
	privSpec := compliantSpec(privileged(hardened("app")))
	rsPod := pod(ns, "shop-7d4b9-abcde", privSpec)
	controlled(rsPod, "apps/v1", "ReplicaSet", "shop-7d4b9", true)
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "shop-7d4b9", Namespace: ns},
		Spec:       appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{Spec: privSpec}},
	}
	controlled(rs, "apps/v1", "Deployment", "shop", true)
	jobPod := pod(ns, "backup-1-xyz", privSpec)
	controlled(jobPod, "batch/v1", "Job", "backup-1", true)
	rolloutPod := pod(ns, "canary-abc", privSpec)
	controlled(rolloutPod, "argoproj.io/v1alpha1", "Rollout", "canary", true)
	notController := pod(ns, "adopted", privSpec)
	controlled(notController, "apps/v1", "ReplicaSet", "shop-7d4b9", false)
	ownedDeploy := deployment(ns, "shop", 1, privSpec)
	controlled(ownedDeploy, "apps/v1", "Deployment", "parent", true)

	cases := []struct {
		name      string
		req       reqOpts
		wantOwned bool
	}{
		{"Pod of a ReplicaSet", reqOpts{kind: podGVK, namespace: ns, name: rsPod.Name, object: mustJSON(t, rsPod)}, true},
		{"ReplicaSet of a Deployment", reqOpts{kind: replicaSetGVK, namespace: ns, name: rs.Name, object: mustJSON(t, rs)}, true},
		{"Pod of a Job", reqOpts{kind: podGVK, namespace: ns, name: jobPod.Name, object: mustJSON(t, jobPod)}, true},
		{"Pod of an unchecked kind", reqOpts{kind: podGVK, namespace: ns, name: rolloutPod.Name, object: mustJSON(t, rolloutPod)}, false},
		{"owner that is not the controller", reqOpts{kind: podGVK, namespace: ns, name: notController.Name, object: mustJSON(t, notController)}, false},
		{"a Deployment is never owned-by-checked", reqOpts{kind: deploymentGVK, namespace: ns, name: "shop", object: mustJSON(t, ownedDeploy)}, false},
		{"bare Pod", reqOpts{kind: podGVK, namespace: ns, name: "web", object: []byte(podJSON)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			resp := newHandler(t, enforceConfig, cluster(), rec).Handle(context.Background(), admissionRequest(tc.req))
			require.False(t, resp.Allowed, "an owned object is still decided")
			records := rec.all()
			require.Len(t, records, 1)
			r := records[0]
			assert.Equal(t, tc.wantOwned, r.OwnedByChecked)
			assert.Equal(t, tc.req.name, r.Object.Name)
			assert.Equal(t, ns, r.Object.Namespace)
			assert.Equal(t, tc.req.kind.Kind, r.Object.Kind)
			assert.Equal(t, policy.EKS180, r.Benchmark)
			assert.Equal(t, admissionv1.Create, r.Operation)
			assert.False(t, r.Decision.Allowed)
			assert.Equal(t, resp.Result.Message, r.Decision.Message)
			assert.False(t, r.Time.IsZero())
		})
	}

	t.Run("dry run is decided but not recorded", func(t *testing.T) {
		rec := &fakeRecorder{}
		h := newHandler(t, enforceConfig, cluster(), rec)
		req := reqOpts{kind: podGVK, namespace: ns, name: "web", object: []byte(podJSON), dryRun: true}
		resp := h.Handle(context.Background(), admissionRequest(req))
		assert.False(t, resp.Allowed)
		assert.Equal(t, deniedPrefix("Pod", "team-a/web")+"[4.2.1] "+msgPrivileged+"; [4.2.4] "+msgHostNetwork+"; [4.2.5] "+msgEscalates, resp.Result.Message)
		assert.Empty(t, rec.all())

		// The same request for real is recorded.
		req.dryRun = false
		h.Handle(context.Background(), admissionRequest(req))
		assert.Len(t, rec.all(), 1)
	})
	t.Run("dry run in audit mode warns and records nothing", func(t *testing.T) {
		rec := &fakeRecorder{}
		resp := newHandler(t, "mode: audit\n", cluster(), rec).Handle(context.Background(),
			admissionRequest(reqOpts{kind: podGVK, namespace: ns, name: "web", object: []byte(podJSON), dryRun: true}))
		assert.True(t, resp.Allowed)
		assert.Len(t, resp.Warnings, 3, "4.2.1, 4.2.4 and 4.2.5")
		assert.Empty(t, rec.all())
	})
	t.Run("exempt findings are recorded with their reason", func(t *testing.T) {
		rec := &fakeRecorder{}
		resp := newHandler(t, enforceConfig, cluster(), rec).Handle(context.Background(),
			admissionRequest(reqOpts{kind: podGVK, namespace: ns, name: "web", object: []byte(podJSON), user: "system:node:ip-10-0-1-1", groups: []string{"system:nodes"}}))
		assert.True(t, resp.Allowed)
		assert.Empty(t, resp.Warnings)
		records := rec.all()
		require.Len(t, records, 1)
		assert.Equal(t, []seen{{"4.2.1", VerdictExempt, false, `group "system:nodes" is exempt`}, {"4.2.4", VerdictExempt, false, `group "system:nodes" is exempt`}, {"4.2.5", VerdictExempt, false, `group "system:nodes" is exempt`}},
			seenOf(records[0].Decision.Rulings))
	})
}

func TestHandleCannotEvaluate(t *testing.T) {
	// reason is how the warning or denial starts after "cisgate could not evaluate this request: "
	// (the rest is encoding/json's error text).
	cases := []struct {
		name   string
		req    reqOpts
		reason string
	}{
		{"malformed object", reqOpts{kind: podGVK, namespace: ns, name: "web", object: []byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":"app"}}`)},
			"decoding Pod: json: cannot unmarshal string into Go struct field "},
		{"truncated object", reqOpts{kind: podGVK, namespace: ns, name: "web", object: []byte(`{"apiVersion":"v1","kind":"Pod","spec":{`)},
			"decoding Pod: unexpected end of JSON input"},
		{"malformed metadata of an unknown kind", reqOpts{kind: metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, namespace: "default", name: "w",
			object: []byte(`{"metadata":{"name":5}}`)},
			"decoding Widget metadata: json: cannot unmarshal number into Go struct field "},
		{"no object", reqOpts{kind: podGVK, namespace: ns, name: "web"}, "the request carries no object"},
		{"malformed old object", reqOpts{op: admissionv1.Update, kind: podGVK, namespace: ns, name: "web", object: []byte(podJSON), oldObject: []byte(`[]`)},
			"old object: decoding Pod: json: cannot unmarshal array into Go value of type v1.Pod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := "cisgate could not evaluate this request: " + tc.reason

			rec := &fakeRecorder{}
			h := newHandler(t, enforceConfig, cluster(), rec)
			resp := h.Handle(context.Background(), admissionRequest(tc.req))
			assert.True(t, resp.Allowed, "admitted by default")
			require.Len(t, resp.Warnings, 1)
			assert.True(t, strings.HasPrefix(resp.Warnings[0], want), "warning %q should start with %q", resp.Warnings[0], want)

			h.DenyOnError = true
			resp = h.Handle(context.Background(), admissionRequest(tc.req))
			assert.False(t, resp.Allowed, "denied with DenyOnError")
			assert.True(t, strings.HasPrefix(resp.Result.Message, want), "denial %q should start with %q", resp.Result.Message, want)
			assert.Empty(t, resp.Warnings)
			assert.Empty(t, rec.all(), "nothing decided, nothing recorded")
		})
	}
}

// panickingState stands for a bug anywhere below Handle.
type panickingState struct{ clusterstate.State }

func (panickingState) NetworkPolicyCount(string) (int, error) { panic("boom") }

func TestHandleAnswersAPanicLikeAFailureToEvaluate(t *testing.T) {
	req := admissionRequest(reqOpts{kind: podGVK, namespace: ns, name: "web", object: []byte(podJSON)})
	want := "cisgate could not evaluate this request: internal error: boom"

	h := newHandler(t, enforceConfig, panickingState{cluster()}, nil)
	resp := h.Handle(context.Background(), req)
	assert.True(t, resp.Allowed, "a bug in cisgate admits the request: allowed=false would be a denial whatever the failurePolicy")
	assert.Equal(t, []string{want}, resp.Warnings)

	h.DenyOnError = true
	resp = h.Handle(context.Background(), req)
	assert.False(t, resp.Allowed)
	assert.Equal(t, want, resp.Result.Message)
}

// TestLookupsShareOneBudget: every lookup of one request shares LookupBudget. With a cache that
// never answers (an informer that never syncs) each lookup waits out what is left of it, so a
// Pod review that needs the namespace, its NetworkPolicies and its ServiceAccount is answered
// within one budget, not one per lookup, with the findings that needed them WARN.
func TestLookupsShareOneBudget(t *testing.T) {
	var waits atomic.Int32
	hung := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme.Scheme).Build(), interceptor.Funcs{
		Get: func(ctx context.Context, _ client.WithWatch, _ client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
			waits.Add(1)
			<-ctx.Done()
			return ctx.Err()
		},
		List: func(ctx context.Context, _ client.WithWatch, _ client.ObjectList, _ ...client.ListOption) error {
			waits.Add(1)
			<-ctx.Done()
			return ctx.Err()
		},
	})
	h := newHandler(t, enforceConfig, &clusterstate.Cached{Reader: hung}, nil)
	start := time.Now()
	resp := post(t, h, http.MethodPost, reviewBody(t, podGVK, admissionv1.Create))
	took := time.Since(start)
	require.Equal(t, http.StatusOK, resp.Code)
	assert.GreaterOrEqual(t, waits.Load(), int32(2), "the review needed more than one lookup")
	assert.Less(t, took, clusterstate.LookupBudget+500*time.Millisecond, "answered after %v", took)
	assert.Contains(t, resp.Body.String(), "cannot count NetworkPolicies")
}
