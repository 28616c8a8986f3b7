package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// ConfigMapName is the report ConfigMap, in cisgate's namespace.
const ConfigMapName = "cisgate-report"

// DefaultWriteInterval is the least time between two applies of a Writer (WithWriteInterval).
const DefaultWriteInterval = 5 * time.Second

// flushTimeout bounds a Writer's last apply when Start's context ends.
const flushTimeout = 5 * time.Second

// Key is one writer's entry in the report ConfigMap: the data key, and the server-side apply field
// manager that owns it. Each writer applies only its own key under its own manager, so the API
// server merges writers instead of letting one replace another's keys.
type Key struct {
	Name         string
	FieldManager string
}

// AdmissionKey is a webhook replica's key, admission.<replica>.json.
func AdmissionKey(replica string) Key {
	return Key{
		Name:         fitName("admission."+replica, ".json", validation.DNS1123SubdomainMaxLength),
		FieldManager: fitName("cisgate-admission-"+replica, "", metav1validation.FieldManagerMaxLength),
	}
}

// NodeKey is a node scan's key, node.<node>.json.
func NodeKey(node string) Key {
	return Key{
		Name:         fitName("node."+node, ".json", validation.DNS1123SubdomainMaxLength),
		FieldManager: fitName("cisgate-nodescan-"+node, "", metav1validation.FieldManagerMaxLength),
	}
}

// AuditKey is the background audit's key, audit.json, written by the leader.
func AuditKey() Key { return Key{Name: "audit.json", FieldManager: "cisgate-audit"} }

// SummaryKey is the summary's key, summary.json, written by the leader.
func SummaryKey() Key { return Key{Name: "summary.json", FieldManager: "cisgate-summary"} }

// CloudKey is the cloud scan's key, cloud.json, written by the leader.
func CloudKey() Key { return Key{Name: "cloud.json", FieldManager: "cisgate-cloudscan"} }

// fitName returns stem+suffix, or, when that is longer than limit, a cut stem with a hash of the
// whole stem, so that distinct long replica and node names still get distinct keys and managers.
func fitName(stem, suffix string, limit int) string {
	if len(stem)+len(suffix) <= limit {
		return stem + suffix
	}
	sum := sha256.Sum256([]byte(stem))
	hash := hex.EncodeToString(sum[:6])
	return stem[:limit-len(suffix)-len(hash)-1] + "-" + hash + suffix
}

func (k Key) validate() error {
	if errs := validation.IsConfigMapKey(k.Name); len(errs) > 0 {
		return fmt.Errorf("report: key %q: %s", k.Name, strings.Join(errs, "; "))
	}
	if k.FieldManager == "" || len(k.FieldManager) > metav1validation.FieldManagerMaxLength {
		return fmt.Errorf("report: key %q: field manager %q must be 1 to %d bytes", k.Name, k.FieldManager, metav1validation.FieldManagerMaxLength)
	}
	return nil
}

// ApplyKey writes data under key in the report ConfigMap in namespace, once, creating the
// ConfigMap if it is absent. It is for a process that writes once and exits (the node scan Job);
// long-lived writers use a Writer. Marshal data with MarshalWithin to keep it within its budget.
func ApplyKey(ctx context.Context, client kubernetes.Interface, namespace string, key Key, data []byte) error {
	if err := key.validate(); err != nil {
		return err
	}
	return applyKey(ctx, client, namespace, key, data)
}

// ReleaseKey removes key from the report ConfigMap by applying, as the key's field manager, a
// ConfigMap without it: server-side apply deletes fields that their only manager stops applying.
// The leader uses it for writers that are gone (a replaced replica, a deleted node), whose keys
// would otherwise stay and eat into the budget. If the ConfigMap is absent it creates it empty.
func ReleaseKey(ctx context.Context, client kubernetes.Interface, namespace string, key Key) error {
	if err := key.validate(); err != nil {
		return err
	}
	_, err := client.CoreV1().ConfigMaps(namespace).Apply(ctx, corev1ac.ConfigMap(ConfigMapName, namespace),
		metav1.ApplyOptions{FieldManager: key.FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("report: releasing key %s of ConfigMap %s/%s: %w", key.Name, namespace, ConfigMapName, err)
	}
	return nil
}

func applyKey(ctx context.Context, client kubernetes.Interface, namespace string, key Key, data []byte) error {
	cm := corev1ac.ConfigMap(ConfigMapName, namespace).WithData(map[string]string{key.Name: string(data)})
	// Force: the key is this manager's alone; forcing only settles a conflict left by an earlier
	// manager of the same key (say, before a rename), never touches other keys.
	_, err := client.CoreV1().ConfigMaps(namespace).Apply(ctx, cm, metav1.ApplyOptions{FieldManager: key.FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("report: applying key %s of ConfigMap %s/%s: %w", key.Name, namespace, ConfigMapName, err)
	}
	return nil
}

// Writer keeps one key of the report ConfigMap up to date. Set stores the latest payload without
// waiting for the API server; Start applies it at most once per interval, keeps a payload whose
// write failed for the next tick (unless a newer one replaced it), and applies once more when it
// stops, so a payload is not lost while the process lives.
type Writer struct {
	client    kubernetes.Interface
	namespace string
	key       Key
	budget    int
	interval  time.Duration
	started   atomic.Bool

	mu sync.Mutex
	// pending is the latest payload not yet written; nil when the ConfigMap has the latest.
	pending []byte

	writes      prometheus.Counter
	writeErrors prometheus.Counter
}

type writerConfig struct {
	interval time.Duration
}

// WriterOption configures NewWriter.
type WriterOption func(*writerConfig)

// WithWriteInterval sets the least time between two applies (default DefaultWriteInterval).
func WithWriteInterval(d time.Duration) WriterOption {
	return func(c *writerConfig) { c.interval = d }
}

// NewWriter returns a writer of key in the report ConfigMap in namespace, whose payloads must fit
// in budget bytes (see SplitBudget).
func NewWriter(client kubernetes.Interface, namespace string, key Key, budget int, opts ...WriterOption) (*Writer, error) {
	if err := key.validate(); err != nil {
		return nil, err
	}
	if budget < 1 || budget > ConfigMapBudget {
		return nil, fmt.Errorf("report: key %s: budget %d must be 1 to %d bytes", key.Name, budget, ConfigMapBudget)
	}
	cfg := writerConfig{interval: DefaultWriteInterval}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.interval <= 0 {
		return nil, fmt.Errorf("report: key %s: write interval %v must be positive", key.Name, cfg.interval)
	}
	if err := registerMetrics(); err != nil {
		return nil, fmt.Errorf("report: registering metrics: %w", err)
	}
	return &Writer{
		client:      client,
		namespace:   namespace,
		key:         key,
		budget:      budget,
		interval:    cfg.interval,
		writes:      writesTotal.WithLabelValues(sinkConfigMap),
		writeErrors: writeErrorsTotal.WithLabelValues(sinkConfigMap),
	}, nil
}

// Set makes v the payload to write next. It encodes v before returning, so the caller may change v
// afterwards; a payload over budget is summarised (see MarshalWithin) or, failing that, refused
// with an error wrapping ErrOverBudget, and the previous payload stays. It never waits for the API
// server, but it does encode: callers on a hot path should Set from their own ticker, not per call.
func (w *Writer) Set(v Payload) error {
	data, err := MarshalWithin(v, w.budget)
	if err != nil {
		return fmt.Errorf("key %s: %w", w.key.Name, err)
	}
	w.store(data)
	return nil
}

func (w *Writer) store(data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = data
}

// take hands the pending payload to the loop.
func (w *Writer) take() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := w.pending
	w.pending = nil
	return data
}

// putBack returns a payload whose write failed, unless Set has stored a newer one meanwhile.
func (w *Writer) putBack(data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending == nil {
		w.pending = data
	}
}

// Start applies the latest payload at most once per interval until ctx is done, then once more
// within the flush timeout, and returns that last write's error. It blocks, like a
// controller-runtime manager.Runnable. Failures are counted and logged through ctx's logger.
func (w *Writer) Start(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return errAlreadyStarted
	}
	logger := log.FromContext(ctx).WithValues("namespace", w.namespace, "configMap", ConfigMapName, "key", w.key.Name)
	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			// The flush outlives ctx, which has just ended, but not by more than the timeout.
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			defer cancel()
			return w.writePending(flushCtx, logger)
		case <-ticker.C:
			// The error is counted and logged; the payload waits for the next tick.
			_ = w.writePending(ctx, logger)
		}
	}
}

// NeedLeaderElection tells controller-runtime's manager to run the writer on every replica: a
// writer that is never Set writes nothing, so the leader-only keys need no special casing.
func (w *Writer) NeedLeaderElection() bool { return false }

func (w *Writer) writePending(ctx context.Context, logger logr.Logger) error {
	data := w.take()
	if data == nil {
		return nil
	}
	if err := applyKey(ctx, w.client, w.namespace, w.key, data); err != nil {
		w.writeErrors.Inc()
		w.putBack(data)
		logger.Error(err, "Writing the report failed; retrying with the latest payload")
		return err
	}
	w.writes.Inc()
	return nil
}
