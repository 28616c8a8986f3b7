package policy

import "strings"

// SectionOf is the benchmark section of a numbered ID, its first two parts ("4.2" of "4.2.1");
// false for an ID that has none (a slug, cisgate's own).
func SectionOf(id string) (string, bool) {
	major, rest, ok := strings.Cut(id, ".")
	minor, _, _ := strings.Cut(rest, ".")
	if !ok || minor == "" || strings.Trim(major, "0123456789") != "" || major == "" {
		return "", false
	}
	return major + "." + minor, true
}

// SectionTitle is the title a benchmark version gives a section, e.g. "Pod Security Standards"
// for "4.2" of eks-1.8.0; false when the version has no such section.
func SectionTitle(b Benchmark, section string) (string, bool) {
	if t, ok := sectionTitles[b][section]; ok {
		return t, true
	}
	if _, known := sectionTitles[b]; !known {
		return "", false
	}
	t, ok := sectionTitles[""][section]
	return t, ok
}

// sectionTitles are the versions' section titles, as their group headings in kube-bench's
// cfg/eks-<version>/*.yaml (text: of each group) carry them; "" holds those every version
// shares unless its own row names the section otherwise. Up to 1.2.0 the benchmark had Pod
// Security Policies in 4.2, a 4.5 on admission control, the general policies in 4.6, a 5.6 and
// its KMS section worded differently; 1.1.0 and 1.2.0 add 3.3 on Container Optimized OS. 1.5.0
// renamed 4.2, moved the general policies to 4.5 and dropped 5.6; 2.0.0 keeps 1.5.0's titles.
var sectionTitles = map[Benchmark]map[string]string{
	"": {
		"2.1": "Logging",
		"3.1": "Worker Node Configuration Files",
		"3.2": "Kubelet",
		"4.1": "RBAC and Service Accounts",
		"4.2": "Pod Security Standards",
		"4.3": "CNI Plugin",
		"4.4": "Secrets Management",
		"4.5": "General Policies",
		"5.1": "Image Registry and Image Scanning",
		"5.2": "Identity and Access Management (IAM)",
		"5.3": "AWS EKS Key Management Service",
		"5.4": "Cluster Networking",
		"5.5": "Authentication and Authorization",
	},
	EKS101: v1early(),
	EKS110: v1early("3.3", "Container Optimized OS"),
	EKS120: v1early("3.3", "Container Optimized OS"),
	EKS150: {},
	EKS170: {},
	EKS180: {},
	EKS200: {},
}

// v1early is the row of 1.0.1 to 1.2.0, with the extra sections given as section, title pairs.
func v1early(extra ...string) map[string]string {
	m := map[string]string{
		"4.2": "Pod Security Policies", "4.5": "Extensible Admission Control", "4.6": "General Policies",
		"5.3": "AWS Key Management Service (KMS)", "5.6": "Other Cluster Configurations",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}
