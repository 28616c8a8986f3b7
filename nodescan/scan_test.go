package nodescan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// hostFiles builds a host root from node paths to contents; a value under a proc/<pid>/cmdline
// path is the space-separated argv, written NUL-separated.
func hostFiles(t *testing.T, files map[string]string) Host {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		local := filepath.Join(root, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(local), 0o755))
		if strings.HasSuffix(p, "/cmdline") {
			content = strings.Join(strings.Fields(content), "\x00") + "\x00"
		}
		require.NoError(t, os.WriteFile(local, []byte(content), 0o644))
	}
	return Host{Root: root}
}

const (
	configPath = "/etc/kubernetes/kubelet/config.json"
	dropInDir  = "/etc/kubernetes/kubelet/config.json.d"
	configHead = `{"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"`
)

func kubeletCmdline(flags ...string) string {
	return strings.Join(append([]string{"/usr/bin/kubelet"}, flags...), " ")
}

// result finds one slug's result in a report.
func result(t *testing.T, r report.Scan, slug policy.Slug) output.EvidenceResult {
	t.Helper()
	for _, res := range r.Results {
		if res.Slug == slug {
			return res
		}
	}
	require.Failf(t, "no result", "slug %s not in report", slug)
	return output.EvidenceResult{}
}

func scanFiles(t *testing.T, files map[string]string) report.Scan {
	t.Helper()
	return scanFilesIn(t, policy.DefaultBenchmark, files)
}

// scanFilesIn scans under a given benchmark, for checks the default one no longer numbers.
func scanFilesIn(t *testing.T, b policy.Benchmark, files map[string]string) report.Scan {
	t.Helper()
	r, err := Scan(hostFiles(t, files), b, "node-1")
	require.NoError(t, err)
	return r
}

// TestPrecedence proves, case by case, flag > drop-in > config file > default.
func TestPrecedence(t *testing.T) {
	withConfig := kubeletCmdline("--config="+configPath, "--config-dir", dropInDir)
	tests := []struct {
		name       string
		files      map[string]string
		wantActual string
		wantSource string
		wantStatus policy.Status
	}{
		{
			name:       "config file mode default",
			files:      map[string]string{"proc/10/cmdline": withConfig, configPath: configHead + "}"},
			wantActual: "0", wantSource: "default", wantStatus: policy.StatusPass,
		},
		{
			name:       "flags-only default",
			files:      map[string]string{"proc/10/cmdline": kubeletCmdline("--kubeconfig=/k")},
			wantActual: "10255", wantSource: "default", wantStatus: policy.StatusFail,
		},
		{
			name:       "file overrides default",
			files:      map[string]string{"proc/10/cmdline": withConfig, configPath: configHead + `, "readOnlyPort": 10255}`},
			wantActual: "10255", wantSource: "file " + configPath + " key readOnlyPort", wantStatus: policy.StatusFail,
		},
		{
			name: "drop-in overrides file",
			files: map[string]string{
				"proc/10/cmdline":            withConfig,
				configPath:                   configHead + `, "readOnlyPort": 10255}`,
				dropInDir + "/10-fix.conf":   configHead + `, "readOnlyPort": 0}`,
				dropInDir + "/ignored.json":  configHead + `, "readOnlyPort": 1}`,
				dropInDir + "/01-early.conf": configHead + `, "readOnlyPort": 2}`,
			},
			wantActual: "0", wantSource: "drop-in " + dropInDir + "/10-fix.conf key readOnlyPort", wantStatus: policy.StatusPass,
		},
		{
			name: "later drop-in wins, subdirectories included",
			files: map[string]string{
				"proc/10/cmdline":             withConfig,
				configPath:                    configHead + "}",
				dropInDir + "/10-a.conf":      "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 0\n",
				dropInDir + "/20-b/port.conf": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 10255\n",
			},
			wantActual: "10255", wantSource: "drop-in " + dropInDir + "/20-b/port.conf key readOnlyPort", wantStatus: policy.StatusFail,
		},
		{
			name: "flag overrides drop-in",
			files: map[string]string{
				"proc/10/cmdline":        withConfig + " --read-only-port 0",
				configPath:               configHead + `, "readOnlyPort": 10255}`,
				dropInDir + "/10-x.conf": configHead + `, "readOnlyPort": 10255}`,
			},
			wantActual: "0", wantSource: "flag --read-only-port", wantStatus: policy.StatusPass,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files[dropInDir+"/.keep"] = ""
			res := result(t, scanFiles(t, tt.files), "read-only-port")
			assert.Equal(t, tt.wantActual, res.Actual)
			assert.Equal(t, tt.wantSource, res.Source)
			assert.Equal(t, tt.wantStatus, res.Status, res.Detail)
		})
	}
}

// TestModeDefaults pins the kubelet's defaults per mode for every configuration check, under
// eks-2.0.0 and, for the checks it no longer numbers, eks-1.8.0.
func TestModeDefaults(t *testing.T) {
	configFiles := map[string]string{"proc/10/cmdline": kubeletCmdline("--config", configPath), configPath: configHead + "}"}
	flagsOnlyFiles := map[string]string{"proc/10/cmdline": kubeletCmdline()}
	configMode := mergeReports(scanFilesIn(t, policy.EKS200, configFiles), scanFilesIn(t, policy.EKS180, configFiles))
	flagsOnly := mergeReports(scanFilesIn(t, policy.EKS200, flagsOnlyFiles), scanFilesIn(t, policy.EKS180, flagsOnlyFiles))
	tests := []struct {
		slug                 policy.Slug
		configFile, flagOnly string
	}{
		{"anonymous-auth", "false", "true"},
		{"authorization-mode", "Webhook", "AlwaysAllow"},
		{"authorization-mode-webhook", "Webhook", "AlwaysAllow"},
		{"client-ca", "", ""},
		{"read-only-port", "0", "10255"},
		{"streaming-idle-timeout", "4h0m0s", "4h0m0s"},
		{"iptables-util-chains", "true", "true"},
		{"event-qps", "50", "50"},
		{"rotate-certificates", "not set", "not set"},
		{"rotate-server-cert", "true", "true"},
	}
	for _, tt := range tests {
		t.Run(string(tt.slug), func(t *testing.T) {
			assert.Equal(t, tt.configFile, result(t, configMode, tt.slug).Actual)
			assert.Equal(t, tt.flagOnly, result(t, flagsOnly, tt.slug).Actual)
			assert.Equal(t, "default", result(t, configMode, tt.slug).Source)
		})
	}
}

// mergeReports is the results of several scans of one host, the first report's where a slug is in
// more than one.
func mergeReports(reports ...report.Scan) report.Scan {
	out := report.Scan{}
	seen := map[policy.Slug]bool{}
	for _, r := range reports {
		for _, res := range r.Results {
			if !seen[res.Slug] {
				seen[res.Slug] = true
				out.Results = append(out.Results, res)
			}
		}
	}
	return out
}

// streaming-idle-timeout is not in eks-2.0.0: these scan under eks-1.8.0.
func TestStreamingIdleTimeoutDurations(t *testing.T) {
	tests := []struct {
		name       string
		flags      []string
		config     string
		wantActual string
		wantStatus policy.Status
	}{
		{"flag 0s is zero", []string{"--streaming-connection-idle-timeout=0s"}, "", "0s", policy.StatusFail},
		{"flag 0 is zero", []string{"--streaming-connection-idle-timeout", "0"}, "", "0s", policy.StatusFail},
		{"flag 5m", []string{"--streaming-connection-idle-timeout=5m"}, "", "5m0s", policy.StatusPass},
		{"file 4h0m0s", nil, `, "streamingConnectionIdleTimeout": "4h0m0s"`, "4h0m0s", policy.StatusPass},
		{"file 30m", nil, `, "streamingConnectionIdleTimeout": "30m"`, "30m0s", policy.StatusPass},
		// The kubelet re-defaults a zero duration from a file (SetDefaults tests == 0).
		{"file 0s is re-defaulted", nil, `, "streamingConnectionIdleTimeout": "0s"`, "4h0m0s", policy.StatusPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--config", configPath}, tt.flags...)
			res := result(t, scanFilesIn(t, policy.EKS180, map[string]string{
				"proc/10/cmdline": kubeletCmdline(args...), configPath: configHead + tt.config + "}"}), "streaming-idle-timeout")
			assert.Equal(t, tt.wantActual, res.Actual)
			assert.Equal(t, tt.wantStatus, res.Status, res.Detail)
		})
	}
}

func TestZeroFileValueNote(t *testing.T) {
	res := result(t, scanFilesIn(t, policy.EKS180, map[string]string{
		"proc/10/cmdline": kubeletCmdline("--config", configPath),
		configPath:        configHead + `, "streamingConnectionIdleTimeout": "0s"}`}), "streaming-idle-timeout")
	assert.Equal(t, "default", res.Source)
	assert.Contains(t, res.Detail, "file "+configPath+" key streamingConnectionIdleTimeout is zero")
}

// TestDropInNullRemovesTheValue: the kubelet merges a drop-in as a JSON merge patch (RFC 7386)
// over the layers before it and then applies its defaults (cmd/kubelet/app/server.go,
// mergeKubeletConfigurations), so null in a drop-in removes the value set before: the setting is
// the kubelet's default again, not the earlier file's value. A scan that kept the earlier value
// would pass protectKernelDefaults: true that the kubelet does not run with.
func TestDropInNullRemovesTheValue(t *testing.T) {
	tests := []struct {
		name, config, dropIn string
		slug                 policy.Slug
		wantActual           string
		wantStatus           policy.Status
	}{
		{"the key", `, "protectKernelDefaults": true`, `, "protectKernelDefaults": null`, "protect-kernel-defaults", "false", policy.StatusFail},
		{"an object above it", `, "authentication": {"anonymous": {"enabled": false}, "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}}`,
			`, "authentication": null`, "client-ca", "", policy.StatusFail},
		{"a feature gate", `, "featureGates": {"RotateKubeletServerCertificate": false}`, `, "featureGates": {"RotateKubeletServerCertificate": null}`,
			"rotate-server-cert", "true", policy.StatusPass},
		{"every feature gate", `, "featureGates": {"RotateKubeletServerCertificate": false}`, `, "featureGates": null`,
			"rotate-server-cert", "true", policy.StatusPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// eks-1.2.0 still has protect-kernel-defaults in section 3.
			r, err := Scan(hostFiles(t, map[string]string{
				"proc/10/cmdline":      kubeletCmdline("--config", configPath, "--config-dir", dropInDir),
				configPath:             configHead + tt.config + "}",
				dropInDir + "/50.conf": configHead + tt.dropIn + "}",
			}), policy.EKS120, "node-1")
			require.NoError(t, err)
			res := result(t, r, tt.slug)
			assert.Equal(t, tt.wantActual, res.Actual)
			assert.Equal(t, "default", res.Source)
			assert.Equal(t, tt.wantStatus, res.Status, res.Detail)
			assert.Contains(t, res.Detail, "drop-in "+dropInDir+"/50.conf key ")
			assert.Contains(t, res.Detail, "is null, which removes the value set before it")
		})
	}
}

func TestFeatureGates(t *testing.T) {
	t.Run("flag parsing", func(t *testing.T) {
		flags, err := ParseKubeletFlags([]string{"--feature-gates=A=true,B=false", "--feature-gates", " C = true ,A=false"})
		require.NoError(t, err)
		assert.Equal(t, FeatureGates{"A": false, "B": false, "C": true}, flags.FeatureGates)
		assert.Equal(t, "A=false,B=false,C=true", flags.FeatureGates.String())
	})
	t.Run("bad value", func(t *testing.T) {
		_, err := ParseKubeletFlags([]string{"--feature-gates=A=maybe"})
		require.ErrorContains(t, err, "A=maybe")
	})
	tests := []struct {
		name       string
		flags      string
		config     string
		dropIn     string
		wantActual string
		wantSource string
	}{
		{"default true", "", "", "", "true", "default"},
		{"file false", "", `, "featureGates": {"RotateKubeletServerCertificate": false}`, "", "false",
			"file " + configPath + " key featureGates.RotateKubeletServerCertificate"},
		{"drop-in merges by gate", "", `, "featureGates": {"RotateKubeletServerCertificate": false, "Other": true}`,
			`, "featureGates": {"RotateKubeletServerCertificate": true}`, "true",
			"drop-in " + dropInDir + "/10.conf key featureGates.RotateKubeletServerCertificate"},
		{"flag over file", "--feature-gates=RotateKubeletServerCertificate=false", `, "featureGates": {"RotateKubeletServerCertificate": true}`,
			"", "false", "flag --feature-gates"},
		{"flag naming another gate keeps the file's", "--feature-gates=Other=true", `, "featureGates": {"RotateKubeletServerCertificate": false}`,
			"", "false", "file " + configPath + " key featureGates.RotateKubeletServerCertificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{
				"proc/10/cmdline": kubeletCmdline("--config", configPath, "--config-dir", dropInDir, tt.flags),
				configPath:        configHead + tt.config + "}",
			}
			if tt.dropIn != "" {
				files[dropInDir+"/10.conf"] = configHead + tt.dropIn + "}"
			} else {
				files[dropInDir+"/.keep"] = ""
			}
			res := result(t, scanFilesIn(t, policy.EKS180, files), "rotate-server-cert")
			assert.Equal(t, tt.wantActual, res.Actual)
			assert.Equal(t, tt.wantSource, res.Source)
		})
	}
}

func TestParseKubeletFlags(t *testing.T) {
	flags, err := ParseKubeletFlags([]string{
		"--v", "2", // unknown flag with a separate value
		"--anonymous-auth", // bare boolean
		"--make-iptables-util-chains=false",
		"--read_only_port", "10255", // underscores normalise to dashes
		"--node-labels=a=b",
		"--rotate-certificates", "--event-qps=7",
		"--config", "/c.yaml",
		"--hostname-override", "n1",
	})
	require.NoError(t, err)
	assert.Equal(t, Flag[bool]{Value: true, Set: true}, anonymousAuth.flagIn(flags))
	assert.Equal(t, Flag[bool]{Value: false, Set: true}, makeIPTablesUtilChains.flagIn(flags))
	assert.Equal(t, Flag[int32]{Value: 10255, Set: true}, readOnlyPort.flagIn(flags))
	assert.Equal(t, Flag[bool]{Value: true, Set: true}, rotateCertificates.flagIn(flags))
	assert.Equal(t, Flag[int32]{Value: 7, Set: true}, eventRecordQPS.flagIn(flags))
	assert.Equal(t, Flag[string]{Value: "/c.yaml", Set: true}, flags.Config)
	assert.Equal(t, Flag[string]{Value: "n1", Set: true}, hostnameOverride.flagIn(flags))
	assert.False(t, flags.ConfigDir.Set)

	_, err = ParseKubeletFlags([]string{"--read-only-port=abc"})
	require.ErrorContains(t, err, "read-only-port")
	_, err = ParseKubeletFlags([]string{"--anonymous-auth", "stray"})
	require.ErrorContains(t, err, "positional")
}

func TestMalformedConfigIsWarn(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		wantDetail string
	}{
		{"syntax error", map[string]string{configPath: `{"kind": `}, "parse " + configPath},
		{"wrong type", map[string]string{configPath: configHead + `, "readOnlyPort": "none"}`}, "parse " + configPath},
		{"bad duration", map[string]string{configPath: configHead + `, "streamingConnectionIdleTimeout": "forever"}`}, "forever"},
		{"no kind", map[string]string{configPath: `{"readOnlyPort": 0}`}, "no apiVersion/kind"},
		{"wrong kind", map[string]string{configPath: `{"apiVersion": "v1", "kind": "ConfigMap"}`}, "unsupported apiVersion/kind"},
		{"missing file", map[string]string{}, "no such file or directory"},
		{"malformed drop-in", map[string]string{configPath: configHead + "}", dropInDir + "/10.conf": "readOnlyPort: [\n"}, "parse " + dropInDir + "/10.conf"},
		{"drop-in without kind", map[string]string{configPath: configHead + "}", dropInDir + "/10.conf": "readOnlyPort: 0\n"}, "no apiVersion/kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"proc/10/cmdline": kubeletCmdline("--config", configPath, "--config-dir", dropInDir, "--kubeconfig", "/k")}
			for p, c := range tt.files {
				files[p] = c
			}
			files["/k"] = "kubeconfig"
			files[dropInDir+"/.keep"] = ""
			r := scanFiles(t, files)
			for _, res := range r.Results {
				if strings.HasPrefix(res.ID, "3.2.") {
					assert.Equal(t, policy.StatusWarn, res.Status, res.Slug)
					assert.Contains(t, res.Detail, tt.wantDetail, res.Slug)
				}
			}
			assert.Equal(t, policy.StatusPass, result(t, r, "kubeconfig-perms").Status)
		})
	}
}

func TestMissingFilesAreWarn(t *testing.T) {
	r := scanFiles(t, map[string]string{
		"proc/10/cmdline": kubeletCmdline("--config", configPath, "--kubeconfig", "/var/lib/kubelet/kubeconfig")})
	for _, slug := range []policy.Slug{"kubeconfig-perms", "kubeconfig-owner"} {
		res := result(t, r, slug)
		assert.Equal(t, policy.StatusWarn, res.Status)
		assert.Equal(t, "not found at /var/lib/kubelet/kubeconfig (flag --kubeconfig)", res.Detail)
	}
	assert.Equal(t, "not found at "+configPath+" (flag --config)", result(t, r, "kubelet-config-perms").Detail)
}

func TestBenchmarkVersions(t *testing.T) {
	h := hostFixture(t, "al2")
	ids := func(b policy.Benchmark) map[string]policy.Slug {
		r, err := Scan(h, b, "n")
		require.NoError(t, err)
		out := map[string]policy.Slug{}
		for _, res := range r.Results {
			out[res.ID] = res.Slug
		}
		return out
	}
	old := map[string]policy.Slug{
		"3.1.1": "kubeconfig-perms", "3.1.2": "kubeconfig-owner", "3.1.3": "kubelet-config-perms", "3.1.4": "kubelet-config-owner",
		"3.2.1": "anonymous-auth", "3.2.2": "authorization-mode", "3.2.3": "client-ca", "3.2.4": "read-only-port",
		"3.2.5": "streaming-idle-timeout", "3.2.6": "protect-kernel-defaults", "3.2.7": "iptables-util-chains",
		"3.2.8": "hostname-override", "3.2.9": "event-qps", "3.2.10": "rotate-certificates", "3.2.11": "rotate-server-cert",
	}
	current := map[string]policy.Slug{
		"3.1.1": "kubeconfig-perms", "3.1.2": "kubeconfig-owner", "3.1.3": "kubelet-config-perms", "3.1.4": "kubelet-config-owner",
		"3.2.1": "anonymous-auth", "3.2.2": "authorization-mode", "3.2.3": "client-ca", "3.2.4": "read-only-port",
		"3.2.5": "streaming-idle-timeout", "3.2.6": "iptables-util-chains", "3.2.7": "event-qps",
		"3.2.8": "rotate-certificates", "3.2.9": "rotate-server-cert",
	}
	// eks-2.0.0 drops the streaming idle timeout, asks for Webhook under 3.2.2 and for
	// serverTLSBootstrap with the gate under 3.2.8 (kube-bench cfg/eks-2.0.0/node.yaml).
	v2 := map[string]policy.Slug{
		"3.1.1": "kubeconfig-perms", "3.1.2": "kubeconfig-owner", "3.1.3": "kubelet-config-perms", "3.1.4": "kubelet-config-owner",
		"3.2.1": "anonymous-auth", "3.2.2": "authorization-mode-webhook", "3.2.3": "client-ca", "3.2.4": "read-only-port",
		"3.2.5": "iptables-util-chains", "3.2.6": "event-qps", "3.2.7": "rotate-certificates", "3.2.8": "serving-cert-rotation",
	}
	for _, b := range policy.Benchmarks() {
		want := current
		switch b {
		case policy.EKS101, policy.EKS110, policy.EKS120:
			want = old
		case policy.EKS200:
			want = v2
		}
		assert.Equal(t, want, ids(b), b)
	}

	r, err := Scan(h, policy.EKS120, "n")
	require.NoError(t, err)
	var order []string
	for _, res := range r.Results {
		order = append(order, res.ID)
	}
	assert.Equal(t, []string{"3.1.1", "3.1.2", "3.1.3", "3.1.4", "3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5",
		"3.2.6", "3.2.7", "3.2.8", "3.2.9", "3.2.10", "3.2.11"}, order, "sorted numerically")
	assert.Equal(t, policy.StatusPass, result(t, r, "protect-kernel-defaults").Status)
	assert.Equal(t, policy.StatusPass, result(t, r, "hostname-override").Status)

	_, err = Scan(h, "eks-9.9.9", "n")
	require.Error(t, err)
}

func TestEveryCatalogueSlugHasACheck(t *testing.T) {
	defined := map[policy.Slug]bool{}
	for _, c := range Checks() {
		assert.False(t, defined[c.Slug], "duplicate %s", c.Slug)
		defined[c.Slug] = true
		assert.NotEmpty(t, c.Decides)
	}
	for _, b := range policy.Benchmarks() {
		cat, err := policy.CatalogueFor(b)
		require.NoError(t, err)
		for _, e := range cat.Entries() {
			if e.Section == policy.SectionNode {
				assert.True(t, defined[e.Slug], "%s %s has no check", b, e.Slug)
			}
		}
	}
}

func TestProcRootSeparateFromHostRoot(t *testing.T) {
	h := hostFiles(t, map[string]string{configPath: configHead + `, "readOnlyPort": 10255}`})
	proc := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(proc, "77"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(proc, "77", "cmdline"), []byte("kubelet\x00--config\x00"+configPath+"\x00--read-only-port=0\x00"), 0o644))
	h.ProcRoot = proc
	r, err := Scan(h, policy.DefaultBenchmark, "n")
	require.NoError(t, err)
	res := result(t, r, "read-only-port")
	assert.Equal(t, "flag --read-only-port", res.Source)
	assert.Equal(t, policy.StatusPass, res.Status)
}

func TestSymlinksResolveInsideHostRoot(t *testing.T) {
	h := hostFiles(t, map[string]string{
		"/real/config.json":  configHead + `, "readOnlyPort": 10255}`,
		"proc/10/cmdline":    kubeletCmdline("--config", "/etc/kubelet/config.json"),
		"/etc/kubelet/.keep": "",
	})
	// An absolute link target is the node's path, never the scanner's own /.
	require.NoError(t, os.Symlink("/real/config.json", filepath.Join(h.Root, "etc/kubelet/config.json")))
	r, err := Scan(h, policy.DefaultBenchmark, "n")
	require.NoError(t, err)
	assert.Equal(t, "10255", result(t, r, "read-only-port").Actual)
}

// TestUnreadableKubeletIsNotScanned: a scan that cannot reach the kubelet's configuration says so
// with the path and the value to set; it is not a node with WARNs (issue: a Job whose mounts
// missed the config file reported "0 FAIL, 13 WARN" and exited 0).
func TestUnreadableKubeletIsNotScanned(t *testing.T) {
	const kubeconfig = "/var/lib/kubelet/kubeconfig"
	tests := []struct {
		name     string
		files    map[string]string
		wantPath string
		wantHint string
	}{
		{"config file outside the mounts", map[string]string{
			"proc/10/cmdline": kubeletCmdline("--config", "/opt/kubelet/config.yaml", "--kubeconfig", kubeconfig), kubeconfig: "x"},
			"/opt/kubelet/config.yaml", "mount /opt/kubelet into the scan (Helm value nodeScan.extraHostPaths)"},
		{"kubeconfig outside the mounts", map[string]string{
			"proc/10/cmdline": kubeletCmdline("--config", configPath, "--kubeconfig", kubeconfig), configPath: configHead + "}"},
			kubeconfig, "mount /var/lib/kubelet into the scan (Helm value nodeScan.extraHostPaths)"},
		{"malformed config", map[string]string{
			"proc/10/cmdline": kubeletCmdline("--config", configPath), configPath: `{"kind": `},
			"", ""},
		{"no kubelet", map[string]string{"/etc/hostname": "n"}, "", "hostPID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := scanFiles(t, tt.files)
			require.NotNil(t, r.NotScanned)
			assert.Equal(t, tt.wantPath, r.NotScanned.Path)
			assert.Contains(t, r.NotScanned.Hint, tt.wantHint)
			if tt.wantPath != "" {
				assert.Contains(t, r.NotScanned.Reason, tt.wantPath)
			}
			assert.True(t, strings.HasPrefix(r.NotScanned.String(), "not scanned: "))
			payload := report.NewNodeReport(r)
			assert.Equal(t, r.NotScanned, payload.NotScanned, "node.<node>.json carries it")
		})
	}
	readable := scanFiles(t, map[string]string{
		"proc/10/cmdline": kubeletCmdline("--config", configPath, "--kubeconfig", kubeconfig), configPath: configHead + "}", kubeconfig: "x"})
	assert.Nil(t, readable.NotScanned)
}

// TestAuthorizationModeWebhook: eks-2.0.0's 3.2.2 asks for authorization.mode Webhook (kube-bench
// cfg/eks-2.0.0/node.yaml, compare op eq Webhook); eks-1.8.0's 3.2.2 only rules out AlwaysAllow.
// The kubelet accepts AlwaysAllow and Webhook (KubeletConfiguration authorization.mode); a file
// naming anything else passes the older item and fails the newer.
func TestAuthorizationModeWebhook(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		actual      string
		source      string
		v200, v180  policy.Status
		detailOf200 string
	}{
		{"file Webhook", map[string]string{"proc/10/cmdline": kubeletCmdline("--config", configPath),
			configPath: configHead + `, "authorization": {"mode": "Webhook"}}`},
			"Webhook", "file " + configPath + " key authorization.mode", policy.StatusPass, policy.StatusPass, "mode Webhook"},
		{"flag AlwaysAllow over the file", map[string]string{"proc/10/cmdline": kubeletCmdline("--config", configPath, "--authorization-mode=AlwaysAllow"),
			configPath: configHead + `, "authorization": {"mode": "Webhook"}}`},
			"AlwaysAllow", "flag --authorization-mode", policy.StatusFail, policy.StatusFail, "every authenticated request"},
		{"flags-only default", map[string]string{"proc/10/cmdline": kubeletCmdline()},
			"AlwaysAllow", "default", policy.StatusFail, policy.StatusFail, "flags-only default applies"},
		{"another mode", map[string]string{"proc/10/cmdline": kubeletCmdline("--config", configPath),
			configPath: configHead + `, "authorization": {"mode": "Node"}}`},
			"Node", "file " + configPath + " key authorization.mode", policy.StatusFail, policy.StatusPass, "not Webhook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := result(t, scanFilesIn(t, policy.EKS200, tt.files), "authorization-mode-webhook")
			assert.Equal(t, "3.2.2", res.ID)
			assert.Equal(t, "Webhook", res.Expected)
			assert.Equal(t, tt.actual, res.Actual)
			assert.Equal(t, tt.source, res.Source)
			assert.Equal(t, tt.v200, res.Status, res.Detail)
			assert.Contains(t, res.Detail, tt.detailOf200)
			old := result(t, scanFilesIn(t, policy.EKS180, tt.files), "authorization-mode")
			assert.Equal(t, tt.actual, old.Actual)
			assert.Equal(t, tt.v180, old.Status, old.Detail)
		})
	}
}

// TestServingCertRotation: eks-2.0.0's 3.2.8 needs serverTLSBootstrap and the
// RotateKubeletServerCertificate gate both true (kube-bench cfg/eks-2.0.0/node.yaml, two test
// items, both set and eq true); eks-1.8.0's 3.2.9 reads the gate alone. Each setting is reported
// with its value and its source, resolved as the kubelet does (flag over drop-in over file over
// default; serverTLSBootstrap defaults to false, the gate to true since Kubernetes 1.12).
func TestServingCertRotation(t *testing.T) {
	withConfig := kubeletCmdline("--config", configPath, "--config-dir", dropInDir)
	tests := []struct {
		name           string
		flags          []string
		config, dropIn string
		actual, source string
		v200, v180     policy.Status
	}{
		{"both in the file", nil, `, "serverTLSBootstrap": true, "featureGates": {"RotateKubeletServerCertificate": true}`, "",
			"serverTLSBootstrap=true, RotateKubeletServerCertificate=true",
			"serverTLSBootstrap: file " + configPath + " key serverTLSBootstrap; RotateKubeletServerCertificate: file " + configPath + " key featureGates.RotateKubeletServerCertificate",
			policy.StatusPass, policy.StatusPass},
		{"the gate alone, by default", nil, "", "",
			"serverTLSBootstrap=false, RotateKubeletServerCertificate=true",
			"serverTLSBootstrap: default; RotateKubeletServerCertificate: default",
			policy.StatusFail, policy.StatusPass},
		{"bootstrap by flag, the gate off by flag", []string{"--rotate-server-certificates=true", "--feature-gates=RotateKubeletServerCertificate=false"}, "", "",
			"serverTLSBootstrap=true, RotateKubeletServerCertificate=false",
			"serverTLSBootstrap: flag --rotate-server-certificates; RotateKubeletServerCertificate: flag --feature-gates",
			policy.StatusFail, policy.StatusFail},
		{"a drop-in turns bootstrap on", nil, `, "serverTLSBootstrap": false`, `, "serverTLSBootstrap": true`,
			"serverTLSBootstrap=true, RotateKubeletServerCertificate=true",
			"serverTLSBootstrap: drop-in " + dropInDir + "/10.conf key serverTLSBootstrap; RotateKubeletServerCertificate: default",
			policy.StatusPass, policy.StatusPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{
				"proc/10/cmdline": withConfig + " " + strings.Join(tt.flags, " "),
				configPath:        configHead + tt.config + "}",
			}
			if tt.dropIn != "" {
				files[dropInDir+"/10.conf"] = configHead + tt.dropIn + "}"
			} else {
				files[dropInDir+"/.keep"] = ""
			}
			res := result(t, scanFilesIn(t, policy.EKS200, files), "serving-cert-rotation")
			assert.Equal(t, "3.2.8", res.ID)
			assert.Equal(t, "serverTLSBootstrap=true, RotateKubeletServerCertificate=true", res.Expected)
			assert.Equal(t, tt.actual, res.Actual)
			assert.Equal(t, tt.source, res.Source)
			assert.Equal(t, tt.v200, res.Status, res.Detail)
			assert.Equal(t, tt.v180, result(t, scanFilesIn(t, policy.EKS180, files), "rotate-server-cert").Status)
		})
	}
}
