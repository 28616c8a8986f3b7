package controller

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/securityhub"
)

// AuditOptions configure the background audit and the summary in `cisgate serve`.
type AuditOptions struct {
	// Interval is the time between two audits; the first runs when the replica becomes leader.
	Interval time.Duration
	// SummaryInterval is the time between two writes of summary.json, which merges the webhook
	// replicas' and node scans' keys as they change between audits.
	SummaryInterval time.Duration
	// PageSize is how many objects one list request asks for.
	PageSize int64
}

// NewAuditOptions returns the defaults.
func NewAuditOptions() AuditOptions {
	return AuditOptions{Interval: 10 * time.Minute, SummaryInterval: time.Minute, PageSize: DefaultPageSize}
}

// AddFlags binds the options to flags.
func (o *AuditOptions) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.Interval, "audit-interval", o.Interval, "time between two background audits of every object (the leader runs them)")
	fs.DurationVar(&o.SummaryInterval, "summary-interval", o.SummaryInterval, "time between two writes of summary.json in the report ConfigMap (the leader writes it)")
	fs.Int64Var(&o.PageSize, "audit-page-size", o.PageSize, "objects per list request of the background audit")
}

// Validate reports every problem with the options.
func (o *AuditOptions) Validate() []error {
	var errs []error
	if o.Interval <= 0 {
		errs = append(errs, fmt.Errorf("--audit-interval must be positive, got %v", o.Interval))
	}
	if o.SummaryInterval <= 0 {
		errs = append(errs, fmt.Errorf("--summary-interval must be positive, got %v", o.SummaryInterval))
	}
	if o.PageSize < 1 {
		errs = append(errs, fmt.Errorf("--audit-page-size must be at least 1, got %d", o.PageSize))
	}
	return errs
}

// Auditor is the leader's background audit, a controller-runtime manager.Runnable. Every
// Interval it audits the cluster (see Audit), writes audit.json, raises a CISViolation Event on an
// object when a finding first appears on it, and writes summary.json, which it also refreshes
// every SummaryInterval.
type Auditor struct {
	client    kubernetes.Interface
	namespace string
	policy    func() *policy.Policy
	events    *report.EventSink
	opts      AuditOptions

	// mu serialises audits and summaries, and guards what they share.
	mu sync.Mutex
	// alerted are the failing findings of the last audit: a finding alerts only when it is not
	// there, so a fixed and re-broken object alerts again. A new leader starts empty.
	alerted map[alertKey]bool
	// auditCounts and platformCounts are the last audit's, by slug, for the summary.
	auditCounts    map[policy.Slug]*Counts
	platformCounts map[policy.Slug]*Counts
	// namespaceModes are the last audit's cisgate.io/mode labels, for the summary's downgrades.
	namespaceModes map[string]string
	// openReports writes each audit's OpenReports; nil: none.
	openReports *openreports.Writer
	// securityHub publishes each audit's findings into AWS Security Hub; nil: none.
	securityHub *securityhub.Publisher
	// nodeReports follows the node scans' ClusterReports, the summary's node counts; nil: the
	// node keys of the report ConfigMap alone.
	nodeReports *openreports.NodeReports
	// reportConfigMap is the report ConfigMap as the watch last saw it, which the summary reads
	// instead of a GET per write; nil until the watch has seen it.
	reportConfigMap atomic.Pointer[corev1.ConfigMap]
	// refreshGap is SummaryRefreshGap; tests shorten it.
	refreshGap time.Duration
}

// SummaryRefreshGap is the least time between two summaries that changes call for. Every node
// scan changes its ClusterReport (or its key) and every webhook replica its key: without the gap
// each change was one GET and one PATCH of the report ConfigMap, a load that grew with the node
// count (1,141 GETs and 1,145 PATCHes in a 6-minute run at 5,000 nodes, BENCHMARKS.md). With it
// the summary costs at most one write per gap, whatever the fleet's size; changes within a gap
// are merged into the write at its end.
const SummaryRefreshGap = 10 * time.Second

// ReadNodeReports makes the summary merge the node scans' OpenReports ClusterReports (followed by
// n, which Start runs) before the node keys of the report ConfigMap, whose node keys then only
// count for nodes without a ClusterReport. Call it before Start.
func (a *Auditor) ReadNodeReports(n *openreports.NodeReports) { a.nodeReports = n }

// WriteOpenReports makes every audit also write its findings as OpenReports through w (see
// package openreports). Call it before Start.
func (a *Auditor) WriteOpenReports(w *openreports.Writer) { a.openReports = w }

// alertKey is one check failing on one object (its UID, else kind/namespace/name). It holds the
// slug, not the ID: a config that changes benchmark renumbers the checks, not the findings.
type alertKey struct {
	object string
	slug   policy.Slug
}

// NewAuditor returns the audit of the cluster behind client, writing to the report ConfigMap in
// namespace and emitting Events to events (nil: none), judged with the policy current at each
// run. opts must have passed Validate.
func NewAuditor(client kubernetes.Interface, namespace string, policy func() *policy.Policy, events *report.EventSink, opts AuditOptions) *Auditor {
	return &Auditor{client: client, namespace: namespace, policy: policy, events: events, opts: opts, alerted: map[alertKey]bool{}, refreshGap: SummaryRefreshGap}
}

// PublishSecurityHub makes every audit also publish its findings into AWS Security Hub through p
// (scope securityhub.ScopeAudit). Call it before Start.
func (a *Auditor) PublishSecurityHub(p *securityhub.Publisher) { a.securityHub = p }

// NeedLeaderElection: only the leader audits and writes audit.json and summary.json.
func (a *Auditor) NeedLeaderElection() bool { return true }

// Start audits at once and then every Interval, and refreshes the summary whenever a webhook
// replica or a node scan changes its report key (at most once per SummaryRefreshGap), and every
// SummaryInterval, until ctx ends.
// Failures are logged and retried at the next tick.
func (a *Auditor) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("audit")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keysChanged := make(chan struct{}, 1)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		if err := a.watchReportKeys(ctx, keysChanged); err != nil {
			logger.Error(err, "Watching the report ConfigMap failed; the summary is refreshed every interval only")
		}
	}()
	defer func() { cancel(); <-watchDone }()
	if a.nodeReports != nil {
		reportsDone := make(chan struct{})
		go func() {
			defer close(reportsDone)
			a.nodeReports.Run(ctx, func() {
				select {
				case keysChanged <- struct{}{}:
				default: // one is pending already
				}
			})
		}()
		defer func() { cancel(); <-reportsDone }()
	}
	audit := func() {
		if err := survive(func() error { return a.RunOnce(ctx) }); err != nil && ctx.Err() == nil {
			logger.Error(err, "Background audit failed; retrying at the next interval")
		}
	}
	refresh := func() {
		if err := survive(func() error { return a.RefreshSummary(ctx) }); err != nil && ctx.Err() == nil {
			logger.Error(err, "Writing the summary failed; retrying at the next interval")
		}
	}
	audit()
	lastSummary := time.Now()
	auditTicker := time.NewTicker(a.opts.Interval)
	defer auditTicker.Stop()
	summaryTicker := time.NewTicker(a.opts.SummaryInterval)
	defer summaryTicker.Stop()
	// gapEnd fires when a change came within SummaryRefreshGap of the last summary.
	var gapEnd <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-auditTicker.C:
			audit()
			lastSummary = time.Now()
		case <-keysChanged:
			if wait := a.refreshGap - time.Since(lastSummary); wait > 0 {
				if gapEnd == nil {
					gapEnd = time.After(wait)
				}
				continue
			}
			refresh()
			lastSummary = time.Now()
		case <-gapEnd:
			gapEnd = nil
			refresh()
			lastSummary = time.Now()
		case <-summaryTicker.C:
			refresh()
			lastSummary = time.Now()
		}
	}
}

// watchReportKeys signals changed whenever the admission and node keys of the report ConfigMap
// change (a denial reaches its replica's key within the writer's interval, 5 s by default). The
// leader's own keys (audit.json, summary.json) are left out, or every summary would call for the
// next. A burst of changes while a summary is written makes one more summary, not one each.
func (a *Auditor) watchReportKeys(ctx context.Context, changed chan<- struct{}) error {
	var last string
	return report.WatchConfigMap(ctx, a.client, a.namespace, report.ConfigMapName, func(cm *corev1.ConfigMap) {
		a.reportConfigMap.Store(cm)
		fp := writerKeysFingerprint(cm.Data)
		if fp == last {
			return
		}
		last = fp
		select {
		case changed <- struct{}{}:
		default: // one is pending already
		}
	})
}

// writerKeysFingerprint stands for the content of the admission, node and cloud keys.
func writerKeysFingerprint(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		if isWriterKey(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(data[k]))
		h.Write([]byte{0})
	}
	return string(h.Sum(nil))
}

// isWriterKey tells the keys the summary merges: the webhook replicas', the node scans' and the
// cloud scan's.
func isWriterKey(key string) bool {
	return key == report.CloudKey().Name ||
		strings.HasSuffix(key, ".json") && (strings.HasPrefix(key, "admission.") || strings.HasPrefix(key, "node."))
}

// RunOnce audits the cluster once: it raises the Events of new findings, then writes audit.json
// and summary.json, and, when set, the Security Hub findings and the OpenReports, and returns when
// all are written. Security Hub's failures are logged and counted by its publisher, never returned.
func (a *Auditor) RunOnce(ctx context.Context) error {
	run, pol, err := a.audit(ctx)
	if err != nil {
		return err
	}
	if a.securityHub != nil {
		a.securityHub.Publish(ctx, securityhub.ScopeAudit, run.SecurityHubRows(pol.Catalogue))
	}
	if a.openReports == nil {
		return nil
	}
	// Outside the lock: the writer's rate limit may make this the longest part, and the summary
	// must not wait for it.
	start := time.Now()
	reports := openreports.BuildAudit(openreports.Audit{Catalogue: pol.Catalogue, Time: run.Time, Findings: run.Report.Findings, Passes: run.Passes})
	stats, err := a.openReports.Sync(ctx, reports.Namespaced, []*orv1alpha1.ClusterReport{reports.Cluster})
	log.FromContext(ctx).WithName("audit").Info("Wrote the OpenReports", "applied", stats.Applied, "unchanged", stats.Unchanged,
		"deleted", stats.Deleted, "duration", time.Since(start).Round(time.Millisecond))
	if err != nil {
		return fmt.Errorf("audit: writing the OpenReports: %w", err)
	}
	return nil
}

// SecurityHubRows are the audit's findings for Security Hub: the control plane's own objects are
// left out, as from the audit's Events (nobody can change them: kube-apiserver restores them).
func (run *AuditRun) SecurityHubRows(cat *policy.Catalogue) []securityhub.Row {
	findings := make([]output.Finding, 0, len(run.Report.Findings))
	for _, f := range run.Report.Findings {
		if !run.Platform[f.Object] {
			findings = append(findings, f)
		}
	}
	return securityhub.AuditRows(cat, findings, func(o output.ObjectRef) string { return string(run.references[o].UID) })
}

// audit runs the audit and writes audit.json and summary.json.
func (a *Auditor) audit(ctx context.Context) (*AuditRun, *policy.Policy, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pol := a.policy()
	if pol == nil {
		return nil, nil, errors.New("audit: no policy loaded")
	}
	start := time.Now()
	run, err := Audit(ctx, a.client, pol, a.opts.PageSize)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	a.auditCounts, a.platformCounts, a.namespaceModes = run.Counts, run.PlatformCounts, run.NamespaceModes
	a.alert(run)
	auditReport := NewAuditReport(run)
	data, err := report.MarshalWithin(auditReport, report.AuditShare)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	if err := report.ApplyKey(ctx, a.client, a.namespace, report.AuditKey(), data); err != nil {
		return nil, nil, err
	}
	log.FromContext(ctx).WithName("audit").Info("Audited the cluster", "objects", auditReport.Checked,
		"failingChecks", len(auditReport.Checks), "bytes", len(data), "duration", time.Since(start).Round(time.Millisecond))
	return run, pol, a.writeSummary(ctx, pol)
}

// RefreshSummary writes summary.json from the last audit and the report keys as they are now.
func (a *Auditor) RefreshSummary(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	pol := a.policy()
	if pol == nil {
		return errors.New("summary: no policy loaded")
	}
	return a.writeSummary(ctx, pol)
}

func (a *Auditor) writeSummary(ctx context.Context, pol *policy.Policy) error {
	// The watch's copy, read from its informer's cache; before the watch has seen the ConfigMap
	// (the first audit of a term), one GET.
	cm := a.reportConfigMap.Load()
	if cm == nil {
		var err error
		cm, err = a.client.CoreV1().ConfigMaps(a.namespace).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("summary: reading the report ConfigMap: %w", err)
		}
		if err != nil {
			cm = nil
		}
	}
	now := pol.Now()
	b := newSummaryBuilder(pol.Catalogue, now)
	if a.auditCounts != nil {
		b.addAudit(a.auditCounts, a.platformCounts)
	}
	b.addNamespaceModes(pol, a.namespaceModes)
	b.addExemptions(pol, now)
	var fromReports map[string]bool
	if a.nodeReports != nil {
		if summaries, ok := a.nodeReports.Summaries(); ok {
			fromReports = b.addNodeSummaries(summaries)
		}
	}
	if cm != nil {
		b.addReportKeys(a.releaseGoneReplicas(ctx, cm.Data), fromReports)
	}
	b.capNotScanned()
	data, err := report.MarshalWithin(b.summary, report.SummaryShare)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return report.ApplyKey(ctx, a.client, a.namespace, report.SummaryKey(), data)
}

// goneReplicaAge is how long the admission key of a replica whose Pod no longer exists is kept.
// Every rollout names new replicas; without a release their keys would pile up in the report
// ConfigMap until it outgrew its budget.
const goneReplicaAge = time.Hour

// releaseGoneReplicas releases the admission keys of replicas whose Pod is gone from cisgate's
// namespace and whose key has not changed for goneReplicaAge, and returns the data without them.
// A key whose Pod cannot be looked up stays.
func (a *Auditor) releaseGoneReplicas(ctx context.Context, data map[string]string) map[string]string {
	kept := make(map[string]string, len(data))
	for key, value := range data {
		kept[key] = value
		var r report.AdmissionReport
		if !strings.HasPrefix(key, "admission.") || json.Unmarshal([]byte(value), &r) != nil ||
			r.Replica == "" || r.Updated.IsZero() || time.Since(r.Updated) < goneReplicaAge {
			continue
		}
		_, err := a.client.CoreV1().Pods(a.namespace).Get(ctx, r.Replica, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			continue
		}
		if err := report.ReleaseKey(ctx, a.client, a.namespace, report.AdmissionKey(r.Replica)); err != nil {
			log.FromContext(ctx).Error(err, "Releasing the admission key of a gone replica", "replica", r.Replica)
			continue
		}
		delete(kept, key)
	}
	return kept
}

// alert raises one CISViolation Event per object with findings that were not failing in the last
// audit, and remembers this audit's failing findings. The sink drops Events past its queue and
// rate limit (counted in cisgate_report_dropped_total); a dropped one is not raised again while
// the finding stays.
func (a *Auditor) alert(run *AuditRun) {
	failing := map[alertKey]bool{}
	notes := map[output.ObjectRef][]string{}
	var order []output.ObjectRef
	for _, f := range run.Report.Findings {
		ref, ok := run.references[f.Object]
		if !ok || f.Status != policy.StatusFail || f.ExemptReason != "" {
			continue
		}
		key := alertKey{object: objectKey(ref), slug: f.Slug}
		failing[key] = true
		if a.alerted[key] {
			continue
		}
		if notes[f.Object] == nil {
			order = append(order, f.Object)
		}
		notes[f.Object] = append(notes[f.Object], f.Message())
	}
	a.alerted = failing
	if a.events == nil {
		return
	}
	for _, obj := range order {
		ref := run.references[obj]
		// A rejected Event (a bad reference) must not stop the audit; the sink logs and counts it.
		_ = a.events.Emit(&ref, report.EventWarning, report.ReasonViolation, report.ActionAudit,
			"audit: "+strings.Join(notes[obj], "; "))
	}
}

func objectKey(ref corev1.ObjectReference) string {
	if ref.UID != "" {
		return string(ref.UID)
	}
	return ref.Kind + "/" + ref.Namespace + "/" + ref.Name
}

// namespaceModeLabel is the slug of the check whose WARNs audit.json lists with the failures.
const namespaceModeLabel policy.Slug = "namespace-mode-label"

// NewAuditReport lists the run's failing, unexempted objects per check. Advisory findings (the
// default ServiceAccount) are failures too: they are only never denied at admission.
func NewAuditReport(run *AuditRun) *report.AuditReport {
	r := &report.AuditReport{
		Header: report.NewHeader(), Benchmark: run.Benchmark, Time: run.Time,
		Checked: len(run.Report.Checked), Checks: map[string]*report.FailingObjects{}, Platform: map[string]*report.FailingObjects{},
	}
	for _, f := range run.Report.Findings {
		if (f.Status != policy.StatusFail && f.Slug != namespaceModeLabel) || f.ExemptReason != "" {
			continue
		}
		bucket := r.Checks
		if run.Platform[f.Object] {
			bucket = r.Platform
		}
		c := bucket[f.ID]
		if c == nil {
			c = &report.FailingObjects{Slug: f.Slug}
			bucket[f.ID] = c
		}
		// Findings are sorted by ID, then object: an object's findings of a check are adjacent.
		if n := len(c.Objects); n > 0 && c.Objects[n-1].Kind == f.Object.Kind &&
			c.Objects[n-1].Namespace == f.Object.Namespace && c.Objects[n-1].Name == f.Object.Name {
			continue
		}
		c.Objects = append(c.Objects, report.FailingObject{
			Kind: f.Object.Kind, Namespace: f.Object.Namespace, Name: f.Object.Name, Path: f.Path, Detail: f.Detail,
		})
		c.Total++
	}
	return r
}
