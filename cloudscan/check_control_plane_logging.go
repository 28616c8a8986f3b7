package cloudscan

// control-plane-logging (2.1.1, "Enable audit Logs"): every control plane log type EKS offers is
// enabled. The benchmark's remediation enables all five; the types are the SDK's LogType enum
// (api, audit, authenticator, controllerManager, scheduler), so a type AWS adds is required too.

import (
	"slices"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

func init() {
	register(&Check{Slug: "control-plane-logging", Decides: "every EKS control plane log type (" + listOrNone(logTypes()) + ") is enabled", Evaluate: controlPlaneLogging})
}

// logTypes are the EKS control plane log types, from the SDK's enum.
func logTypes() []string {
	var out []string
	for _, t := range ekstypes.LogType("").Values() {
		out = append(out, string(t))
	}
	return out
}

func controlPlaneLogging(ev *Evidence) Outcome {
	expected := "enabled: " + listOrNone(logTypes())
	if ev.EKSErr != nil {
		return unread(expected, sourceLogging, ev.EKSErr)
	}
	var enabled []string
	if ev.EKS.Logging != nil {
		for _, s := range ev.EKS.Logging.ClusterLogging {
			if s.Enabled != nil && *s.Enabled {
				for _, t := range s.Types {
					enabled = append(enabled, string(t))
				}
			}
		}
	}
	slices.Sort(enabled)
	enabled = slices.Compact(enabled)
	var missing []string
	for _, t := range logTypes() {
		if !slices.Contains(enabled, t) {
			missing = append(missing, t)
		}
	}
	detail := "every control plane log type is enabled"
	if len(missing) > 0 {
		detail = "cluster.logging.clusterLogging must enable the log types " + quoteAll(missing) + " (aws eks update-cluster-config --logging)"
	}
	return decided(len(missing) == 0, expected, "enabled: "+listOrNone(enabled), sourceLogging, detail)
}
