package evidence_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/evidence"
	"github.com/cisgate/cisgate/policy"
)

// host is a stand-in evidence type: the framework never looks inside it.
type host struct{ anonymous bool }

// The registry places each outcome under the benchmark's ID and title, sorted by ID, and leaves
// out a check the benchmark does not number. IDs from the catalogue (policy/catalogue), e.g.
// eks-1.8.0 3.1.3 kubelet-config-perms and 3.2.1 anonymous-auth.
func TestRegistryEvaluate(t *testing.T) {
	var r evidence.Registry[host]
	r.Register(&evidence.Check[host]{Slug: "anonymous-auth", Decides: "anonymous auth is off", Evaluate: func(h *host) evidence.Outcome {
		return evidence.Outcome{Status: evidence.PassOrFail(!h.anonymous), Expected: "false", Actual: "true", Source: "flag"}
	}})
	r.Register(&evidence.Check[host]{Slug: "kubelet-config-perms", Decides: "644", Evaluate: func(*host) evidence.Outcome {
		return evidence.Outcome{Status: policy.StatusPass}
	}})
	r.Register(&evidence.Check[host]{Slug: "not-in-any-benchmark", Decides: "x", Evaluate: func(*host) evidence.Outcome {
		t.Fatal("a check the benchmark does not carry is not evaluated")
		return evidence.Outcome{}
	}})
	cat, err := policy.CatalogueFor(policy.EKS180)
	require.NoError(t, err)
	anon, _ := cat.Entry("anonymous-auth")
	perms, _ := cat.Entry("kubelet-config-perms")

	got := r.Evaluate(&host{anonymous: true}, cat)
	require.Len(t, got, 2)
	assert.Equal(t, []string{perms.ID, anon.ID}, []string{got[0].ID, got[1].ID}, "sorted by ID")
	assert.Equal(t, policy.StatusFail, got[1].Status)
	assert.Equal(t, anon.Title, got[1].Title)
	assert.Equal(t, "flag", got[1].Source)
	assert.Equal(t, []policy.Slug{"anonymous-auth", "kubelet-config-perms", "not-in-any-benchmark"},
		[]policy.Slug{r.Checks()[0].Slug, r.Checks()[1].Slug, r.Checks()[2].Slug})
}
