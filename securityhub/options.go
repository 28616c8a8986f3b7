package securityhub

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
)

// Options configure publishing into Security Hub, in every command that publishes (serve,
// nodescan, cloudscan, audit) and in the node scan Jobs serve starts (Args).
type Options struct {
	Enabled bool
	Cluster string
	Region  string
	QPS     float64
	Burst   int
}

// Defaults of the token bucket: Security Hub allows an account and region 10 BatchImportFindings
// and 3 GetFindings calls a second; 2 a second, 5 at once, leaves room for the node scans'
// Jobs running at the same time and for the account's other integrations.
const (
	DefaultQPS   = 2
	DefaultBurst = 5
)

// NewOptions returns the defaults: off.
func NewOptions() *Options { return &Options{QPS: DefaultQPS, Burst: DefaultBurst} }

// Flag names.
const (
	FlagEnabled = "securityhub"
	FlagCluster = "securityhub-cluster"
	FlagRegion  = "securityhub-region"
	FlagQPS     = "securityhub-qps"
	FlagBurst   = "securityhub-burst"
)

// AddFlags binds the options to flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Enabled, FlagEnabled, o.Enabled, "also publish the results as AWS Security Hub findings (BatchImportFindings) in the cluster's account and region; needs AWS credentials allowing "+actionsHelp())
	fs.StringVar(&o.Cluster, FlagCluster, o.Cluster, "for --"+FlagEnabled+": the EKS cluster's name (required), part of every finding's Id and resources")
	fs.StringVar(&o.Region, FlagRegion, o.Region, "for --"+FlagEnabled+": the Security Hub's (and cluster's) AWS region (default: the SDK's, $AWS_REGION)")
	fs.Float64Var(&o.QPS, FlagQPS, o.QPS, "for --"+FlagEnabled+": Security Hub calls per second of this process (token bucket)")
	fs.IntVar(&o.Burst, FlagBurst, o.Burst, "for --"+FlagEnabled+": Security Hub calls at once before --"+FlagQPS+" applies")
}

func actionsHelp() string { return strings.Join(IAMActions(), ", ") }

// Validate reports every problem with the options.
func (o *Options) Validate() []error {
	if !o.Enabled {
		return nil
	}
	var errs []error
	if o.Cluster == "" {
		errs = append(errs, errors.New("--"+FlagCluster+" is required with --"+FlagEnabled))
	}
	if o.QPS <= 0 {
		errs = append(errs, fmt.Errorf("--%s must be positive, got %v", FlagQPS, o.QPS))
	}
	if o.Burst < 1 {
		errs = append(errs, fmt.Errorf("--%s must be at least 1, got %d", FlagBurst, o.Burst))
	}
	return errs
}

// Args are the flags that give a child process (a node scan Job) these options; none when off.
func (o *Options) Args() []string {
	if !o.Enabled {
		return nil
	}
	args := []string{"--" + FlagEnabled, "--" + FlagCluster + "=" + o.Cluster,
		"--" + FlagQPS + "=" + strconv.FormatFloat(o.QPS, 'g', -1, 64), "--" + FlagBurst + "=" + strconv.Itoa(o.Burst)}
	if o.Region != "" {
		args = append(args, "--"+FlagRegion+"="+o.Region)
	}
	return args
}

// NewPublisher builds the publisher the options describe; nil when off. A zero logger logs to
// each Publish's context's logger.
func (o *Options) NewPublisher(ctx context.Context, logger logr.Logger) *Publisher {
	if !o.Enabled {
		return nil
	}
	return New(ctx, Config{Cluster: o.Cluster, Region: o.Region, QPS: o.QPS, Burst: o.Burst, Logger: logger})
}
