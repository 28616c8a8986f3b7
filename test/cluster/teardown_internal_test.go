package cluster

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The node's namespaces with containerd in them and the pause image imported, then Stop: the
// host sees no change while it runs (its kernel.panic, its interfaces) and nothing is left after
// (no process, cgroup, namespace or directory). The Kubernetes components are covered by
// test/e2e/cluster; this runs in seconds with only the Debian packages (make cluster-packages).
func TestNodeNamespacesLeaveNothing(t *testing.T) {
	if os.Getenv("CISGATE_CLUSTER") != "1" {
		t.Skip("CISGATE_CLUSTER=1 is not set (root and make cluster-packages pause-image)")
	}
	hostPanic, err := os.ReadFile("/proc/sys/kernel/panic")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{opts: Options{Images: []string{filepath.Join("..", "..", "bin", "pause-image")}}, dir: filepath.Join(BaseDir, "teardown-test"),
		cgroups: cgroupTree{name: "cisgate-teardown-test"}, procs: map[string]*exec.Cmd{}, started: time.Now()}
	if c.lock, err = lockMachine(context.Background(), 20*time.Minute, t.Logf); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = c.Stop()
		}
	}()
	if err := removeAbandoned(); err != nil {
		t.Fatal(err)
	}
	if err := c.prepare(); err != nil {
		t.Fatal(err)
	}
	if err := c.startNamespaces(); err != nil {
		t.Fatal(err)
	}
	if err := c.startContainerd(context.Background()); err != nil {
		t.Fatal(err)
	}

	inside, err := command(c.ns.nsenter("cat", "/proc/sys/kernel/panic")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(inside)); got != "10" {
		t.Errorf("kernel.panic inside the node = %q, want the kubelet's 10", got)
	}
	if now, _ := os.ReadFile("/proc/sys/kernel/panic"); string(now) != string(hostPanic) {
		t.Errorf("host kernel.panic changed to %q", now)
	}
	if _, err := net.InterfaceByName("node0"); err == nil {
		t.Error("the node's veth is visible on the host")
	}
	images, err := exec.Command("ctr", "--address", c.containerdSocket(), "-n", "k8s.io", "images", "ls", "-q").Output()
	if err != nil || !strings.Contains(string(images), PauseImage) {
		t.Errorf("pause image not imported: %v %s", err, images)
	}
	pids := c.PIDs()
	if len(pids) < 2 {
		t.Fatalf("cgroup tree holds %v, want the holder and containerd", pids)
	}

	stopped = true
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			if data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); !strings.Contains(string(data), ") Z ") {
				t.Errorf("process %d survived Stop", pid)
			}
		}
	}
	if c.cgroups.exists() {
		t.Error("cgroup tree survived Stop")
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("directory %s survived Stop: %v", c.dir, err)
	}
}
