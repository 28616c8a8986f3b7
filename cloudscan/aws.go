package cloudscan

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/middleware"
)

// maxAttempts bounds the SDK's retries of one call (throttling, 5xx, connection errors): a
// throttled scan ends with a WARN within seconds instead of waiting on AWS.
const maxAttempts = 3

// maxBackoff caps the SDK's wait between two attempts.
const maxBackoff = 2 * time.Second

// EKSAPI is what the scan calls of Amazon EKS (eks.Client).
type EKSAPI interface {
	DescribeCluster(context.Context, *eks.DescribeClusterInput, ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	DescribeAddon(context.Context, *eks.DescribeAddonInput, ...func(*eks.Options)) (*eks.DescribeAddonOutput, error)
}

// ECRAPI is what the scan calls of Amazon ECR (ecr.Client); the region of each call is set by an
// option, since workloads may pull from registries of other regions.
type ECRAPI interface {
	DescribeRepositories(context.Context, *ecr.DescribeRepositoriesInput, ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	GetRegistryScanningConfiguration(context.Context, *ecr.GetRegistryScanningConfigurationInput, ...func(*ecr.Options)) (*ecr.GetRegistryScanningConfigurationOutput, error)
}

// KMSAPI is what the scan calls of AWS KMS (kms.Client).
type KMSAPI interface {
	DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
}

// Clients are the AWS clients of a scan, in one region.
type Clients struct {
	Region string
	EKS    EKSAPI
	ECR    ECRAPI
	KMS    KMSAPI
	// Credentials is asked once before any call: without credentials every call would fail the
	// same way after the chain's probes (the instance metadata service among them). Nil skips it.
	Credentials aws.CredentialsProvider
	// Calls counts the calls made through the clients, by IAM action.
	Calls *CallCounter
}

// IAMActions are the IAM actions the scan calls: the minimal policy of docs/install.md.
func IAMActions() []string {
	return []string{actionDescribeCluster, actionDescribeAddon, actionDescribeKey, actionDescribeRepositories, actionGetRegistryScanningConfiguration}
}

const (
	actionDescribeCluster                  = "eks:DescribeCluster"
	actionDescribeAddon                    = "eks:DescribeAddon"
	actionDescribeKey                      = "kms:DescribeKey"
	actionDescribeRepositories             = "ecr:DescribeRepositories"
	actionGetRegistryScanningConfiguration = "ecr:GetRegistryScanningConfiguration"
)

// NewClients builds the clients from the SDK's default configuration chain (environment, shared
// files, IRSA web identity, EKS Pod Identity, instance role; AWS_ENDPOINT_URL and the
// service-specific AWS_ENDPOINT_URL_<SERVICE> variables), in region when set, else the chain's.
// Each call is retried at most maxAttempts times, with the SDK's standard retryer and no
// client-side retry quota (which would turn a short outage into errors of its own).
func NewClients(ctx context.Context, region string) (Clients, error) {
	calls := &CallCounter{}
	cfg, err := LoadAWSConfig(ctx, region, maxAttempts, maxBackoff,
		config.WithAPIOptions([]func(*middleware.Stack) error{calls.addMiddleware}))
	if err != nil {
		return Clients{}, err
	}
	if cfg.Region == "" {
		return Clients{}, errors.New("no AWS region: pass --region or set AWS_REGION")
	}
	return Clients{
		Region:      cfg.Region,
		EKS:         eks.NewFromConfig(cfg),
		ECR:         ecr.NewFromConfig(cfg),
		KMS:         kms.NewFromConfig(cfg),
		Credentials: cfg.Credentials,
		Calls:       calls,
	}, nil
}

// LoadAWSConfig loads the SDK's default configuration chain, in region when set, with the
// standard retryer bounded to attempts and backoff and without its client-side retry quota (which
// would turn a short outage into errors of its own). The cloud scan and the Security Hub
// publisher load theirs with it; the caller checks that a region was found.
func LoadAWSConfig(ctx context.Context, region string, attempts int, backoff time.Duration, extra ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = backoff
				o.RateLimiter = ratelimit.None
			})
		}),
	}, extra...)
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// CallCounter counts AWS calls by IAM action (service:Operation): one per operation, however many
// attempts the retryer made.
type CallCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// Counts returns the calls so far by action.
func (c *CallCounter) Counts() map[string]int {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// serviceActionPrefix maps the SDK's service IDs to their IAM prefixes.
var serviceActionPrefix = map[string]string{"EKS": "eks", "ECR": "ecr", "KMS": "kms"}

func (c *CallCounter) addMiddleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("cisgateCallCounter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			service := awsmiddleware.GetServiceID(ctx)
			if p, ok := serviceActionPrefix[service]; ok {
				service = p
			}
			c.mu.Lock()
			if c.counts == nil {
				c.counts = map[string]int{}
			}
			c.counts[service+":"+awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}
