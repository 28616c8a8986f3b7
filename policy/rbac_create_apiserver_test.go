package policy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apiserver/pkg/audit"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/handlers"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes/scheme"
)

// podStorage stands in for the registry's Store of one resource: like Store.Update (k8s.io/apiserver
// pkg/registry/generic/registry/store.go:685-775), an update of a missing object creates it when
// forceAllowCreate (server-side apply) or the strategy's AllowCreateOnUpdate says so, after
// createValidation, which is where the handlers put the create authorization. It stores nothing.
type podStorage struct{ allowCreateOnUpdate bool }

func (podStorage) New() runtime.Object { return &corev1.Pod{} }
func (podStorage) Destroy()            {}
func (podStorage) Get(_ context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	return nil, apierrors.NewNotFound(corev1.Resource("pods"), name)
}

func (s podStorage) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	_ rest.ValidateObjectUpdateFunc, forceAllowCreate bool, _ *metav1.UpdateOptions) (runtime.Object, bool, error) {
	if !s.allowCreateOnUpdate && !forceAllowCreate {
		return nil, false, apierrors.NewNotFound(corev1.Resource("pods"), name)
	}
	obj, err := objInfo.UpdatedObject(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
		return nil, false, err
	}
	return obj, true, nil
}

// TestCreateByNameAsTheAPIServerAsks runs k8s.io/apiserver's own PATCH and PUT handlers
// (handlers.PatchResource, handlers.UpdateResource) on requests that create Pod "web": a
// server-side apply, and a PUT where the resource allows create on update. Each asks the
// authorizer create with the object's name (patch.go:214, update.go:192 createAuthorizerAttributes),
// which a rule's resourceNames match: so the table's create row must say its requests can carry
// a name, and a create rule limited by resourceNames grants create (4.1.4 fails it).
func TestCreateByNameAsTheAPIServerAsks(t *testing.T) {
	gvk := corev1.SchemeGroupVersion.WithKind("Pod")
	fieldManager, err := managedfields.NewDefaultFieldManager(managedfields.NewDeducedTypeConverter(), scheme.Scheme, scheme.Scheme, scheme.Scheme,
		gvk, corev1.SchemeGroupVersion, "", nil)
	require.NoError(t, err)
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"ns1"},"spec":{"containers":[{"name":"app","image":"registry.example/web:1.0"}]}}`
	for _, tc := range []struct {
		name, method, contentType string
		handler                   func(*handlers.RequestScope) http.HandlerFunc
	}{
		{"server-side apply", http.MethodPatch, string(types.ApplyYAMLPatchType), func(s *handlers.RequestScope) http.HandlerFunc {
			return handlers.PatchResource(podStorage{}, s, nil, []string{string(types.ApplyYAMLPatchType)})
		}},
		{"create on update", http.MethodPut, "application/json", func(s *handlers.RequestScope) http.HandlerFunc {
			return handlers.UpdateResource(podStorage{allowCreateOnUpdate: true}, s, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &namesAuthorizer{}
			scope := &handlers.RequestScope{
				Namer:      handlers.ContextBasedNaming{Namer: meta.NewAccessor()},
				Serializer: scheme.Codecs, ParameterCodec: scheme.ParameterCodec,
				Creater: scheme.Scheme, Convertor: scheme.Scheme, Defaulter: scheme.Scheme, Typer: scheme.Scheme, UnsafeConvertor: scheme.Scheme,
				Authorizer: a, FieldManager: fieldManager,
				Resource: corev1.SchemeGroupVersion.WithResource("pods"), Kind: gvk,
				MetaGroupVersion: metav1.SchemeGroupVersion, HubGroupVersion: corev1.SchemeGroupVersion,
				MaxRequestBodyBytes: 1 << 20,
			}
			req := httptest.NewRequest(tc.method, "/api/v1/namespaces/ns1/pods/web?fieldManager=jane", strings.NewReader(body))
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set("Accept", "application/json")
			ctx := request.WithUser(audit.WithAuditContext(req.Context()), &user.DefaultInfo{Name: "jane"})
			ctx = request.WithRequestInfo(ctx, &request.RequestInfo{IsResourceRequest: true, Verb: strings.ToLower(tc.method), APIVersion: "v1",
				Resource: "pods", Namespace: "ns1", Name: "web", Path: "/api/v1/namespaces/ns1/pods/web", Parts: []string{"pods", "web"}})
			rec := httptest.NewRecorder()
			tc.handler(scope).ServeHTTP(rec, req.WithContext(ctx))
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			assert.Equal(t, []string{"create pods web"}, a.asked, "what the handler asked the authorizer")

			row, ok := verbRow("create")
			require.True(t, ok)
			assert.NotEqual(t, unnamed, row.names, "the API server asks create with a name: rbacVerbs' create row must say so")
			limited := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}, ResourceNames: []string{"web"}}
			assert.Equal(t, []string{"create"}, grantedVerbs(limited, resourceRef{resource: "pods"}, []rbacVerb{row}))
		})
	}
}

// namesAuthorizer allows everything and records each request as "verb resource name".
type namesAuthorizer struct{ asked []string }

func (a *namesAuthorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	a.asked = append(a.asked, attrs.GetVerb()+" "+attrs.GetResource()+" "+attrs.GetName())
	return authorizer.DecisionAllow, "", nil
}
