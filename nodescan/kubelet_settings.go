package nodescan

import "time"

// The kubelet settings section 3 reads, one entry each: the flag as cmd/kubelet/app/options
// registers it, the KubeletConfiguration v1beta1 key, the value type, and the kubelet's value
// when nothing sets it (Kubernetes 1.37):
//
//   - configFileDefault: SetDefaults_KubeletConfiguration (pkg/kubelet/apis/config/v1beta1/
//     defaults.go), which the kubelet applies to the --config file and again after merging the
//     drop-ins; a field it does not default is zero.
//   - flagsOnlyDefault: the same defaults with applyLegacyDefaults on top
//     (cmd/kubelet/app/options/options.go, NewKubeletConfiguration), the kubelet's baseline
//     before it reads any file: anonymous auth on, AlwaysAllow, read-only port 10255.
//
// A check reads its setting with effective, e.g. eventRecordQPS.effective(ev.Config).
var (
	anonymousAuth = defineSetting(kubeletSetting[bool]{
		flag: "anonymous-auth", key: "authentication.anonymous.enabled", valueType: boolType,
		// SetDefaults: Anonymous.Enabled == nil → false; applyLegacyDefaults: true.
		configFileDefault: false, flagsOnlyDefault: true,
	})
	authorizationMode = defineSetting(kubeletSetting[AuthorizationMode]{
		flag: "authorization-mode", key: "authorization.mode", valueType: authorizationModeType,
		// SetDefaults: Mode == "" → Webhook; applyLegacyDefaults: AlwaysAllow.
		configFileDefault: AuthorizationWebhook, flagsOnlyDefault: AuthorizationAlwaysAllow,
		fileZeroIsUnset: true,
	})
	clientCAFile = defineSetting(kubeletSetting[string]{
		flag: "client-ca-file", key: "authentication.x509.clientCAFile", valueType: stringType,
		// Not defaulted in either mode.
		configFileDefault: "", flagsOnlyDefault: "",
	})
	readOnlyPort = defineSetting(kubeletSetting[int32]{
		flag: "read-only-port", key: "readOnlyPort", valueType: int32Type,
		// Not defaulted by SetDefaults (0, disabled); applyLegacyDefaults: ports.KubeletReadOnlyPort.
		configFileDefault: 0, flagsOnlyDefault: 10255,
	})
	streamingConnectionIdleTimeout = defineSetting(kubeletSetting[time.Duration]{
		flag: "streaming-connection-idle-timeout", key: "streamingConnectionIdleTimeout", valueType: durationType,
		// SetDefaults: StreamingConnectionIdleTimeout == zeroDuration → 4h.
		configFileDefault: 4 * time.Hour, flagsOnlyDefault: 4 * time.Hour,
		fileZeroIsUnset: true,
	})
	protectKernelDefaults = defineSetting(kubeletSetting[bool]{
		flag: "protect-kernel-defaults", key: "protectKernelDefaults", valueType: boolType,
		// Not defaulted in either mode.
		configFileDefault: false, flagsOnlyDefault: false,
	})
	makeIPTablesUtilChains = defineSetting(kubeletSetting[bool]{
		flag: "make-iptables-util-chains", key: "makeIPTablesUtilChains", valueType: boolType,
		// SetDefaults: MakeIPTablesUtilChains == nil → true.
		configFileDefault: true, flagsOnlyDefault: true,
	})
	eventRecordQPS = defineSetting(kubeletSetting[int32]{
		flag: "event-qps", key: "eventRecordQPS", valueType: int32Type,
		// SetDefaults: EventRecordQPS == nil → 50; a file's 0 stays 0 (no limit).
		configFileDefault: 50, flagsOnlyDefault: 50,
	})
	rotateCertificates = defineSetting(kubeletSetting[bool]{
		flag: "rotate-certificates", key: "rotateCertificates", valueType: boolType,
		// Not defaulted in either mode.
		configFileDefault: false, flagsOnlyDefault: false,
	})
	serverTLSBootstrap = defineSetting(kubeletSetting[bool]{
		flag: "rotate-server-certificates", key: "serverTLSBootstrap", valueType: boolType,
		// Not defaulted in either mode.
		configFileDefault: false, flagsOnlyDefault: false,
	})
	hostnameOverride = defineSetting(kubeletSetting[string]{
		// A flag only: it is a KubeletFlags field, KubeletConfiguration has no such key.
		flag: "hostname-override", valueType: stringType,
		configFileDefault: "", flagsOnlyDefault: "",
	})
)
