package nodescan

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// The kubelet flags that locate its files and carry its feature gates. The flags of the settings
// section 3 reads are in the settings table (kubelet_settings.go).
const (
	flagConfig       = "config"
	flagConfigDir    = "config-dir"
	flagKubeconfig   = "kubeconfig"
	flagFeatureGates = "feature-gates"
)

// Flag is one kubelet flag's value as given on a command line.
type Flag[T any] struct {
	Value T
	// Set is false when the command line does not carry the flag.
	Set bool
}

// KubeletFlags are the kubelet flags that bear on section 3, parsed from a command line.
type KubeletFlags struct {
	Config     Flag[string]
	ConfigDir  Flag[string]
	Kubeconfig Flag[string]
	// FeatureGates holds every gate named by --feature-gates (repeated flags merge, later wins).
	FeatureGates FeatureGates
	// settings holds the value of each table setting whose flag the command line sets; read
	// one with its entry's flagIn.
	settings map[anySetting]any
	// Origin says where the command line came from: empty for the running process, else e.g.
	// `systemd ExecStart in PATH`.
	Origin string
}

// ParseKubeletFlags parses a kubelet command line (without argv[0]) with the kubelet's flag
// syntax: --flag=value, --flag value, bare booleans and --flag=false; `_` and `-` are the same in
// names. Flags cisgate does not read are skipped with their values; the kubelet takes no
// positional arguments, so a word after an unknown flag is that flag's value.
func ParseKubeletFlags(args []string) (KubeletFlags, error) {
	var kf KubeletFlags
	fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.ParseErrorsAllowlist.UnknownFlags = true
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
	fs.StringVar(&kf.Config.Value, flagConfig, "", "")
	fs.StringVar(&kf.ConfigDir.Value, flagConfigDir, "", "")
	fs.StringVar(&kf.Kubeconfig.Value, flagKubeconfig, "", "")
	fs.Var(&kf.FeatureGates, flagFeatureGates, "")
	var recordSettingFlags []func(map[anySetting]any)
	for _, s := range kubeletSettings {
		if record := s.bindFlag(fs); record != nil {
			recordSettingFlags = append(recordSettingFlags, record)
		}
	}
	if err := fs.Parse(args); err != nil {
		return KubeletFlags{}, err
	}
	if fs.NArg() > 0 {
		return KubeletFlags{}, fmt.Errorf("unexpected argument %q: the kubelet takes no positional arguments", fs.Arg(0))
	}
	kf.Config.Set = fs.Changed(flagConfig)
	kf.ConfigDir.Set = fs.Changed(flagConfigDir)
	kf.Kubeconfig.Set = fs.Changed(flagKubeconfig)
	kf.settings = map[anySetting]any{}
	for _, record := range recordSettingFlags {
		record(kf.settings)
	}
	return kf, nil
}

// FeatureGates is the value of --feature-gates (A=true,B=false) or of a config file's
// featureGates. It implements pflag.Value with the kubelet's semantics: each occurrence of the
// flag adds to the map, a later value of the same gate wins.
type FeatureGates map[string]bool

// String renders the gates sorted by name, A=true,B=false.
func (g FeatureGates) String() string {
	names := make([]string, 0, len(g))
	for name := range g {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + strconv.FormatBool(g[name])
	}
	return strings.Join(parts, ",")
}

// Set adds the comma-separated gates of one --feature-gates occurrence.
func (g *FeatureGates) Set(value string) error {
	if *g == nil {
		*g = FeatureGates{}
	}
	for _, pair := range strings.Split(value, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, raw, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("missing bool value for feature gate %q", pair)
		}
		enabled, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("invalid value of feature gate %s=%s: %w", name, raw, err)
		}
		(*g)[strings.TrimSpace(name)] = enabled
	}
	return nil
}

// Type is pflag's name for the value's type.
func (g *FeatureGates) Type() string { return "mapStringBool" }
