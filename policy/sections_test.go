package policy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSectionTitles: every numbered check of every version sits in a section that version names
// (drift in the catalogue's numbering fails here), and the titles are the versions' own: kube-bench
// cfg/eks-1.2.0/node.yaml group 3.3, cfg/eks-1.0.1/managedservices.yaml group 5.3,
// cfg/eks-1.8.0/policies.yaml group 4.2, cfg/eks-2.0.0/policies.yaml group 4.5.
func TestSectionTitles(t *testing.T) {
	for _, b := range Benchmarks() {
		cat, err := CatalogueFor(b)
		require.NoError(t, err)
		for _, e := range cat.Entries() {
			if e.ID == NamespaceModeLabelID {
				continue
			}
			s, ok := SectionOf(e.ID)
			require.True(t, ok, "%s %s has a section", b, e.ID)
			_, ok = SectionTitle(b, s)
			require.True(t, ok, "%s names section %s of %s", b, s, e.ID)
		}
	}
	for _, c := range []struct {
		b              Benchmark
		section, title string
	}{
		{EKS120, "3.3", "Container Optimized OS"},
		{EKS101, "5.3", "AWS Key Management Service (KMS)"},
		{EKS180, "4.2", "Pod Security Standards"},
		{EKS110, "4.2", "Pod Security Policies"},
		{EKS200, "4.5", "General Policies"},
		{EKS200, "5.3", "AWS EKS Key Management Service"},
	} {
		got, ok := SectionTitle(c.b, c.section)
		require.True(t, ok)
		require.Equal(t, c.title, got, "%s %s", c.b, c.section)
	}
	for _, c := range []struct {
		b       Benchmark
		section string
	}{{EKS180, "3.3"}, {EKS200, "4.6"}, {EKS150, "5.6"}, {"eks-9.9.9", "4.2"}} {
		_, ok := SectionTitle(c.b, c.section)
		require.False(t, ok, "%s has no section %s", c.b, c.section)
	}
	for id, want := range map[string]string{"4.2.1": "4.2", "3.1.10": "3.1", "namespace-network-policy": "", "cisgate.1": "", "4": ""} {
		got, ok := SectionOf(id)
		require.Equal(t, want, got, id)
		require.Equal(t, want != "", ok, id)
	}
}
