package cloudscan

// endpoint-access-restricted (5.4.1, "Restrict Access to the Control Plane Endpoint"): private
// endpoint access is on, and public access is off or limited to CIDR blocks that together leave
// out some IPv4 address and some IPv6 address; EKS defaults publicAccessCidrs to 0.0.0.0/0 (the
// benchmark's remediation: "If you specify no CIDR blocks, then the public API server endpoint is
// able to receive and process requests from all IP addresses"). A list restricts nothing when its
// blocks' union is a whole address family however it is spelled: 0.0.0.0/0, or 0.0.0.0/1 with
// 128.0.0.0/1, or ::/0 (EKS API reference, VpcConfigRequest.publicAccessCidrs: dual-stack IPv6
// clusters take IPv6 blocks too, and default to ::/0 as well). A block inside ::ffff:0:0/96
// (IPv4-mapped, RFC 4291 2.5.5.2) is read as the IPv4 addresses it spells, so ::ffff:0:0/96 is all
// of IPv4: EKS documents no such block, and reading it as open errs on the side of a FAIL. A wider
// IPv6 block (::/1) is an IPv6 block.
//
// endpoint-private (5.4.2, "Ensure clusters are created with Private Endpoint Enabled and Public
// Access Disabled", the same text in every version that has it): endpointPrivateAccess true and
// endpointPublicAccess false.

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

func init() {
	register(&Check{Slug: "endpoint-access-restricted", Decides: "endpointPrivateAccess is true, and endpointPublicAccess is false or publicAccessCidrs cover neither all of IPv4 nor all of IPv6 (0.0.0.0/0, ::/0, or blocks that add up to one)", Evaluate: endpointAccessRestricted})
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

// openCIDRs describes how the public access CIDR blocks admit every address of a family: each
// block that does by itself, else the family's blocks that do together. Blocks that do not parse
// admit nothing (EKS refuses them).
func openCIDRs(cidrs []string) []string {
	if len(cidrs) == 0 {
		return []string{"0.0.0.0/0 (the default of an empty list)"}
	}
	type block struct {
		prefix netip.Prefix
		given  string
	}
	var v4, v6 []block
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			continue
		}
		p = p.Masked()
		if p.Addr().Is4() {
			v4 = append(v4, block{p, c})
			continue
		}
		if p.Bits() >= ipv4Mapped.Bits() && ipv4Mapped.Contains(p.Addr()) {
			// IPv4 addresses spelt ::ffff:a.b.c.d.
			v4 = append(v4, block{netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-ipv4Mapped.Bits()), c})
			continue
		}
		v6 = append(v6, block{p, c})
	}
	var open []string
	for _, family := range []struct {
		blocks []block
		name   string
	}{{v4, "IPv4"}, {v6, "IPv6"}} {
		prefixes := make([]netip.Prefix, len(family.blocks))
		for i, b := range family.blocks {
			prefixes[i] = b.prefix
		}
		if !coverAll(prefixes) {
			continue
		}
		var alone, together []string
		for _, b := range family.blocks {
			if b.prefix.Bits() == 0 {
				alone = append(alone, b.given)
			}
			together = append(together, b.given)
		}
		if len(alone) > 0 {
			open = appendMissing(open, alone...)
		} else {
			open = appendMissing(open, strings.Join(together, ", ")+" (together every "+family.name+" address)")
		}
	}
	return open
}

// ipv4Mapped is the IPv6 block that spells IPv4 addresses (RFC 4291 2.5.5.2).
var ipv4Mapped = netip.MustParsePrefix("::ffff:0:0/96")

// coverAll reports whether prefixes, all of one family, together hold every address of it.
func coverAll(prefixes []netip.Prefix) bool {
	if len(prefixes) == 0 {
		return false
	}
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	// next is the lowest address not yet covered; every prefix starting at or below it extends it.
	next := prefixes[0].Addr()
	if next != netip.PrefixFrom(next, 0).Masked().Addr() {
		return false // the family's first address is left out
	}
	for _, p := range prefixes {
		if next.Less(p.Addr()) {
			return false // a gap below p
		}
		last := lastAddr(p)
		if !last.Less(next) {
			if !last.Next().IsValid() {
				return true // p reaches the family's last address
			}
			next = last.Next()
		}
	}
	return false
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func appendMissing(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

func endpointAccessRestricted(ev *Evidence) Outcome {
	return endpointOutcome(ev, "endpointPrivateAccess=true, and endpointPublicAccess=false or publicAccessCidrs covering neither all of IPv4 nor all of IPv6",
		"the endpoint is private, and public access is off or limited to known CIDR blocks",
		func(v ekstypes.VpcConfigResponse) string {
			if open := openCIDRs(v.PublicAccessCidrs); len(open) > 0 {
				return "cluster.resourcesVpcConfig.publicAccessCidrs must not admit every address: " + listOrNone(open) + " (or set endpointPublicAccess false)"
			}
			return ""
		})
}

func endpointPrivate(ev *Evidence) Outcome {
	return endpointOutcome(ev, "endpointPrivateAccess=true, endpointPublicAccess=false", "the endpoint is reachable only from the VPC",
		func(ekstypes.VpcConfigResponse) string {
			return "cluster.resourcesVpcConfig.endpointPublicAccess must be false"
		})
}

// endpointOutcome decides both endpoint checks: private access must be on, and public access, when
// on, is judged by publicProblem ("" when it is acceptable). passed is the detail of a PASS.
func endpointOutcome(ev *Evidence, expected, passed string, publicProblem func(ekstypes.VpcConfigResponse) string) Outcome {
	if ev.EKSErr != nil {
		return unread(expected, sourceEndpoint, ev.EKSErr)
	}
	v := vpcConfig(ev.EKS)
	var problems []string
	if !v.EndpointPrivateAccess {
		problems = append(problems, "cluster.resourcesVpcConfig.endpointPrivateAccess must be true")
	}
	if p := publicProblem(v); v.EndpointPublicAccess && p != "" {
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		return decided(false, expected, endpointActual(v), sourceEndpoint, joinProblems(problems))
	}
	return decided(true, expected, endpointActual(v), sourceEndpoint, passed)
}

func joinProblems(p []string) string { return strings.Join(p, "; ") }
