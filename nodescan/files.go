package nodescan

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"syscall"

	"github.com/cisgate/cisgate/policy"
)

// maxFileMode is the loosest mode 3.1.1 and 3.1.3 accept: no bit outside rw-r--r--.
const maxFileMode = 0o644

// fileFacts is what stat says about one kubelet file.
type fileFacts struct {
	file Located
	// mode holds the permission and setuid/setgid/sticky bits, as chmod writes them.
	mode uint32
	uid  uint32
	gid  uint32
	// err is set when the file could not be stat'ed (notFound tells the common case apart).
	err      error
	notFound bool
}

func statFile(h Host, f Located) fileFacts {
	facts := fileFacts{file: f}
	info, err := h.Stat(f.Path)
	if err != nil {
		facts.err, facts.notFound = err, errors.Is(err, fs.ErrNotExist)
		return facts
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		facts.err = errors.New("stat " + f.Path + ": no owner information on this platform")
		return facts
	}
	facts.mode, facts.uid, facts.gid = st.Mode&0o7777, st.Uid, st.Gid
	return facts
}

// fileProblem is the WARN detail of a file that could not be stat'ed.
func (f fileFacts) problem() string {
	if f.notFound {
		return "not found at " + f.file.Path + " (" + f.file.From + ")"
	}
	return f.err.Error()
}

func formatMode(m uint32) string { return "0" + strconv.FormatUint(uint64(m), 8) }

func formatOwner(uid, gid uint32) string {
	return strconv.FormatUint(uint64(uid), 10) + ":" + strconv.FormatUint(uint64(gid), 10)
}

// fileProperty is what a 3.1 check reads from a file: its value for Actual, and whether it
// complies; problem explains a non-compliant value.
type fileProperty struct {
	expected string
	actual   func(fileFacts) string
	complies func(fileFacts) bool
	problem  func(fileFacts) string
}

var filePermissions = fileProperty{
	expected: formatMode(maxFileMode) + " or more restrictive",
	actual:   func(f fileFacts) string { return formatMode(f.mode) },
	complies: func(f fileFacts) bool { return f.mode&^maxFileMode == 0 },
	problem: func(f fileFacts) string {
		return f.file.Path + " has mode " + formatMode(f.mode) + ": bits " + formatMode(f.mode&^maxFileMode) + " must be cleared"
	},
}

var fileOwnership = fileProperty{
	expected: formatOwner(0, 0) + " (root:root)",
	actual:   func(f fileFacts) string { return formatOwner(f.uid, f.gid) },
	complies: func(f fileFacts) bool { return f.uid == 0 && f.gid == 0 },
	problem: func(f fileFacts) string {
		return f.file.Path + " is owned by " + formatOwner(f.uid, f.gid) + ", not root:root"
	},
}

// evaluateFiles decides a 3.1 check over a set of files: FAIL when any file breaks it (that is
// evidence even if another file is missing), else WARN when any file cannot be stat'ed, else
// PASS. Actual and source list every file in order.
func evaluateFiles(h Host, files []Located, p fileProperty) Outcome {
	var actual, sources, failures, warnings []string
	for _, f := range files {
		facts := statFile(h, f)
		sources = append(sources, "file "+f.Path+" ("+f.From+")")
		switch {
		case facts.err != nil:
			actual = append(actual, unknownValue)
			warnings = append(warnings, facts.problem())
		case !p.complies(facts):
			actual = append(actual, p.actual(facts))
			failures = append(failures, p.problem(facts))
		default:
			actual = append(actual, p.actual(facts))
		}
	}
	o := Outcome{Expected: p.expected, Actual: strings.Join(actual, ", "), Source: strings.Join(sources, "; ")}
	switch {
	case len(failures) > 0:
		o.Status, o.Detail = policy.StatusFail, strings.Join(append(failures, warnings...), "; ")
	case len(warnings) > 0:
		o.Status, o.Detail = policy.StatusWarn, strings.Join(warnings, "; ")
	default:
		o.Status = policy.StatusPass
		if len(files) == 1 {
			o.Detail = files[0].Path + " complies"
		} else {
			o.Detail = "all " + strconv.Itoa(len(files)) + " files comply"
		}
	}
	return o
}

// kubeconfigFiles is the file 3.1.1 and 3.1.2 look at, or the WARN outcome when there is none.
func kubeconfigFiles(ev *Evidence, expected string) ([]Located, *Outcome) {
	switch {
	case ev.Kubelet == nil:
		return nil, &Outcome{Status: policy.StatusWarn, Expected: expected, Actual: unknownValue, Detail: ev.KubeletErr.Error()}
	case ev.Kubelet.Kubeconfig.Path == "":
		return nil, &Outcome{Status: policy.StatusWarn, Expected: expected, Actual: unknownValue,
			Detail: "the kubelet (" + ev.Kubelet.FoundBy + ") runs without --kubeconfig (standalone mode): no kubeconfig to check"}
	}
	return []Located{ev.Kubelet.Kubeconfig}, nil
}

// configFiles are the files 3.1.3 and 3.1.4 look at (config file and each drop-in), or the
// WARN outcome when the kubelet uses none.
func configFiles(ev *Evidence, expected string) ([]Located, *Outcome) {
	switch {
	case ev.Kubelet == nil:
		return nil, &Outcome{Status: policy.StatusWarn, Expected: expected, Actual: unknownValue, Detail: ev.KubeletErr.Error()}
	case len(ev.ConfigFiles) == 0:
		return nil, &Outcome{Status: policy.StatusWarn, Expected: expected, Actual: unknownValue,
			Detail: "the kubelet (" + ev.Kubelet.FoundBy + ") runs without --config or --config-dir: no configuration file to check"}
	}
	return ev.ConfigFiles, nil
}
