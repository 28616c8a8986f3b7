// Package manifest reads Kubernetes manifests as `kubectl apply -f` reads them
// (k8s.io/apimachinery/pkg/util/yaml's YAMLOrJSONDecoder): files, directories (recursively),
// stdin; multi-document YAML, a stream of JSON objects read to its end, and List objects. It
// turns each object into a policy.Object, custom resources included (as their metadata, which is
// what the webhook decodes them to); a broken document is reported with its file and index and
// does not stop the others. A "---" line followed by anything but a comment is refused, as
// kubectl refuses it ("invalid Yaml document separator"), rather than read as part of a document.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
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
	var docs []document
	var streamErr *DocumentError
	if looksLikeJSON(data) {
		docs, streamErr = splitJSON(data)
	} else {
		docs, streamErr = splitDocuments(data)
	}
	for _, doc := range docs {
		objs, err := decode(doc.body)
		if err != nil {
			r.Errors = append(r.Errors, &DocumentError{File: file, Document: doc.index, Line: doc.line, Err: err})
			continue
		}
		for _, o := range objs {
			r.Objects = append(r.Objects, Object{Object: o, File: file, Document: doc.index, Line: doc.line})
		}
	}
	if streamErr != nil {
		streamErr.File = file
		r.Errors = append(r.Errors, streamErr)
	}
}

// looksLikeJSON is the sniffing of YAMLOrJSONDecoder: a stream whose first non-space byte is "{"
// is JSON, and is read as a sequence of JSON values.
func looksLikeJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// splitJSON cuts a stream of JSON objects into documents, to its end: kubectl applies every
// object of `{...}{...}` or `{...}\n{...}`, so every one is checked. A value that does not parse
// ends the stream with an error, as it ends kubectl's.
func splitJSON(data []byte) ([]document, *DocumentError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []document
	for index := 1; ; index++ {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		// The document starts at its first non-space byte.
		offset := int(start) + len(data[start:]) - len(bytes.TrimLeft(data[start:], " \t\r\n"))
		line := 1 + bytes.Count(data[:offset], []byte("\n"))
		if err != nil {
			return docs, &DocumentError{Document: index, Line: line, Err: err}
		}
		docs = append(docs, document{index: index, line: line, body: raw})
	}
}

type document struct {
	index int
	line  int
	body  []byte
}

// splitDocuments cuts a stream at "---" separator lines, keeping where each document starts.
// Documents that hold only comments or whitespace are dropped but still counted. A line that
// starts with "---" and goes on with anything but a comment ends the stream with an error, as
// apimachinery's YAMLReader (kubectl) refuses it: the documents before it are kept.
func splitDocuments(data []byte) ([]document, *DocumentError) {
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
		if strings.HasPrefix(text, "---") && !isSeparator(text) {
			flush()
			return docs, &DocumentError{Document: index + 1, Line: line,
				Err: fmt.Errorf("invalid YAML document separator %q: a \"---\" line may carry only a comment (kubectl refuses it too)", text)}
		}
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
	return docs, nil
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

// typed converts an object of a built-in kind to its Go type, which the checks read, and any
// other kind (a custom resource) to its metadata, as the webhook decodes it: the checks that
// apply to every object (4.5.2) judge it the same way in both.
func typed(u *unstructured.Unstructured) (policy.Object, error) {
	gvk := u.GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return policy.Object{}, errNoKind
	}
	if err := checkServed(gvk); err != nil {
		return policy.Object{}, fmt.Errorf("%s %q: %w", gvk.Kind, u.GetName(), err)
	}
	var obj runtime.Object
	if typedObj, err := scheme.Scheme.New(gvk); err == nil {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typedObj); err != nil {
			return policy.Object{}, fmt.Errorf("%s %q: %w", gvk.Kind, u.GetName(), err)
		}
		obj = typedObj
	} else {
		meta := &metav1.PartialObjectMetadata{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, meta); err != nil {
			return policy.Object{}, fmt.Errorf("%s %q: %w", gvk.Kind, u.GetName(), err)
		}
		meta.SetGroupVersionKind(gvk)
		obj = meta
	}
	o := policy.NewObjectOf(gvk.GroupKind(), obj)
	if o.Scope == policy.ScopeCluster {
		// The API server ignores metadata.namespace on a cluster-scoped kind.
		o.Namespace = ""
	}
	return o, nil
}

// servedVersions are the API versions Kubernetes serves for the kinds cisgate checks
// (policy.CheckedKinds), by kind. An older version (apps/v1beta2, extensions/v1beta1,
// batch/v1beta1, ...) is refused by the API server, and its pod template is not where the checks
// look: reporting it beats passing it silently.
var servedVersions = func() map[string]schema.GroupVersion {
	m := map[string]schema.GroupVersion{}
	for _, k := range policy.CheckedKinds() {
		m[k.Kind] = k.GroupVersionKind().GroupVersion()
	}
	return m
}()

// checkServed refuses a checked kind in an API version Kubernetes no longer serves. Kinds of
// the same name in other groups (custom resources) are not its business.
func checkServed(gvk schema.GroupVersionKind) error {
	served, checked := servedVersions[gvk.Kind]
	if !checked || gvk.GroupVersion() == served || (gvk.Group != served.Group && gvk.Group != "extensions") {
		return nil
	}
	return fmt.Errorf("apiVersion %s is no longer served by Kubernetes; use %s", gvk.GroupVersion(), served)
}
