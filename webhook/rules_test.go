package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/cisgate/cisgate/policy"
)

// flatten lists what rules send, one "OPERATION group/version/resource" each.
func flatten(rules []admissionregistrationv1.RuleWithOperations) []string {
	var out []string
	for _, r := range rules {
		for _, op := range r.Operations {
			for _, g := range r.APIGroups {
				for _, v := range r.APIVersions {
					for _, res := range r.Resources {
						out = append(out, string(op)+" "+g+"/"+v+"/"+res)
					}
				}
			}
		}
	}
	return out
}

// TestRulesFollowCheckedKinds: the rules send the CREATE and UPDATE of every checked kind and of
// its subresources, and the DELETE of the kinds decided on delete, and nothing else; the entry
// for default sends every namespaced kind, the checked subresources and the same DELETEs.
func TestRulesFollowCheckedKinds(t *testing.T) {
	var want, deletes, subresources []string
	for _, k := range policy.CheckedKinds() {
		gv := k.Group + "/" + k.Version + "/"
		if k.DeleteOnly {
			deletes = append(deletes, "DELETE "+gv+k.Resource)
			continue
		}
		want = append(want, "CREATE "+gv+k.Resource, "UPDATE "+gv+k.Resource)
		for _, sub := range k.Subresources {
			want = append(want, "CREATE "+gv+k.Resource+"/"+sub, "UPDATE "+gv+k.Resource+"/"+sub)
			subresources = append(subresources, "CREATE */*/"+k.Resource+"/"+sub, "UPDATE */*/"+k.Resource+"/"+sub)
		}
	}
	assert.ElementsMatch(t, append(want, deletes...), flatten(Rules()))
	assert.Contains(t, want, "UPDATE /v1/pods/ephemeralcontainers", "kubectl debug adds containers through the subresource")
	assert.Equal(t, []string{"DELETE networking.k8s.io/v1/networkpolicies"}, deletes)

	inDefault := append([]string{"CREATE */*/*", "UPDATE */*/*"}, subresources...)
	inDefault = append(inDefault, "CREATE /v1/namespaces", "UPDATE /v1/namespaces")
	assert.ElementsMatch(t, append(inDefault, deletes...), flatten(DefaultNamespaceRules()))
}
