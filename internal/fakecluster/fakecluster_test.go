package fakecluster_test

import (
	"github.com/cisgate/cisgate/clusterstate"
	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

// The one fake serves both interfaces.
var (
	_ policy.Lookup      = &fakecluster.State{}
	_ clusterstate.State = &fakecluster.State{}
)
