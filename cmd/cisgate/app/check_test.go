package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/internal/golden"
	"github.com/cisgate/cisgate/policy"
)

// corpus is the manifest corpus, from this package's directory.
const corpus = "../../../test/testdata/manifests"

// corpusBenchmark is the benchmark whose IDs the corpus's expected.yaml names.
const corpusBenchmark = "eks-1.8.0"

type runResult struct {
	code   int
	stdout string
	stderr string
}

func run(t *testing.T, stdin io.Reader, args ...string) runResult {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code := app.Run(context.Background(), args, app.IOStreams{In: stdin, Out: &out, ErrOut: &errOut})
	return runResult{code, out.String(), errOut.String()}
}

// jsonReport is the JSON contract of `cisgate check -o json`.
type jsonReport struct {
	Benchmark string `json:"benchmark"`
	Findings  []struct {
		ID     string `json:"id"`
		Slug   string `json:"slug"`
		Title  string `json:"title"`
		Status string `json:"status"`
		Mode   string `json:"mode"`
		Object struct {
			Kind      string `json:"kind"`
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			File      string `json:"file"`
		} `json:"object"`
		Path         string `json:"path"`
		Detail       string `json:"detail"`
		ExemptReason string `json:"exemptReason"`
		Advisory     bool   `json:"advisory"`
	} `json:"findings"`
}

func parseJSON(t *testing.T, s string) jsonReport {
	t.Helper()
	var r jsonReport
	require.NoError(t, json.Unmarshal([]byte(s), &r), "stdout is not the JSON report:\n%s", s)
	return r
}

// ids returns the sorted distinct IDs of the findings with a status.
func (r jsonReport) ids(status string) []string {
	out := []string{}
	for _, f := range r.Findings {
		if f.Status == status && !slices.Contains(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	slices.SortFunc(out, policy.CompareIDs)
	return out
}

type expectation struct {
	Fail []string `json:"fail"`
	Warn []string `json:"warn"`
	Exit *int     `json:"exit"`
}

func loadExpected(t *testing.T) map[string]expectation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpus, "expected.yaml"))
	require.NoError(t, err)
	var exp map[string]expectation
	require.NoError(t, yaml.UnmarshalStrict(data, &exp))
	return exp
}

// TestCheckCorpus runs `cisgate check -o json` on every manifest of the corpus and asserts the
// FAIL and WARN IDs and the exit code that expected.yaml lists.
func TestCheckCorpus(t *testing.T) {
	exp := loadExpected(t)
	var files []string
	for _, dir := range []string{"compliant", "noncompliant"} {
		matches, err := filepath.Glob(filepath.Join(corpus, dir, "*.yaml"))
		require.NoError(t, err)
		for _, m := range matches {
			rel, err := filepath.Rel(corpus, m)
			require.NoError(t, err)
			files = append(files, filepath.ToSlash(rel))
		}
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		_, ok := exp[f]
		assert.True(t, ok, "%s has no entry in expected.yaml", f)
	}
	for f := range exp {
		assert.Contains(t, files, f, "expected.yaml lists %s, which is not in the corpus", f)
	}

	for _, f := range files {
		e, ok := exp[f]
		if !ok {
			continue
		}
		t.Run(f, func(t *testing.T) {
			if strings.HasPrefix(f, "compliant/") {
				require.Empty(t, e.Fail, "a compliant manifest must not FAIL")
			}
			wantCode := app.ExitOK
			if len(e.Fail) > 0 {
				wantCode = app.ExitFindings
			}
			if e.Exit != nil {
				wantCode = *e.Exit
			}
			res := run(t, nil, "check", "--benchmark", corpusBenchmark, "-f", filepath.Join(corpus, f), "-o", "json")
			assert.Empty(t, res.stderr)
			r := parseJSON(t, res.stdout)
			assert.Equal(t, "eks-1.8.0", r.Benchmark)
			assert.Equal(t, nonNil(e.Fail), r.ids("FAIL"), "FAIL IDs")
			assert.Equal(t, nonNil(e.Warn), r.ids("WARN"), "WARN IDs")
			assert.Equal(t, wantCode, res.code, "exit code")
			for _, fd := range r.Findings {
				assert.Equal(t, filepath.Join(corpus, f), fd.Object.File)
				assert.Equal(t, "enforce", fd.Mode, "without --config every check is in enforce mode")
				assert.NotEmpty(t, fd.Title)
				assert.NotEmpty(t, fd.Path)
				assert.NotEmpty(t, fd.Detail)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestCheckCorpusDirectories(t *testing.T) {
	res := run(t, nil, "check", "--benchmark", corpusBenchmark, "-f", filepath.Join(corpus, "compliant"), "-o", "json")
	assert.Equal(t, app.ExitOK, res.code, res.stderr)
	assert.Empty(t, parseJSON(t, res.stdout).ids("FAIL"))

	res = run(t, nil, "check", "--benchmark", corpusBenchmark, "-f", filepath.Join(corpus, "compliant"), "-f", filepath.Join(corpus, "noncompliant"), "-o", "json")
	assert.Equal(t, app.ExitFindings, res.code, res.stderr)
	r := parseJSON(t, res.stdout)
	// Every section 4 and 5 check of eks-1.8.0 that needs no registry list fails somewhere in the corpus.
	assert.Equal(t, []string{"4.1.1", "4.1.2", "4.1.3", "4.1.4", "4.1.5", "4.1.6", "4.1.8", "4.1.9", "4.1.10", "4.1.11", "4.1.12",
		"4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.5", "4.4.1", "4.5.2", "5.4.5"}, r.ids("FAIL"))
}

// TestCheckBrokenDocument: kubectl stops reading a file at a document that is no YAML
// (cli-runtime StreamVisitor.Visit) and applies the documents before it; check judges those,
// says where it stopped and exits 2.
func TestCheckBrokenDocument(t *testing.T) {
	file := filepath.Join(corpus, "invalid", "broken-document.yaml")
	res := run(t, nil, "check", "-f", file, "-o", "json")
	assert.Equal(t, app.ExitUsage, res.code)
	assert.Equal(t, "error: error parsing "+file+": error converting YAML to JSON: yaml: line 5: mapping values are not allowed in this context"+
		` (after Pod "privileged"; kubectl reads no further in that file: the documents after it are not checked)`+"\n", res.stderr)
	// The documents before it are checked and reported; kubectl would not apply those after it.
	r := parseJSON(t, res.stdout)
	assert.Equal(t, []string{"4.2.1", "4.2.5"}, r.ids("FAIL"))
	var names []string
	for _, f := range r.Findings {
		names = append(names, f.Object.Name)
	}
	assert.Contains(t, names, "privileged")
	assert.NotContains(t, names, "broken")
	assert.NotContains(t, names, "feature-flags")
}

func TestCheckStdin(t *testing.T) {
	manifest, err := os.ReadFile(filepath.Join(corpus, "noncompliant", "privileged-pod.yaml"))
	require.NoError(t, err)
	res := run(t, bytes.NewReader(manifest), "check", "-f", "-", "-o", "json")
	assert.Equal(t, app.ExitFindings, res.code, res.stderr)
	r := parseJSON(t, res.stdout)
	assert.Equal(t, []string{"4.2.1", "4.2.5"}, r.ids("FAIL"))
	require.NotEmpty(t, r.Findings)
	assert.Equal(t, "-", r.Findings[0].Object.File)
	assert.Equal(t, "Pod", r.Findings[0].Object.Kind)
	assert.Equal(t, "shop", r.Findings[0].Object.Namespace)
	assert.Equal(t, "debug-tools", r.Findings[0].Object.Name)
	assert.Equal(t, "spec.containers[0].securityContext.privileged", r.Findings[0].Path)
	assert.Equal(t, `container "tools" must not set securityContext.privileged=true`, r.Findings[0].Detail)

	// stdin and a file together.
	res = run(t, bytes.NewReader(manifest), "check", "-f", "-", "-f", filepath.Join(corpus, "compliant", "nlb-service.yaml"), "-o", "json")
	assert.Equal(t, app.ExitFindings, res.code, res.stderr)
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestCheckConfig(t *testing.T) {
	nc := func(name string) string { return filepath.Join(corpus, "noncompliant", name) }
	cfg := writeConfig(t, `
benchmark: eks-1.8.0
mode: enforce
checks: {"4.2.3": "off", "4.3.2": "off"}
exemptions:
  namespaces: []
  rules:
    - {checks: ["privileged", "privilege-escalation"], namespace: shop, kind: Deployment, name: "gpu-*", reason: "the GPU driver loads a kernel module"}
`)

	t.Run("exempt findings are reported and do not block; a check off is gone", func(t *testing.T) {
		res := run(t, nil, "check", "--config", cfg, "-f", nc("privileged-container.yaml"), "-f", nc("host-ipc.yaml"), "-o", "json")
		assert.Equal(t, app.ExitOK, res.code, res.stderr)
		r := parseJSON(t, res.stdout)
		require.Len(t, r.Findings, 2, "4.2.1 and 4.2.5 (a privileged container escalates)")
		f := r.Findings[0]
		assert.Equal(t, "4.2.1", f.ID)
		assert.Equal(t, "FAIL", f.Status)
		assert.Equal(t, "enforce", f.Mode)
		assert.Equal(t, "gpu-driver", f.Object.Name)
		assert.Equal(t, "the GPU driver loads a kernel module", f.ExemptReason)
		assert.Empty(t, r.ids("WARN"), "4.3.2 is off")
	})
	t.Run("the exemption covers only what it names", func(t *testing.T) {
		res := run(t, nil, "check", "--config", cfg, "-f", nc("privileged-container.yaml"), "-f", nc("privileged-pod.yaml"), "-o", "json")
		assert.Equal(t, app.ExitFindings, res.code, res.stderr)
		r := parseJSON(t, res.stdout)
		require.Len(t, r.Findings, 4)
		reasons := map[string]string{}
		for _, f := range r.Findings {
			reasons[f.Object.Kind+" "+f.Object.Name] = f.ExemptReason
		}
		assert.Equal(t, map[string]string{
			"Deployment gpu-driver": "the GPU driver loads a kernel module",
			"Pod debug-tools":       "",
		}, reasons)
	})
	t.Run("table output shows the exemption", func(t *testing.T) {
		res := run(t, nil, "check", "--config", cfg, "-f", nc("privileged-container.yaml"))
		assert.Equal(t, app.ExitOK, res.code, res.stderr)
		assert.Contains(t, res.stdout, "4.2.1  FAIL    exempt")
		assert.Contains(t, res.stdout, `container "app" must not set securityContext.privileged=true [exempt: the GPU driver loads a kernel module]`)
		assert.Contains(t, res.stdout, "eks-1.8.0: 1 objects checked, 0 FAIL (0 blocking), 0 WARN, 2 exempt")
	})
	t.Run("audit mode never fails", func(t *testing.T) {
		audit := writeConfig(t, "benchmark: eks-1.8.0\nmode: audit\n")
		res := run(t, nil, "check", "--config", audit, "-f", filepath.Join(corpus, "noncompliant"), "-o", "json")
		assert.Equal(t, app.ExitOK, res.code, res.stderr)
		r := parseJSON(t, res.stdout)
		assert.NotEmpty(t, r.ids("FAIL"))
		for _, f := range r.Findings {
			assert.Equal(t, "audit", f.Mode)
		}
	})
	t.Run("a per-check enforce in audit mode fails", func(t *testing.T) {
		mixed := writeConfig(t, "benchmark: eks-1.8.0\nmode: audit\nchecks: {privileged: enforce}\n")
		res := run(t, nil, "check", "--config", mixed, "-f", nc("privileged-pod.yaml"), "-o", "json")
		assert.Equal(t, app.ExitFindings, res.code, res.stderr)
		res = run(t, nil, "check", "--config", mixed, "-f", nc("host-ipc.yaml"), "-o", "json")
		assert.Equal(t, app.ExitOK, res.code, res.stderr)
	})
	t.Run("the default exempt namespaces apply with a config", func(t *testing.T) {
		defaults := writeConfig(t, "benchmark: eks-1.8.0\nmode: enforce\n")
		in := strings.NewReader(strings.ReplaceAll(readFile(t, nc("privileged-pod.yaml")), "namespace: shop", "namespace: kube-system"))
		res := run(t, in, "check", "--config", defaults, "-f", "-", "-o", "json")
		assert.Equal(t, app.ExitOK, res.code, res.stderr)
		r := parseJSON(t, res.stdout)
		require.NotEmpty(t, r.Findings)
		for _, f := range r.Findings {
			assert.Equal(t, "namespace kube-system is exempt", f.ExemptReason)
		}
	})
	t.Run("a Namespace's cisgate.io/mode label in the manifests sets the mode inside it", func(t *testing.T) {
		in := strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {cisgate.io/mode: audit}}\n---\n" + readFile(t, nc("privileged-pod.yaml")))
		res := run(t, in, "check", "-f", "-", "-o", "json")
		assert.Equal(t, app.ExitOK, res.code, res.stderr)
		r := parseJSON(t, res.stdout)
		assert.Equal(t, []string{"4.2.1", "4.2.5"}, r.ids("FAIL"))
		assert.Equal(t, "audit", r.Findings[0].Mode)
	})
	t.Run("a Namespace labelled off silences nothing and is reported (#9 item 1)", func(t *testing.T) {
		in := strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {cisgate.io/mode: \"off\"}}\n---\n" + readFile(t, nc("privileged-pod.yaml")))
		res := run(t, in, "check", "-f", "-", "-o", "json")
		assert.Equal(t, app.ExitFindings, res.code, res.stderr)
		r := parseJSON(t, res.stdout)
		assert.Equal(t, []string{"4.2.1", "4.2.5"}, r.ids("FAIL"))
		assert.Equal(t, []string{"cisgate.1"}, r.ids("WARN"), "eks-2.0.0 numbers no per-namespace NetworkPolicy check")
	})
	t.Run("5.1.4 runs with registries", func(t *testing.T) {
		regs := writeConfig(t, "benchmark: eks-1.8.0\nmode: enforce\nregistries: [\"123456789012.dkr.ecr.us-east-1.amazonaws.com/\"]\n")
		res := run(t, nil, "check", "--config", regs, "-f", filepath.Join(corpus, "compliant", "hardened-deployment.yaml"), "-o", "json")
		assert.Equal(t, app.ExitOK, res.code, res.stderr)
		res = run(t, nil, "check", "--config", regs, "-f", nc("ephemeral-debug-container.yaml"), "-o", "json")
		r := parseJSON(t, res.stdout)
		assert.Contains(t, r.ids("FAIL"), "5.1.4")
		for _, f := range r.Findings {
			if f.ID == "5.1.4" {
				assert.Equal(t, `ephemeral container "debugger-8x7vq" image "nicolaka/netshoot:v0.13" ("docker.io/nicolaka/netshoot") must come from an approved registry ("123456789012.dkr.ecr.us-east-1.amazonaws.com/")`, f.Detail)
			}
		}
	})
	t.Run("a bad config names the file and the key", func(t *testing.T) {
		bad := writeConfig(t, "benchmark: eks-1.8.0\nmode: enforce\nchecks: {\"4.2.9\": enforce}\n")
		res := run(t, nil, "check", "--config", bad, "-f", nc("privileged-pod.yaml"))
		assert.Equal(t, app.ExitUsage, res.code)
		assert.Equal(t, "error: "+bad+`: checks[4.2.9]: Invalid value: "4.2.9": no check with this ID or slug in benchmark eks-1.8.0`+"\n", res.stderr)
		assert.Empty(t, res.stdout)
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestCheckBenchmarkFlag(t *testing.T) {
	nc := func(name string) string { return filepath.Join(corpus, "noncompliant", name) }
	for _, tc := range []struct {
		file  string
		bench string
		fail  []string
	}{
		{"default-namespace-configmap.yaml", "eks-1.2.0", []string{"4.6.3"}},
		{"default-namespace-configmap.yaml", "eks-1.5.0", []string{"4.5.3"}},
		{"default-namespace-configmap.yaml", "eks-1.8.0", []string{"4.5.2"}},
		// 1.2.0 also carries root-containers, added-capabilities (4.2.7), capabilities-not-dropped (4.2.8), security-context (4.6.2).
		{"ephemeral-debug-container.yaml", "eks-1.2.0", []string{"4.2.1", "4.2.5", "4.2.8"}},
		{"wildcard-clusterrole.yaml", "eks-1.2.0", []string{"4.1.2", "4.1.3", "4.1.4", "4.1.8"}},
		{"wildcard-clusterrole.yaml", "eks-1.0.1", []string{"4.1.2", "4.1.3", "4.1.4"}},
		{"helm-template-mixed.yaml", "eks-1.2.0", []string{"4.1.5", "4.2.5", "4.2.6", "4.2.8", "4.4.1", "4.6.2", "5.4.5"}},
	} {
		t.Run(tc.bench+"/"+tc.file, func(t *testing.T) {
			res := run(t, nil, "check", "--benchmark", tc.bench, "-f", nc(tc.file), "-o", "json")
			assert.Equal(t, app.ExitFindings, res.code, res.stderr)
			r := parseJSON(t, res.stdout)
			assert.Equal(t, tc.bench, r.Benchmark)
			assert.Equal(t, tc.fail, r.ids("FAIL"))
		})
	}
	t.Run("the flag overrides the config's benchmark", func(t *testing.T) {
		cfg := writeConfig(t, "benchmark: eks-1.8.0\nmode: enforce\n")
		res := run(t, nil, "check", "--config", cfg, "--benchmark", "eks-1.5.0", "-f", nc("default-namespace-configmap.yaml"), "-o", "json")
		assert.Equal(t, app.ExitFindings, res.code, res.stderr)
		assert.Equal(t, []string{"4.5.3"}, parseJSON(t, res.stdout).ids("FAIL"))
	})
}

func TestCheckUsageErrors(t *testing.T) {
	pod := filepath.Join(corpus, "noncompliant", "privileged-pod.yaml")
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no file", []string{"check"}, "-f/--filename is required (a file, a directory or -)"},
		{"bad output", []string{"check", "-f", pod, "-o", "yaml"}, `--output must be one of table, json, junit, sarif, got "yaml"`},
		{"bad benchmark", []string{"check", "-f", pod, "--benchmark", "eks-9.9.9"}, `--benchmark: unknown benchmark "eks-9.9.9"`},
		{"unknown flag", []string{"check", "-f", pod, "--strict"}, "unknown flag: --strict"},
		{"positional argument", []string{"check", "-f", pod, "extra.yaml"}, `unknown command "extra.yaml"`},
		{"missing file", []string{"check", "-f", "does-not-exist.yaml"}, `the path "does-not-exist.yaml" does not exist`},
		{"missing config", []string{"check", "-f", pod, "--config", "no-config.yaml"}, "no-config.yaml: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, nil, tc.args...)
			assert.Equal(t, app.ExitUsage, res.code)
			assert.Contains(t, res.stderr, tc.want)
		})
	}
	t.Run("validation reports every problem", func(t *testing.T) {
		res := run(t, nil, "check", "-o", "xml", "--benchmark", "cis-1.8")
		assert.Contains(t, res.stderr, "-f/--filename is required")
		assert.Contains(t, res.stderr, `--benchmark: unknown benchmark "cis-1.8"`)
		assert.Contains(t, res.stderr, `--output must be one of table, json, junit, sarif, got "xml"`)
	})
}

// TestCheckGolden renders the whole corpus in every format, from the repository root as a CI job
// would run it. go test ./cmd/cisgate/app/ -run TestCheckGolden -update rewrites the files.
func TestCheckGolden(t *testing.T) {
	testdata, err := filepath.Abs("testdata")
	require.NoError(t, err)
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	t.Chdir(root)
	for _, tc := range []struct{ format, file string }{
		{"table", "check-corpus.txt"},
		{"json", "check-corpus.json"},
		{"junit", "check-corpus.junit.xml"},
		{"sarif", "check-corpus.sarif"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			res := run(t, nil, "check", "-f", "test/testdata/manifests/compliant", "-f", "test/testdata/manifests/noncompliant", "-o", tc.format)
			assert.Equal(t, app.ExitFindings, res.code, res.stderr)
			assert.Empty(t, res.stderr)
			golden.Assert(t, filepath.Join(testdata, tc.file), []byte(res.stdout))
		})
	}
}

// TestCheckList renders the catalogue of the default and the oldest benchmark.
// go test ./cmd/cisgate/app/ -run TestCheckList -update rewrites the files.
func TestCheckList(t *testing.T) {
	for _, tc := range []struct{ benchmark, format, file string }{
		{"eks-2.0.0", "table", "check-list-eks-2.0.0.txt"},
		{"eks-2.0.0", "json", "check-list-eks-2.0.0.json"},
		{"eks-1.8.0", "table", "check-list-eks-1.8.0.txt"},
		{"eks-1.0.1", "table", "check-list-eks-1.0.1.txt"},
	} {
		t.Run(tc.benchmark+"/"+tc.format, func(t *testing.T) {
			res := run(t, nil, "check", "--list", "--benchmark", tc.benchmark, "-o", tc.format)
			require.Equal(t, app.ExitOK, res.code, res.stderr)
			golden.Assert(t, filepath.Join("testdata", tc.file), []byte(res.stdout))
		})
	}
	res := run(t, nil, "check", "--list", "--benchmark", "eks-9.9.9")
	assert.Equal(t, app.ExitUsage, res.code)
	assert.Contains(t, res.stderr, `--benchmark: unknown benchmark "eks-9.9.9"`)
	res = run(t, nil, "check", "--list", "-o", "sarif")
	assert.Equal(t, app.ExitUsage, res.code)
	assert.Contains(t, res.stderr, `"sarif"`)
}

// TestCheckListKept: the JSON list has every item of the benchmark with its ID in every version
// and the benchmark's Automated/Manual, and the checks the benchmark does not number apart, the
// one the config keeps marked as running.
func TestCheckListKept(t *testing.T) {
	config := writeConfig(t, "benchmark: eks-2.0.0\nchecks: {root-containers: audit}\n")
	res := run(t, nil, "check", "--list", "--config", config, "-o", "json")
	require.Equal(t, app.ExitOK, res.code, res.stderr)
	var list app.CatalogueList
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &list))
	assert.Equal(t, policy.EKS200, list.Benchmark)
	bySlug := map[policy.Slug]app.ListedItem{}
	for _, it := range list.Items {
		bySlug[it.Slug] = it
	}
	cat, err := policy.CatalogueFor(policy.EKS200)
	require.NoError(t, err)
	for _, e := range cat.Entries() {
		it, ok := bySlug[e.Slug]
		require.True(t, ok, e.Slug)
		assert.Equal(t, app.ListedItem{ID: e.ID, Slug: e.Slug, Title: e.Title, Numbered: true, Assessment: e.Assessment,
			DecidedBy: it.DecidedBy, Decides: it.Decides, Versions: it.Versions}, it)
		assert.Equal(t, app.ListedVersion{ID: e.ID, Assessment: e.Assessment}, it.Versions[policy.EKS200])
	}
	assert.Equal(t, "aws", bySlug["access-entries"].DecidedBy)
	assert.Equal(t, "nodescan", bySlug["serving-cert-rotation"].DecidedBy)
	assert.Equal(t, "manual", bySlug["workload-network-policy"].DecidedBy)
	assert.Equal(t, "check", bySlug["lb-tls"].DecidedBy)
	assert.Equal(t, map[policy.Benchmark]app.ListedVersion{
		"eks-1.0.1": {"5.4.5", policy.Manual}, "eks-1.1.0": {"5.4.5", policy.Manual}, "eks-1.2.0": {"5.4.5", policy.Manual},
		"eks-1.5.0": {"5.4.5", policy.Manual}, "eks-1.7.0": {"5.4.5", policy.Manual}, "eks-1.8.0": {"5.4.5", policy.Manual},
		"eks-2.0.0": {"5.4.4", policy.Manual},
	}, bySlug["lb-tls"].Versions)

	root := bySlug["root-containers"]
	assert.Equal(t, app.ListedItem{ID: "root-containers", Slug: "root-containers", Title: "Minimize the admission of root containers",
		Kept: true, DecidedBy: "check", Decides: root.Decides, Versions: map[policy.Benchmark]app.ListedVersion{
			"eks-1.0.1": {"4.2.6", policy.Automated}, "eks-1.1.0": {"4.2.6", policy.Automated}, "eks-1.2.0": {"4.2.6", policy.Automated}}}, root)
	assert.False(t, bySlug["namespace-network-policy"].Numbered)
	assert.False(t, bySlug["namespace-network-policy"].Kept)

	res = run(t, nil, "check", "--list", "--config", config)
	require.Equal(t, app.ExitOK, res.code, res.stderr)
	assert.Regexp(t, `(?m)^root-containers +kept by the config +4\.2\.6 \(eks-1\.0\.1 to eks-1\.2\.0\)`, res.stdout)
	assert.Regexp(t, `(?m)^namespace-network-policy +no +4\.3\.2 \(eks-1\.0\.1 to eks-1\.8\.0\)`, res.stdout)
}

// TestCheckBenchmarkRebasesConfigIDs: a config's IDs are those of its own `benchmark`; with
// --benchmark V they name the same checks, by slug, under V's IDs. The capability items were
// renumbered between versions (CIS Amazon EKS Benchmark v1.0.1: 4.2.7 NET_RAW, 4.2.8 added
// capabilities, 4.2.9 capabilities assigned; v1.2.0 dropped the NET_RAW item: 4.2.7 added
// capabilities, 4.2.8 capabilities assigned), so resolving the config's IDs against V would
// switch off or exempt another check than the one the config names (issue #9 item 9).
func TestCheckBenchmarkRebasesConfigIDs(t *testing.T) {
	// Adds NET_RAW and drops nothing: net-raw (1.0.1 only), added-capabilities and
	// capabilities-not-dropped all FAIL.
	pod := filepath.Join(t.TempDir(), "pod.yaml")
	require.NoError(t, os.WriteFile(pod, []byte(`apiVersion: v1
kind: Pod
metadata: {name: tools, namespace: shop}
spec:
  serviceAccountName: tools
  containers:
    - name: tools
      image: registry.example/tools:1
      securityContext:
        allowPrivilegeEscalation: false
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
        capabilities: {add: ["NET_RAW"]}
`), 0o644))
	for _, tc := range []struct {
		name   string
		config string
		bench  string
		fail   []string // FAIL IDs among 4.2.7-4.2.9, exempt ones included
		exempt []string // of those, the exempt ones
		usage  string   // when set: exit 2 and this in stderr
	}{
		{
			name:   "an ID switched off follows its check to the new number",
			config: "benchmark: eks-1.0.1\nmode: enforce\nchecks: {\"4.2.8\": \"off\"}\n", // added-capabilities
			bench:  "eks-1.2.0",
			fail:   []string{"4.2.8"}, // capabilities-not-dropped; added-capabilities (1.2.0's 4.2.7) is off
		},
		{
			name:   "and back to the older numbering",
			config: "benchmark: eks-1.2.0\nmode: enforce\nchecks: {\"4.2.7\": \"off\"}\n", // added-capabilities
			bench:  "eks-1.0.1",
			fail:   []string{"4.2.7", "4.2.9"}, // net-raw and capabilities-not-dropped; 4.2.8 is off
		},
		{
			name:   "a slug needs no rebasing",
			config: "benchmark: eks-1.0.1\nmode: enforce\nchecks: {\"added-capabilities\": \"off\"}\n",
			bench:  "eks-1.2.0",
			fail:   []string{"4.2.8"},
		},
		{
			name:   "an exemption rule's IDs follow their checks",
			config: "benchmark: eks-1.0.1\nmode: enforce\nexemptions:\n  rules: [{checks: [\"4.2.8\"], namespace: shop, reason: vendor image}]\n",
			bench:  "eks-1.2.0",
			fail:   []string{"4.2.7", "4.2.8"},
			exempt: []string{"4.2.7"},
		},
		{
			name:   "the config's own benchmark changes nothing",
			config: "benchmark: eks-1.2.0\nmode: enforce\nchecks: {\"4.2.7\": \"off\"}\n",
			bench:  "eks-1.2.0",
			fail:   []string{"4.2.8"},
		},
		{
			name:   "an object check the other version does not number is kept under its slug",
			config: "benchmark: eks-1.0.1\nmode: enforce\nchecks: {\"4.2.7\": \"audit\"}\n", // net-raw
			bench:  "eks-1.2.0",
			fail:   []string{"4.2.7", "4.2.8", "net-raw"},
		},
		{
			name:   "and an exemption rule may name it",
			config: "benchmark: eks-1.0.1\nmode: enforce\nchecks: {net-raw: enforce}\nexemptions:\n  rules: [{checks: [\"4.2.1\", \"net-raw\"], namespace: legacy, reason: r}]\n",
			bench:  "eks-1.5.0",
			fail:   []string{"net-raw"}, // the rule is for namespace legacy, the pod in shop
		},
		{
			name:   "an item the other version lacks, and no config keeps, is refused, not dropped",
			config: "benchmark: eks-1.0.1\nmode: enforce\nexemptions:\n  rules: [{checks: [\"4.2.1\", \"5.6.1\"], reason: r}]\n",
			bench:  "eks-1.5.0",
			usage:  `exemptions.rules[0].checks[1]: Invalid value: "5.6.1": check 5.6.1 (fargate-untrusted-workloads) of benchmark eks-1.0.1 is not in benchmark eks-1.5.0`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, nil, "check", "--config", writeConfig(t, tc.config), "--benchmark", tc.bench, "-f", pod, "-o", "json")
			if tc.usage != "" {
				assert.Equal(t, app.ExitUsage, res.code)
				assert.Contains(t, res.stderr, "the config's IDs are those of benchmark eks-1.0.1 and cannot be rendered under "+tc.bench)
				assert.Contains(t, res.stderr, tc.usage)
				assert.Empty(t, res.stdout, "no report from a config that cannot be rebased")
				return
			}
			assert.Equal(t, app.ExitFindings, res.code, res.stderr)
			r := parseJSON(t, res.stdout)
			assert.Equal(t, tc.bench, r.Benchmark)
			fail, exempt := []string{}, []string{}
			for _, f := range r.Findings {
				// A kept check reports under its slug.
				if f.Status != "FAIL" || (!strings.HasPrefix(f.ID, "4.2.") || f.ID < "4.2.7") && f.ID != f.Slug {
					continue
				}
				fail = append(fail, f.ID)
				if f.ExemptReason != "" {
					exempt = append(exempt, f.ID)
				}
			}
			// net-raw reports both the added and the undropped NET_RAW: count IDs, not findings.
			assert.Equal(t, tc.fail, slices.Compact(fail))
			assert.Equal(t, nonNil(tc.exempt), slices.Compact(exempt))
		})
	}
}
