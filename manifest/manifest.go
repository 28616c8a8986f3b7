// Package manifest reads Kubernetes manifests with kubectl's own reader: k8s.io/cli-runtime's
// resource builder, configured as `kubectl apply -f` configures it (k8s.io/kubectl
// pkg/cmd/apply, ApplyOptions.GetObjects), locally: no cluster, no discovery. What kubectl would
// send to the API server is what cisgate judges; what kubectl refuses, cisgate refuses, with
// kubectl's error. It then turns each object into a policy.Object.
package manifest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kubectl/pkg/validation"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/cisgate/cisgate/policy"
)

// StdinPath is the path that reads standard input.
const StdinPath = "-"

// Object is one object found in a manifest.
type Object struct {
	policy.Object
	// File is the file it was read from, as kubectl names it (the path given, a file found under
	// a directory given, or "-" for stdin).
	File string
}

// Loaded is what Load found: the objects, and every error kubectl would report.
type Loaded struct {
	Objects []Object
	Errors  []error
}

// Load reads every path as `kubectl apply -R -f PATH` reads it; "-" reads stdin. Each file is
// read on its own, so an error names its file and the other files are still read; within a
// file, kubectl decides what an error stops (a document that is not YAML or names no kind ends
// the file, an object it cannot decode is skipped).
func Load(paths []string, stdin io.Reader) Loaded {
	var res Loaded
	res.Errors = each(paths, stdin, func(file string, u *unstructured.Unstructured) error {
		o, err := typed(u)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		res.Objects = append(res.Objects, Object{Object: o, File: file})
		return nil
	})
	return res
}

// each calls fn with every object kubectl reads from paths, in order, and returns every error
// kubectl reports, and those of fn.
func each(paths []string, stdin io.Reader, fn func(file string, u *unstructured.Unstructured) error) []error {
	var errs []error
	for _, p := range paths {
		if p == StdinPath {
			errs = append(errs, read(StdinPath, newBuilder().Stream(utf16Aware(stdin), StdinPath), fn)...)
			continue
		}
		files, err := filesUnder(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			b := newBuilder().FilenameParam(false, &resource.FilenameOptions{Filenames: []string{f}, Recursive: true})
			errs = append(errs, read(f, b, fn)...)
		}
	}
	return errs
}

// newBuilder is the builder of `kubectl apply -f` (ApplyOptions.GetObjects): unstructured
// objects, the validator of --validate=strict, every error collected rather than stopping at
// the first, Lists flattened into their items (a List among a List's items is refused).
// Local: kubectl's mapping of kinds to resources needs the cluster's discovery, and only sets
// namespaces (which `check --namespace` does, knowing each kind's scope from policy).
func newBuilder() *resource.Builder {
	return resource.NewLocalBuilder().
		Unstructured().
		Schema(strictValidation).
		ContinueOnError().
		Flatten()
}

// strictValidation is kubectl's validator for --validate=strict (the default) against an API
// server that validates fields itself, as every supported one does (k8s.io/kubectl
// pkg/cmd/util/factory_client_access.go, Validator): each document must name its apiVersion and
// kind, or kubectl stops reading the file there; the fields are left to the server.
var strictValidation = validation.NewParamVerifyingSchema(validation.NullSchema{}, serverValidatesFields{}, metav1.FieldValidationStrict)

// serverValidatesFields is the answer of an API server that supports the fieldValidation
// parameter (every one since Kubernetes 1.27).
type serverValidatesFields struct{}

func (serverValidatesFields) HasSupport(schema.GroupVersionKind) error { return nil }

// utf16Aware decodes a stream as kubectl decodes a file or its stdin (cli-runtime
// FileVisitor.Visit): UTF-16 when it starts with a UTF-16 byte-order mark, else UTF-8 without
// its byte-order mark.
func utf16Aware(r io.Reader) io.Reader {
	if r == nil {
		r = strings.NewReader("")
	}
	return transform.NewReader(r, unicode.BOMOverride(unicode.UTF8.NewDecoder()))
}

// filesUnder lists the files kubectl reads for a path: the path itself when it is a file (any
// extension), a directory's .json, .yaml and .yml files recursively in lexical order (cli-runtime
// ExpandPathsToFileVisitors). A path that does not exist, a glob or a URL is left to kubectl's
// FilenameParam, which resolves or refuses it.
func filesUnder(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil || !info.IsDir() {
		return []string{p}, nil
	}
	visitors, err := resource.ExpandPathsToFileVisitors(nil, p, true, resource.FileExtensions, nil)
	if err != nil {
		return nil, fmt.Errorf("error reading %q: %w", p, err)
	}
	var files []string
	for _, v := range visitors {
		if fv, ok := v.(*resource.FileVisitor); ok {
			files = append(files, fv.Path)
		}
	}
	if len(files) == 0 {
		// kubectl's own words (cli-runtime Builder.Path).
		return nil, fmt.Errorf("error reading [%s]: recognized file extensions are %v", p, resource.FileExtensions)
	}
	return files, nil
}

// read visits what the builder reads from one file.
func read(file string, b *resource.Builder, fn func(file string, u *unstructured.Unstructured) error) []error {
	last := "" // the last object read, which locates a document kubectl stops at
	err := b.Do().Visit(func(info *resource.Info, err error) error {
		if err != nil {
			return err
		}
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("%s: unexpected %T", file, info.Object)
		}
		source := file
		if info.Source != "" {
			source = info.Source // the file a glob matched
		}
		last = fmt.Sprintf("%s %q", u.GetKind(), u.GetName())
		return fn(source, u)
	})
	var errs []error
	for _, e := range flatten(err) {
		msg := e.Error()
		switch {
		case strings.HasPrefix(msg, "error parsing "), strings.HasPrefix(msg, `error validating "`):
			// cli-runtime's StreamVisitor ends the file at a document that is not YAML or JSON,
			// or that names no apiVersion or kind (its error names the file): kubectl applies
			// none of the documents after it. Its hint to pass --validate=false names a flag
			// cisgate does not have.
			msg = strings.TrimSuffix(msg, "; if you choose to ignore these errors, turn validation off with --validate=false")
			where := "before any object"
			if last != "" {
				where = "after " + last
			}
			e = fmt.Errorf("%s (%s; kubectl reads no further in that file: the documents after it are not checked)", msg, where)
		case !strings.Contains(msg, file):
			// Some of kubectl's errors (a List among a List's items) do not say where.
			e = fmt.Errorf("%s: %w", file, e)
		}
		errs = append(errs, e)
	}
	return errs
}

// flatten lists the errors of kubectl's aggregates, one per problem.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	var agg utilerrors.Aggregate
	if errors.As(err, &agg) {
		var out []error
		for _, e := range agg.Errors() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// typed converts an object of a built-in kind to its Go type, which the checks read, and any
// other kind (a custom resource) to its metadata, as the webhook decodes it: the checks that
// apply to every object (4.5.2) judge it the same way in both.
func typed(u *unstructured.Unstructured) (policy.Object, error) {
	gvk := u.GroupVersionKind()
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
