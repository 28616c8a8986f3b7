package securityhub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/go-logr/logr"
	"golang.org/x/time/rate"

	"github.com/cisgate/cisgate/cloudscan"
)

// BatchSize is the most findings one BatchImportFindings or BatchUpdateFindings call takes.
const BatchSize = 100

// maxAttempts bounds the SDK's attempts of one call (throttling, 5xx, connection errors), and
// maxBackoff its wait between two: a node scan's Job ends within a minute even when Security Hub
// throttles it.
const (
	maxAttempts = 4
	maxBackoff  = 5 * time.Second
)

// API is what the publisher calls of Security Hub (securityhub.Client).
type API interface {
	BatchImportFindings(context.Context, *securityhub.BatchImportFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
	BatchUpdateFindings(context.Context, *securityhub.BatchUpdateFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error)
	GetFindings(context.Context, *securityhub.GetFindingsInput, ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error)
}

// STSAPI is what the publisher calls of AWS STS (sts.Client): the caller's account.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// IAM actions the publisher calls (docs/install.md). sts:GetCallerIdentity needs no permission.
const (
	ActionBatchImportFindings = "securityhub:BatchImportFindings"
	ActionBatchUpdateFindings = "securityhub:BatchUpdateFindings"
	ActionGetFindings         = "securityhub:GetFindings"
	ActionGetCallerIdentity   = "sts:GetCallerIdentity"
)

// IAMActions are the actions a role of a publishing part must allow.
func IAMActions() []string {
	return []string{ActionBatchImportFindings, ActionBatchUpdateFindings, ActionGetFindings}
}

// Publisher imports scans' results into the Security Hub of the cluster's account and region.
// Every failure is logged, counted in cisgate_securityhub_errors_total and reported in the
// Outcome; none is returned as an error: the scan and its other reports go on.
type Publisher struct {
	client  API
	sts     STSAPI
	region  string
	cluster string
	limiter *rate.Limiter
	logger  logr.Logger
	now     func() time.Time

	mu       sync.Mutex
	identity *Identity
	// setupErr is why the AWS configuration could not be loaded; every Publish fails with it.
	setupErr error
}

// Config is what New needs.
type Config struct {
	// Cluster is the EKS cluster's name.
	Cluster string
	// Region is the cluster's (and its Security Hub's) region; empty: the SDK's.
	Region string
	// QPS and Burst bound the calls this process makes (a token bucket over all operations).
	QPS   float64
	Burst int
	// Logger receives the failures; unset: the logger of each Publish's context.
	Logger logr.Logger
	// Now is the clock of UpdatedAt and the other timestamps; nil: time.Now. Tests set it.
	Now func() time.Time
}

// New builds a publisher from the SDK's default configuration chain (environment, IRSA web
// identity, EKS Pod Identity, instance role; AWS_ENDPOINT_URL). Each call is retried at most
// maxAttempts times by the SDK's standard retryer (throttling among the retried errors), without
// its client-side retry quota. A configuration the SDK cannot load, or one without a region,
// makes every Publish fail with that error, logged and counted like any other: setting up
// Security Hub never stops a scan either.
func New(ctx context.Context, c Config) *Publisher {
	cfg, err := cloudscan.LoadAWSConfig(ctx, c.Region, maxAttempts, maxBackoff)
	if err == nil && cfg.Region == "" {
		err = errors.New("no AWS region: set the region option or AWS_REGION")
	}
	p := NewWithClients(securityhub.NewFromConfig(cfg), sts.NewFromConfig(cfg), cfg.Region, c)
	if err != nil {
		p.setupErr = fmt.Errorf("security hub: AWS configuration: %w", err)
	}
	return p
}

// NewWithClients builds a publisher on the given clients in region.
func NewWithClients(client API, stsClient STSAPI, region string, c Config) *Publisher {
	// Registered once on controller-runtime's registry; a second registry of the same names is
	// impossible, so the error is only ever "already registered".
	_ = registerMetrics()
	burst := max(c.Burst, 1)
	limit := rate.Limit(c.QPS)
	if c.QPS <= 0 {
		limit = rate.Inf
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Publisher{
		client: client, sts: stsClient, region: region, cluster: c.Cluster,
		limiter: rate.NewLimiter(limit, burst), logger: c.Logger, now: now,
	}
}

// Outcome is what one Publish did.
type Outcome struct {
	// Imported findings, Unchanged ones (not imported: Security Hub already says the same,
	// updated within RefreshAfter), Failed ones (refused or in a failed call), Archived ones
	// (read back, no longer found by the scan) and workflow updates made (Resolved: RESOLVED or
	// SUPPRESSED).
	Imported, Unchanged, Failed, Archived, Resolved int
	// Errors are the failed calls and refused findings, each once.
	Errors []string

	// log receives the failures: the Publisher's Logger, else the context's.
	log logr.Logger
}

// Err is the outcome's errors as one, nil when there were none.
func (o Outcome) Err() error {
	if len(o.Errors) == 0 {
		return nil
	}
	return errors.New("security hub: " + strings.Join(o.Errors, "; "))
}

// Identity asks STS once for the caller's account and partition (findings of the default
// product must carry the calling account's ID) and keeps the answer.
func (p *Publisher) Identity(ctx context.Context) (Identity, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.setupErr != nil {
		return Identity{}, p.setupErr
	}
	if p.identity != nil {
		return *p.identity, nil
	}
	if err := p.limiter.Wait(ctx); err != nil {
		return Identity{}, err
	}
	out, err := p.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, &CallError{Action: ActionGetCallerIdentity, Err: err}
	}
	callerARN, err := arn.Parse(aws.ToString(out.Arn))
	if err != nil {
		return Identity{}, fmt.Errorf("%s: the caller's ARN %q: %w", ActionGetCallerIdentity, aws.ToString(out.Arn), err)
	}
	id := Identity{Partition: callerARN.Partition, Account: aws.ToString(out.Account), Region: p.region, Cluster: p.cluster}
	p.identity = &id
	return id, nil
}

// Retire archives every finding of a scope, e.g. of a node that was deleted: Publish with no rows.
func (p *Publisher) Retire(ctx context.Context, scope string) Outcome {
	return p.Publish(ctx, scope, nil)
}

// Publish imports the rows of one scope (ScopeAudit, ScopeCloud or NodeScope) as findings. It
// reads the scope's findings back first (one GetFindings per 100), so that a finding keeps its
// CreatedAt and FirstObservedAt, one no longer found is archived, and one that passes now, or is
// archived, has its workflow RESOLVED (SUPPRESSED when exempt) through BatchUpdateFindings, which
// is the only call that changes an existing finding's workflow. Rows of the same check and
// resource become one finding, its worst result with their details joined.
func (p *Publisher) Publish(ctx context.Context, scope string, rows []Row) Outcome {
	source := sourceOf(scope)
	out := Outcome{log: p.logger}
	if out.log.GetSink() == nil {
		out.log = logr.FromContextOrDiscard(ctx)
	}
	id, err := p.Identity(ctx)
	if err != nil {
		out.Failed = len(rows)
		p.fail(&out, source, ActionGetCallerIdentity, err, "findings not imported")
		countFindings(source, outcomeFailed, out.Failed)
		return out
	}
	prev, err := p.readBack(ctx, id, scope)
	if err != nil {
		// Without the read the findings are still imported: CreatedAt restarts, and nothing is
		// archived or resolved this time.
		prev = nil
		p.fail(&out, source, ActionGetFindings, err, "findings imported without reading them back")
	}
	now := p.now()
	merged := mergeRows(id, rows)
	findings := make([]types.AwsSecurityFinding, 0, len(merged)+len(prev))
	wanted := make(map[string]types.WorkflowStatus)
	current := make(map[string]bool, len(merged))
	for _, row := range merged {
		fid := FindingID(id, row.Slug, row.Resource)
		current[fid] = true
		var s *seen
		if e, ok := prev[fid]; ok {
			s = &e
		}
		f := finding(id, scope, row, now, s)
		if s != nil && unchanged(*s, f, now) {
			out.Unchanged++
		} else {
			findings = append(findings, f)
		}
		if s != nil && reopenable(s.workflow) {
			switch {
			case row.Result == ResultPass:
				wanted[fid] = types.WorkflowStatusResolved
			case row.Result == ResultSkip:
				wanted[fid] = types.WorkflowStatusSuppressed
			}
		}
	}
	for _, fid := range sortedKeys(prev) {
		s := prev[fid]
		if current[fid] || s.recordState == types.RecordStateArchived {
			continue
		}
		findings = append(findings, archived(s.finding, now))
		if reopenable(s.workflow) {
			wanted[fid] = types.WorkflowStatusResolved
		}
	}
	imported := p.importAll(ctx, source, findings, &out)
	for _, f := range findings {
		if imported[aws.ToString(f.Id)] && f.RecordState == types.RecordStateArchived && !current[aws.ToString(f.Id)] {
			out.Archived++
		}
	}
	countFindings(source, outcomeArchived, out.Archived)
	countFindings(source, outcomeUnchanged, out.Unchanged)
	p.updateWorkflows(ctx, id, source, wanted, imported, &out)
	return out
}

// reopenable says whether cisgate may move a workflow on: NEW and NOTIFIED findings are still
// open; RESOLVED ones already are, and SUPPRESSED is the team's decision, which cisgate keeps.
func reopenable(w types.WorkflowStatus) bool {
	return w == types.WorkflowStatusNew || w == types.WorkflowStatusNotified || w == ""
}

// archived is a finding read back, as imported again with RecordState ARCHIVED: its scan no
// longer finds it (the object passes or is gone, or the check no longer applies). What
// BatchImportFindings may not set on an existing finding is left out, and so are Security Hub's
// own product fields (aws/...).
func archived(f types.AwsSecurityFinding, now time.Time) types.AwsSecurityFinding {
	f.RecordState = types.RecordStateArchived
	f.UpdatedAt = timestamp(now)
	f.Workflow, f.WorkflowState, f.Note, f.UserDefinedFields, f.VerificationState, f.ProcessedAt = nil, "", nil, nil, "", nil
	f.AwsAccountName = nil // Security Hub's own, from the account
	fields := make(map[string]string, len(f.ProductFields))
	for k, v := range f.ProductFields {
		if !strings.HasPrefix(k, "aws/") {
			fields[k] = v
		}
	}
	f.ProductFields = fields
	return f
}

// mergeRows joins rows of one finding Id: the worst result, the details joined in order.
func mergeRows(id Identity, rows []Row) []Row {
	byID := map[string]int{}
	var out []Row
	for _, r := range rows {
		fid := FindingID(id, r.Slug, r.Resource)
		i, ok := byID[fid]
		if !ok {
			byID[fid] = len(out)
			out = append(out, r)
			continue
		}
		m := &out[i]
		if rank(r.Result) > rank(m.Result) {
			m.Result, m.Remediation = r.Result, r.Remediation
		}
		if r.Detail != "" && !strings.Contains(m.Detail, r.Detail) {
			m.Detail = strings.TrimPrefix(m.Detail+"; "+r.Detail, "; ")
		}
	}
	return out
}

// rank orders results by how much they need attention.
func rank(r Result) int {
	return map[Result]int{ResultPass: 0, ResultSkip: 1, ResultWarn: 2, ResultError: 3, ResultFail: 4}[r]
}

// readBack reads the scope's findings (every record state) of this cluster from Security Hub,
// 100 a page. The filter is also applied here to each finding returned, so a Security Hub that
// ignored a filter could not make a scope archive another's findings.
func (p *Publisher) readBack(ctx context.Context, id Identity, scope string) (map[string]seen, error) {
	in := &securityhub.GetFindingsInput{
		MaxResults: aws.Int32(100),
		Filters: &types.AwsSecurityFindingFilters{
			ProductArn: []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String(id.ProductARN())}},
			ProductFields: []types.MapFilter{
				{Comparison: types.MapFilterComparisonEquals, Key: aws.String(FieldCluster), Value: aws.String(id.ClusterARN())},
				{Comparison: types.MapFilterComparisonEquals, Key: aws.String(FieldScope), Value: aws.String(scope)},
			},
		},
	}
	found := map[string]seen{}
	pages := securityhub.NewGetFindingsPaginator(p.client, in)
	for pages.HasMorePages() {
		if err := p.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, &CallError{Action: ActionGetFindings, Err: err}
		}
		for _, f := range page.Findings {
			if aws.ToString(f.ProductArn) != id.ProductARN() || f.ProductFields[FieldCluster] != id.ClusterARN() || f.ProductFields[FieldScope] != scope {
				continue
			}
			s := seen{createdAt: aws.ToString(f.CreatedAt), firstObservedAt: aws.ToString(f.FirstObservedAt), recordState: f.RecordState, finding: f}
			if f.Compliance != nil {
				s.compliance = f.Compliance.Status
			}
			if f.Workflow != nil {
				s.workflow = f.Workflow.Status
			}
			found[aws.ToString(f.Id)] = s
		}
	}
	return found, nil
}

// importAll imports findings BatchSize at a time and returns the Ids Security Hub took.
func (p *Publisher) importAll(ctx context.Context, source string, findings []types.AwsSecurityFinding, out *Outcome) map[string]bool {
	imported := make(map[string]bool, len(findings))
	if len(findings) == 0 {
		return imported
	}
	for batch := range slices.Chunk(findings, BatchSize) {
		if err := p.limiter.Wait(ctx); err != nil {
			p.failBatch(out, source, ActionBatchImportFindings, err, len(batch))
			continue
		}
		res, err := p.client.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
		if err != nil {
			p.failBatch(out, source, ActionBatchImportFindings, &CallError{Action: ActionBatchImportFindings, Err: err}, len(batch))
			continue
		}
		refused := map[string]bool{}
		for _, ff := range res.FailedFindings {
			refused[aws.ToString(ff.Id)] = true
			msg := fmt.Sprintf("finding %q refused: %s: %s", aws.ToString(ff.Id), aws.ToString(ff.ErrorCode), aws.ToString(ff.ErrorMessage))
			p.fail(out, source, ActionBatchImportFindings, &RefusedError{Code: aws.ToString(ff.ErrorCode), Message: msg}, "")
		}
		for _, f := range batch {
			if fid := aws.ToString(f.Id); !refused[fid] {
				imported[fid] = true
			}
		}
		n := len(batch) - len(refused)
		out.Imported += n
		out.Failed += len(refused)
		countFindings(source, outcomeImported, n)
		countFindings(source, outcomeFailed, len(refused))
	}
	return imported
}

// updateWorkflows sets the workflows wanted on the findings that were imported, BatchSize at a time.
func (p *Publisher) updateWorkflows(ctx context.Context, id Identity, source string, wanted map[string]types.WorkflowStatus, imported map[string]bool, out *Outcome) {
	byStatus := map[types.WorkflowStatus][]types.AwsSecurityFindingIdentifier{}
	for _, fid := range sortedKeys(wanted) {
		if imported[fid] {
			byStatus[wanted[fid]] = append(byStatus[wanted[fid]], types.AwsSecurityFindingIdentifier{Id: aws.String(fid), ProductArn: aws.String(id.ProductARN())})
		}
	}
	for _, status := range sortedKeys(byStatus) {
		for batch := range slices.Chunk(byStatus[status], BatchSize) {
			if err := p.limiter.Wait(ctx); err != nil {
				p.fail(out, source, ActionBatchUpdateFindings, err, "workflows not updated")
				continue
			}
			res, err := p.client.BatchUpdateFindings(ctx, &securityhub.BatchUpdateFindingsInput{
				FindingIdentifiers: batch, Workflow: &types.WorkflowUpdate{Status: status},
			})
			if err != nil {
				p.fail(out, source, ActionBatchUpdateFindings, &CallError{Action: ActionBatchUpdateFindings, Err: err}, "workflows not updated")
				continue
			}
			for _, u := range res.UnprocessedFindings {
				msg := fmt.Sprintf("workflow of %q not updated: %s: %s", aws.ToString(u.FindingIdentifier.Id), aws.ToString(u.ErrorCode), aws.ToString(u.ErrorMessage))
				p.fail(out, source, ActionBatchUpdateFindings, &RefusedError{Code: aws.ToString(u.ErrorCode), Message: msg}, "")
			}
			n := len(res.ProcessedFindings)
			out.Resolved += n
			countFindings(source, outcomeResolved, n)
		}
	}
}

// failBatch records a call that failed with every finding of its batch.
func (p *Publisher) failBatch(out *Outcome, source, action string, err error, n int) {
	out.Failed += n
	countFindings(source, outcomeFailed, n)
	p.fail(out, source, action, err, fmt.Sprintf("%d findings not imported", n))
}

// fail logs and counts one failure and adds it to the outcome.
func (p *Publisher) fail(out *Outcome, source, action string, err error, consequence string) {
	reason := ReasonOf(err)
	countError(action, reason)
	msg := err.Error()
	if consequence != "" {
		msg += " (" + consequence + ")"
	}
	out.Errors = append(out.Errors, msg)
	out.log.Error(err, "Security Hub: publishing failed; the scan and its other reports are unaffected",
		"action", action, "reason", string(reason), "source", source, "consequence", consequence)
}

// sourceOf is the metrics' source label of a scope.
func sourceOf(scope string) string {
	if strings.HasPrefix(scope, "node/") {
		return "nodescan"
	}
	return scope
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}
