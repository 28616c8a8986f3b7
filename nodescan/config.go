package nodescan

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
)

// SourceKind is where an effective value came from, lowest precedence first.
type SourceKind int

const (
	SourceDefault SourceKind = iota + 1
	SourceFile
	SourceDropIn
	SourceFlag
)

// Source names where one effective value came from.
type Source struct {
	Kind SourceKind
	// Path is the config file or drop-in.
	Path string
	// Key is the config key (e.g. readOnlyPort) or the flag name without dashes.
	Key string
	// Via says where a flag's command line came from when it is not the running process,
	// e.g. `systemd ExecStart in PATH`.
	Via string
}

// String is the form results show: `flag --read-only-port`, `file PATH key readOnlyPort`,
// `drop-in PATH key readOnlyPort`, `default`.
func (s Source) String() string {
	switch s.Kind {
	case SourceFlag:
		if s.Via != "" {
			return "flag --" + s.Key + " via " + s.Via
		}
		return "flag --" + s.Key
	case SourceFile:
		return "file " + s.Path + " key " + s.Key
	case SourceDropIn:
		return "drop-in " + s.Path + " key " + s.Key
	}
	return "default"
}

// Setting is one effective value with its source.
type Setting[T any] struct {
	Value  T
	Source Source
	// Note explains a value that is not simply the winning layer's, e.g. a zero value in a
	// config file that the kubelet replaces with its default.
	Note string
}

// ConfigMode says which defaults the kubelet starts from.
type ConfigMode int

const (
	// ModeConfigFile: --config is set; KubeletConfiguration v1beta1 defaults apply.
	ModeConfigFile ConfigMode = iota + 1
	// ModeFlagsOnly: no --config; the kubelet's legacy flag defaults apply (anonymous auth on,
	// AlwaysAllow, read-only port 10255).
	ModeFlagsOnly
)

func (m ConfigMode) String() string {
	if m == ModeConfigFile {
		return "config file"
	}
	return "flags-only"
}

// AuthorizationMode is the kubelet's authorization.mode.
type AuthorizationMode string

const (
	AuthorizationAlwaysAllow AuthorizationMode = "AlwaysAllow"
	AuthorizationWebhook     AuthorizationMode = "Webhook"
)

// featureRotateKubeletServerCertificate is the gate 3.2.9 (3.2.11 before 1.5.0) decides on.
const featureRotateKubeletServerCertificate = "RotateKubeletServerCertificate"

// defaultFeatureGates are the defaults of the gates section 3 reads (RotateKubeletServerCertificate
// is beta and on by default since Kubernetes 1.12).
var defaultFeatureGates = map[string]bool{featureRotateKubeletServerCertificate: true}

// Config is the kubelet's effective configuration for section 3.
type Config struct {
	Mode ConfigMode
	// Files are the config file and the drop-ins that were applied, in order.
	Files []string
	// settings holds the effective Setting of every entry of the settings table; a check reads
	// one with its entry's effective, e.g. readOnlyPort.effective(ev.Config).
	settings     map[anySetting]any
	FeatureGates map[string]Setting[bool]
}

// configLayer is one parsed config file or drop-in.
type configLayer struct {
	kind SourceKind
	path string
	file *kubeletConfigFile
}

// loadConfigLayers reads the --config file and then each drop-in, in order. Any unreadable or
// malformed file is an error, as it is for the kubelet.
func loadConfigLayers(h Host, configFile string, dropIns []string) ([]configLayer, error) {
	var layers []configLayer
	if configFile != "" {
		cfg, err := readConfigFile(h, configFile)
		if err != nil {
			return nil, err
		}
		layers = append(layers, configLayer{kind: SourceFile, path: configFile, file: cfg})
	}
	for _, p := range dropIns {
		cfg, err := readConfigFile(h, p)
		if err != nil {
			return nil, err
		}
		layers = append(layers, configLayer{kind: SourceDropIn, path: p, file: cfg})
	}
	return layers, nil
}

func readConfigFile(h Host, nodePath string) (*kubeletConfigFile, error) {
	data, err := h.ReadFile(nodePath)
	if err != nil {
		return nil, err
	}
	cfg, err := parseKubeletConfigFile(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", nodePath, err)
	}
	return cfg, nil
}

// dropInExtension is the only suffix the kubelet loads from --config-dir.
const dropInExtension = ".conf"

// listDropIns lists the node paths of the drop-ins under dir in the order the kubelet applies
// them (filepath.WalkDir: lexical, subdirectories included; files without .conf are ignored).
func listDropIns(h Host, dir string) ([]string, error) {
	local, err := h.resolve(dir)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: dir, Err: unwrapPathError(err)}
	}
	var out []string
	err = filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Ext(d.Name()) != dropInExtension {
			return nil
		}
		rel, err := filepath.Rel(local, p)
		if err != nil {
			return err
		}
		out = append(out, path.Join(dir, filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == local {
			return nil, &fs.PathError{Op: pe.Op, Path: dir, Err: pe.Err}
		}
		return nil, fmt.Errorf("read drop-ins in %s: %w", dir, unwrapPathError(err))
	}
	return out, nil
}

// resolveConfig layers the sources of every setting the way the kubelet does: the mode's
// defaults, the config file, the drop-ins in order, zero values the kubelet re-defaults, then the
// command line (kubeletSetting says how).
func resolveConfig(flags KubeletFlags, layers []configLayer) Config {
	mode := ModeFlagsOnly
	if flags.Config.Set {
		mode = ModeConfigFile
	}
	c := Config{Mode: mode, settings: make(map[anySetting]any, len(kubeletSettings))}
	for _, l := range layers {
		c.Files = append(c.Files, l.path)
	}
	for _, s := range kubeletSettings {
		c.settings[s] = s.resolve(mode, flags, layers)
	}
	c.FeatureGates = resolveFeatureGates(layers, flags.FeatureGates, flags.Origin)
	return c
}

// resolveFeatureGates merges gates per name: defaults, then each layer's featureGates (the
// drop-ins' JSON merge patch merges the map by key), then --feature-gates, which the kubelet
// also merges by key over the file's gates.
func resolveFeatureGates(layers []configLayer, flagGates FeatureGates, flagOrigin string) map[string]Setting[bool] {
	gates := map[string]Setting[bool]{}
	for name, v := range defaultFeatureGates {
		gates[name] = Setting[bool]{Value: v, Source: Source{Kind: SourceDefault}}
	}
	for _, l := range layers {
		if l.file.featureGatesNulled {
			// featureGates: null removes every gate the layers before set.
			for name, v := range gates {
				if v.Source.Kind != SourceDefault {
					gates[name] = removedByNull(defaultFeatureGates[name], Source{Kind: l.kind, Path: l.path, Key: featureGatesKey})
				}
			}
		}
		for name, v := range l.file.featureGates {
			if v == nil {
				if gates[name].Source.Kind != SourceDefault {
					gates[name] = removedByNull(defaultFeatureGates[name], Source{Kind: l.kind, Path: l.path, Key: featureGatesKey + "." + name})
				}
				continue
			}
			gates[name] = Setting[bool]{Value: *v, Source: Source{Kind: l.kind, Path: l.path, Key: featureGatesKey + "." + name}}
		}
	}
	for name, v := range flagGates {
		gates[name] = Setting[bool]{Value: v, Source: Source{Kind: SourceFlag, Key: flagFeatureGates, Via: flagOrigin}}
	}
	return gates
}
