package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// HostPath is a node path the cluster operator adds to the scan Job's read-only mounts (the
// chart's nodeScan.extraHostPaths), for a kubelet whose files live outside the known layouts.
// It is mounted at the same path under the scan's host root.
type HostPath struct {
	// Name is the volume's name; empty: derived from the path.
	Name string
	// Path is the absolute node path.
	Path string
	// Type is the hostPath type; empty: none, as in Kubernetes (a missing path is then created
	// on the node as an empty directory, so name the type when you can).
	Type corev1.HostPathType
}

// hostPathTypes a read-only scan may mount: no *OrCreate type, which would write to the node.
var hostPathTypes = []corev1.HostPathType{corev1.HostPathUnset, corev1.HostPathDirectory, corev1.HostPathFile, corev1.HostPathSocket}

// ParseHostPath reads the flag form path=/p[,type=File][,name=n]. Keys and values are split on
// the first '=' of each comma-separated part; a path with a comma is not accepted.
func ParseHostPath(s string) (HostPath, error) {
	var hp HostPath
	for _, part := range strings.Split(s, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return HostPath{}, fmt.Errorf("host path %q: %q is not key=value (keys: path, type, name)", s, part)
		}
		switch key {
		case "path":
			hp.Path = value
		case "type":
			hp.Type = corev1.HostPathType(value)
		case "name":
			hp.Name = value
		default:
			return HostPath{}, fmt.Errorf("host path %q: unknown key %q (keys: path, type, name)", s, key)
		}
	}
	return hp, hp.validate()
}

// String is the flag form ParseHostPath reads.
func (hp HostPath) String() string {
	s := "path=" + hp.Path
	if hp.Type != "" {
		s += ",type=" + string(hp.Type)
	}
	if hp.Name != "" {
		s += ",name=" + hp.Name
	}
	return s
}

func (hp HostPath) validate() error {
	switch {
	case !path.IsAbs(hp.Path) || path.Clean(hp.Path) != hp.Path || hp.Path == "/":
		// "/" would hand the scanner every Pod's Secrets under /var/lib/kubelet.
		return fmt.Errorf("host path %q: the path must be absolute, clean and not /", hp.Path)
	case !slices.Contains(hostPathTypes, hp.Type):
		return fmt.Errorf("host path %q: type %q is not one of %q", hp.Path, hp.Type, hostPathTypes)
	}
	if hp.Name != "" {
		if errs := validation.IsDNS1123Label(hp.Name); len(errs) > 0 {
			return fmt.Errorf("host path %q: name %q: %s", hp.Path, hp.Name, strings.Join(errs, "; "))
		}
	}
	return nil
}

// volumeName is Name, else "extra-" and a hash of the path: a DNS label, distinct per path.
func (hp HostPath) volumeName() string {
	if hp.Name != "" {
		return hp.Name
	}
	sum := sha256.Sum256([]byte(hp.Path))
	return "extra-" + hex.EncodeToString(sum[:6])
}

// hostPathFlag is the repeatable --nodescan-extra-host-path flag.
type hostPathFlag struct{ paths *[]HostPath }

func (f hostPathFlag) String() string {
	if f.paths == nil {
		return ""
	}
	parts := make([]string, len(*f.paths))
	for i, hp := range *f.paths {
		parts[i] = hp.String()
	}
	return strings.Join(parts, ";")
}

func (f hostPathFlag) Set(s string) error {
	hp, err := ParseHostPath(s)
	if err != nil {
		return err
	}
	*f.paths = append(*f.paths, hp)
	return nil
}

func (hostPathFlag) Type() string { return "path=PATH[,type=TYPE][,name=NAME]" }

// extraMounts are the operator's host paths as mounts; a path the built-in mounts already cover
// is mounted again, which is harmless.
func (o NodeScanOptions) extraMounts() []hostMount {
	mounts := make([]hostMount, len(o.ExtraHostPaths))
	for i, hp := range o.ExtraHostPaths {
		mounts[i] = hostMount{volume: hp.volumeName(), nodePath: hp.Path, pathType: hp.Type}
	}
	return mounts
}
