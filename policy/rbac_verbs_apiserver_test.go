package policy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters/impersonation"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes/scheme"
)

// asked is one authorization the API server's impersonation filter asks for.
type asked struct {
	verb, group, resource string
	namespaced            bool
}

// recordingAuthorizer records what it is asked; it allows everything but the verbs deny names.
type recordingAuthorizer struct {
	mu    sync.Mutex
	asked []asked
	deny  func(verb string) bool
}

func (a *recordingAuthorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	resource := attrs.GetResource()
	if sub := attrs.GetSubresource(); sub != "" {
		resource += "/" + sub
	}
	a.asked = append(a.asked, asked{attrs.GetVerb(), attrs.GetAPIGroup(), resource, attrs.GetNamespace() != ""})
	if a.deny != nil && a.deny(attrs.GetVerb()) {
		return authorizer.DecisionDeny, "", nil
	}
	return authorizer.DecisionAllow, "", nil
}

// TestImpersonationVerbsAsTheAPIServerAsks runs k8s.io/apiserver's own impersonation filter
// (WithConstrainedImpersonation, KEP-5284, with legacy impersonation inside it) on requests that
// impersonate a user with groups, a uid and extras, a ServiceAccount and a node, through every
// mode, and records what it asks the authorizer. Every impersonation row of rbacVerbs must name
// exactly the resources (with their group and scope) the filter asks about for its verb, and
// every verb the filter asks must have a row: an apiserver upgrade that adds a mode or a
// resource fails here.
func TestImpersonationVerbsAsTheAPIServerAsks(t *testing.T) {
	type scenario struct {
		name      string
		requestor user.Info
		headers   map[string][]string
		legacy    bool
	}
	// Constrained impersonation takes only domain-prefixed extra keys (mode.go validateExtra).
	jane := map[string][]string{"Impersonate-User": {"jane"}, "Impersonate-Group": {"devs"}, "Impersonate-Uid": {"u-1"}, "Impersonate-Extra-Example.com%2fscopes": {"read"}}
	sa := map[string][]string{"Impersonate-User": {"system:serviceaccount:ns1:builder"}}
	node := map[string][]string{"Impersonate-User": {"system:node:node-1"}}
	admin := &user.DefaultInfo{Name: "admin"}
	agent := &user.DefaultInfo{Name: "system:serviceaccount:agents:agent", Extra: map[string][]string{"authentication.kubernetes.io/node-name": {"node-1"}}}
	scenarios := []scenario{
		{"user-info", admin, jane, false},
		{"serviceaccount", admin, sa, false},
		{"arbitrary-node", admin, node, false},
		{"associated-node", agent, node, false},
		// With every impersonate-on:<mode>:<verb> denied, only legacy impersonation is left.
		{"legacy user", admin, jane, true},
		{"legacy serviceaccount", admin, sa, true},
	}
	got := map[string][]asked{}
	for _, sc := range scenarios {
		a := &recordingAuthorizer{}
		if sc.legacy {
			a.deny = func(verb string) bool { return strings.HasPrefix(verb, "impersonate-on:") }
		}
		reached := false
		h := impersonation.WithConstrainedImpersonation(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }), a, scheme.Codecs)
		req := httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/ns1/pods", nil)
		for k, vs := range sc.headers {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		ctx := request.WithUser(req.Context(), sc.requestor)
		ctx = request.WithRequestInfo(ctx, &request.RequestInfo{IsResourceRequest: true, Verb: "list", APIVersion: "v1", Resource: "pods", Namespace: "ns1",
			Path: "/api/v1/namespaces/ns1/pods", Parts: []string{"pods"}})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		require.True(t, reached, "%s: impersonation was refused (%d %s)", sc.name, rec.Code, rec.Body.String())
		for _, q := range a.asked {
			got[q.verb] = appendAsked(got[q.verb], q)
		}
	}

	for verb, qs := range got {
		if rest, ok := strings.CutPrefix(verb, "impersonate-on:"); ok {
			mode, _, _ := strings.Cut(rest, ":")
			row, found := verbRow("impersonate-on:" + mode + ":")
			require.True(t, found, "the API server asks %q: rbacVerbs has no impersonate-on:%s: row", verb, mode)
			assert.True(t, row.escalation && row.notByStar, "%q: an escalation verb that \"*\" does not imply", verb)
			continue
		}
		row, found := verbRow(verb)
		require.True(t, found, "the API server asks verb %q: rbacVerbs has no row", verb)
		var want []asked
		for _, ref := range row.on {
			want = append(want, asked{verb, ref.group, ref.resource, !ref.clusterScoped})
		}
		var have []asked
		for _, q := range qs {
			if base, _, ok := strings.Cut(q.resource, "/"); ok {
				q.resource = base + "/*" // userextras/<key>
			}
			have = appendAsked(have, q)
		}
		assert.ElementsMatch(t, want, have, "verb %q: the resources rbacVerbs names, and those the API server asks about", verb)
	}
	for _, v := range rbacVerbs {
		if strings.HasPrefix(v.verb, "impersonate") && !strings.HasSuffix(v.verb, ":") {
			assert.Contains(t, got, v.verb, "rbacVerbs row %q: the API server never asked for it", v.verb)
		}
	}
}

func appendAsked(list []asked, q asked) []asked {
	if slices.Contains(list, q) {
		return list
	}
	return append(list, q)
}
