package openreports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/openreports/reports-api/pkg/client/clientset/versioned"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Options configure the writer of OpenReports in `cisgate serve`.
type Options struct {
	// Enabled writes the reports (the chart sets it with reports.openReports.enabled).
	Enabled bool
	// QPS and Burst are the token bucket of the writer's applies and deletes.
	QPS   float64
	Burst int
}

// NewOptions returns the defaults: off, 5 writes a second with bursts of 10.
func NewOptions() *Options { return &Options{QPS: 5, Burst: 10} }

// AddFlags binds the options to flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Enabled, "openreports", o.Enabled, "write the audit's findings as OpenReports (openreports.io/v1alpha1 Reports per namespace and a ClusterReport), and with --cloud-scan the cloud scan's as ClusterReport "+CloudReportName+" (the CRDs must be installed)")
	fs.Float64Var(&o.QPS, "openreports-qps", o.QPS, "most report writes (applies and deletes) a second")
	fs.IntVar(&o.Burst, "openreports-burst", o.Burst, "most report writes at once after a quiet spell")
}

// Validate reports every problem with the options.
func (o *Options) Validate() []error {
	if o.QPS <= 0 || o.Burst < 1 {
		return []error{fmt.Errorf("--openreports-qps must be positive and --openreports-burst at least 1, got %v and %d", o.QPS, o.Burst)}
	}
	return nil
}

// Outcomes of one report's sync, the values of the metric's outcome label.
const (
	OutcomeApplied   = "applied"
	OutcomeUnchanged = "unchanged"
	OutcomeDeleted   = "deleted"
	OutcomeError     = "error"
)

var syncedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cisgate_openreports_synced_total",
	Help: "OpenReports the writer considered, by outcome: applied (content changed), unchanged (not written), deleted (no longer wanted), error.",
}, []string{"outcome"})

var registerMetrics = sync.OnceValue(func() error { return metrics.Registry.Register(syncedTotal) })

// Stats count one Sync's outcomes.
type Stats struct {
	Applied, Unchanged, Deleted int
}

// Writer writes reports of one writer (WriterLabel) as a controller does: it reads what is there
// (the metadata of its own reports: one paged list of names and content hashes, not the results),
// applies only those whose content hash changed, under FieldManager, deletes its reports that are
// no longer wanted, and waits for its token bucket before each write.
type Writer struct {
	client  versioned.Interface
	meta    metadata.Interface
	writer  string
	limiter *rate.Limiter
}

// NewWriter returns a writer for the reports labelled writer; opts must have passed Validate.
func NewWriter(client versioned.Interface, meta metadata.Interface, writer string, opts Options) (*Writer, error) {
	if err := registerMetrics(); err != nil {
		return nil, fmt.Errorf("openreports: registering metrics: %w", err)
	}
	return &Writer{client: client, meta: meta, writer: writer, limiter: rate.NewLimiter(rate.Limit(opts.QPS), opts.Burst)}, nil
}

var (
	reportsGVR        = schema.GroupVersionResource{Group: orv1alpha1.GroupName, Version: orv1alpha1.GroupVersion.Version, Resource: "reports"}
	clusterReportsGVR = schema.GroupVersionResource{Group: orv1alpha1.GroupName, Version: orv1alpha1.GroupVersion.Version, Resource: "clusterreports"}
)

// objectKey is a report's namespace and name ("" namespace: a ClusterReport).
type objectKey struct{ namespace, name string }

// Sync makes the writer's reports those given: applies each whose content changed, deletes the
// writer's others. It goes on past a failed write and returns every error joined.
func (w *Writer) Sync(ctx context.Context, reports []*orv1alpha1.Report, clusterReports []*orv1alpha1.ClusterReport) (Stats, error) {
	var stats Stats
	existing, err := w.existing(ctx)
	if err != nil {
		return stats, err
	}
	var errs []error
	wanted := map[objectKey]bool{}
	write := func(key objectKey, hash string, apply func() error) {
		wanted[key] = true
		if existing[key] == hash {
			stats.Unchanged++
			syncedTotal.WithLabelValues(OutcomeUnchanged).Inc()
			return
		}
		if err := w.limiter.Wait(ctx); err != nil {
			errs = append(errs, err)
			return
		}
		if err := apply(); err != nil {
			if goneWithItsNamespace(err) {
				return // the namespace is being deleted, and its report with it
			}
			syncedTotal.WithLabelValues(OutcomeError).Inc()
			errs = append(errs, err)
			return
		}
		stats.Applied++
		syncedTotal.WithLabelValues(OutcomeApplied).Inc()
	}
	for _, r := range reports {
		hash := stamp(&r.ObjectMeta, r.Scope, r.Summary, r.Results)
		write(objectKey{r.Namespace, r.Name}, hash, func() error { return ApplyReport(ctx, w.client, r) })
	}
	for _, r := range clusterReports {
		hash := stamp(&r.ObjectMeta, r.Scope, r.Summary, r.Results)
		write(objectKey{"", r.Name}, hash, func() error { return ApplyClusterReport(ctx, w.client, r) })
	}
	for key := range existing {
		if wanted[key] {
			continue
		}
		if err := w.limiter.Wait(ctx); err != nil {
			errs = append(errs, err)
			break
		}
		var err error
		if key.namespace == "" {
			err = w.client.OpenreportsV1alpha1().ClusterReports().Delete(ctx, key.name, metav1.DeleteOptions{})
		} else {
			err = w.client.OpenreportsV1alpha1().Reports(key.namespace).Delete(ctx, key.name, metav1.DeleteOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			syncedTotal.WithLabelValues(OutcomeError).Inc()
			errs = append(errs, fmt.Errorf("openreports: deleting %s/%s: %w", key.namespace, key.name, err))
			continue
		}
		stats.Deleted++
		syncedTotal.WithLabelValues(OutcomeDeleted).Inc()
	}
	return stats, errors.Join(errs...)
}

// goneWithItsNamespace tells an apply refused because the report's namespace is being deleted
// (or is gone): nothing to report there any more.
func goneWithItsNamespace(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)
}

// existing lists the content hashes of the writer's reports, by key, page by page.
func (w *Writer) existing(ctx context.Context) (map[objectKey]string, error) {
	selector := k8slabels.Set{ManagedByLabel: Source, WriterLabel: w.writer}.String()
	out := map[objectKey]string{}
	for _, res := range []struct {
		list func(context.Context, metav1.ListOptions) (*metav1.PartialObjectMetadataList, error)
		what string
	}{
		{w.meta.Resource(reportsGVR).Namespace(metav1.NamespaceAll).List, "Reports"},
		{w.meta.Resource(clusterReportsGVR).List, "ClusterReports"},
	} {
		opts := metav1.ListOptions{LabelSelector: selector, Limit: 500}
		for {
			page, err := res.list(ctx, opts)
			if err != nil {
				return nil, fmt.Errorf("openreports: listing cisgate's %s: %w", res.what, err)
			}
			for _, item := range page.Items {
				out[objectKey{item.Namespace, item.Name}] = item.Annotations[ContentHashAnnotation]
			}
			if page.Continue == "" {
				break
			}
			opts.Continue = page.Continue
		}
	}
	return out, nil
}

// stamp sets the content hash annotation of a report about to be written and returns it.
func stamp(meta *metav1.ObjectMeta, scope *corev1.ObjectReference, summary orv1alpha1.ReportSummary, results []orv1alpha1.ReportResult) string {
	hash := ContentHash(meta.Labels, scope, meta.OwnerReferences, summary, results)
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[ContentHashAnnotation] = hash
	return hash
}

// ApplyReport writes a Report by server-side apply as FieldManager.
func ApplyReport(ctx context.Context, client versioned.Interface, r *orv1alpha1.Report) error {
	stamp(&r.ObjectMeta, r.Scope, r.Summary, r.Results)
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("openreports: encoding Report %s/%s: %w", r.Namespace, r.Name, err)
	}
	_, err = client.OpenreportsV1alpha1().Reports(r.Namespace).Patch(ctx, r.Name, types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true)})
	if err != nil {
		return fmt.Errorf("openreports: applying Report %s/%s: %w", r.Namespace, r.Name, err)
	}
	return nil
}

// ApplyClusterReport writes a ClusterReport by server-side apply as FieldManager.
func ApplyClusterReport(ctx context.Context, client versioned.Interface, r *orv1alpha1.ClusterReport) error {
	stamp(&r.ObjectMeta, r.Scope, r.Summary, r.Results)
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("openreports: encoding ClusterReport %s: %w", r.Name, err)
	}
	_, err = client.OpenreportsV1alpha1().ClusterReports().Patch(ctx, r.Name, types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true)})
	if err != nil {
		return fmt.Errorf("openreports: applying ClusterReport %s: %w", r.Name, err)
	}
	return nil
}

// ApplyClusterReportIfChanged writes a ClusterReport unless the one there has the same content
// hash: the node scan's single report, read back by name. It says whether it wrote.
func ApplyClusterReportIfChanged(ctx context.Context, client versioned.Interface, r *orv1alpha1.ClusterReport) (bool, error) {
	hash := stamp(&r.ObjectMeta, r.Scope, r.Summary, r.Results)
	there, err := client.OpenreportsV1alpha1().ClusterReports().Get(ctx, r.Name, metav1.GetOptions{})
	switch {
	case err == nil && there.Annotations[ContentHashAnnotation] == hash:
		// The same results: only the scan time moves (ScannedAtAnnotation, what a new leader
		// resumes from), a small merge patch instead of the whole report again.
		at, ok := r.Annotations[ScannedAtAnnotation]
		if !ok || there.Annotations[ScannedAtAnnotation] == at {
			return false, nil
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{ScannedAtAnnotation: at}}})
		if _, err := client.OpenreportsV1alpha1().ClusterReports().Patch(ctx, r.Name, types.MergePatchType, patch,
			metav1.PatchOptions{FieldManager: FieldManager}); err != nil {
			return false, fmt.Errorf("openreports: stamping the scan time of ClusterReport %s: %w", r.Name, err)
		}
		return false, nil
	case err != nil && !apierrors.IsNotFound(err):
		return false, fmt.Errorf("openreports: reading ClusterReport %s: %w", r.Name, err)
	}
	return true, ApplyClusterReport(ctx, client, r)
}
