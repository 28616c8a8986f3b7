// Package moto runs moto's server (Python moto, `moto_server`), the AWS API emulator the cloud
// scan and the Security Hub publisher are tested against, on a loopback port, and the small
// servers in front of it for what moto 5.2.1 does not model: EKSOverlay (EKS) and
// SecurityHubOverlay (Security Hub, with injected faults). Test support only.
package moto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cisgate/cisgate/internal/poll"
)

// Region is the region tests create their resources in.
const Region = "us-east-1"

// AccountID is moto's default account, the registry ID of the ECR repositories tests create.
const AccountID = "123456789012"

// Server is a running moto_server.
type Server struct {
	URL string
	cmd *exec.Cmd
}

// Start runs moto_server ($MOTO_SERVER, which make sets when it finds one off PATH, else the one
// on PATH) on a free loopback port until Stop. Without it, it fails under CI=true (make test
// installs it) and is skipped elsewhere, saying why: skip is nil then and the caller skips.
func Start() (s *Server, skip error, err error) {
	path, lookErr := os.Getenv("MOTO_SERVER"), error(nil)
	if path == "" {
		path, lookErr = exec.LookPath("moto_server")
	}
	if lookErr != nil {
		why := errors.New("moto_server not found on PATH nor in $MOTO_SERVER: pip install 'moto[server]' (make test does)")
		if os.Getenv("CI") == "true" {
			return nil, nil, why
		}
		return nil, why, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	s = &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	err = poll.Until(context.Background(), 60*time.Second, 100*time.Millisecond, "moto_server to answer", func() error {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	if err != nil {
		s.Stop()
		return nil, nil, err
	}
	return s, nil, nil
}

// StartT starts a server for one test, stopped at its end.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, skip, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if skip != nil {
		t.Skip(skip)
	}
	t.Cleanup(s.Stop)
	return s
}

// Stop ends the server.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Reset drops every resource moto holds (its /moto-api/reset), so tests sharing a server start
// empty.
func (s *Server) Reset() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: %s", resp.Status)
	}
	return nil
}

// Env points the AWS SDK's default chain at the server (AWS_ENDPOINT_URL) with fake static
// credentials and Region, for one test; nothing of the caller's AWS configuration is read.
func (s *Server) Env(t testing.TB) {
	for k, v := range s.Environ() {
		t.Setenv(k, v)
	}
}

// Environ is what Env sets.
func (s *Server) Environ() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":            s.URL,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  Region,
		"AWS_DEFAULT_REGION":          Region,
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}

// EKSOverlay serves the EKS API in front of moto for what moto 5.2.1 leaves out, in the shapes
// the EKS API reference documents: DescribeCluster's accessConfig (AccessConfigResponse:
// authenticationMode) and computeConfig (ComputeConfigResponse: enabled), which it adds to moto's
// answer, and DescribeAddon (GET /clusters/{name}/addons/{addonName}: {"addon": Addon}, or 404
// ResourceNotFoundException), which moto does not implement. Everything else goes to moto. Point
// AWS_ENDPOINT_URL_EKS at URL.
type EKSOverlay struct {
	URL string

	mu       sync.Mutex
	clusters map[string]*ClusterExtras
}

// ClusterExtras are what the overlay serves of one cluster.
type ClusterExtras struct {
	// AuthenticationMode is accessConfig.authenticationMode; empty leaves accessConfig out.
	AuthenticationMode string
	// AutoMode is computeConfig.enabled (EKS Auto Mode).
	AutoMode bool
	// Addon is the vpc-cni add-on; nil: the cluster has none.
	Addon *Addon
}

// Addon is an EKS add-on's status and configuration values.
type Addon struct {
	Status              string
	ConfigurationValues string
}

// NewEKSOverlay starts the overlay in front of moto for one test.
func NewEKSOverlay(t testing.TB, moto *Server) *EKSOverlay {
	target, err := url.Parse(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	o := &EKSOverlay{clusters: map[string]*ClusterExtras{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = o.modify
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "clusters" && parts[2] == "addons" {
			o.serveAddon(w, parts[1], parts[3])
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	o.URL = srv.URL
	return o
}

// Set sets what the overlay serves of a cluster.
func (o *EKSOverlay) Set(cluster string, extras ClusterExtras) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clusters[cluster] = &extras
}

func (o *EKSOverlay) extras(cluster string) ClusterExtras {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e := o.clusters[cluster]; e != nil {
		return *e
	}
	return ClusterExtras{}
}

// modify adds accessConfig and computeConfig to DescribeCluster's answer (GET /clusters/{name}).
func (o *EKSOverlay) modify(resp *http.Response) error {
	parts := strings.Split(strings.Trim(resp.Request.URL.Path, "/"), "/")
	if resp.Request.Method != http.MethodGet || len(parts) != 2 || parts[0] != "clusters" || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return err
	}
	e := o.extras(parts[1])
	if c := doc["cluster"]; c != nil {
		if e.AuthenticationMode != "" {
			c["accessConfig"] = map[string]any{"authenticationMode": e.AuthenticationMode}
		}
		c["computeConfig"] = map[string]any{"enabled": e.AutoMode}
	}
	body, err = json.Marshal(doc)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

func (o *EKSOverlay) serveAddon(w http.ResponseWriter, cluster, name string) {
	e := o.extras(cluster)
	w.Header().Set("Content-Type", "application/json")
	if name != "vpc-cni" || e.Addon == nil {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "No addon: " + name + " found in cluster: " + cluster, "clusterName": cluster, "addonName": name})
		return
	}
	addon := map[string]any{"addonName": name, "clusterName": cluster, "status": e.Addon.Status, "addonVersion": "v1.19.2-eksbuild.1"}
	if e.Addon.ConfigurationValues != "" {
		addon["configurationValues"] = e.Addon.ConfigurationValues
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"addon": addon})
}
