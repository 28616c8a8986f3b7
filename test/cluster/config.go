package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"sigs.k8s.io/yaml"
)

// The node's network: everything runs inside the node's network namespace, so these fixed
// addresses never meet the host's or another cluster's.
const (
	nodeIP         = "172.31.250.1"
	nodeCIDR       = nodeIP + "/24"
	podCIDR        = "10.244.0.0/24"
	clusterCIDR    = "10.244.0.0/16"
	serviceCIDR    = "10.96.0.0/24"
	apiServiceIP   = "10.96.0.1"
	apiServerPort  = "6443"
	clusterDNSName = "cluster.local"
	// NodeName is the node's name (--hostname-override): there is no DNS for it, the API server
	// reaches the kubelet at its InternalIP.
	NodeName = "cisgate-node"
	// PauseImage is the pod sandbox image, built by `make pause-image`.
	PauseImage = "cisgate.test/pause:1"
)

// kernelSysctls are the global sysctls the kubelet sets at start (and has no mode to only warn
// about). In the node's mount namespace a file holding the value it wants is bind-mounted over
// each, so the host's kernel settings never change. Values: the kubelet's
// pkg/kubelet/cm/container_manager_linux.go setupKernelTunables.
var kernelSysctls = []struct{ path, value string }{
	{"vm/overcommit_memory", "1"},
	{"vm/panic_on_oom", "0"},
	{"kernel/panic", "10"},
	{"kernel/panic_on_oops", "1"},
	{"kernel/keys/root_maxkeys", "1000000"},
	{"kernel/keys/root_maxbytes", "25000000"},
}

// containerdConfig: containerd 1.6 (Debian) with the CRI plugin. restrict_oom_score_adj because
// these machines lack CAP_SYS_RESOURCE: the sandbox's negative oom_score_adj would fail every
// runc create ("can't get final child's PID from pipe: EOF").
func (c *Cluster) containerdConfig() string {
	q := strconv.Quote
	return `version = 2
root = ` + q(c.path("containerd/root")) + `
state = ` + q(c.path("containerd/state")) + `
[grpc]
  address = ` + q(c.containerdSocket()) + `
[ttrpc]
  address = ` + q(c.containerdSocket()+".ttrpc") + `
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ` + q(PauseImage) + `
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ` + q(c.path("cni/net.d")) + `
[plugins."io.containerd.internal.v1.opt"]
  path = ` + q(c.path("containerd/opt")) + `
`
}

func (c *Cluster) containerdSocket() string { return c.path("run/containerd.sock") }

// cniConfig: a bridge with host-local addresses from the node's pod CIDR, masquerading traffic
// that leaves it; portmap for hostPort.
func (c *Cluster) cniConfig() ([]byte, error) {
	return yaml.YAMLToJSON([]byte(`
cniVersion: 0.4.0
name: cisgate-test
plugins:
- type: bridge
  bridge: cni0
  isGateway: true
  ipMasq: true
  hairpinMode: true
  ipam:
    type: host-local
    ranges: [[{subnet: "` + podCIDR + `"}]]
    routes: [{dst: 0.0.0.0/0}]
    dataDir: "` + c.path("cni/ipam") + `"
- type: portmap
  capabilities: {portMappings: true}
`))
}

// KubeletSetup says how the kubelet is configured: its config file, drop-ins for --config-dir
// and flags. The three are what the node scanner has to merge the way the kubelet does
// (flags over drop-ins over the file).
type KubeletSetup struct {
	// Config is merged over the base KubeletConfiguration the node needs.
	Config map[string]any
	// DropIns are files for --config-dir, by file name (they must end in .conf); each is a
	// KubeletConfiguration fragment (apiVersion and kind are added).
	DropIns map[string]map[string]any
	// Flags are appended to the kubelet's command line.
	Flags []string
}

// KubeletConfigPath is where the kubelet's --config file is written, and KubeletDropInDir its
// --config-dir: under the cluster's directory, as a kubelet on a customised image could be.
func (c *Cluster) KubeletConfigPath() string { return c.path("kubelet/config.yaml") }

// KubeletDropInDir is the kubelet's --config-dir.
func (c *Cluster) KubeletDropInDir() string { return c.path("kubelet/config.d") }

// KubeletDir is the directory holding the kubelet's files (config, drop-ins, kubeconfig, CA):
// the one host path a node scan needs mounted (nodeScan.extraHostPaths) on this node.
func (c *Cluster) KubeletDir() string { return c.path("kubelet") }

func (c *Cluster) baseKubeletConfig() map[string]any {
	return map[string]any{
		"apiVersion": "kubelet.config.k8s.io/v1beta1",
		"kind":       "KubeletConfiguration",
		// cgroup v1 on these machines; kubelet 1.35+ refuses it unless told.
		"failCgroupV1":             false,
		"cgroupDriver":             "cgroupfs",
		"cgroupRoot":               "/" + c.cgroups.name + "/pods",
		"containerRuntimeEndpoint": "unix://" + c.containerdSocket(),
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": true},
			"x509":      map[string]any{"clientCAFile": c.KubeletDir() + "/ca.crt"},
		},
		"authorization":       map[string]any{"mode": "Webhook"},
		"clusterDomain":       clusterDNSName,
		"resolvConf":          c.path("kubelet/resolv.conf"),
		"podLogsDir":          c.path("kubelet/pod-logs"),
		"volumePluginDir":     c.path("kubelet/volume-plugins"),
		"readOnlyPort":        0,
		"failSwapOn":          false,
		"serializeImagePulls": false,
		// The test node's disk is the machine's: never evict the test's pods for it.
		"evictionHard":                   map[string]any{"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
		"imageGCHighThresholdPercent":    100,
		"imageGCLowThresholdPercent":     99,
		"syncFrequency":                  "10s",
		"fileCheckFrequency":             "10s",
		"nodeStatusUpdateFrequency":      "5s",
		"rotateCertificates":             false,
		"protectKernelDefaults":          false,
		"streamingConnectionIdleTimeout": "4h0m0s",
		"makeIPTablesUtilChains":         true,
		"eventRecordQPS":                 5,
	}
}

// writeKubeletFiles writes the config file and the drop-ins of setup, replacing the last ones.
func (c *Cluster) writeKubeletFiles(setup KubeletSetup) error {
	cfg := c.baseKubeletConfig()
	for k, v := range setup.Config {
		cfg[k] = v
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.KubeletConfigPath(), data, 0o600); err != nil {
		return err
	}
	if err := os.RemoveAll(c.KubeletDropInDir()); err != nil {
		return err
	}
	if err := os.MkdirAll(c.KubeletDropInDir(), 0o700); err != nil {
		return err
	}
	for name, frag := range setup.DropIns {
		if filepath.Ext(name) != ".conf" || filepath.Base(name) != name {
			return fmt.Errorf("kubelet drop-in %q: want a file name ending in .conf", name)
		}
		doc := map[string]any{"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"}
		for k, v := range frag {
			doc[k] = v
		}
		data, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(c.KubeletDropInDir(), name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
