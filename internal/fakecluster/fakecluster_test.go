package fakecluster_test

import (
	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/webhook"
)

// The one fake serves both interfaces.
var (
	_ policy.Lookup        = &fakecluster.State{}
	_ webhook.ClusterState = &fakecluster.State{}
)
