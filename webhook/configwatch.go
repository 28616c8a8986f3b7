package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
)

var configReloadErrors = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "cisgate_config_reload_errors_total",
	Help: "Config file changes rejected as invalid; the previous config stays in force.",
})

func init() { metrics.Registry.MustRegister(configReloadErrors) }

// ConfigWatcher holds the current policy and reloads it when the config file changes. A mounted
// ConfigMap changes by an atomic symlink swap, which file watches miss; comparing the content on
// a short poll catches every update. An invalid new file is logged and counted, and the policy in
// force stays.
type ConfigWatcher struct {
	path     string
	interval time.Duration
	current  atomic.Pointer[policy.Policy]
	content  []byte
	// readErr is the last read error, logged once rather than on every poll.
	readErr string
}

// NewConfigWatcher loads the config once; a bad file at start is an error.
func NewConfigWatcher(path string, interval time.Duration) (*ConfigWatcher, error) {
	w := &ConfigWatcher{path: path, interval: interval}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.current.Store(p)
	w.content = data
	return w, nil
}

// errEmptyConfig: an empty file parses as the defaults, which would quietly turn enforce into
// audit when a ConfigMap is emptied or a mount is half-written.
var errEmptyConfig = errors.New("the config file is empty (an empty file is not the defaults; write at least \"mode: audit\")")

func parseConfig(data []byte) (*policy.Policy, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errEmptyConfig
	}
	return policy.ParseConfig(data)
}

// Policy returns the policy in force.
func (w *ConfigWatcher) Policy() *policy.Policy { return w.current.Load() }

// Start polls the file until ctx ends; it implements manager.Runnable.
func (w *ConfigWatcher) Start(ctx context.Context) error {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			w.reload(ctx)
		}
	}
}

func (w *ConfigWatcher) reload(ctx context.Context) {
	data, err := os.ReadFile(w.path)
	if err != nil {
		if err.Error() != w.readErr {
			w.readErr = err.Error()
			configReloadErrors.Inc()
			log.FromContext(ctx).Error(err, "cannot read the config file; keeping the config in force", "path", w.path)
		}
		return
	}
	w.readErr = ""
	if bytes.Equal(data, w.content) {
		return
	}
	w.content = data
	p, err := parseConfig(data)
	if err != nil {
		configReloadErrors.Inc()
		log.FromContext(ctx).Error(err, "config change rejected; keeping the previous config", "path", w.path)
		return
	}
	w.current.Store(p)
	log.FromContext(ctx).Info("config reloaded", "path", w.path, "benchmark", p.Config.Benchmark, "mode", p.Config.Mode)
}
