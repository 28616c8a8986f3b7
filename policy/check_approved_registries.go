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
// An image that cannot be parsed fails. With no registries configured the check is off
// (Policy.ModeFor says so).

func init() {
	register(containerCheck("approved-registries",
		"every container image, normalised as the runtime reads it (nginx is docker.io/library/nginx), comes from a configured registry host and path",
		allPods, approvedRegistries))
}

func approvedRegistries(in *Input, c Container) []Finding {
	allowed := in.Settings.registries
	if len(in.Settings.Registries) == 0 {
		return nil
	}
	img, err := reference.ParseNormalizedNamed(c.Image)
	if err != nil {
		return []Finding{fail(c.Field("image"), c.Describe()+" image "+quote(c.Image)+
			" cannot be read as an image reference ("+err.Error()+"); it must name an image of an approved registry ("+quoteList(in.Settings.Registries)+")")}
	}
	domain, path := reference.Domain(img), reference.Path(img)
	for _, r := range allowed {
		if r.matches(domain, path) {
			return nil
		}
	}
	return []Finding{fail(c.Field("image"), c.Describe()+" image "+quote(c.Image)+" ("+quote(img.Name())+
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
