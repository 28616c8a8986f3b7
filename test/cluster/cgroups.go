package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupFS is where the cgroup v1 hierarchies are mounted (the kubelet runs with
// failCgroupV1: false and the cgroupfs driver on these machines).
const cgroupFS = "/sys/fs/cgroup"

// cgroupTree is one cgroup of the same name in every v1 hierarchy. The cluster's processes live
// in <name>/system (the daemons, and so every containerd shim), the kubelet's pods under
// <name>/pods (its cgroupRoot). Teardown kills every process found in the tree and removes it:
// whatever was started, however it was left, nothing survives.
type cgroupTree struct{ name string }

func (c cgroupTree) hierarchies() ([]string, error) {
	entries, err := os.ReadDir(cgroupFS)
	if err != nil {
		return nil, err
	}
	var hs []string
	for _, e := range entries {
		// Co-mounted controllers appear once as a directory and again as symlinks (cpu -> cpu,cpuacct).
		if e.IsDir() && e.Type()&fs.ModeSymlink == 0 {
			hs = append(hs, filepath.Join(cgroupFS, e.Name()))
		}
	}
	if len(hs) == 0 {
		return nil, errors.New("no cgroup v1 hierarchy under " + cgroupFS)
	}
	return hs, nil
}

// create makes <name>/sub in every hierarchy; cpuset children start with no CPUs or memory
// nodes, so they get their parent's.
func (c cgroupTree) create(subs ...string) error {
	hs, err := c.hierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		for _, dir := range append([]string{c.name}, prefixAll(c.name+"/", subs)...) {
			p := filepath.Join(h, dir)
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			if filepath.Base(h) == "cpuset" {
				for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
					v, err := os.ReadFile(filepath.Join(filepath.Dir(p), f))
					if err != nil {
						return err
					}
					if err := os.WriteFile(filepath.Join(p, f), v, 0o644); err != nil {
						return fmt.Errorf("%s: %w", filepath.Join(p, f), err)
					}
				}
			}
		}
	}
	return nil
}

func prefixAll(prefix string, s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = prefix + v
	}
	return out
}

// join moves pid into <name>/sub of every hierarchy.
func (c cgroupTree) join(sub string, pid int) error {
	hs, err := c.hierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		if err := os.WriteFile(filepath.Join(h, c.name, sub, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("move %d into %s: %w", pid, filepath.Join(h, c.name, sub), err)
		}
	}
	return nil
}

// pids lists every process in the tree, in any hierarchy.
func (c cgroupTree) pids() []int {
	hs, _ := c.hierarchies()
	seen := map[int]bool{}
	for _, h := range hs {
		_ = filepath.WalkDir(filepath.Join(h, c.name), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					seen[pid] = true
				}
			}
			return nil
		})
	}
	out := make([]int, 0, len(seen))
	for pid := range seen {
		out = append(out, pid)
	}
	sort.Ints(out)
	return out
}

// destroy kills every process of the tree (SIGKILL: the cluster is thrown away, nothing needs
// to shut down cleanly) until none is left, then removes the cgroups deepest first.
func (c cgroupTree) destroy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids := c.pids()
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: processes %v survived SIGKILL", c.name, pids)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	hs, _ := c.hierarchies()
	var errs []error
	for _, h := range hs {
		root := filepath.Join(h, c.name)
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		// Deepest first: a cgroup with children cannot be removed.
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			// A cgroup whose last process just died can be busy for a moment.
			for try := 0; ; try++ {
				err := os.Remove(d)
				if err == nil || errors.Is(err, fs.ErrNotExist) {
					break
				}
				if try == 50 {
					errs = append(errs, err)
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	return errors.Join(errs...)
}

// exists reports whether the tree is there in any hierarchy.
func (c cgroupTree) exists() bool {
	hs, _ := c.hierarchies()
	for _, h := range hs {
		if _, err := os.Stat(filepath.Join(h, c.name)); err == nil {
			return true
		}
	}
	return false
}
