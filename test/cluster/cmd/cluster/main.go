// Command cluster starts and stops the local cluster of package cluster for people and the demo:
//
//	cluster up   -tools DIR [-image DIR]...   start it; the last line printed is the admin kubeconfig
//	cluster down                              stop it and remove everything it made
//
// `up` leaves a supervisor process behind (it holds the cluster's lock and forwards a local port
// to the API server in the node's namespace); `down` stops it, and removes whatever a killed
// supervisor left. `make cluster-up` and `make cluster-down` run it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cisgate/cisgate/test/cluster"
)

// name is the cluster `up` makes: one per machine, like the lock.
const name = "dev"

var (
	pidFile = filepath.Join(cluster.BaseDir, name+".pid")
	logFile = filepath.Join(cluster.BaseDir, name+".log")
)

type options struct {
	tools  string
	images imageList
}

type imageList []string

func (l *imageList) String() string     { return strings.Join(*l, ",") }
func (l *imageList) Set(s string) error { *l = append(*l, s); return nil }

func (o *options) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.tools, "tools", o.tools, "directory of the Kubernetes binaries (make -s tools-path)")
	fs.Var(&o.images, "image", "OCI image layout directory to import into the node (repeatable)")
}

func (o *options) validate() []error {
	if o.tools == "" {
		return []error{errors.New("-tools is required")}
	}
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: cluster up|down [flags]")
	}
	o := &options{}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	o.addFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "up":
		if errs := o.validate(); len(errs) > 0 {
			return errors.Join(errs...)
		}
		return up(args[1:])
	case "supervise":
		return supervise(o)
	case "down":
		return down()
	}
	return fmt.Errorf("unknown command %q: want up or down", args[0])
}

// up starts the supervisor detached and waits for its first line: the kubeconfig, or an error.
func up(flags []string) error {
	if err := os.MkdirAll(cluster.BaseDir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(self, append([]string{"supervise"}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if path, ok := strings.CutPrefix(strings.TrimSpace(line), "kubeconfig "); ok && err == nil {
		fmt.Printf("cluster up (supervisor pid %d, log %s); admin kubeconfig:\n%s\n", cmd.Process.Pid, logFile, path)
		return nil
	}
	_ = cmd.Wait()
	data, _ := os.ReadFile(logFile)
	return fmt.Errorf("the cluster did not start:\n%s", data)
}

// supervise runs the cluster until SIGTERM or SIGINT.
func supervise(o *options) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	c, err := cluster.Start(ctx, cluster.Options{ToolsDir: o.tools, Name: name, Images: o.images, Log: os.Stderr})
	if err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return errors.Join(err, c.Stop())
	}
	fmt.Printf("kubeconfig %s\n", c.AdminKubeconfig)
	os.Stdout.Close()
	<-ctx.Done()
	err = c.Stop()
	os.Remove(pidFile)
	return err
}

// down stops the supervisor, then removes whatever a supervisor that was killed left behind.
func down() error {
	if data, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && isSupervisor(pid) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			for deadline := time.Now().Add(2 * time.Minute); isSupervisor(pid) && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
			}
		}
		os.Remove(pidFile)
	}
	if err := cluster.RemoveAbandoned(context.Background()); err != nil {
		return err
	}
	fmt.Println("cluster down")
	return nil
}

// isSupervisor guards against a reused PID: the process must be this command's supervisor.
func isSupervisor(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(data), "\x00supervise")
}
