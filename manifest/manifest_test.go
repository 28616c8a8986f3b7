package manifest_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/manifest"
)

// obj is what a test asserts of a loaded object.
type obj struct {
	Kind, Namespace, Name, File string
	Document, Line              int
	HasPod                      bool
}

func objs(res manifest.Result) []obj {
	out := []obj{}
	for _, o := range res.Objects {
		out = append(out, obj{o.Kind, o.Namespace, o.Name, o.File, o.Document, o.Line, o.Pod != nil})
	}
	return out
}

func errs(res manifest.Result) []string {
	out := []string{}
	for _, e := range res.Errors {
		out = append(out, e.Error())
	}
	return out
}

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
				{"Namespace", "", "shop", "testdata/multi.yaml", 1, 3, false},
				{"ServiceAccount", "shop", "web", "testdata/multi.yaml", 4, 12, false},
				{"Deployment", "shop", "web", "testdata/multi.yaml", 5, 19, true},
			},
		},
		{
			name:  "JSON",
			paths: []string{"testdata/deployment.json"},
			want:  []obj{{"Deployment", "shop", "api", "testdata/deployment.json", 1, 1, true}},
		},
		{
			name:  "List with a custom resource among its items",
			paths: []string{"testdata/list.yaml"},
			want: []obj{
				{"ConfigMap", "shop", "settings", "testdata/list.yaml", 1, 1, false},
				{"Role", "shop", "reader", "testdata/list.yaml", 1, 1, false},
				{"ServiceMonitor", "shop", "web", "testdata/list.yaml", 1, 1, false},
			},
		},
		{
			name:  "List with a broken item fails its document only",
			paths: []string{"testdata/list-broken-item.yaml"},
			want: []obj{
				{"ConfigMap", "shop", "before", "testdata/list-broken-item.yaml", 1, 1, false},
				{"ConfigMap", "shop", "after", "testdata/list-broken-item.yaml", 3, 13, false},
			},
			errs: []string{"testdata/list-broken-item.yaml: document 2 (line 5): items[1]: not a Kubernetes object: apiVersion and kind are required"},
		},
		{
			name:  "helm template output",
			paths: []string{"testdata/helm-template.yaml"},
			want: []obj{
				{"ServiceAccount", "", "release-shop", "testdata/helm-template.yaml", 1, 2, false},
				{"Service", "", "release-shop", "testdata/helm-template.yaml", 2, 11, false},
				// Document 3 holds only "# Source:" comments: counted, not loaded.
				{"Deployment", "", "release-shop", "testdata/helm-template.yaml", 4, 24, true},
				{"Pod", "", "release-shop-test-connection", "testdata/helm-template.yaml", 5, 45, true},
			},
		},
		{
			// Their metadata is what the webhook decodes too: 4.5.2 judges them alike.
			name:  "custom resources and CRDs by their metadata",
			paths: []string{"testdata/crds.yaml"},
			want: []obj{
				{"Certificate", "shop", "web-tls", "testdata/crds.yaml", 1, 1, false},
				{"CustomResourceDefinition", "", "widgets.example.com", "testdata/crds.yaml", 2, 6, false},
				{"Widget", "shop", "w", "testdata/crds.yaml", 3, 10, false},
				{"Secret", "shop", "creds", "testdata/crds.yaml", 4, 14, false},
			},
		},
		{
			name:  "a broken document does not stop the others",
			paths: []string{"testdata/broken.yaml"},
			want: []obj{
				{"ConfigMap", "shop", "good-1", "testdata/broken.yaml", 1, 1, false},
				{"ConfigMap", "shop", "good-2", "testdata/broken.yaml", 3, 11, false},
				{"ConfigMap", "shop", "good-3", "testdata/broken.yaml", 6, 24, false},
			},
			errs: []string{
				"testdata/broken.yaml: document 2 (line 5): yaml: line 5: mapping values are not allowed in this context",
				"testdata/broken.yaml: document 4 (line 15): not a Kubernetes object: apiVersion and kind are required",
				`testdata/broken.yaml: document 5 (line 18): Deployment "bad-field": unrecognized type: int32`,
			},
		},
		{
			name:  "directories recursively, in lexical order, manifests only",
			paths: []string{"testdata/tree"},
			want: []obj{
				{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", 1, 1, false},
				{"ConfigMap", "shop", "b", "testdata/tree/sub/b.yml", 1, 1, false},
				{"ConfigMap", "shop", "c", "testdata/tree/sub/deeper/c.json", 1, 1, false},
			},
		},
		{
			name:  "a file named explicitly is read whatever its extension",
			paths: []string{"testdata/tree/sub/notes.txt"},
			want:  []obj{{"ConfigMap", "", "ignored-txt", "testdata/tree/sub/notes.txt", 1, 1, false}},
		},
		{
			name:  "several paths in order",
			paths: []string{"testdata/deployment.json", "testdata/tree/a.yaml"},
			want: []obj{
				{"Deployment", "shop", "api", "testdata/deployment.json", 1, 1, true},
				{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", 1, 1, false},
			},
		},
		{
			name:  "a directory without manifests",
			paths: []string{"testdata/empty-dir"},
			errs:  []string{"testdata/empty-dir: no .yaml, .yml or .json files"},
		},
		{
			name:  "a missing path does not stop the others",
			paths: []string{"testdata/nope.yaml", "testdata/tree/a.yaml"},
			want:  []obj{{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", 1, 1, false}},
			errs:  []string{"stat testdata/nope.yaml: no such file or directory"},
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

func TestDocumentError(t *testing.T) {
	res := manifest.Load([]string{"testdata/broken.yaml"}, nil)
	require.Len(t, res.Errors, 3)
	var de *manifest.DocumentError
	require.True(t, errors.As(res.Errors[1], &de))
	assert.Equal(t, "testdata/broken.yaml", de.File)
	assert.Equal(t, 4, de.Document)
	assert.Equal(t, 15, de.Line)
	assert.EqualError(t, errors.Unwrap(de), "not a Kubernetes object: apiVersion and kind are required")

	missing := manifest.Load([]string{"testdata/nope.yaml"}, nil)
	require.Len(t, missing.Errors, 1)
	assert.ErrorIs(t, missing.Errors[0], fs.ErrNotExist)
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
		{"ClusterRole", "", "everything", "-", 1, 1, false},
		{"Pod", "shop", "p", "-", 2, 6, true},
		{"ConfigMap", "shop", "a", "testdata/tree/a.yaml", 1, 1, false},
	}, objs(res))
	assert.Equal(t, []string{"-: document 3 (line 8): not a Kubernetes object: apiVersion and kind are required"}, errs(res))
}

func TestLoadTypedObjects(t *testing.T) {
	res := manifest.Load([]string{"testdata/list.yaml", "testdata/multi.yaml"}, nil)
	require.Empty(t, res.Errors)
	role, ok := res.Objects[1].Raw.(*rbacv1.Role)
	require.True(t, ok, "a Role is decoded to its Go type, got %T", res.Objects[1].Raw)
	assert.Equal(t, []string{"get"}, role.Rules[0].Verbs)
	cr, ok := res.Objects[2].Raw.(*metav1.PartialObjectMetadata)
	require.True(t, ok, "a custom resource is decoded to its metadata, as the webhook does, got %T", res.Objects[2].Raw)
	assert.Equal(t, "shop", cr.Namespace)
	assert.True(t, res.Objects[2].Namespaced)

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

func TestLoadSeparatorEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		want  []obj
	}{
		{"bare document before the first separator", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
			[]obj{{"ConfigMap", "", "a", "-", 1, 1, false}, {"ConfigMap", "", "b", "-", 2, 5, false}}},
		{"leading separator", "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
			[]obj{{"ConfigMap", "", "a", "-", 1, 2, false}}},
		{"empty documents between separators are counted", "---\n---\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n",
			[]obj{{"ConfigMap", "", "a", "-", 3, 5, false}}},
		{"separator with a trailing comment", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- # Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
			[]obj{{"ConfigMap", "", "a", "-", 1, 1, false}, {"ConfigMap", "", "b", "-", 2, 5, false}}},
		{"a block scalar holding dashes is not a separator", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  banner: |\n    ----\n    hello\n",
			[]obj{{"ConfigMap", "", "a", "-", 1, 1, false}}},
		{"no trailing newline", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}",
			[]obj{{"ConfigMap", "", "a", "-", 1, 1, false}}},
		{"nothing", "", []obj{}},
		{"null document", "null\n", []obj{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := manifest.Load([]string{"-"}, strings.NewReader(tc.input))
			assert.Empty(t, res.Errors)
			assert.Equal(t, tc.want, objs(res))
		})
	}
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
		`-: document 1 (line 1): Deployment "old": apiVersion apps/v1beta2 is no longer served by Kubernetes; use apps/v1`,
		`-: document 2 (line 6): Ingress "old-ingress": apiVersion extensions/v1beta1 is no longer served by Kubernetes; use networking.k8s.io/v1`,
		`-: document 3 (line 10): CronJob "old-cron": apiVersion batch/v1beta1 is no longer served by Kubernetes; use batch/v1`,
	}, errs(res), "a checked kind in a version the API server refuses is an error, not a silent pass")
	assert.Equal(t, []obj{
		{"Deployment", "shop", "custom", "-", 4, 14, false},
		{"Deployment", "shop", "current", "-", 5, 18, true},
	}, objs(res), "the custom resource named Deployment is read by its metadata, with no pod spec; the current Deployment is checked")
}
