package cloudscan

// endpoint-access-restricted (5.4.1, "Restrict Access to the Control Plane Endpoint"): private
// endpoint access is on, and public access is off or limited to CIDR blocks none of which is
// everything (0.0.0.0/0, or ::/0); EKS defaults publicAccessCidrs to 0.0.0.0/0 (the benchmark's
// remediation: "If you specify no CIDR blocks, then the public API server endpoint is able to
// receive and process requests from all IP addresses").
//
// endpoint-private (5.4.2, "Ensure clusters are created with Private Endpoint Enabled and Public
// Access Disabled", the same text in every version that has it): endpointPrivateAccess true and
// endpointPublicAccess false.

import (
	"net/netip"
	"strconv"
	"strings"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

func init() {
	register(&Check{Slug: "endpoint-access-restricted", Decides: "endpointPrivateAccess is true, and endpointPublicAccess is false or publicAccessCidrs holds no /0", Evaluate: endpointAccessRestricted})
	register(&Check{Slug: "endpoint-private", Decides: "endpointPrivateAccess is true and endpointPublicAccess is false", Evaluate: endpointPrivate})
}

func vpcConfig(c *ekstypes.Cluster) ekstypes.VpcConfigResponse {
	if c.ResourcesVpcConfig == nil {
		return ekstypes.VpcConfigResponse{}
	}
	return *c.ResourcesVpcConfig
}

func endpointActual(v ekstypes.VpcConfigResponse) string {
	s := "endpointPrivateAccess=" + strconv.FormatBool(v.EndpointPrivateAccess) + ", endpointPublicAccess=" + strconv.FormatBool(v.EndpointPublicAccess)
	if v.EndpointPublicAccess {
		s += ", publicAccessCidrs=[" + listOrNone(v.PublicAccessCidrs) + "]"
	}
	return s
}

// openCIDRs are the public access CIDR blocks that admit every address (a /0).
func openCIDRs(cidrs []string) []string {
	if len(cidrs) == 0 {
		return []string{"0.0.0.0/0 (the default of an empty list)"}
	}
	var open []string
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Bits() == 0 {
			open = append(open, c)
		}
	}
	return open
}

func endpointAccessRestricted(ev *Evidence) Outcome {
	const expected = "endpointPrivateAccess=true, and endpointPublicAccess=false or publicAccessCidrs without 0.0.0.0/0"
	if ev.EKSErr != nil {
		return unread(expected, sourceEndpoint, ev.EKSErr)
	}
	v := vpcConfig(ev.EKS)
	var problems []string
	if !v.EndpointPrivateAccess {
		problems = append(problems, "cluster.resourcesVpcConfig.endpointPrivateAccess must be true")
	}
	if v.EndpointPublicAccess {
		if open := openCIDRs(v.PublicAccessCidrs); len(open) > 0 {
			problems = append(problems, "cluster.resourcesVpcConfig.publicAccessCidrs must not admit every address: "+listOrNone(open)+" (or set endpointPublicAccess false)")
		}
	}
	detail := "the endpoint is private, and public access is off or limited to known CIDR blocks"
	if len(problems) > 0 {
		detail = joinProblems(problems)
	}
	return decided(len(problems) == 0, expected, endpointActual(v), sourceEndpoint, detail)
}

func endpointPrivate(ev *Evidence) Outcome {
	const expected = "endpointPrivateAccess=true, endpointPublicAccess=false"
	if ev.EKSErr != nil {
		return unread(expected, sourceEndpoint, ev.EKSErr)
	}
	v := vpcConfig(ev.EKS)
	var problems []string
	if !v.EndpointPrivateAccess {
		problems = append(problems, "cluster.resourcesVpcConfig.endpointPrivateAccess must be true")
	}
	if v.EndpointPublicAccess {
		problems = append(problems, "cluster.resourcesVpcConfig.endpointPublicAccess must be false")
	}
	detail := "the endpoint is reachable only from the VPC"
	if len(problems) > 0 {
		detail = joinProblems(problems)
	}
	return decided(len(problems) == 0, expected, endpointActual(v), sourceEndpoint, detail)
}

func joinProblems(p []string) string { return strings.Join(p, "; ") }
