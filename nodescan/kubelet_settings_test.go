package nodescan

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/policy"
)

// settingCase is the test row of one entry of the settings table. Its defaults restate the
// kubelet's (kubelet_settings.go cites where), so a wrong entry fails here.
type settingCase[T comparable] struct {
	setting *kubeletSetting[T]
	// slug is the check that decides on the setting.
	slug policy.Slug
	// flagArg sets flagValue on the command line.
	flagArg   string
	flagValue T
	// fileKeys are config file keys (after apiVersion and kind) setting fileValue; empty for a
	// flag-only setting. flagValue and fileValue differ, so the winner shows.
	fileKeys  string
	fileValue T
	// zeroFileKeys set the key to its zero; zeroIsUnset says the kubelet then applies its default.
	zeroFileKeys string
	zeroIsUnset  bool
	// configFileDefault and flagsOnlyDefault are the kubelet's values when nothing sets it.
	configFileDefault T
	flagsOnlyDefault  T
	// badFlagArg and badFileKeys are values the kubelet refuses to start with.
	badFlagArg  string
	badFileKeys string
}

// settingTest is a settingCase of any value type.
type settingTest interface {
	entry() anySetting
	name() string
	run(t *testing.T)
}

func (c settingCase[T]) entry() anySetting { return c.setting }

func (c settingCase[T]) name() string { return cmp.Or(c.setting.key, c.setting.flag) }

// configFile is a KubeletConfiguration with keys after apiVersion and kind.
func configFile(keys string) string {
	if keys == "" {
		return configHead + "}"
	}
	return configHead + ", " + keys + "}"
}

func (c settingCase[T]) run(t *testing.T) {
	withConfig := func(args ...string) string {
		return kubeletCmdline(append([]string{"--config", configPath}, args...)...)
	}
	effective := func(t *testing.T, files map[string]string) Setting[T] {
		t.Helper()
		ev := Collect(hostFiles(t, files))
		require.NoError(t, ev.KubeletErr)
		require.NoError(t, ev.ConfigErr)
		return c.setting.effective(ev.Config)
	}
	fileSource := Source{Kind: SourceFile, Path: configPath, Key: c.setting.key}

	t.Run("default with a config file", func(t *testing.T) {
		got := effective(t, map[string]string{"proc/10/cmdline": withConfig(), configPath: configFile("")})
		assert.Equal(t, Setting[T]{Value: c.configFileDefault, Source: Source{Kind: SourceDefault}}, got)
	})
	t.Run("default flags-only", func(t *testing.T) {
		got := effective(t, map[string]string{"proc/10/cmdline": kubeletCmdline()})
		assert.Equal(t, Setting[T]{Value: c.flagsOnlyDefault, Source: Source{Kind: SourceDefault}}, got)
	})
	t.Run("flag wins over file", func(t *testing.T) {
		got := effective(t, map[string]string{"proc/10/cmdline": withConfig(c.flagArg), configPath: configFile(c.fileKeys)})
		assert.Equal(t, Setting[T]{Value: c.flagValue, Source: Source{Kind: SourceFlag, Key: c.setting.flag}}, got)
	})
	t.Run("unparseable flag is WARN", func(t *testing.T) {
		res := evaluateCheck(t, c.slug, map[string]string{"proc/10/cmdline": withConfig(c.badFlagArg), configPath: configFile("")})
		assert.Equal(t, policy.StatusWarn, res.Status)
		assert.Contains(t, res.Detail, "--"+c.setting.flag)
	})
	if c.fileKeys == "" {
		return
	}
	t.Run("file value", func(t *testing.T) {
		got := effective(t, map[string]string{"proc/10/cmdline": withConfig(), configPath: configFile(c.fileKeys)})
		assert.Equal(t, Setting[T]{Value: c.fileValue, Source: fileSource}, got)
	})
	t.Run("zero in file", func(t *testing.T) {
		got := effective(t, map[string]string{"proc/10/cmdline": withConfig(), configPath: configFile(c.zeroFileKeys)})
		var zero T
		want := Setting[T]{Value: zero, Source: fileSource}
		if c.zeroIsUnset {
			want = Setting[T]{Value: c.configFileDefault, Source: Source{Kind: SourceDefault},
				Note: fileSource.String() + " is zero, which the kubelet treats as unset and replaces with its default"}
		}
		assert.Equal(t, want, got)
	})
	t.Run("unparseable file value is WARN", func(t *testing.T) {
		res := evaluateCheck(t, c.slug, map[string]string{"proc/10/cmdline": withConfig(), configPath: configFile(c.badFileKeys)})
		assert.Equal(t, policy.StatusWarn, res.Status)
		assert.Contains(t, res.Detail, "parse "+configPath+": "+c.setting.key+": ")
	})
}

// evaluateCheck decides one check on a host, whichever benchmarks carry it.
func evaluateCheck(t *testing.T, slug policy.Slug, files map[string]string) Outcome {
	t.Helper()
	i := slices.IndexFunc(Checks(), func(c *Check) bool { return c.Slug == slug })
	require.NotEqual(t, -1, i, "no check %s", slug)
	return Checks()[i].Evaluate(Collect(hostFiles(t, files)))
}

var settingTests = []settingTest{
	settingCase[bool]{
		setting: anonymousAuth, slug: "anonymous-auth",
		flagArg: "--anonymous-auth=false", flagValue: false,
		fileKeys: `"authentication": {"anonymous": {"enabled": true}}`, fileValue: true,
		zeroFileKeys:      `"authentication": {"anonymous": {"enabled": false}}`,
		configFileDefault: false, flagsOnlyDefault: true,
		badFlagArg: "--anonymous-auth=maybe", badFileKeys: `"authentication": {"anonymous": {"enabled": "yes"}}`,
	},
	settingCase[AuthorizationMode]{
		setting: authorizationMode, slug: "authorization-mode",
		flagArg: "--authorization-mode=Webhook", flagValue: AuthorizationWebhook,
		fileKeys: `"authorization": {"mode": "AlwaysAllow"}`, fileValue: AuthorizationAlwaysAllow,
		zeroFileKeys: `"authorization": {"mode": ""}`, zeroIsUnset: true,
		configFileDefault: AuthorizationWebhook, flagsOnlyDefault: AuthorizationAlwaysAllow,
		badFlagArg: "--authorization-mode", badFileKeys: `"authorization": {"mode": ["Webhook"]}`,
	},
	settingCase[string]{
		setting: clientCAFile, slug: "client-ca",
		flagArg: "--client-ca-file=/etc/kubernetes/pki/ca.crt", flagValue: "/etc/kubernetes/pki/ca.crt",
		fileKeys: `"authentication": {"x509": {"clientCAFile": "/etc/ca.crt"}}`, fileValue: "/etc/ca.crt",
		zeroFileKeys:      `"authentication": {"x509": {"clientCAFile": ""}}`,
		configFileDefault: "", flagsOnlyDefault: "",
		badFlagArg: "--client-ca-file", badFileKeys: `"authentication": {"x509": {"clientCAFile": 1}}`,
	},
	settingCase[int32]{
		setting: readOnlyPort, slug: "read-only-port",
		flagArg: "--read-only-port=0", flagValue: 0,
		fileKeys: `"readOnlyPort": 10255`, fileValue: 10255,
		zeroFileKeys:      `"readOnlyPort": 0`,
		configFileDefault: 0, flagsOnlyDefault: 10255,
		badFlagArg: "--read-only-port=none", badFileKeys: `"readOnlyPort": "none"`,
	},
	settingCase[time.Duration]{
		setting: streamingConnectionIdleTimeout, slug: "streaming-idle-timeout",
		flagArg: "--streaming-connection-idle-timeout=5m", flagValue: 5 * time.Minute,
		fileKeys: `"streamingConnectionIdleTimeout": "30m"`, fileValue: 30 * time.Minute,
		zeroFileKeys: `"streamingConnectionIdleTimeout": "0s"`, zeroIsUnset: true,
		configFileDefault: 4 * time.Hour, flagsOnlyDefault: 4 * time.Hour,
		badFlagArg: "--streaming-connection-idle-timeout=forever", badFileKeys: `"streamingConnectionIdleTimeout": 300`,
	},
	settingCase[bool]{
		setting: protectKernelDefaults, slug: "protect-kernel-defaults",
		flagArg: "--protect-kernel-defaults=false", flagValue: false,
		fileKeys: `"protectKernelDefaults": true`, fileValue: true,
		zeroFileKeys:      `"protectKernelDefaults": false`,
		configFileDefault: false, flagsOnlyDefault: false,
		badFlagArg: "--protect-kernel-defaults=on", badFileKeys: `"protectKernelDefaults": "true"`,
	},
	settingCase[bool]{
		setting: makeIPTablesUtilChains, slug: "iptables-util-chains",
		// A bare boolean flag is true.
		flagArg: "--make-iptables-util-chains", flagValue: true,
		fileKeys: `"makeIPTablesUtilChains": false`, fileValue: false,
		zeroFileKeys:      `"makeIPTablesUtilChains": false`,
		configFileDefault: true, flagsOnlyDefault: true,
		badFlagArg: "--make-iptables-util-chains=yes", badFileKeys: `"makeIPTablesUtilChains": 1`,
	},
	settingCase[int32]{
		setting: eventRecordQPS, slug: "event-qps",
		flagArg: "--event-qps=0", flagValue: 0,
		fileKeys: `"eventRecordQPS": 5`, fileValue: 5,
		// v1beta1's eventRecordQPS is a pointer: the kubelet keeps a file's 0 (no limit).
		zeroFileKeys:      `"eventRecordQPS": 0`,
		configFileDefault: 50, flagsOnlyDefault: 50,
		badFlagArg: "--event-qps=fast", badFileKeys: `"eventRecordQPS": 5.5`,
	},
	settingCase[bool]{
		setting: rotateCertificates, slug: "rotate-certificates",
		flagArg: "--rotate-certificates=false", flagValue: false,
		fileKeys: `"rotateCertificates": true`, fileValue: true,
		zeroFileKeys:      `"rotateCertificates": false`,
		configFileDefault: false, flagsOnlyDefault: false,
		badFlagArg: "--rotate-certificates=sometimes", badFileKeys: `"rotateCertificates": [true]`,
	},
	settingCase[bool]{
		setting: serverTLSBootstrap, slug: "rotate-server-cert",
		flagArg: "--rotate-server-certificates=false", flagValue: false,
		fileKeys: `"serverTLSBootstrap": true`, fileValue: true,
		zeroFileKeys:      `"serverTLSBootstrap": false`,
		configFileDefault: false, flagsOnlyDefault: false,
		badFlagArg: "--rotate-server-certificates=1.0", badFileKeys: `"serverTLSBootstrap": "true"`,
	},
	settingCase[string]{
		setting: hostnameOverride, slug: "hostname-override",
		flagArg: "--hostname-override=node-a", flagValue: "node-a",
		configFileDefault: "", flagsOnlyDefault: "",
		badFlagArg: "--hostname-override",
	},
}

// TestKubeletSettings runs every entry of the settings table through the scan: defaults in both
// modes, a file value, a zero in a file, flag over file, and values that are WARN.
func TestKubeletSettings(t *testing.T) {
	for _, tt := range settingTests {
		t.Run(tt.name(), tt.run)
	}
}

// TestEverySettingHasATestRow: a new entry of the table fails here until settingTests has its row.
func TestEverySettingHasATestRow(t *testing.T) {
	require.NotEmpty(t, kubeletSettings)
	rows := map[anySetting]int{}
	for _, tt := range settingTests {
		rows[tt.entry()]++
	}
	for _, s := range kubeletSettings {
		assert.Equal(t, 1, rows[s], "rows for %v", s)
	}
	assert.Len(t, rows, len(kubeletSettings), "rows for entries that are not in the table")
}

// TestSettingWithoutFlag: an entry can be a config file key only, as many KubeletConfiguration
// fields are; it registers no flag.
func TestSettingWithoutFlag(t *testing.T) {
	fileOnly := &kubeletSetting[bool]{key: "failSwapOn", valueType: boolType, configFileDefault: true, flagsOnlyDefault: true}
	assert.Nil(t, fileOnly.bindFlag(pflag.NewFlagSet("kubelet", pflag.ContinueOnError)))
	value, presence, err := fileOnly.decodeFile(configDocument{"failSwapOn": []byte("false")})
	require.NoError(t, err)
	assert.Equal(t, keySet, presence)
	assert.Equal(t, false, value)
}

// TestConfigFileKeys: keys match case-sensitively, as in the kubelet's decoder; null is unset; a
// document, or a value on a key's path, that is not an object is an error saying where.
func TestConfigFileKeys(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		slug       policy.Slug
		wantActual string
		wantSource string
		wantErr    string
	}{
		{"exact key", configFile(`"readOnlyPort": 10255`), "read-only-port", "10255", "file " + configPath + " key readOnlyPort", ""},
		{"other case is another key", configFile(`"ReadOnlyPort": 10255, "readonlyport": 10255`), "read-only-port", "0", "default", ""},
		{"null is unset", configFile(`"readOnlyPort": null`), "read-only-port", "0", "default", ""},
		{"null object is unset", configFile(`"authentication": null`), "anonymous-auth", "false", "default", ""},
		{"not an object", configFile(`"authentication": 5`), "anonymous-auth", "", "",
			"parse " + configPath + ": authentication: not an object"},
		{"document not an object", "- readOnlyPort\n", "read-only-port", "", "", "parse " + configPath + ": the document is not an object"},
		{"bad feature gates", configFile(`"featureGates": {"RotateKubeletServerCertificate": "on"}`), "serving-cert-rotation", "", "",
			"parse " + configPath + ": featureGates: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := scanFilesIn(t, policy.EKS200, map[string]string{"proc/10/cmdline": kubeletCmdline("--config", configPath), configPath: tt.file})
			res := result(t, r, tt.slug)
			if tt.wantErr != "" {
				assert.Equal(t, policy.StatusWarn, res.Status)
				assert.Contains(t, res.Detail, tt.wantErr)
				return
			}
			assert.Equal(t, tt.wantActual, res.Actual)
			assert.Equal(t, tt.wantSource, res.Source)
		})
	}
}
