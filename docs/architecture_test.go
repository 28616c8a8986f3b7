// Package docs holds the repository's documentation; its test keeps the worked examples of
// architecture.md true.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// section returns the text of a "## title" section of architecture.md.
func section(t *testing.T, title string) string {
	t.Helper()
	data, err := os.ReadFile("architecture.md")
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "\n## "+title+"\n")
	require.NotEqual(t, -1, start, "architecture.md has a section %q", title)
	text = text[start+len(title)+5:]
	if end := strings.Index(text, "\n## "); end != -1 {
		text = text[:end]
	}
	return text
}

// Go file paths a section names: anywhere in backticks, or as the head of a bullet (the files an
// example touches). A <slug> placeholder stands for the example's slug.
var (
	filesInBackticks = regexp.MustCompile("`([a-z_./<>-]+\\.go)`")
	filesInBullets   = regexp.MustCompile("(?m)^- `([a-z_./<>-]+\\.go)`")
)

// namedFiles are the repository paths a section names in the way re matches.
func namedFiles(t *testing.T, re *regexp.Regexp, text, slug string) []string {
	t.Helper()
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		out = append(out, strings.ReplaceAll(m[1], "<slug>", strings.ReplaceAll(slug, "-", "_")))
	}
	require.NotEmpty(t, out)
	return out
}

// sourcesMentioning lists the non-test Go files of the product packages that match re.
func sourcesMentioning(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"policy", "evidence", "nodescan", "cloudscan", "clusterstate", "webhook", "controller", "report", "openreports", "output", "manifest", "cmd"} {
		err := filepath.WalkDir(filepath.Join("..", dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if re.Match(data) {
				rel, _ := filepath.Rel("..", p)
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
		require.NoError(t, err)
	}
	return out
}

// assertListed: every file the section lists exists, and every product file that carries the
// example is listed, so a change that spreads a check or a setting over more files must say so.
func assertListed(t *testing.T, title, slug string, carries *regexp.Regexp) {
	t.Helper()
	listed := namedFiles(t, filesInBackticks, section(t, title), slug)
	for _, f := range listed {
		_, err := os.Stat(filepath.Join("..", f))
		assert.NoError(t, err, "%s lists %s", title, f)
	}
	for _, f := range sourcesMentioning(t, carries) {
		assert.True(t, slices.Contains(listed, f), "%s: %s carries the example %s but is not listed", title, f, slug)
	}
}

func TestAddingACheckListsItsFiles(t *testing.T) {
	carries := regexp.MustCompile(`"net-raw"`)
	assertListed(t, "Adding a check", "net-raw", carries)
	assertExampleCode(t, "Adding a check", "net-raw", carries)
}

func TestAddingAKindListsItsFiles(t *testing.T) {
	// The table's entry, the extractor's case and the audit's list; not the generated scope table,
	// which k8s.io/api feeds.
	assertListed(t, "Adding a kind", "CronJob", regexp.MustCompile(`"cronjobs"|"CronJob":|batchv1\.CronJob\b|CronJobs\(`))
}

// assertExampleCode: every file a section's bullets name as touched carries the example, and each
// Go block the section shows is in one of them, so the worked example stays the code's.
func assertExampleCode(t *testing.T, title, slug string, carries *regexp.Regexp) {
	t.Helper()
	text := section(t, title)
	touched := namedFiles(t, filesInBullets, text, slug)
	contents := map[string]string{}
	for _, f := range touched {
		data, err := os.ReadFile(filepath.Join("..", f))
		require.NoError(t, err)
		contents[f] = string(data)
		assert.Regexp(t, carries, contents[f], "%s is listed as touched but does not carry the example", f)
	}
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, snippets, "the section shows the example's code")
	for _, m := range snippets {
		assert.True(t, slices.ContainsFunc(touched, func(f string) bool {
			return strings.Contains(trimLines(contents[f]), trimLines(m[1]))
		}), "the example's code is in none of the touched files:\n%s", m[1])
	}
}

func TestAddingABenchmarkVersionListsItsFiles(t *testing.T) {
	carries := regexp.MustCompile(`\bEKS200\b`)
	assertListed(t, "Adding a benchmark version", "eks-2.0.0", carries)
	assertExampleCode(t, "Adding a benchmark version", "eks-2.0.0", carries)
}

func TestAddingAReportSinkListsItsFiles(t *testing.T) {
	// Where the sink is defined and where a publisher is given it; not the comments that name it.
	carries := regexp.MustCompile(`type ScanSink\b|ScanSink\{`)
	assertListed(t, "Adding a report sink", "ScanSink", carries)
	assertExampleCode(t, "Adding a report sink", "ScanSink", carries)
}

func TestAddingAKubeletSettingListsItsFiles(t *testing.T) {
	carries := regexp.MustCompile(`"event-qps"|eventRecordQPS|EventRecordQPS|EventQPS|flagEventQPS`)
	assertListed(t, "Adding a kubelet setting", "event-qps", carries)

	assertExampleCode(t, "Adding a kubelet setting", "event-qps", carries)
}

// trimLines drops each line's indentation and the blank lines, so that a snippet matches the
// code it was copied from whatever its indentation there.
func trimLines(s string) string {
	var lines []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
