package policy

import (
	"errors"
	"strings"

	"github.com/distribution/reference"
)

// approved-registries: every container image comes from one of the configured registries. An
// image is read as the container runtime reads it (github.com/distribution/reference's
// ParseNormalizedNamed, which containerd and the kubelet use): "nginx" is
// docker.io/library/nginx, and the tag and digest are no part of the match. A registries entry
// is a host with an optional repository path, and it matches on boundaries: the host exactly, the
// path as a whole number of path components, so "registry.example.com" does not approve
// "registry.example.com.evil.io/app", nor "ecr.example/team" approve "ecr.example/team-b/app".
// Image volumes (spec.volumes[].image.reference, KEP-4639) are pulled by the kubelet like
// container images (k8s.io/api core/v1 ImageVolumeSource.Reference: "Behaves in the same way as
// pod.spec.containers[*].image"), so their references are held to the same list. An image that cannot be parsed fails. With no registries configured the check is off
// (Policy.ModeFor says so).

func init() {
	c := containerCheck("approved-registries",
		"every container image and image volume reference, normalised as the runtime reads it (nginx is docker.io/library/nginx), "+
			"comes from a configured registry host and path", allPods, approvedRegistries)
	containers := c.Evaluate
	c.Evaluate = func(in *Input) []Finding { return append(containers(in), approvedImageVolumes(in)...) }
	register(c)
}

func approvedRegistries(in *Input, c Container) []Finding {
	if len(in.Settings.Registries) == 0 {
		return nil
	}
	return unapprovedImage(in, c.Field("image"), c.Describe()+" image", c.Image)
}

func approvedImageVolumes(in *Input) []Finding {
	if len(in.Settings.Registries) == 0 {
		return nil
	}
	var out []Finding
	for i, v := range in.Pod.Spec.Volumes {
		if v.Image != nil {
			path := indexed(in.Pod.Field("volumes"), i) + ".image.reference"
			// The message names the path: a volume has no container to describe it by.
			out = append(out, unapprovedImage(in, path, "image volume "+quote(v.Name)+": "+path, v.Image.Reference)...)
		}
	}
	return out
}

// unapprovedImage fails the image at path, described as what, unless an approved registry holds it.
func unapprovedImage(in *Input, path, what, image string) []Finding {
	img, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return []Finding{fail(path, what+" "+quote(image)+
			" cannot be read as an image reference ("+err.Error()+"); it must name an image of an approved registry ("+quoteList(in.Settings.Registries)+")")}
	}
	domain, repo := reference.Domain(img), reference.Path(img)
	for _, r := range in.Settings.registries {
		if r.matches(domain, repo) {
			return nil
		}
	}
	return []Finding{fail(path, what+" "+quote(image)+" ("+quote(img.Name())+
		") must come from an approved registry ("+quoteList(in.Settings.Registries)+")")}
}

// registry is one registries entry: a host and an optional repository path.
type registry struct{ domain, path string }

// parseRegistry reads an entry ("registry.example.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com/",
// "docker.io/library") as the runtime would read an image under it, so an entry and an image are
// normalised alike ("docker.io/library" is what "nginx" lives under).
func parseRegistry(entry string) (registry, error) {
	trimmed := strings.TrimSuffix(entry, "/")
	if strings.TrimSpace(trimmed) == "" {
		return registry{}, errors.New("must not be empty")
	}
	if strings.Contains(entry, "://") {
		return registry{}, errors.New("must be a registry host with an optional repository path, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com or ghcr.io/my-org")
	}
	// A placeholder repository below the entry makes it a parsable image name.
	named, err := reference.ParseNormalizedNamed(trimmed + "/x")
	if err != nil {
		return registry{}, err
	}
	if _, tagged := named.(reference.Tagged); tagged {
		return registry{}, errors.New("must not carry a tag")
	}
	return registry{domain: reference.Domain(named), path: strings.TrimSuffix(strings.TrimSuffix(reference.Path(named), "x"), "/")}, nil
}

func (r registry) matches(domain, path string) bool {
	if domain != r.domain {
		return false
	}
	return r.path == "" || path == r.path || strings.HasPrefix(path, r.path+"/")
}

func parseRegistries(entries []string) []registry {
	out := make([]registry, 0, len(entries))
	for _, e := range entries {
		if r, err := parseRegistry(e); err == nil {
			out = append(out, r)
		}
	}
	return out
}
