package nodescan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxSymlinkHops bounds symlink resolution inside the host root, as the kernel's ELOOP does.
const maxSymlinkHops = 40

// Host is a node's filesystem seen through a root directory. Paths given to its methods are the
// node's own absolute paths (e.g. /etc/kubernetes/kubelet/config.json).
type Host struct {
	// Root is the directory where the node's / is mounted, e.g. /host.
	Root string
	// ProcRoot is the node's /proc. Empty means Root/proc; a Job with hostPID sets /proc.
	ProcRoot string
}

// procRoot is the directory holding the node's process entries.
func (h Host) procRoot() string {
	if h.ProcRoot != "" {
		return h.ProcRoot
	}
	return filepath.Join(h.Root, "proc")
}

// resolve maps a node path to the local path of what it names, following symlinks the way the
// node would: an absolute link target starts again at Root, never at the scanner's own /.
func (h Host) resolve(nodePath string) (string, error) {
	if !path.IsAbs(nodePath) {
		return "", fmt.Errorf("%s is not an absolute path", nodePath)
	}
	resolved := "/"
	pending := strings.Split(strings.TrimPrefix(path.Clean(nodePath), "/"), "/")
	hops := 0
	for len(pending) > 0 {
		part := pending[0]
		pending = pending[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, part)
		info, err := os.Lstat(h.local(next))
		if err != nil {
			// The remaining components cannot resolve; report the error on the full path.
			if len(pending) == 0 {
				return h.local(next), nil
			}
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		hops++
		if hops > maxSymlinkHops {
			return "", fmt.Errorf("%s: too many levels of symbolic links", nodePath)
		}
		target, err := os.Readlink(h.local(next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			resolved = "/"
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return h.local(resolved), nil
}

// local is the scanner's path of a node path, without following symlinks.
func (h Host) local(nodePath string) string {
	return filepath.Join(h.Root, filepath.FromSlash(nodePath))
}

// Stat is os.Stat of a node path, following symlinks inside the root.
func (h Host) Stat(nodePath string) (fs.FileInfo, error) {
	p, err := h.resolve(nodePath)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: nodePath, Err: unwrapPathError(err)}
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: nodePath, Err: unwrapPathError(err)}
	}
	return info, nil
}

// ReadFile reads a node path, following symlinks inside the root.
func (h Host) ReadFile(nodePath string) ([]byte, error) {
	p, err := h.resolve(nodePath)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: nodePath, Err: unwrapPathError(err)}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: nodePath, Err: unwrapPathError(err)}
	}
	return data, nil
}

// exists reports whether a node path names something; errors other than not-found count as
// present, so that the caller reads the file and reports the real error.
func (h Host) exists(nodePath string) bool {
	_, err := h.Stat(nodePath)
	return !errors.Is(err, fs.ErrNotExist)
}

// unwrapPathError drops the scanner-side path from an error, so that messages name node paths.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
