package manifest_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/manifest"
)

// obj is what a test asserts of a loaded object.
type obj struct {
	Kind, Namespace, Name, File string
	HasPod                      bool
}

func objs(res manifest.Loaded) []obj {
	out := []obj{}
	for _, o := range res.Objects {
		out = append(out, obj{o.Kind, o.Namespace, o.Name, o.File, o.Pod != nil})
	}
	return out
}

func errs(res manifest.Loaded) []string {
	out := []string{}
	for _, e := range res.Errors {
		out = append(out, e.Error())
	}
	return out
}

// TestLoad covers what Load adds to kubectl's reading (kubectl_test.go holds the reading itself
// to kubectl's): paths, the conversion to the checks' objects, and errors that name their file.
func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		want  []obj
		errs  []string
	}{
		{
			name:  "multi-document YAML with comments and empty documents",
			paths: []string{"testdata/multi.yaml"},
			want: []obj{
				{"Namespace", "", "shop", "testdata/multi.yaml", false},
				{"ServiceAccount", "shop", "web", "testdata/multi.yaml", false},
				{"Deployment", "shop", "web", "testdata/multi.yaml", true},
			},
		},
		{
			name:  "JSON",
			paths: []string{"testdata/deployment.json"},
			want:  []obj{{"Deployment", "shop", "api", "testdata/deployment.json", true}},
		},
		{
			name:  "List with an unknown kind among its items",
			paths: []string{"testdata/list.yaml"},
			want: []obj{
				{"ConfigMap", "shop", "settings", "testdata/list.yaml", false},
				{"Role", "shop", "reader", "testdata/list.yaml", false},
				// A custom resource is read as its metadata, as the webhook reads it (#9 item 7).
				{"ServiceMonitor", "shop", "web", "testdata/list.yaml", false},
			},
		},
		{
			name:  "helm template output",
			paths: []string{"testdata/helm-template.yaml"},
			want: []obj{
				{"ServiceAccount", "", "release-shop", "testdata/helm-template.yaml", false},
				{"Service", "", "release-shop", "testdata/helm-template.yaml", false},
				{"Deployment", "", "release-shop", "testdata/helm-template.yaml", true},
				{"Pod", "", "release-shop-test-connection", "testdata/helm-template.yaml", true},
			},
		},
		{
			name:  "custom resources and CRDs are read as their metadata",
			paths: []string{"testdata/crds.yaml"},
			want: []obj{
				{"Certificate", "shop", "web-tls", "testdata/crds.yaml", false},
				{"CustomResourceDefinition", "", "widgets.example.com", "testdata/crds.yaml", false},
				{"Widget", "shop", "w", "testdata/crds.yaml", false},
				{"Secret", "shop", "creds", "testdata/crds.yaml", false},
			},
		},
		{
			name:  "an object kubectl reads but its Go type refuses is an error naming it; the others are read",
			paths: []string{"testdata/bad-field.yaml"},
			want: []obj{
				{"ConfigMap", "shop", "good-1", "testdata/bad-field.yaml", false},
				{"ConfigMap", "shop", "good-2", "testdata/bad-field.yaml", false},
			},
			errs: []string{`testdata/bad-field.yaml: Deployment "bad-field": unrecognized type: int32`},
		},
		{
			name:  "a document that is no YAML ends its file, as in kubectl, and the error says so",
			paths: []string{"testdata/forms/broken-yaml-among-good.yaml", "testdata/tree/a.yaml"},
			want: []obj{
				{"ConfigMap", "shop", "first", "testdata/forms/broken-yaml-among-good.yaml", false},
				{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", false},
			},
			errs: []string{"error parsing testdata/forms/broken-yaml-among-good.yaml: error converting YAML to JSON: yaml: line 5: mapping values are not allowed in this context" +
				` (after ConfigMap "first"; kubectl reads no further in that file: the documents after it are not checked)`},
		},
		{
			name:  "a document without kind ends its file, without kubectl's hint to a flag cisgate lacks",
			paths: []string{"testdata/forms/no-kind-among-good.yaml"},
			want:  []obj{{"ConfigMap", "shop", "first", "testdata/forms/no-kind-among-good.yaml", false}},
			errs: []string{`error validating "testdata/forms/no-kind-among-good.yaml": error validating data: kind not set` +
				` (after ConfigMap "first"; kubectl reads no further in that file: the documents after it are not checked)`},
		},
		{
			name:  "a file kubectl stops at before any object",
			paths: []string{"testdata/forms/kind-not-string.yaml"},
			errs: []string{`error validating "testdata/forms/kind-not-string.yaml": error validating data: kind isn't string type` +
				" (before any object; kubectl reads no further in that file: the documents after it are not checked)"},
		},
		{
			name:  "a List in a List is refused and named by its file; the next document is read",
			paths: []string{"testdata/forms/list-in-list-then-doc.yaml"},
			want:  []obj{{"Pod", "shop", "after", "testdata/forms/list-in-list-then-doc.yaml", true}},
			errs:  []string{"testdata/forms/list-in-list-then-doc.yaml: *unstructured.Unstructured is not a list: no Items field in this object"},
		},
		{
			name:  "directories recursively, in lexical order, manifests only",
			paths: []string{"testdata/tree"},
			want: []obj{
				{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", false},
				{"ConfigMap", "shop", "b", "testdata/tree/sub/b.yml", false},
				{"ConfigMap", "shop", "c", "testdata/tree/sub/deeper/c.json", false},
			},
		},
		{
			name:  "a file named explicitly is read whatever its extension",
			paths: []string{"testdata/tree/sub/notes.txt"},
			want:  []obj{{"ConfigMap", "", "ignored-txt", "testdata/tree/sub/notes.txt", false}},
		},
		{
			name:  "several paths in order",
			paths: []string{"testdata/deployment.json", "testdata/tree/a.yaml"},
			want: []obj{
				{"Deployment", "shop", "api", "testdata/deployment.json", true},
				{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", false},
			},
		},
		{
			name:  "a glob, as kubectl expands it",
			paths: []string{"testdata/tree/sub/*.yml"},
			want:  []obj{{"ConfigMap", "shop", "b", "testdata/tree/sub/b.yml", false}},
		},
		{
			name:  "a directory without manifests",
			paths: []string{"testdata/empty-dir"},
			errs:  []string{"error reading [testdata/empty-dir]: recognized file extensions are [.json .yaml .yml]"},
		},
		{
			name:  "a missing path does not stop the others",
			paths: []string{"testdata/nope.yaml", "testdata/tree/a.yaml"},
			want:  []obj{{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", false}},
			errs:  []string{`the path "testdata/nope.yaml" does not exist`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := manifest.Load(tc.paths, nil)
			if tc.want == nil {
				tc.want = []obj{}
			}
			if tc.errs == nil {
				tc.errs = []string{}
			}
			assert.Equal(t, tc.want, objs(res))
			assert.Equal(t, tc.errs, errs(res))
		})
	}
}

func TestLoadStdin(t *testing.T) {
	in := strings.NewReader(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
---
kind: Pod
`)
	res := manifest.Load([]string{manifest.StdinPath, "testdata/tree/a.yaml"}, in)
	assert.Equal(t, []obj{
		{"ClusterRole", "", "everything", "-", false},
		{"Pod", "shop", "p", "-", true},
		{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", false},
	}, objs(res))
	assert.Equal(t, []string{`error validating "-": error validating data: apiVersion not set (after Pod "p"; kubectl reads no further in that file: the documents after it are not checked)`}, errs(res))

	// UTF-16 on stdin is decoded as kubectl decodes its stdin.
	utf16 := []byte{0xff, 0xfe}
	for _, r := range "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide, namespace: shop}\n" {
		utf16 = append(utf16, byte(r), 0)
	}
	res = manifest.Load([]string{manifest.StdinPath}, strings.NewReader(string(utf16)))
	assert.Equal(t, []obj{{"ConfigMap", "shop", "wide", "-", false}}, objs(res))
	assert.Empty(t, res.Errors)

	// No stdin at all reads as an empty one.
	assert.Equal(t, manifest.Loaded{}, manifest.Load([]string{manifest.StdinPath}, nil))
}

func TestLoadTypedObjects(t *testing.T) {
	res := manifest.Load([]string{"testdata/list.yaml", "testdata/multi.yaml"}, nil)
	require.Empty(t, res.Errors)
	role, ok := res.Objects[1].Raw.(*rbacv1.Role)
	require.True(t, ok, "a Role is decoded to its Go type, got %T", res.Objects[1].Raw)
	assert.Equal(t, []string{"get"}, role.Rules[0].Verbs)

	deploy, ok := res.Objects[5].Raw.(*appsv1.Deployment)
	require.True(t, ok, "got %T", res.Objects[5].Raw)
	assert.Equal(t, "nginx:1.27", deploy.Spec.Template.Spec.Containers[0].Image)
	// The pod spec the checks read is the Deployment's own.
	require.NotNil(t, res.Objects[5].Pod)
	assert.Equal(t, "spec.template.spec", res.Objects[5].Pod.Path)
	assert.Same(t, &deploy.Spec.Template.Spec, res.Objects[5].Pod.Spec)
	assert.True(t, res.Objects[5].Namespaced)
	assert.True(t, res.Objects[4].Namespaced, "a ServiceAccount is namespaced")
	assert.False(t, res.Objects[3].Namespaced, "a Namespace is cluster-scoped")
}

func TestLoadRefusesAPIVersionsNoLongerServed(t *testing.T) {
	in := strings.NewReader(`apiVersion: apps/v1beta2
kind: Deployment
metadata: {name: old, namespace: shop}
spec: {template: {spec: {containers: [{name: app, image: x, securityContext: {privileged: true}}]}}}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old-ingress, namespace: shop}
---
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: old-cron, namespace: shop}
---
apiVersion: apps.openshift.io/v1
kind: Deployment
metadata: {name: custom, namespace: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: current, namespace: shop}
`)
	res := manifest.Load([]string{manifest.StdinPath}, in)
	assert.Equal(t, []string{
		`-: Deployment "old": apiVersion apps/v1beta2 is no longer served by Kubernetes; use apps/v1`,
		`-: Ingress "old-ingress": apiVersion extensions/v1beta1 is no longer served by Kubernetes; use networking.k8s.io/v1`,
		`-: CronJob "old-cron": apiVersion batch/v1beta1 is no longer served by Kubernetes; use batch/v1`,
	}, errs(res), "a checked kind in a version the API server refuses is an error, not a silent pass")
	assert.Equal(t, []obj{{"Deployment", "shop", "custom", "-", false}, {"Deployment", "shop", "current", "-", true}}, objs(res),
		"the custom resource named Deployment is read as metadata (no pod spec); the current Deployment is checked")
}

func TestLoadClusterScopedKindKeepsNoNamespace(t *testing.T) {
	// The API server ignores metadata.namespace on a cluster-scoped kind.
	res := manifest.Load([]string{manifest.StdinPath}, strings.NewReader("apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: extra, namespace: default}\n"))
	assert.Equal(t, []obj{{"ServiceCIDR", "", "extra", "-", false}}, objs(res))
	assert.Empty(t, res.Errors)
}

func TestLoadErrorsUnwrap(t *testing.T) {
	res := manifest.Load([]string{"testdata/bad-field.yaml"}, nil)
	require.Len(t, res.Errors, 1)
	assert.NotNil(t, errors.Unwrap(res.Errors[0]), "the conversion's error is kept")
}

func TestLoadURL(t *testing.T) {
	// kubectl apply -f URL fetches the manifest (cli-runtime URLVisitor); so does check.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: remote, namespace: shop}\n"))
	}))
	defer srv.Close()
	res := manifest.Load([]string{srv.URL + "/cm.yaml"}, nil)
	assert.Empty(t, res.Errors)
	assert.Equal(t, []obj{{"ConfigMap", "shop", "remote", srv.URL + "/cm.yaml", false}}, objs(res))
}
