package cloudscan_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/policy"
)

// The catalogue's SectionCloud items and the cloud scan's checks are the same set: a check the
// catalogue does not file under SectionCloud, or an item nobody decides, fails here.
func TestEveryCloudItemHasACheck(t *testing.T) {
	checks := map[policy.Slug]bool{}
	for _, c := range cloudscan.Checks() {
		require.False(t, checks[c.Slug], "%s registered twice", c.Slug)
		checks[c.Slug] = true
		assert.NotEmpty(t, c.Decides, c.Slug)
	}
	items := map[policy.Slug]bool{}
	for _, b := range policy.Benchmarks() {
		cat, err := policy.CatalogueFor(b)
		require.NoError(t, err)
		for _, e := range cat.Entries() {
			if e.Section == policy.SectionCloud {
				items[e.Slug] = true
			}
			if checks[e.Slug] {
				assert.Equal(t, policy.SectionCloud, e.Section, "%s in %s", e.Slug, b)
			}
		}
	}
	assert.Equal(t, items, checks)
}
