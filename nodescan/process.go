package nodescan

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// kubeletBinary is the basename of argv[0] that identifies the kubelet process.
const kubeletBinary = "kubelet"

// Process is a running kubelet found in the proc root.
type Process struct {
	PID int
	// Args is the command line after argv[0].
	Args []string
}

// findKubeletProcess scans procRoot/<pid>/cmdline for the kubelet; with several (never on a
// healthy node) the lowest PID wins, so that the answer does not depend on directory order.
// Unreadable entries are skipped: processes come and go while the scan reads them.
func findKubeletProcess(procRoot string) (*Process, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, err
	}
	var found *Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		if found != nil && pid > found.PID {
			continue
		}
		data, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := splitCmdline(data)
		if len(argv) == 0 || path.Base(argv[0]) != kubeletBinary {
			continue
		}
		found = &Process{PID: pid, Args: argv[1:]}
	}
	return found, nil
}

// splitCmdline splits /proc/<pid>/cmdline: NUL-terminated arguments.
func splitCmdline(data []byte) []string {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil
	}
	parts := bytes.Split(data, []byte{0})
	argv := make([]string, len(parts))
	for i, p := range parts {
		argv[i] = string(p)
	}
	return argv
}

// resolveProcessPath makes a kubelet path flag absolute: the kubelet resolves a relative path
// against its working directory, which /proc/<pid>/cwd names.
func resolveProcessPath(procRoot string, pid int, p string) string {
	if p == "" || path.IsAbs(p) {
		return p
	}
	cwd, err := os.Readlink(filepath.Join(procRoot, strconv.Itoa(pid), "cwd"))
	if err != nil || !path.IsAbs(cwd) {
		cwd = "/"
	}
	return path.Join(cwd, strings.TrimPrefix(p, "./"))
}
