package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRBACVerbTable holds the table of RBAC verbs to its form: each row cites where Kubernetes
// authorizes it, names its verb once, and an escalation row says what it acts on (or why any
// resource); a prefix row stands for impersonate-on:<mode>:<verb>, whose mode is one of the
// impersonate:<mode> rows.
func TestRBACVerbTable(t *testing.T) {
	seen := map[string]bool{}
	modes := map[string]bool{}
	for _, v := range rbacVerbs {
		if mode, ok := strings.CutPrefix(v.verb, "impersonate:"); ok {
			modes[mode] = true
		}
	}
	for _, v := range rbacVerbs {
		assert.False(t, seen[v.verb], "verb %q has two rows", v.verb)
		seen[v.verb] = true
		assert.NotEmpty(t, v.source, "verb %q cites no Kubernetes source", v.verb)
		if v.escalation {
			assert.True(t, len(v.on) > 0 || v.notByStar, "escalation verb %q names no resources it acts on", v.verb)
		}
		if rest, ok := strings.CutPrefix(v.verb, "impersonate-on:"); ok {
			mode, tail, _ := strings.Cut(rest, ":")
			assert.True(t, modes[mode] && tail == "" && strings.HasSuffix(v.verb, ":"), "%q is no impersonate-on:<mode>: prefix of a known mode", v.verb)
		}
	}
}

// TestRuleChecksUseTheVerbTable: every verb a registered check judges is a row of the table, and
// a check naming another is refused, so a verb cannot be judged without its row.
func TestRuleChecksUseTheVerbTable(t *testing.T) {
	judged := 0
	for _, c := range builtin {
		for _, v := range c.verbs {
			_, ok := verbRow(v)
			assert.True(t, ok, "check %q judges verb %q, which rbacVerbs lacks", c.Slug, v)
			judged++
		}
	}
	require.NotZero(t, judged)
	bad := ruleCheck("create-pods", "x", "x", []string{"spawn"}, resourceRef{resource: "pods"})
	_, err := NewRegistry([]*Check{bad})
	require.ErrorContains(t, err, `verb "spawn" is not in the table of RBAC verbs`)
}
