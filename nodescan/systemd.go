package nodescan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// The kubelet's systemd unit: the unit file is looked for in systemd's search order (first hit
// wins), drop-ins in both directories are merged by file name (same name: /etc wins) and applied
// in lexical order.
var (
	kubeletUnitPaths = []string{
		"/etc/systemd/system/kubelet.service",
		"/run/systemd/system/kubelet.service",
		"/usr/lib/systemd/system/kubelet.service",
		"/lib/systemd/system/kubelet.service",
	}
	kubeletDropInDirs = []string{
		"/usr/lib/systemd/system/kubelet.service.d",
		"/etc/systemd/system/kubelet.service.d",
	}
)

// extraArgsVariable is the environment variable node bootstrap scripts use for kubelet flags.
const extraArgsVariable = "KUBELET_EXTRA_ARGS"

// unitCommandLine is the kubelet command line that the systemd unit would run.
type unitCommandLine struct {
	Args []string
	// ExecStart is true when an ExecStart= runs the kubelet; false when only
	// KUBELET_EXTRA_ARGS was found.
	ExecStart bool
	// Origin names the setting and unit file that gave the arguments: `systemd ExecStart in
	// PATH`, or `KUBELET_EXTRA_ARGS in PATH` when no ExecStart runs the kubelet. Arguments that
	// ExecStart takes from variables are attributed to the ExecStart.
	Origin string
}

// unitState accumulates the [Service] settings of a unit and its drop-ins in order.
type unitState struct {
	environment map[string]string
	// envFiles are EnvironmentFile= entries, read after all Environment= settings: systemd lets
	// them override Environment=.
	envFiles    []envFile
	execStart   []systemdWord
	execOrigin  string
	extraOrigin string
}

type envFile struct {
	path     string
	optional bool
}

// readKubeletUnit builds the kubelet command line from the systemd unit and its drop-ins.
// It returns nil when no unit file names the kubelet and no drop-in sets KUBELET_EXTRA_ARGS.
func readKubeletUnit(h Host) (*unitCommandLine, error) {
	files, err := kubeletUnitFiles(h)
	if err != nil {
		return nil, err
	}
	st := unitState{environment: map[string]string{}}
	for _, f := range files {
		data, err := h.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := st.apply(f, string(data)); err != nil {
			return nil, err
		}
	}
	for _, ef := range st.envFiles {
		data, err := h.ReadFile(ef.path)
		if err != nil {
			if ef.optional && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		for name, value := range parseEnvironmentFile(string(data)) {
			st.environment[name] = value
			if name == extraArgsVariable {
				st.extraOrigin = ef.path
			}
		}
	}
	if len(st.execStart) > 0 {
		argv := expandExecStart(st.execStart, st.environment)
		if len(argv) > 0 && path.Base(strings.TrimLeft(argv[0], "-@:+!")) == kubeletBinary {
			return &unitCommandLine{Args: argv[1:], ExecStart: true, Origin: "systemd ExecStart in " + st.execOrigin}, nil
		}
	}
	if extra, ok := st.environment[extraArgsVariable]; ok {
		return &unitCommandLine{Args: strings.Fields(extra), Origin: extraArgsVariable + " in " + st.extraOrigin}, nil
	}
	return nil, nil
}

// kubeletUnitFiles lists the unit file (if any) then the drop-ins in the order systemd applies.
func kubeletUnitFiles(h Host) ([]string, error) {
	var files []string
	for _, p := range kubeletUnitPaths {
		if h.exists(p) {
			files = append(files, p)
			break
		}
	}
	byName := map[string]string{}
	for _, dir := range kubeletDropInDirs {
		local, err := h.resolve(dir)
		if err != nil {
			continue
		}
		entries, err := os.ReadDir(local)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, unwrapPathError(err))
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".conf") {
				byName[e.Name()] = path.Join(dir, e.Name())
			}
		}
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		files = append(files, byName[name])
	}
	return files, nil
}

// apply reads one unit file's [Service] section: Environment=, EnvironmentFile= and ExecStart=.
// An empty assignment resets the setting, as in systemd.
func (st *unitState) apply(file, text string) error {
	section := ""
	for _, line := range joinContinuations(text) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			continue
		case section != "Service":
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "Environment":
			if value == "" {
				st.environment = map[string]string{}
				continue
			}
			words, err := splitSystemdWords(value)
			if err != nil {
				return fmt.Errorf("%s: Environment=: %w", file, err)
			}
			for _, w := range words {
				name, v, ok := strings.Cut(w.text, "=")
				if !ok {
					continue
				}
				st.environment[name] = v
				if name == extraArgsVariable {
					st.extraOrigin = file
				}
			}
		case "EnvironmentFile":
			if value == "" {
				st.envFiles = nil
				continue
			}
			optional := strings.HasPrefix(value, "-")
			st.envFiles = append(st.envFiles, envFile{path: strings.TrimPrefix(value, "-"), optional: optional})
		case "ExecStart":
			if value == "" {
				st.execStart, st.execOrigin = nil, ""
				continue
			}
			words, err := splitSystemdWords(value)
			if err != nil {
				return fmt.Errorf("%s: ExecStart=: %w", file, err)
			}
			st.execStart, st.execOrigin = words, file
		}
	}
	return nil
}

// joinContinuations joins lines ending in a backslash with the next, as systemd does.
func joinContinuations(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// systemdWord is one word of a unit setting after quote removal.
type systemdWord struct {
	text string
	// quoted is true when any part of the word was quoted: systemd splits "$VAR" only when the
	// word is a bare, unquoted $VAR.
	quoted bool
}

// splitSystemdWords splits a setting value into words: whitespace separates, double and single
// quotes group, a backslash escapes the next character (\n and \t are newline and tab).
func splitSystemdWords(s string) ([]systemdWord, error) {
	var words []systemdWord
	var cur strings.Builder
	inWord, quoted := false, false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && quote != '\'':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			switch s[i] {
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			default:
				cur.WriteByte(s[i])
			}
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, inWord, quoted = c, true, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, systemdWord{text: cur.String(), quoted: quoted})
				cur.Reset()
				inWord, quoted = false, false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote %c", quote)
	}
	if inWord {
		words = append(words, systemdWord{text: cur.String(), quoted: quoted})
	}
	return words, nil
}

// expandExecStart substitutes variables the way systemd does on ExecStart: a bare word $VAR
// becomes the value split at whitespace (zero or more arguments); ${VAR} anywhere is replaced
// in place. Unset variables expand to nothing.
func expandExecStart(words []systemdWord, env map[string]string) []string {
	var argv []string
	for _, w := range words {
		if name, ok := strings.CutPrefix(w.text, "$"); ok && !w.quoted && isVariableName(name) {
			argv = append(argv, strings.Fields(env[name])...)
			continue
		}
		argv = append(argv, expandBraced(w.text, env))
	}
	return argv
}

func expandBraced(s string, env map[string]string) string {
	var out strings.Builder
	for {
		start := strings.Index(s, "${")
		if start < 0 {
			out.WriteString(s)
			return out.String()
		}
		end := strings.IndexByte(s[start:], '}')
		if end < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:start])
		out.WriteString(env[s[start+2:start+end]])
		s = s[start+end+1:]
	}
}

func isVariableName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// parseEnvironmentFile reads KEY=VALUE lines (systemd's EnvironmentFile=): # and ; start
// comments, a value may be quoted.
func parseEnvironmentFile(text string) map[string]string {
	env := map[string]string{}
	for _, line := range joinContinuations(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if n := len(value); n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n-1] == value[0] {
			value = value[1 : n-1]
		}
		env[strings.TrimSpace(name)] = value
	}
	return env
}
