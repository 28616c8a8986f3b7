// Package cluster runs a real one-node Kubernetes cluster for the tests and the demo: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, a kubelet with containerd and runc,
// and kube-proxy, all v1.37.2 (built by test/tools), on this machine.
//
// The whole node lives in its own network and mount namespaces, so nothing of the host changes:
// no interface, route, iptables rule or sysctl of the host's network, no global kernel sysctl
// (files are bind-mounted over the ones the kubelet writes), and /run and /var/lib are private
// directories of the cluster. The cluster's processes and its pods live in one cgroup tree;
// Stop kills whatever is in it, removes it and the cluster's directory, and the namespaces vanish
// with their last process. See docs/cluster.md.
//
// Clusters are serialized on the machine by a file lock (a hostPID node scan sees every kubelet
// of the machine, so two clusters at once would let one node's scan read the other's kubelet).
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cisgate/cisgate/internal/poll"
)

// BaseDir holds every cluster's directory and the machine-wide lock.
const BaseDir = "/tmp/cisgate-cluster"

// Options of a cluster.
type Options struct {
	// ToolsDir holds kube-apiserver, etcd, kubelet, kube-controller-manager, kube-scheduler and
	// kube-proxy (`make -s tools-path`).
	ToolsDir string
	// Name of the cluster's directory under BaseDir and of its cgroup (cisgate-<Name>); random
	// when empty.
	Name string
	// Images are OCI image layout directories imported into the node's containerd (the pause
	// image must be among them).
	Images []string
	// Kubelet is the kubelet's first setup (see RestartKubelet).
	Kubelet KubeletSetup
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// LockTimeout bounds the wait for another cluster on this machine to go.
	LockTimeout time.Duration
}

// Cluster is a running cluster.
type Cluster struct {
	opts    Options
	dir     string
	cgroups cgroupTree
	lock    *os.File
	ns      *nodeNS
	proxy   *proxy
	pki     *pki
	procs   map[string]*exec.Cmd
	started time.Time

	// AdminKubeconfig is a kubeconfig (system:masters) for the host: it points at a local port
	// that forwards into the node's namespace.
	AdminKubeconfig string
	// Config is the admin rest.Config; its Dial reaches the API server directly in the node's
	// namespace.
	Config    *rest.Config
	Clientset kubernetes.Interface
}

func (c *Cluster) path(p string) string { return filepath.Join(c.dir, p) }

func (c *Cluster) logf(format string, args ...any) {
	if c.opts.Log != nil {
		fmt.Fprintf(c.opts.Log, "cluster: %s %s\n", time.Since(c.started).Round(10*time.Millisecond), fmt.Sprintf(format, args...))
	}
}

// Dir is the cluster's directory (logs under logs/).
func (c *Cluster) Dir() string { return c.dir }

// Start brings a cluster up: when it returns without error the node is Ready and the default
// ServiceAccount exists. On error everything started is torn down.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Name == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opts.Name = hex.EncodeToString(b)
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 20 * time.Minute
	}
	c := &Cluster{opts: opts, dir: filepath.Join(BaseDir, opts.Name), cgroups: cgroupTree{name: "cisgate-" + opts.Name},
		procs: map[string]*exec.Cmd{}, started: time.Now()}
	if err := c.checkHost(); err != nil {
		return nil, err
	}
	if c.lock, err = lockMachine(ctx, opts.LockTimeout, c.logf); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
		}
	}()
	// With the lock held, any other cluster left here was abandoned (a killed test): remove it.
	if err := removeAbandoned(); err != nil {
		return c, err
	}
	if err := c.prepare(); err != nil {
		return c, err
	}
	if err := c.startNamespaces(); err != nil {
		return c, err
	}
	if err := c.startContainerd(ctx); err != nil {
		return c, err
	}
	if err := c.startControlPlane(ctx); err != nil {
		return c, err
	}
	if err := c.startNode(ctx); err != nil {
		return c, err
	}
	c.logf("ready: kubeconfig %s", c.AdminKubeconfig)
	return c, nil
}

// checkHost names what is missing before anything is started.
func (c *Cluster) checkHost() error {
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("the local cluster needs root (namespaces, mounts, cgroups)"))
	}
	for _, bin := range []string{"kube-apiserver", "etcd", "kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy"} {
		if _, err := os.Stat(filepath.Join(c.opts.ToolsDir, bin)); err != nil {
			errs = append(errs, fmt.Errorf("%s not built (make cluster-tools): %w", bin, err))
		}
	}
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "conntrack", "nsenter", "unshare", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			errs = append(errs, fmt.Errorf("%s not installed (make cluster-packages): %w", bin, err))
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		errs = append(errs, fmt.Errorf("CNI plugins not installed (make cluster-packages): %w", err))
	}
	return errors.Join(errs...)
}

// lockMachine takes BaseDir/lock; the lock goes with the process that holds it, however it ends.
func lockMachine(ctx context.Context, timeout time.Duration, logf func(string, ...any)) (*os.File, error) {
	if err := os.MkdirAll(BaseDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(BaseDir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for waited := false; ; {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if !waited {
			logf("waiting for another local cluster on this machine to stop (%s; `make cluster-down` stops one made by `make cluster-up`)", filepath.Join(BaseDir, "lock"))
			waited = true
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another local cluster held %s for %s", filepath.Join(BaseDir, "lock"), timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// removeAbandoned removes the cgroup trees and directories of clusters whose owner is gone.
// Called with the machine lock held, so no other cluster is running.
func removeAbandoned() error {
	var errs []error
	hs, _ := cgroupTree{}.hierarchies()
	seen := map[string]bool{}
	for _, h := range hs {
		matches, _ := filepath.Glob(filepath.Join(h, "cisgate-*"))
		for _, m := range matches {
			name := filepath.Base(m)
			if !seen[name] {
				seen[name] = true
				errs = append(errs, cgroupTree{name: name}.destroy(30*time.Second))
			}
		}
	}
	dirs, _ := os.ReadDir(BaseDir)
	for _, d := range dirs {
		if d.IsDir() {
			errs = append(errs, os.RemoveAll(filepath.Join(BaseDir, d.Name())))
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) prepare() error {
	for _, d := range []string{"logs", "run", "varlib", "sysctl", "etc/upper", "etc/work", "etcd", "containerd", "cni/net.d", "cni/ipam", "kubelet/pod-logs", "kubelet/volume-plugins", "pki"} {
		if err := os.MkdirAll(c.path(d), 0o700); err != nil {
			return err
		}
	}
	// The kubelet's files are read by a node scan running as uid 0 without capabilities
	// (CAP_DAC_OVERRIDE dropped): the directories must be searchable by their owner, root.
	if err := os.Chmod(c.dir, 0o755); err != nil {
		return err
	}
	var err error
	if c.pki, err = newPKI(c.path("pki")); err != nil {
		return err
	}
	p := c.pki
	hosts := []string{nodeIP, "127.0.0.1", apiServiceIP, "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + clusterDNSName}
	for _, e := range []struct {
		name, cn string
		orgs     []string
		hosts    []string
	}{
		{"apiserver", "kube-apiserver", nil, hosts},
		{"apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, nil},
		{"admin", "admin", []string{"system:masters"}, nil},
		{"controller-manager", "system:kube-controller-manager", nil, nil},
		{"scheduler", "system:kube-scheduler", nil, nil},
		{"kubelet", "system:node:" + NodeName, []string{"system:nodes"}, nil},
		{"kubelet-serving", NodeName, nil, []string{nodeIP, NodeName}},
		{"kube-proxy", "system:kube-proxy", nil, nil},
	} {
		if err := p.issue(e.name, e.cn, e.orgs, e.hosts...); err != nil {
			return err
		}
	}
	if err := p.serviceAccountKeys(); err != nil {
		return err
	}
	server := "https://" + net.JoinHostPort(nodeIP, apiServerPort)
	for _, u := range []string{"controller-manager", "scheduler", "kubelet", "kube-proxy"} {
		if _, err := p.kubeconfig(u, server); err != nil {
			return err
		}
	}
	// The kubelet's own files sit together in one directory, as on a node: config, drop-ins,
	// kubeconfig, client CA and serving certificate.
	for _, f := range []string{"kubelet.crt", "kubelet.key", "kubelet-serving.crt", "kubelet-serving.key", "ca.crt"} {
		if err := copyFile(p.path(f), c.path("kubelet/"+f)); err != nil {
			return err
		}
	}
	// The kubeconfig names its certificate files by path: point it at the kubelet directory's copies.
	if _, err := (&pki{dir: c.KubeletDir()}).kubeconfig("kubelet", server); err != nil {
		return err
	}
	if err := os.WriteFile(c.path("kubelet/resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		return err
	}
	if err := c.writeKubeletFiles(c.opts.Kubelet); err != nil {
		return err
	}
	cni, err := c.cniConfig()
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.path("cni/net.d/10-cisgate-test.conflist"), cni, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(c.path("containerd/config.toml"), []byte(c.containerdConfig()), 0o600); err != nil {
		return err
	}
	for _, s := range kernelSysctls {
		if err := os.WriteFile(c.path("sysctl/"+strings.ReplaceAll(s.path, "/", "_")), []byte(s.value+"\n"), 0o644); err != nil {
			return err
		}
	}
	return c.cgroups.create("system", "pods")
}

// command is exec.Command for an argv slice.
func command(argv []string) *exec.Cmd { return exec.Command(argv[0], argv[1:]...) }

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}

// startNamespaces starts the holder in new network and mount namespaces (private propagation:
// no mount made in them reaches the host) and sets them up.
func (c *Cluster) startNamespaces() error {
	holder, err := c.spawn("holder", []string{"unshare", "--net", "--mount", "--propagation", "private", "--", "sleep", "infinity"})
	if err != nil {
		return err
	}
	// unshare forks nothing: it unshares and execs sleep, so the namespaces are ready once
	// /proc/<pid>/ns/net differs from ours.
	if err := WaitFor(context.Background(), 10*time.Second, "the node's namespaces", func() error {
		own, _ := os.Readlink("/proc/self/ns/net")
		theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid))
		if err != nil || theirs == own {
			return errors.New("not yet")
		}
		return nil
	}); err != nil {
		return err
	}
	if c.ns, err = openNodeNS(holder.Process.Pid); err != nil {
		return err
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	fmt.Fprintf(&script, "mount --bind %q /run\nmount --bind %q /var/lib\n", c.path("run"), c.path("varlib"))
	for _, s := range kernelSysctls {
		fmt.Fprintf(&script, "mount --bind %q /proc/sys/%s\n", c.path("sysctl/"+strings.ReplaceAll(s.path, "/", "_")), s.path)
	}
	// /etc is the host's: an overlay gives the node its own writable view, where it has the
	// /etc/kubernetes every kubelet node has (the node-scan Job mounts it, typed Directory).
	fmt.Fprintf(&script, "mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,workdir=%s /etc\nmkdir -p /etc/kubernetes\n", c.path("etc/upper"), c.path("etc/work"))
	// A veth pair gives the node its address (these machines load no modules: no dummy device);
	// the default route keeps Service and Pod traffic on it, inside the namespace.
	fmt.Fprintf(&script, `ip link set lo up
ip link add node0 type veth peer name node1
ip link set node1 up
ip addr add %s dev node0
ip link set node0 up
ip route add default dev node0
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet
if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables || true; fi
`, nodeCIDR)
	if out, err := command(c.ns.nsenter("sh", "-c", script.String())).CombinedOutput(); err != nil {
		return fmt.Errorf("set up the node's namespaces: %w: %s", err, out)
	}
	return nil
}

// spawn starts a process of the cluster in its own session (a terminal's Ctrl-C reaches only
// the test, whose teardown then stops it), logging to logs/<name>.log, and moves it into the
// cluster's cgroup tree.
func (c *Cluster) spawn(name string, argv []string) (*exec.Cmd, error) {
	logFile, err := os.OpenFile(c.path("logs/"+name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c.procs[name] = cmd
	go func() { _ = cmd.Wait() }()
	if err := c.cgroups.join("system", cmd.Process.Pid); err != nil {
		return nil, err
	}
	c.logf("started %s (pid %d)", name, cmd.Process.Pid)
	return cmd, nil
}

// spawnInNode starts a process in the node's namespaces.
func (c *Cluster) spawnInNode(name string, argv ...string) error {
	_, err := c.spawn(name, c.ns.nsenter(argv...))
	return err
}

func (c *Cluster) tool(name string) string { return filepath.Join(c.opts.ToolsDir, name) }

func (c *Cluster) startContainerd(ctx context.Context) error {
	if err := c.spawnInNode("containerd", "containerd", "--config", c.path("containerd/config.toml")); err != nil {
		return err
	}
	if err := WaitFor(ctx, 30*time.Second, "containerd", func() error {
		return exec.CommandContext(ctx, "ctr", "--address", c.containerdSocket(), "version").Run()
	}); err != nil {
		return err
	}
	for _, dir := range c.opts.Images {
		if err := c.ImportImage(ctx, dir); err != nil {
			return err
		}
	}
	return nil
}

// ImportImage imports an OCI image layout directory into the node's containerd (namespace
// k8s.io, the CRI's), for this machine's platform.
func (c *Cluster) ImportImage(ctx context.Context, layoutDir string) error {
	if _, err := os.Stat(filepath.Join(layoutDir, "index.json")); err != nil {
		return fmt.Errorf("image %s: %w (make image pause-image)", layoutDir, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarDir(pw, layoutDir)) }()
	cmd := exec.CommandContext(ctx, "ctr", "--address", c.containerdSocket(), "-n", "k8s.io", "images", "import", "-")
	cmd.Stdin = pr
	out, err := cmd.CombinedOutput()
	pr.Close()
	if err != nil {
		return fmt.Errorf("import %s: %w: %s", layoutDir, err, out)
	}
	c.logf("imported %s: %s", layoutDir, strings.TrimSpace(string(out)))
	return nil
}

func (c *Cluster) startControlPlane(ctx context.Context) error {
	p := c.pki.path
	if err := c.spawnInNode("etcd", c.tool("etcd"), "--data-dir", c.path("etcd"),
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "default=http://127.0.0.1:2380", "--listen-metrics-urls", "",
		"--unsafe-no-fsync", "--quota-backend-bytes", "1073741824"); err != nil {
		return err
	}
	if err := c.spawnInNode("kube-apiserver", c.tool("kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:2379",
		"--bind-address", "0.0.0.0", "--advertise-address", nodeIP, "--secure-port", apiServerPort,
		"--tls-cert-file", p("apiserver.crt"), "--tls-private-key-file", p("apiserver.key"),
		"--client-ca-file", p("ca.crt"),
		"--service-cluster-ip-range", serviceCIDR,
		"--service-account-issuer", "https://kubernetes.default.svc."+clusterDNSName,
		"--service-account-key-file", p("sa.pub"), "--service-account-signing-key-file", p("sa.key"),
		"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
		"--allow-privileged",
		// No DNS for the node's name: logs, exec and the node proxy go to its address.
		"--kubelet-preferred-address-types", "InternalIP",
		"--kubelet-certificate-authority", p("ca.crt"),
		"--kubelet-client-certificate", p("apiserver-kubelet-client.crt"), "--kubelet-client-key", p("apiserver-kubelet-client.key"),
		"--profiling=false", "--v=1"); err != nil {
		return err
	}
	var err error
	if c.proxy, err = startProxy(c.ns, net.JoinHostPort(nodeIP, apiServerPort)); err != nil {
		return err
	}
	if c.AdminKubeconfig, err = c.pki.kubeconfig("admin", "https://"+c.proxy.Addr()); err != nil {
		return err
	}
	// In-process clients dial straight into the namespace.
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.AdminKubeconfig); err != nil {
		return err
	}
	c.Config.Host = "https://" + net.JoinHostPort(nodeIP, apiServerPort)
	c.Config.Dial = c.ns.DialContext
	c.Config.QPS, c.Config.Burst = 200, 400
	if c.Clientset, err = kubernetes.NewForConfig(c.Config); err != nil {
		return err
	}
	// kube-controller-manager exits when started before the API server is ready (it cannot
	// read configmaps/extension-apiserver-authentication yet).
	if err := WaitFor(ctx, 60*time.Second, "kube-apiserver /readyz", func() error {
		body, err := c.Clientset.CoreV1().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("%w: %s", err, body)
		}
		return nil
	}); err != nil {
		return c.withLog(err, "kube-apiserver")
	}
	if err := c.spawnInNode("kube-controller-manager", c.tool("kube-controller-manager"),
		"--kubeconfig", p("controller-manager.kubeconfig"),
		"--authentication-kubeconfig", p("controller-manager.kubeconfig"), "--authorization-kubeconfig", p("controller-manager.kubeconfig"),
		"--bind-address", "127.0.0.1", "--leader-elect=false", "--use-service-account-credentials",
		"--root-ca-file", p("ca.crt"), "--service-account-private-key-file", p("sa.key"),
		"--cluster-signing-cert-file", p("ca.crt"), "--cluster-signing-key-file", p("ca.key"),
		"--allocate-node-cidrs", "--cluster-cidr", clusterCIDR, "--node-cidr-mask-size", "24",
		"--service-cluster-ip-range", serviceCIDR, "--profiling=false", "--v=1"); err != nil {
		return err
	}
	return c.spawnInNode("kube-scheduler", c.tool("kube-scheduler"),
		"--kubeconfig", p("scheduler.kubeconfig"),
		"--authentication-kubeconfig", p("scheduler.kubeconfig"), "--authorization-kubeconfig", p("scheduler.kubeconfig"),
		"--bind-address", "127.0.0.1", "--leader-elect=false", "--profiling=false", "--v=1")
}

// kubeletArgs is the kubelet's command line for setup.
func (c *Cluster) kubeletArgs(setup KubeletSetup) []string {
	args := []string{c.tool("kubelet"),
		"--config", c.KubeletConfigPath(), "--config-dir", c.KubeletDropInDir(),
		"--kubeconfig", c.KubeletDir() + "/kubelet.kubeconfig",
		"--tls-cert-file", c.KubeletDir() + "/kubelet-serving.crt", "--tls-private-key-file", c.KubeletDir() + "/kubelet-serving.key",
		"--root-dir", "/var/lib/kubelet",
		"--hostname-override", NodeName, "--node-ip", nodeIP, "--v=1"}
	return append(args, setup.Flags...)
}

func (c *Cluster) startNode(ctx context.Context) error {
	if err := c.spawnInNode("kubelet", c.kubeletArgs(c.opts.Kubelet)...); err != nil {
		return err
	}
	if err := c.spawnInNode("kube-proxy", c.tool("kube-proxy"),
		"--kubeconfig", c.pki.path("kube-proxy.kubeconfig"), "--hostname-override", NodeName,
		"--proxy-mode", "iptables", "--cluster-cidr", clusterCIDR, "--bind-address", nodeIP,
		"--metrics-bind-address", "127.0.0.1:10249", "--healthz-bind-address", "127.0.0.1:10256",
		// 0: leave the conntrack table size alone (it is the host's, not the namespace's).
		"--conntrack-max-per-core", "0", "--v=1"); err != nil {
		return err
	}
	if err := c.WaitNodeReady(ctx); err != nil {
		return err
	}
	return WaitFor(ctx, 60*time.Second, "the default ServiceAccount", func() error {
		_, err := c.Clientset.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// WaitNodeReady waits for the node to report Ready.
func (c *Cluster) WaitNodeReady(ctx context.Context) error {
	err := WaitFor(ctx, 60*time.Second, "node "+NodeName+" Ready", func() error {
		n, err := c.Clientset.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return errors.New("not Ready")
	})
	return c.withLog(err, "kubelet")
}

// RestartKubelet stops the kubelet, rewrites its files for setup and starts it again; it
// returns once the kubelet serves the new configuration's /configz. Pods keep running.
func (c *Cluster) RestartKubelet(ctx context.Context, setup KubeletSetup) error {
	if cmd := c.procs["kubelet"]; cmd != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := WaitFor(ctx, 30*time.Second, "the kubelet to stop", func() error {
			if syscall.Kill(cmd.Process.Pid, 0) == nil {
				return errors.New("still running")
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if err := c.writeKubeletFiles(setup); err != nil {
		return err
	}
	if err := c.spawnInNode("kubelet", c.kubeletArgs(setup)...); err != nil {
		return err
	}
	pid := c.procs["kubelet"].Process.Pid
	return WaitFor(ctx, 60*time.Second, "the restarted kubelet's /configz", func() error {
		if _, err := c.Configz(ctx); err != nil {
			return err
		}
		// The node proxy may still reach the old kubelet's port for a moment; the Node's
		// status names the running process only indirectly, so check it is ours.
		if syscall.Kill(pid, 0) != nil {
			return c.withLog(errors.New("the kubelet exited"), "kubelet")
		}
		return nil
	})
}

// Configz is what the running kubelet serves on /configz, through the API server's node proxy.
func (c *Cluster) Configz(ctx context.Context) ([]byte, error) {
	return c.Clientset.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/" + NodeName + "/proxy/configz").DoRaw(ctx)
}

// KubeletPID is the running kubelet's process ID (on the host: the cluster shares its PID namespace).
func (c *Cluster) KubeletPID() int {
	if cmd := c.procs["kubelet"]; cmd != nil {
		return cmd.Process.Pid
	}
	return 0
}

// withLog adds the tail of a component's log to err.
func (c *Cluster) withLog(err error, component string) error {
	if err == nil {
		return nil
	}
	data, _ := os.ReadFile(c.path("logs/" + component + ".log"))
	if len(data) > 3000 {
		data = data[len(data)-3000:]
	}
	return fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, c.path("logs/"+component+".log"), data)
}

// Stop tears the cluster down completely: every process in its cgroup tree (daemons, shims,
// containers) is killed, the tree removed, the namespaces go with their last process and the
// cluster's directory is removed. Safe to call more than once and on a partly started cluster.
func (c *Cluster) Stop() error {
	if c == nil {
		return nil
	}
	var errs []error
	if c.proxy != nil {
		c.proxy.close()
		c.proxy = nil
	}
	if c.ns != nil {
		c.ns.close()
		c.ns = nil
	}
	errs = append(errs, c.cgroups.destroy(30*time.Second))
	// Our own children: reap what the cgroup sweep killed (a spawn that failed before joining
	// the tree is killed here).
	for _, cmd := range c.procs {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	}
	c.procs = map[string]*exec.Cmd{}
	if os.Getenv("CISGATE_CLUSTER_KEEP_DIR") == "" {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
	c.logf("stopped")
	return errors.Join(errs...)
}

// WaitFor polls check every 200ms until it returns nil, ctx ends or timeout passes (poll.Until).
func WaitFor(ctx context.Context, timeout time.Duration, what string, check func() error) error {
	return poll.Until(ctx, timeout, 200*time.Millisecond, what, check)
}

// RemoveAbandoned takes the machine's cluster lock (failing at once if a cluster runs) and
// removes what clusters whose process was killed left behind.
func RemoveAbandoned(ctx context.Context) error {
	lock, err := lockMachine(ctx, time.Second, func(string, ...any) {})
	if err != nil {
		return err
	}
	defer lock.Close()
	return removeAbandoned()
}

// PIDs lists every process of the cluster: its daemons, shims and containers.
func (c *Cluster) PIDs() []int { return c.cgroups.pids() }
