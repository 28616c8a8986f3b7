package manifest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/kubectl/pkg/cmd/apply"
	cmddelete "k8s.io/kubectl/pkg/cmd/delete"
	"k8s.io/kubectl/pkg/validation"
)

// forms holds one input form per file; testdata/forms/README.md says, per file, what kubectl
// does with it and which source decides it.
const forms = "testdata/forms"

// kubectlApply reads a file, or stdin for "-", as `kubectl apply -f FILE` reads it: kubectl's
// own ApplyOptions.GetObjects (k8s.io/kubectl pkg/cmd/apply/apply.go:466-490), which chains the
// resource builder, with the validator kubectl builds for --validate=strict (pkg/cmd/util
// factoryImpl.Validator) against an API server that supports field validation. The builder is
// local: kubectl's asks the cluster's discovery for each kind's resource and scope, which no form
// here depends on.
func kubectlApply(file string) ([]*unstructured.Unstructured, error) {
	validator := validation.NewParamVerifyingSchema(
		validation.ConjunctiveSchema{validation.NewSchemaValidation(nil), validation.NoDoubleKeySchema{}},
		fieldValidationSupported{}, metav1.FieldValidationStrict)
	o := &apply.ApplyOptions{
		Builder:       resource.NewLocalBuilder(),
		Validator:     validator,
		DeleteOptions: &cmddelete.DeleteOptions{FilenameOptions: resource.FilenameOptions{Filenames: []string{file}}},
	}
	infos, err := o.GetObjects()
	var out []*unstructured.Unstructured
	for _, i := range infos {
		out = append(out, i.Object.(*unstructured.Unstructured))
	}
	return out, err
}

type fieldValidationSupported struct{}

func (fieldValidationSupported) HasSupport(schema.GroupVersionKind) error { return nil }

// cisgateReads is what cisgate's reader reads from one path.
func cisgateReads(path string, stdin []byte) ([]*unstructured.Unstructured, []error) {
	var out []*unstructured.Unstructured
	errs := each([]string{path}, bytes.NewReader(stdin), func(_ string, u *unstructured.Unstructured) error {
		out = append(out, u)
		return nil
	})
	return out, errs
}

// formRows reads the forms' README table: file name to what kubectl does.
func formRows(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(forms, "README.md"))
	require.NoError(t, err)
	rows := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		rows[name] = strings.TrimSpace(cells[2])
	}
	return rows
}

// TestReadsAsKubectlApply runs every form through kubectl's reader, as `kubectl apply -f` sets it
// up, and through cisgate's, from the file and from stdin, and requires the same objects, field
// for field, and the same refusals, with kubectl's words.
func TestReadsAsKubectlApply(t *testing.T) {
	entries, err := os.ReadDir(forms)
	require.NoError(t, err)
	rows := formRows(t)
	var files []string
	for _, e := range entries {
		if e.Name() != "README.md" {
			files = append(files, e.Name())
			assert.Contains(t, rows, e.Name(), "every form has a row in %s/README.md", forms)
		}
	}
	for name := range rows {
		assert.Contains(t, files, name, "README.md has a row for %s, which is not in %s", name, forms)
	}
	require.GreaterOrEqual(t, len(files), 40)

	for _, name := range files {
		file := filepath.Join(forms, name)
		t.Run(name, func(t *testing.T) {
			want, wantErr := kubectlApply(file)
			got, gotErrs := cisgateReads(file, nil)
			assertSameReading(t, rows[name], file, want, wantErr, got, gotErrs)
			// The row says whether kubectl refuses something in the form: a stale row fails.
			assert.Equal(t, wantErr != nil, strings.HasPrefix(rows[name], "refused"), "README row %q", rows[name])
		})
		t.Run(name+"/stdin", func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			want, wantErr := kubectlApplyStdin(t, file)
			got, gotErrs := cisgateReads(StdinPath, data)
			// kubectl calls stdin STDIN, cisgate "-" (its -f argument).
			var renamed []error
			for _, e := range gotErrs {
				renamed = append(renamed, renamedError{e, strings.ReplaceAll(e.Error(), `"-"`, `"STDIN"`)})
			}
			assertSameReading(t, rows[name], "STDIN", want, wantErr, got, renamed)
		})
	}
}

type renamedError struct {
	error
	msg string
}

func (e renamedError) Error() string {
	return strings.ReplaceAll(e.msg, "parsing -:", "parsing STDIN:")
}

// kubectlApplyStdin is `kubectl apply -f - < file`: kubectl reads the process's standard input.
func kubectlApplyStdin(t *testing.T, file string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	return kubectlApply("-")
}

func assertSameReading(t *testing.T, row, source string, want []*unstructured.Unstructured, wantErr error,
	got []*unstructured.Unstructured, gotErrs []error) {
	t.Helper()
	require.Equal(t, len(want), len(got), "objects read; kubectl: %v; cisgate: %v (%s)", wantErr, gotErrs, row)
	for i := range want {
		assert.Equal(t, want[i].Object, got[i].Object, "object %d", i)
	}
	var gotMsgs []string
	for _, e := range gotErrs {
		gotMsgs = append(gotMsgs, e.Error())
	}
	if wantErr == nil {
		assert.Empty(t, gotMsgs, "kubectl reads %s without error", source)
		return
	}
	wantMsgs := flatten(wantErr)
	assert.Len(t, gotMsgs, len(wantMsgs), "one error per kubectl error: %v", wantErr)
	for _, w := range wantMsgs {
		msg := strings.TrimSuffix(w.Error(), "; if you choose to ignore these errors, turn validation off with --validate=false")
		found := false
		for _, g := range gotMsgs {
			found = found || strings.Contains(g, msg)
		}
		assert.True(t, found, "kubectl's error %q is among cisgate's: %q", msg, gotMsgs)
	}
}
