package nodescan

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Kubelet flag names that cisgate reads. Their types match the kubelet's own registration
// (cmd/kubelet/app/options), so a command line parses here exactly as it did there.
const (
	flagConfig                 = "config"
	flagConfigDir              = "config-dir"
	flagKubeconfig             = "kubeconfig"
	flagAnonymousAuth          = "anonymous-auth"
	flagAuthorizationMode      = "authorization-mode"
	flagClientCAFile           = "client-ca-file"
	flagReadOnlyPort           = "read-only-port"
	flagStreamingIdleTimeout   = "streaming-connection-idle-timeout"
	flagProtectKernelDefaults  = "protect-kernel-defaults"
	flagMakeIPTablesUtilChains = "make-iptables-util-chains"
	flagEventQPS               = "event-qps"
	flagRotateCertificates     = "rotate-certificates"
	flagRotateServerCerts      = "rotate-server-certificates"
	flagHostnameOverride       = "hostname-override"
	flagFeatureGates           = "feature-gates"
)

// Flag is one kubelet flag's value as given on a command line.
type Flag[T any] struct {
	Value T
	// Set is false when the command line does not carry the flag.
	Set bool
}

// KubeletFlags are the kubelet flags that bear on section 3, parsed from a command line.
type KubeletFlags struct {
	Config                 Flag[string]
	ConfigDir              Flag[string]
	Kubeconfig             Flag[string]
	AnonymousAuth          Flag[bool]
	AuthorizationMode      Flag[string]
	ClientCAFile           Flag[string]
	ReadOnlyPort           Flag[int32]
	StreamingIdleTimeout   Flag[time.Duration]
	ProtectKernelDefaults  Flag[bool]
	MakeIPTablesUtilChains Flag[bool]
	EventQPS               Flag[int32]
	RotateCertificates     Flag[bool]
	RotateServerCerts      Flag[bool]
	HostnameOverride       Flag[string]
	// FeatureGates holds every gate named by --feature-gates (repeated flags merge, later wins).
	FeatureGates FeatureGates
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
	fs.BoolVar(&kf.AnonymousAuth.Value, flagAnonymousAuth, false, "")
	fs.StringVar(&kf.AuthorizationMode.Value, flagAuthorizationMode, "", "")
	fs.StringVar(&kf.ClientCAFile.Value, flagClientCAFile, "", "")
	fs.Int32Var(&kf.ReadOnlyPort.Value, flagReadOnlyPort, 0, "")
	fs.DurationVar(&kf.StreamingIdleTimeout.Value, flagStreamingIdleTimeout, 0, "")
	fs.BoolVar(&kf.ProtectKernelDefaults.Value, flagProtectKernelDefaults, false, "")
	fs.BoolVar(&kf.MakeIPTablesUtilChains.Value, flagMakeIPTablesUtilChains, false, "")
	fs.Int32Var(&kf.EventQPS.Value, flagEventQPS, 0, "")
	fs.BoolVar(&kf.RotateCertificates.Value, flagRotateCertificates, false, "")
	fs.BoolVar(&kf.RotateServerCerts.Value, flagRotateServerCerts, false, "")
	fs.StringVar(&kf.HostnameOverride.Value, flagHostnameOverride, "", "")
	fs.Var(&kf.FeatureGates, flagFeatureGates, "")
	if err := fs.Parse(args); err != nil {
		return KubeletFlags{}, err
	}
	if fs.NArg() > 0 {
		return KubeletFlags{}, fmt.Errorf("unexpected argument %q: the kubelet takes no positional arguments", fs.Arg(0))
	}
	kf.Config.Set = fs.Changed(flagConfig)
	kf.ConfigDir.Set = fs.Changed(flagConfigDir)
	kf.Kubeconfig.Set = fs.Changed(flagKubeconfig)
	kf.AnonymousAuth.Set = fs.Changed(flagAnonymousAuth)
	kf.AuthorizationMode.Set = fs.Changed(flagAuthorizationMode)
	kf.ClientCAFile.Set = fs.Changed(flagClientCAFile)
	kf.ReadOnlyPort.Set = fs.Changed(flagReadOnlyPort)
	kf.StreamingIdleTimeout.Set = fs.Changed(flagStreamingIdleTimeout)
	kf.ProtectKernelDefaults.Set = fs.Changed(flagProtectKernelDefaults)
	kf.MakeIPTablesUtilChains.Set = fs.Changed(flagMakeIPTablesUtilChains)
	kf.EventQPS.Set = fs.Changed(flagEventQPS)
	kf.RotateCertificates.Set = fs.Changed(flagRotateCertificates)
	kf.RotateServerCerts.Set = fs.Changed(flagRotateServerCerts)
	kf.HostnameOverride.Set = fs.Changed(flagHostnameOverride)
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
