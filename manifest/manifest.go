// Package manifest reads Kubernetes manifests as `kubectl apply -f` and `helm template` write
// them: files, directories (recursively), stdin; multi-document YAML, JSON, and List objects.
// It turns each object into a policy.Object; a broken document is reported with its file and
// index and does not stop the others.
package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/cisgate/cisgate/policy"
)

// StdinPath is the path that reads standard input.
const StdinPath = "-"

// Object is one object found in a manifest.
type Object struct {
	policy.Object
	// File is the path as given (or "-" for stdin).
	File string
	// Document is the 1-based index of the YAML document in the file.
	Document int
	// Line is the 1-based line where the document starts.
	Line int
}

// DocumentError is a document that could not be read; the others still are.
type DocumentError struct {
	File     string
	Document int
	Line     int
	Err      error
}

func (e *DocumentError) Error() string {
	return fmt.Sprintf("%s: document %d (line %d): %v", e.File, e.Document, e.Line, e.Err)
}

func (e *DocumentError) Unwrap() error { return e.Err }

// Result is what Load found: the objects, and an error per broken file or document.
type Result struct {
	Objects []Object
	Errors  []error
}

// Load reads every path; "-" reads stdin. Directories are walked for .yaml, .yml and .json files.
func Load(paths []string, stdin io.Reader) Result {
	var res Result
	for _, p := range paths {
		if p == StdinPath {
			data, err := io.ReadAll(stdin)
			if err != nil {
				res.Errors = append(res.Errors, fmt.Errorf("stdin: %w", err))
				continue
			}
			res.parse(StdinPath, data)
			continue
		}
		files, err := expand(p)
		if err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				res.Errors = append(res.Errors, err)
				continue
			}
			res.parse(f, data)
		}
	}
	return res
}

// expand lists the manifest files under a path in lexical order.
func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("%s: no .yaml, .yml or .json files", p)
	}
	return files, err
}

func (r *Result) parse(file string, data []byte) {
	for _, doc := range splitDocuments(data) {
		objs, err := decode(doc.body)
		if err != nil {
			r.Errors = append(r.Errors, &DocumentError{File: file, Document: doc.index, Line: doc.line, Err: err})
			continue
		}
		for _, o := range objs {
			r.Objects = append(r.Objects, Object{Object: o, File: file, Document: doc.index, Line: doc.line})
		}
	}
}

type document struct {
	index int
	line  int
	body  []byte
}

// splitDocuments cuts a stream at "---" separator lines, keeping where each document starts.
// Documents that hold only comments or whitespace are dropped but still counted.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	index, start, line := 1, 1, 0
	separated := false // a separator was seen: what follows each one is a document
	flush := func() {
		if hasContent(cur.Bytes()) {
			docs = append(docs, document{index: index, line: start, body: bytes.Clone(cur.Bytes())})
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for sc.Scan() {
		line++
		text := sc.Text()
		if isSeparator(text) {
			// Comments before the first separator are no document (as in YAML), but a bare
			// document before it is, and so is every (even empty) one between separators.
			if separated || hasContent(cur.Bytes()) {
				flush()
				index++
			}
			cur.Reset()
			separated = true
			start = line + 1
			continue
		}
		cur.WriteString(text)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

func isSeparator(line string) bool {
	if !strings.HasPrefix(line, "---") {
		return false
	}
	rest := strings.TrimSpace(line[3:])
	return rest == "" || strings.HasPrefix(rest, "#")
}

func hasContent(doc []byte) bool {
	for _, l := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' {
			return true
		}
	}
	return false
}

var errNoKind = errors.New("not a Kubernetes object: apiVersion and kind are required")

// decode turns one document into objects: a List yields its items.
func decode(doc []byte) ([]policy.Object, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		if runtime.IsMissingKind(err) || runtime.IsMissingVersion(err) {
			return nil, errNoKind
		}
		return nil, err
	}
	if !u.IsList() {
		o, err := typed(u)
		if err != nil {
			return nil, err
		}
		return []policy.Object{o}, nil
	}
	list, err := u.ToList()
	if err != nil {
		return nil, err
	}
	objs := make([]policy.Object, 0, len(list.Items))
	for i := range list.Items {
		o, err := typed(&list.Items[i])
		if err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// typed converts an object of a built-in kind to its Go type, which the checks read. Any other
// kind (a custom resource, a CRD) becomes its metadata, as the webhook decodes it: that is all
// the checks that apply to every namespaced object (4.5.2) read, so `check` and the webhook
// judge a custom resource alike.
func typed(u *unstructured.Unstructured) (policy.Object, error) {
	gvk := u.GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return policy.Object{}, errNoKind
	}
	if err := checkServed(gvk); err != nil {
		return policy.Object{}, fmt.Errorf("%s %q: %w", gvk.Kind, u.GetName(), err)
	}
	obj, err := scheme.Scheme.New(gvk)
	if err != nil {
		obj = &metav1.PartialObjectMetadata{}
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return policy.Object{}, fmt.Errorf("%s %q: %w", gvk.Kind, u.GetName(), err)
	}
	return policy.NewObject(gvk.Kind, obj), nil
}

// servedVersions are the API versions Kubernetes serves for the kinds cisgate checks. An older
// version (apps/v1beta2, extensions/v1beta1, batch/v1beta1, ...) is refused by the API server, and
// its pod template is not where the checks look: reporting it beats passing it silently.
var servedVersions = map[string]schema.GroupVersion{
	"Pod": corev1GV, "PodTemplate": corev1GV, "ReplicationController": corev1GV,
	"ServiceAccount": corev1GV, "Service": corev1GV,
	"Deployment": appsV1, "ReplicaSet": appsV1, "StatefulSet": appsV1, "DaemonSet": appsV1,
	"Job": batchV1, "CronJob": batchV1,
	"Role": rbacV1, "ClusterRole": rbacV1, "RoleBinding": rbacV1, "ClusterRoleBinding": rbacV1,
	"Ingress": networkingV1, "NetworkPolicy": networkingV1,
}

var (
	corev1GV     = schema.GroupVersion{Version: "v1"}
	appsV1       = schema.GroupVersion{Group: "apps", Version: "v1"}
	batchV1      = schema.GroupVersion{Group: "batch", Version: "v1"}
	rbacV1       = schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: "v1"}
	networkingV1 = schema.GroupVersion{Group: "networking.k8s.io", Version: "v1"}
)

// checkServed refuses a checked kind in an API version Kubernetes no longer serves. Kinds of
// the same name in other groups (custom resources) are not its business.
func checkServed(gvk schema.GroupVersionKind) error {
	served, checked := servedVersions[gvk.Kind]
	if !checked || gvk.GroupVersion() == served || (gvk.Group != served.Group && gvk.Group != "extensions") {
		return nil
	}
	return fmt.Errorf("apiVersion %s is no longer served by Kubernetes; use %s", gvk.GroupVersion(), served)
}
