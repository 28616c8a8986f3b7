package admission_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/cisgate/cisgate/admission"
	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/policy"
)

// verdictCorpus holds one case per file; test/testdata/verdicts/README.md describes the format.
const verdictCorpus = "../test/testdata/verdicts"

// TestVerdictCorpus runs every case of the verdict corpus through `cisgate check` (in process)
// and through Decide (an AdmissionReview per object, as the API server would send it, with the
// cluster state the case's objects would make: caseState), and
// asserts that each path gives the case's expected findings and outcome, and that both paths
// give the same findings, field path for field path.
func TestVerdictCorpus(t *testing.T) {
	cases := loadVerdictCases(t)
	require.GreaterOrEqual(t, len(cases), 130, "the corpus must keep at least 130 cases")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.pending != "" {
				// A pending case still runs: when it passes, the marker is stale and must go.
				if !caseFails(t, c) {
					t.Fatalf("case is marked pending (%s) but passes now: remove the pending line", c.pending)
				}
				t.Skip("pending: " + c.pending)
			}
			runVerdictCase(t, c)
		})
	}
}

// caseFails reports whether a case fails, without failing the calling test.
func caseFails(t *testing.T, c verdictCase) bool {
	rec := &recordingT{tempDir: t.TempDir()}
	func() {
		defer func() {
			if r := recover(); r != nil && r != errStop {
				panic(r)
			}
		}()
		runVerdictCase(rec, c)
	}()
	return rec.failed
}

// recordingT is the part of testing.T a case uses; it records failure instead of reporting it.
type recordingT struct {
	failed  bool
	tempDir string
}

var errStop = errors.New("stop")

func (r *recordingT) Helper()               {}
func (r *recordingT) Errorf(string, ...any) { r.failed = true }
func (r *recordingT) FailNow()              { r.failed = true; panic(errStop) }
func (r *recordingT) Logf(string, ...any)   {}
func (r *recordingT) TempDir() string       { return r.tempDir }

// caseT is what runVerdictCase needs of a test.
type caseT interface {
	require.TestingT
	Helper()
	Logf(string, ...any)
	TempDir() string
}

// verdictCase is one corpus file with the expectations of its header.
type verdictCase struct {
	name, file string
	sources    []string
	exit       int
	expect     []expected
	benchmark  string
	config     string
	args       []string
	// stderr, when set, must occur in what check writes to stderr (the reason for exit 2).
	stderr  string
	pending string
	// webhookNamespace is the request namespace for objects that name none (the API server
	// fills it from the client's context); webhookExpect and webhookExit then replace the
	// expectations on the webhook path, where that namespace is known.
	webhookNamespace string
	webhookExpect    []expected
	webhookExit      *int
}

// expected is one expected finding: `ID SLUG STATUS OBJECT [PATH]`. ID and SLUG may be "*"
// (any); PATH, when given, must occur in the finding's field path.
type expected struct {
	id, slug, status, object, path string
}

func (e expected) String() string {
	return strings.TrimSpace(strings.Join([]string{e.id, e.slug, e.status, e.object, e.path}, " "))
}

// got is one finding as either path reports it.
type got struct {
	id, slug, status, object, path string
}

func (g got) String() string {
	return g.id + " " + g.slug + " " + g.status + " " + g.object + " " + g.path
}

func (e expected) matches(g got) bool {
	return (e.id == "*" || e.id == g.id) && (e.slug == "*" || e.slug == g.slug) && e.status == g.status &&
		e.object == g.object && strings.Contains(g.path, e.path)
}

func objectKey(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

func loadVerdictCases(t *testing.T) []verdictCase {
	t.Helper()
	entries, err := os.ReadDir(verdictCorpus)
	require.NoError(t, err)
	var cases []verdictCase
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || (ext != ".yaml" && ext != ".json") {
			continue
		}
		file := filepath.Join(verdictCorpus, name)
		header := file
		if _, err := os.Stat(file + ".expect"); err == nil || ext == ".json" {
			// JSON has no comments, and a UTF-16 file's comments are no ASCII: the header is in
			// a sidecar.
			header = file + ".expect"
		}
		data, err := os.ReadFile(header)
		require.NoError(t, err)
		c, err := parseVerdictHeader(data)
		require.NoError(t, err, header)
		c.name, c.file = strings.TrimSuffix(name, ext), file
		require.NoError(t, c.idsMatchSlugs(), header)
		cases = append(cases, c)
	}
	return cases
}

// parseVerdictHeader reads the `# key: value` lines that open a case file, up to the first line
// that is no comment.
func parseVerdictHeader(data []byte) (verdictCase, error) {
	c := verdictCase{exit: -1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
		if !ok {
			return c, fmt.Errorf("header line %q is not `# key: value`", line)
		}
		value = strings.TrimSpace(value)
		switch key {
		case "source":
			for _, outside := range []string{"CHECKS.md", "DESIGN.md", "../shared"} {
				if strings.Contains(value, outside) {
					return c, fmt.Errorf("source %q cites %s, which is outside the repository: cite the check's spec, docs/, the benchmark or the Kubernetes source", value, outside)
				}
			}
			c.sources = append(c.sources, value)
		case "note":
		case "exit", "webhook-exit":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n > 2 {
				return c, fmt.Errorf("%s: %q is no exit code", key, value)
			}
			if key == "exit" {
				c.exit = n
			} else {
				c.webhookExit = &n
			}
		case "expect", "webhook-expect":
			f := strings.Fields(value)
			if len(f) != 4 && len(f) != 5 {
				return c, fmt.Errorf("%s %q: want `ID SLUG STATUS OBJECT [PATH]`", key, value)
			}
			e := expected{id: f[0], slug: f[1], status: f[2], object: f[3]}
			if len(f) == 5 {
				e.path = f[4]
			}
			switch e.status {
			case "FAIL", "WARN", "INFO":
			default:
				return c, fmt.Errorf("%s %q: status must be FAIL, WARN or INFO (a PASS is the absence of a finding)", key, value)
			}
			if key == "expect" {
				c.expect = append(c.expect, e)
			} else {
				c.webhookExpect = append(c.webhookExpect, e)
			}
		case "benchmark":
			c.benchmark = value
		case "config":
			c.config = value
		case "args":
			c.args = strings.Fields(value)
		case "pending":
			c.pending = value
		case "stderr":
			c.stderr = value
		case "webhook-namespace":
			c.webhookNamespace = value
		default:
			return c, fmt.Errorf("unknown header key %q", key)
		}
	}
	switch {
	case len(c.sources) == 0:
		return c, errors.New("every case cites its source (# source: ...)")
	case c.exit < 0:
		return c, errors.New("every case states the exit code of `cisgate check` (# exit: N)")
	case c.benchmark != "" && c.config != "":
		return c, errors.New("a case with a config names its benchmark in the config")
	case c.webhookNamespace == "" && (c.webhookExpect != nil || c.webhookExit != nil):
		return c, errors.New("webhook-expect and webhook-exit go with webhook-namespace")
	}
	// The corpus's default benchmark is eks-1.8.0 (README.md), whatever cisgate's default is: a
	// case's IDs do not move when the default does.
	switch {
	case c.config == "" && c.benchmark == "":
		c.benchmark = string(corpusBenchmark)
	case c.config != "" && !strings.Contains(c.config, "benchmark:"):
		if !strings.HasPrefix(c.config, "{") {
			return c, errors.New("a config without benchmark is a one-line YAML mapping: {mode: ...}")
		}
		c.config = "{benchmark: " + string(corpusBenchmark) + ", " + strings.TrimPrefix(c.config, "{")
	}
	return c, nil
}

// corpusBenchmark is the benchmark of a case that names none.
const corpusBenchmark = policy.EKS180

// idsMatchSlugs catches a mistyped expectation: an ID and slug that the case's benchmark does
// not pair.
func (c verdictCase) idsMatchSlugs() error {
	bench := policy.Benchmark(c.benchmark)
	if c.config != "" {
		p, err := policy.ParseConfig([]byte(c.config))
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		bench = p.Config.Benchmark
	}
	if bench == "" {
		bench = policy.DefaultBenchmark
	}
	cat, err := policy.CatalogueFor(bench)
	if err != nil {
		return err
	}
	for _, e := range append(slices.Clone(c.expect), c.webhookExpect...) {
		if e.id == "*" || e.slug == "*" {
			continue
		}
		// A check the benchmark does not number, kept by the config, reports under its slug.
		if e.id == e.slug && slices.ContainsFunc(cat.Unnumbered(), func(u policy.Entry) bool { return string(u.Slug) == e.slug }) {
			continue
		}
		if entry, ok := cat.Entry(policy.Slug(e.slug)); !ok || entry.ID != e.id {
			return fmt.Errorf("expect %s: %s has no item %s with ID %s", e, bench, e.slug, e.id)
		}
	}
	return nil
}

func runVerdictCase(t caseT, c verdictCase) {
	t.Helper()
	args := []string{"check", "-o", "json", "-f", c.file}
	configFile := ""
	if c.config != "" {
		configFile = filepath.Join(t.TempDir(), "config.yaml")
		require.NoError(t, os.WriteFile(configFile, []byte(c.config), 0o600))
		args = append(args, "--config", configFile)
	}
	if c.benchmark != "" {
		args = append(args, "--benchmark", c.benchmark)
	}
	args = append(args, c.args...)

	// The `cisgate check` path.
	var stdout, stderr bytes.Buffer
	code := app.Run(context.Background(), args, app.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr})
	assert.Equal(t, c.exit, code, "exit code of cisgate %s; stderr:\n%s", strings.Join(args, " "), stderr.String())
	if c.stderr != "" {
		assert.Contains(t, stderr.String(), c.stderr, "check's error")
	}
	checkFindings := checkReportFindings(t, stdout.Bytes())
	assertFindings(t, "check", c.expect, checkFindings)

	// The webhook path. Input the API server never admits (exit 2: unreadable documents, API
	// versions it no longer serves) never reaches an admission webhook.
	if c.exit == 2 {
		return
	}
	pol := decidePolicy(t, c, configFile)
	objects, err := readLikeKubectl(c.file)
	require.NoError(t, err, "kubectl could not read the case either")
	modes := namespaceModes(objects)
	state := caseState{classes: ingressClasses(t, objects)}
	var webhookFindings []got
	denied := false
	clusterKinds := clusterScopedCustomKinds(objects)
	for i, obj := range objects {
		r, err := admission.DecodeReview(admissionReview(t, obj, i, c.webhookNamespace, clusterKinds))
		require.NoError(t, err, "decoding %s", objectKey(obj.GetKind(), obj.GetNamespace(), obj.GetName()))
		r.NamespaceMode = modes[r.Object.Namespace]
		d := admission.Decide(pol, r, state)
		denied = denied || !d.Allowed
		for _, f := range d.Rulings {
			webhookFindings = append(webhookFindings, got{id: f.ID, slug: string(f.Slug), status: string(f.Status),
				object: objectKey(r.Object.Kind, r.Object.Namespace, r.Object.Name), path: f.Path})
		}
	}
	wantExpect, wantExit := c.expect, c.exit
	if c.webhookNamespace != "" {
		if c.webhookExpect != nil {
			wantExpect = c.webhookExpect
		}
		if c.webhookExit != nil {
			wantExit = *c.webhookExit
		}
	}
	assertFindings(t, "webhook", wantExpect, webhookFindings)
	assert.Equal(t, wantExit == app.ExitFindings, denied, "the webhook denies exactly when check exits 1")
	if c.webhookNamespace == "" {
		assert.ElementsMatch(t, sortedStrings(checkFindings), sortedStrings(webhookFindings), "check and the webhook disagree")
	}
}

// decidePolicy is the policy Decide runs with: the case's config file, or what `cisgate check`
// documents for no config ("every check runs in enforce mode with no exemptions").
func decidePolicy(t caseT, c verdictCase, configFile string) *policy.Policy {
	t.Helper()
	if configFile != "" {
		p, err := policy.LoadConfig(configFile)
		require.NoError(t, err)
		return p
	}
	cfg := "mode: enforce\nexemptions: {namespaces: [], groups: [], usernames: [], rules: []}\n"
	if c.benchmark != "" {
		cfg += "benchmark: " + c.benchmark + "\n"
	}
	p, err := policy.ParseConfig([]byte(cfg))
	require.NoError(t, err)
	return p
}

// checkReportFindings reads the findings of `cisgate check -o json`.
func checkReportFindings(t caseT, stdout []byte) []got {
	t.Helper()
	if len(bytes.TrimSpace(stdout)) == 0 {
		return nil
	}
	var report struct {
		Findings []struct {
			ID     string `json:"id"`
			Slug   string `json:"slug"`
			Status string `json:"status"`
			Path   string `json:"path"`
			Object struct {
				Kind      string `json:"kind"`
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"object"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal(stdout, &report), "stdout is no JSON report:\n%s", stdout)
	var out []got
	for _, f := range report.Findings {
		out = append(out, got{id: f.ID, slug: f.Slug, status: f.Status, path: f.Path,
			object: objectKey(f.Object.Kind, f.Object.Namespace, f.Object.Name)})
	}
	return out
}

// assertFindings holds findings to the expectations: every expectation is met by a finding and
// every finding is expected. How many findings one problem yields is the checks' business.
func assertFindings(t caseT, path string, want []expected, findings []got) {
	t.Helper()
	for _, e := range want {
		if !slices.ContainsFunc(findings, e.matches) {
			assert.Fail(t, path+": missing finding", "want %s\ngot:\n%s", e, list(findings))
		}
	}
	for _, g := range findings {
		if !slices.ContainsFunc(want, func(e expected) bool { return e.matches(g) }) {
			assert.Fail(t, path+": unexpected finding", "got %s\nall:\n%s", g, list(findings))
		}
	}
}

func list(findings []got) string {
	if len(findings) == 0 {
		return "  (none)"
	}
	return "  " + strings.Join(sortedStrings(findings), "\n  ")
}

func sortedStrings(findings []got) []string {
	out := make([]string, len(findings))
	for i, f := range findings {
		out[i] = f.String()
	}
	slices.Sort(out)
	return out
}

// readLikeKubectl reads a manifest with kubectl's reader, the resource builder as `kubectl apply
// -f` configures it (k8s.io/kubectl pkg/cmd/apply, ApplyOptions.GetObjects), built here rather
// than taken from cisgate's manifest package.
func readLikeKubectl(file string) ([]*unstructured.Unstructured, error) {
	infos, err := resource.NewLocalBuilder().
		Unstructured().
		ContinueOnError().
		FilenameParam(false, &resource.FilenameOptions{Filenames: []string{file}}).
		Flatten().
		Do().
		Infos()
	var out []*unstructured.Unstructured
	for _, i := range infos {
		out = append(out, i.Object.(*unstructured.Unstructured))
	}
	return out, err
}

// namespaceModes are the cisgate.io/mode labels of the case's Namespaces: what the webhook's
// cluster state would answer once they exist.
func namespaceModes(objects []*unstructured.Unstructured) map[string]string {
	modes := map[string]string{}
	for _, o := range objects {
		if o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" {
			if v, ok := o.GetLabels()[policy.NamespaceModeLabel]; ok {
				modes[o.GetName()] = v
			}
		}
	}
	return modes
}

// ingressClasses are the case's IngressClasses: what the webhook's cluster state would answer
// once they exist.
func ingressClasses(t caseT, objects []*unstructured.Unstructured) []networkingv1.IngressClass {
	t.Helper()
	var classes []networkingv1.IngressClass
	for _, o := range objects {
		if o.GroupVersionKind() != networkingv1.SchemeGroupVersion.WithKind("IngressClass") {
			continue
		}
		var ic networkingv1.IngressClass
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &ic))
		classes = append(classes, ic)
	}
	return classes
}

// errNoCluster answers the lookups the corpus has no cluster for.
var errNoCluster = errors.New("the verdict corpus has no cluster")

// caseState is the cluster state Decide gets: the case's IngressClasses, as the cluster would
// hold them, and nothing of NetworkPolicies and ServiceAccounts, which `check` cannot see either
// (4.1.6 and 4.3.2 are WARN on both paths, at the same field paths).
type caseState struct{ classes []networkingv1.IngressClass }

func (caseState) NetworkPolicyCount(string) (int, error) { return 0, errNoCluster }

func (caseState) ServiceAccount(string, string) (*corev1.ServiceAccount, bool, error) {
	return nil, false, errNoCluster
}

func (s caseState) IngressClasses() ([]networkingv1.IngressClass, error) { return s.classes, nil }

// clusterScopedCustomKinds are the kinds the case's CustomResourceDefinitions declare
// cluster-scoped (spec.scope: Cluster): the API server serves them without a namespace.
func clusterScopedCustomKinds(objects []*unstructured.Unstructured) map[schema.GroupKind]bool {
	kinds := map[schema.GroupKind]bool{}
	for _, o := range objects {
		if o.GroupVersionKind() != (schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}) {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		if scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope"); scope == "Cluster" {
			kinds[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	return kinds
}

// admissionReview is the AdmissionReview (JSON) an API server would send for the CREATE of obj.
// defaultNamespace is the client's namespace for objects that name none. An object of a
// cluster-scoped custom kind is requested without a namespace, and the API server clears its
// body's before admission (k8s.io/apiserver pkg/endpoints/handlers/create.go:175,
// pkg/registry/rest/meta.go:47 EnsureObjectNamespaceMatchesRequestNamespace).
func admissionReview(t caseT, obj *unstructured.Unstructured, i int, defaultNamespace string, clusterKinds map[schema.GroupKind]bool) []byte {
	t.Helper()
	gvk := obj.GroupVersionKind()
	ns := obj.GetNamespace()
	if ns == "" {
		ns = defaultNamespace
	}
	if clusterKinds[gvk.GroupKind()] {
		obj = obj.DeepCopy()
		obj.SetNamespace("")
		ns = ""
	}
	raw, err := obj.MarshalJSON()
	require.NoError(t, err)
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("verdict-" + strconv.Itoa(i)),
			Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
			Namespace: ns,
			Name:      obj.GetName(),
			Operation: admissionv1.Create,
			UserInfo:  authenticationv1.UserInfo{Username: "jane", Groups: []string{"developers", "system:authenticated"}},
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	wire, err := json.Marshal(review)
	require.NoError(t, err)
	return wire
}
