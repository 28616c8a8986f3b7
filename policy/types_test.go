package policy_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cisgate/cisgate/policy"
)

func TestCompareIDs(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"4.1.9", "4.1.10", -1},
		{"4.1.10", "4.2.1", -1},
		{"4.1.9", "4.2.1", -1},
		{"3.2.11", "3.2.9", 1},
		{"3.2.9", "4.1.1", -1},
		{"5.4.5", "5.1.4", 1},
		{"4.2.1", "4.2.1", 0},
		{"4.1", "4.1.1", -1},
		{"4.1.1", "4.1", 1},
		{"10.1", "9.1", 1},
	} {
		assert.Equal(t, tc.want, policy.CompareIDs(tc.a, tc.b), "CompareIDs(%q, %q)", tc.a, tc.b)
		assert.Equal(t, -tc.want, policy.CompareIDs(tc.b, tc.a), "CompareIDs(%q, %q)", tc.b, tc.a)
	}
	ids := []string{"4.2.1", "4.1.12", "3.2.11", "4.1.9", "5.1.4", "4.1.10", "3.2.9", "4.1.1"}
	slices.SortFunc(ids, policy.CompareIDs)
	assert.Equal(t, []string{"3.2.9", "3.2.11", "4.1.1", "4.1.9", "4.1.10", "4.1.12", "4.2.1", "5.1.4"}, ids)
}
