package cloudscan_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/cloudscan"
)

// docs/install.md's IAM policy names exactly the actions the scan calls.
func TestInstallDocIAMPolicy(t *testing.T) {
	doc, err := os.ReadFile("../docs/install.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	var actions []string
	for _, b := range blocks {
		var policy struct {
			Statement []struct {
				Action []string
			}
		}
		if json.Unmarshal(b[1], &policy) != nil {
			continue
		}
		for _, st := range policy.Statement {
			actions = append(actions, st.Action...)
		}
	}
	want := cloudscan.IAMActions()
	slices.Sort(actions)
	slices.Sort(want)
	assert.Equal(t, want, actions)
}
