package webhook

import (
	"bytes"
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

var configReloadErrors = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "cisgate_config_reload_errors_total",
	Help: "Config file changes rejected as invalid; the previous config stays in force.",
})

func init() { metrics.Registry.MustRegister(configReloadErrors) }

// ConfigWatcher holds the current policy and reloads it when the config changes. An invalid new
// config is logged and counted, and the policy in force stays.
//
// The config is loaded from the file at start. After that it follows one of two sources:
//   - the file, polled: a mounted ConfigMap changes by an atomic symlink swap, which file watches
//     miss; comparing the content on a short poll catches every update. The kubelet syncs the
//     mount up to a minute after the ConfigMap changed.
//   - the ConfigMap itself, watched through the API (FollowConfigMap): a change is in force within
//     a second of `helm upgrade` applying it. The file is then read at start only; polling it as
//     well would put the kubelet's older copy back in force.
type ConfigWatcher struct {
	path     string
	interval time.Duration
	current  atomic.Pointer[policy.Policy]
	content  []byte
	// readErr is the last read error, logged once rather than on every poll.
	readErr string
	// configMap, when set, is the source after start.
	configMap *configMapSource
}

// configMapSource is a ConfigMap key the watcher follows through the API.
type configMapSource struct {
	client          kubernetes.Interface
	namespace, name string
	key             string
}

// FollowConfigMap makes the watcher follow key of ConfigMap namespace/name through the API after
// start instead of polling the file (see ConfigWatcher). It needs get, list and watch on that
// ConfigMap; the list and watch carry a metadata.name field selector, so RBAC can limit them to it.
func (w *ConfigWatcher) FollowConfigMap(client kubernetes.Interface, namespace, name, key string) {
	w.configMap = &configMapSource{client: client, namespace: namespace, name: name, key: key}
}

// NewConfigWatcher loads the config once (policy.ReadConfig); a bad file at start is an error.
func NewConfigWatcher(path string, interval time.Duration) (*ConfigWatcher, error) {
	w := &ConfigWatcher{path: path, interval: interval}
	p, data, err := policy.ReadConfig(path)
	if err != nil {
		return nil, err
	}
	w.current.Store(p)
	w.content = data
	return w, nil
}

// Policy returns the policy in force.
func (w *ConfigWatcher) Policy() *policy.Policy { return w.current.Load() }

// Start follows the config's source until ctx ends; it implements manager.Runnable.
func (w *ConfigWatcher) Start(ctx context.Context) error {
	if w.configMap != nil {
		return w.followConfigMap(ctx)
	}
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
	p, data, err := policy.ReadConfig(w.path)
	if data == nil {
		if err.Error() != w.readErr {
			w.readErr = err.Error()
			configReloadErrors.Inc()
			log.FromContext(ctx).Error(err, "cannot read the config file; keeping the config in force", "path", w.path)
		}
		return
	}
	w.readErr = ""
	w.put(ctx, data, p, err, "path", w.path)
}

// apply puts a new config content in force unless it is the one in force or invalid.
func (w *ConfigWatcher) apply(ctx context.Context, data []byte, sourceKV ...any) {
	if bytes.Equal(data, w.content) {
		return
	}
	p, err := policy.ParseConfig(data)
	w.put(ctx, data, p, err, sourceKV...)
}

// put puts a parsed content in force, or logs and counts why not. Calls come from one goroutine:
// the file poll or the ConfigMap informer's handler.
func (w *ConfigWatcher) put(ctx context.Context, data []byte, p *policy.Policy, err error, sourceKV ...any) {
	if bytes.Equal(data, w.content) {
		return
	}
	w.content = data
	if err != nil {
		configReloadErrors.Inc()
		log.FromContext(ctx).Error(err, "config change rejected; keeping the previous config", sourceKV...)
		return
	}
	w.current.Store(p)
	log.FromContext(ctx).Info("config reloaded", append(sourceKV, "benchmark", p.Config.Benchmark, "mode", p.Config.Mode)...)
}

// followConfigMap applies the ConfigMap's key on every change. A ConfigMap without the key, or
// deleted, leaves the config in force (the chart deletes it only on uninstall, when the pods go
// too).
func (w *ConfigWatcher) followConfigMap(ctx context.Context) error {
	src := w.configMap
	sourceKV := []any{"configMap", src.namespace + "/" + src.name, "key", src.key}
	return report.WatchConfigMap(ctx, src.client, src.namespace, src.name, func(cm *corev1.ConfigMap) {
		data, ok := cm.Data[src.key]
		if !ok {
			configReloadErrors.Inc()
			log.FromContext(ctx).Error(nil, "the config ConfigMap has no config key; keeping the config in force", sourceKV...)
			return
		}
		w.apply(ctx, []byte(data), sourceKV...)
	})
}
