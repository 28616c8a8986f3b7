package cloudscan

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/distribution/reference"
)

// describeBatch is the most repository names one ecr:DescribeRepositories call takes
// (DescribeRepositoriesInput.RepositoryNames: "Array Members: Minimum 1, Maximum 100").
const describeBatch = 100

// Repository is one ECR repository a workload pulls from, and how its images are scanned.
type Repository struct {
	RegistryID string
	Region     string
	Name       string
	// Pod is the first Pod seen pulling from it (namespace/name).
	Pod string
	// ScanOnPush is the repository's imageScanningConfiguration.scanOnPush; nil when not read.
	ScanOnPush *bool
	// Found is false when the registry has no such repository (an image that cannot be pulled).
	Found bool
	// Rule describes the registry scanning rule that covers it, empty when none does.
	Rule string
	// RuleErr says why the registry's scanning rules could not be read (they matter only when
	// scanOnPush is off).
	RuleErr *ReadError
	// Err says why the repository could not be described.
	Err *ReadError
}

// Ref is the repository's reference, <account>.dkr.ecr.<region>.amazonaws.com/<name>.
func (r Repository) Ref() string {
	return r.RegistryID + ".dkr.ecr." + r.Region + ".amazonaws.com/" + r.Name
}

// ecrHost matches the host of a private ECR registry: <account>.dkr.ecr[-fips].<region>.amazonaws.com
// (.cn in China), or the dual-stack <account>.dkr-ecr.<region>.on.aws (Amazon ECR User Guide,
// "Amazon ECR private registry" and "Dual-stack endpoints").
var ecrHost = regexp.MustCompile(`^([0-9]{12})\.(?:dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|dkr-ecr\.([a-z0-9-]+)\.on\.aws)$`)

// parseECRImage returns the registry, region and repository of an image in a private ECR
// registry; ok is false for any other image.
func parseECRImage(image string) (registryID, region, name string, ok bool) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", "", "", false
	}
	m := ecrHost.FindStringSubmatch(reference.Domain(named))
	if m == nil {
		return "", "", "", false
	}
	region = m[2]
	if region == "" {
		region = m[3]
	}
	return m[1], region, reference.Path(named), true
}

// ecrRepositories turns images (to the first Pod using each) into the ECR repositories they come
// from, sorted by reference.
func ecrRepositories(images map[string]string) []Repository {
	byRef := map[string]*Repository{}
	for img, pod := range images {
		registryID, region, name, ok := parseECRImage(img)
		if !ok {
			continue
		}
		r := Repository{RegistryID: registryID, Region: region, Name: name, Pod: pod}
		if prev, seen := byRef[r.Ref()]; !seen || pod < prev.Pod {
			byRef[r.Ref()] = &r
		}
	}
	out := make([]Repository, 0, len(byRef))
	for _, r := range byRef {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Repository) int { return strings.Compare(a.Ref(), b.Ref()) })
	return out
}

// collectECR describes the repositories, up to describeBatch names per call and registry, and
// reads the registry scanning rules of each region where a repository does not scan on push.
func collectECR(ctx context.Context, c Clients, ev *Evidence) {
	type registry struct{ id, region string }
	groups := map[registry][]int{}
	var order []registry
	for i, r := range ev.Repositories {
		k := registry{r.RegistryID, r.Region}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		for start := 0; start < len(idx); start += describeBatch {
			describeRepositories(ctx, c, ev, k.id, k.region, idx[start:min(start+describeBatch, len(idx))])
		}
	}
	rules := map[string]*registryRules{}
	for i := range ev.Repositories {
		r := &ev.Repositories[i]
		if r.Err != nil || !r.Found || aws.ToBool(r.ScanOnPush) {
			continue
		}
		rr, ok := rules[r.Region]
		if !ok {
			rr = readRegistryRules(ctx, c, ev, r.Region)
			rules[r.Region] = rr
		}
		switch {
		case rr.err != nil:
			r.RuleErr = rr.err
		case rr.registryID != r.RegistryID:
			// GetRegistryScanningConfiguration reads only the caller's own registry.
			r.RuleErr = &ReadError{Action: actionGetRegistryScanningConfiguration, Reason: ReasonOther,
				Err: errors.New("the scanning rules of registry " + r.RegistryID + " are readable only by its account (this scan runs as account " + rr.registryID + ")")}
		default:
			r.Rule = rr.covering(r.Name)
		}
	}
}

func ecrRegion(region string) func(*ecr.Options) { return func(o *ecr.Options) { o.Region = region } }

// describeRepositories describes the repositories at idx, all in one registry. A name the registry
// lacks fails the whole call (RepositoryNotFoundException), so the registry's repositories are
// then listed page by page instead, to tell which names exist.
func describeRepositories(ctx context.Context, c Clients, ev *Evidence, registryID, region string, idx []int) {
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = ev.Repositories[j].Name
	}
	out, err := c.ECR.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String(registryID), RepositoryNames: names}, ecrRegion(region))
	var notFound *ecrtypes.RepositoryNotFoundException
	var found []ecrtypes.Repository
	switch {
	case errors.As(err, &notFound):
		found, err = listRepositories(ctx, c, registryID, region, names)
	case err == nil:
		found = out.Repositories
	}
	if err != nil {
		e := classify(actionDescribeRepositories, err)
		if account := clusterAccount(ev); e.Reason == ReasonAccessDenied && account != "" && account != registryID {
			e.Hint = "registry " + registryID + " belongs to another account than the cluster's (" + account + "), whose repository policy must allow the scan's role to describe it"
		}
		ev.failed(e)
		for _, j := range idx {
			ev.Repositories[j].Err = e
		}
		return
	}
	byName := map[string]ecrtypes.Repository{}
	for _, r := range found {
		byName[aws.ToString(r.RepositoryName)] = r
	}
	for _, j := range idx {
		r := &ev.Repositories[j]
		got, ok := byName[r.Name]
		r.Found = ok
		if ok {
			scan := got.ImageScanningConfiguration != nil && got.ImageScanningConfiguration.ScanOnPush
			r.ScanOnPush = &scan
		}
	}
}

// listRepositories lists the registry's repositories with one of names, page by page.
func listRepositories(ctx context.Context, c Clients, registryID, region string, names []string) ([]ecrtypes.Repository, error) {
	var out []ecrtypes.Repository
	in := &ecr.DescribeRepositoriesInput{RegistryId: aws.String(registryID), MaxResults: aws.Int32(1000)}
	for {
		page, err := c.ECR.DescribeRepositories(ctx, in, ecrRegion(region))
		if err != nil {
			return nil, err
		}
		for _, r := range page.Repositories {
			if slices.Contains(names, aws.ToString(r.RepositoryName)) {
				out = append(out, r)
			}
		}
		if page.NextToken == nil {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// registryRules are the caller's registry scanning rules in one region.
type registryRules struct {
	registryID string
	config     *ecrtypes.RegistryScanningConfiguration
	err        *ReadError
}

func readRegistryRules(ctx context.Context, c Clients, ev *Evidence, region string) *registryRules {
	out, err := c.ECR.GetRegistryScanningConfiguration(ctx, &ecr.GetRegistryScanningConfigurationInput{}, ecrRegion(region))
	if err != nil {
		return &registryRules{err: ev.failed(classify(actionGetRegistryScanningConfiguration, err))}
	}
	return &registryRules{registryID: aws.ToString(out.RegistryId), config: out.ScanningConfiguration}
}

// covering describes the first rule that scans the repository automatically (on push or
// continuously; a MANUAL rule scans nothing by itself), e.g. "BASIC SCAN_ON_PUSH filter prod-*";
// empty when none does.
func (rr *registryRules) covering(repo string) string {
	if rr.config == nil {
		return ""
	}
	for _, rule := range rr.config.Rules {
		if rule.ScanFrequency != ecrtypes.ScanFrequencyScanOnPush && rule.ScanFrequency != ecrtypes.ScanFrequencyContinuousScan {
			continue
		}
		for _, f := range rule.RepositoryFilters {
			if filterMatches(aws.ToString(f.Filter), repo) {
				return string(rr.config.ScanType) + " " + string(rule.ScanFrequency) + " filter " + aws.ToString(f.Filter)
			}
		}
	}
	return ""
}

// filterMatches applies an ECR WILDCARD repository filter as the Amazon ECR User Guide defines it
// ("Configuring enhanced scanning", "Filter wildcards"): without a wildcard the filter matches
// every name that contains it; with wildcards it matches a name where each * stands for zero or
// more characters.
func filterMatches(filter, name string) bool {
	if !strings.Contains(filter, "*") {
		return strings.Contains(name, filter)
	}
	parts := strings.Split(filter, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	rest := name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return strings.HasSuffix(rest, last)
}

// clusterAccount is the account of the cluster's ARN (arn:aws:eks:<region>:<account>:cluster/<name>),
// empty when unknown.
func clusterAccount(ev *Evidence) string {
	if ev.EKS == nil {
		return ""
	}
	parts := strings.SplitN(aws.ToString(ev.EKS.Arn), ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}
