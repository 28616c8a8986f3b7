package policy

// linuxOnly marks a container check that does not apply to Windows pods (spec.os.name=windows):
// the fields it reads are Linux-only in the API (Kubernetes API reference, PodSpec.os), as Pod
// Security Admission skips them.
type linuxOnly bool

const (
	allPods      linuxOnly = false
	linuxPodOnly linuxOnly = true
)

// containerCheck builds a check that decides each container of a pod spec (init, regular and
// ephemeral, through VisitContainers) on its own; decide is a named function, so a panic or a
// profile names the check. It is the container counterpart of ruleCheck.
func containerCheck(slug Slug, decides string, only linuxOnly, decide func(*Input, Container) []Finding) *Check {
	return &Check{
		Slug:      slug,
		Decides:   decides,
		Targets:   []Target{TargetPodSpec},
		container: &only,
		Evaluate: func(in *Input) []Finding {
			if only == linuxPodOnly && in.Pod.IsWindows() {
				return nil
			}
			var out []Finding
			VisitContainers(in.Pod, func(c Container) { out = append(out, decide(in, c)...) })
			return out
		},
	}
}
