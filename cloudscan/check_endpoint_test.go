package cloudscan

import (
	"testing"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/stretchr/testify/assert"

	"github.com/cisgate/cisgate/policy"
)

// TestEndpointCIDRUnion: 5.4.1 asks that public access be limited to known CIDR blocks (CIS EKS
// Benchmark 5.4.1 remediation); blocks whose union is a whole address family limit nothing, however
// they are spelt. Dual-stack IPv6 clusters take IPv6 blocks (EKS API reference,
// VpcConfigRequest.publicAccessCidrs: "additionally ::/0 for dual-stack IPv6 clusters").
func TestEndpointCIDRUnion(t *testing.T) {
	const must = "cluster.resourcesVpcConfig.publicAccessCidrs must not admit every address: "
	const pass = "the endpoint is private, and public access is off or limited to known CIDR blocks"
	cases := []struct {
		name   string
		cidrs  []string
		status policy.Status
		detail string
	}{
		{"two halves of IPv4", []string{"0.0.0.0/1", "128.0.0.0/1"}, policy.StatusFail,
			must + "0.0.0.0/1, 128.0.0.0/1 (together every IPv4 address) (or set endpointPublicAccess false)"},
		{"quarters out of order, overlapping, with host bits", []string{"192.0.0.0/2", "0.0.0.0/2", "64.1.2.3/2", "128.0.0.0/2", "10.0.0.0/8"}, policy.StatusFail,
			must + "192.0.0.0/2, 0.0.0.0/2, 64.1.2.3/2, 128.0.0.0/2, 10.0.0.0/8 (together every IPv4 address) (or set endpointPublicAccess false)"},
		{"a /0 with host bits", []string{"203.0.113.5/0"}, policy.StatusFail, must + "203.0.113.5/0 (or set endpointPublicAccess false)"},
		{"IPv6 /0", []string{"203.0.113.5/32", "::/0"}, policy.StatusFail, must + "::/0 (or set endpointPublicAccess false)"},
		{"two halves of IPv6", []string{"::/1", "8000::/1"}, policy.StatusFail,
			must + "::/1, 8000::/1 (together every IPv6 address) (or set endpointPublicAccess false)"},
		{"both families open", []string{"0.0.0.0/0", "::/0"}, policy.StatusFail, must + "0.0.0.0/0, ::/0 (or set endpointPublicAccess false)"},
		// ::ffff:0:0/96 spells every IPv4 address (RFC 4291 2.5.5.2).
		{"IPv4-mapped IPv6, all of IPv4", []string{"::ffff:0:0/96"}, policy.StatusFail, must + "::ffff:0:0/96 (or set endpointPublicAccess false)"},
		{"IPv4-mapped half with an IPv4 half", []string{"::ffff:0.0.0.0/97", "128.0.0.0/1"}, policy.StatusFail,
			must + "::ffff:0.0.0.0/97, 128.0.0.0/1 (together every IPv4 address) (or set endpointPublicAccess false)"},
		// A gap of one address is a restriction, however small.
		{"all but the last address", []string{"0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8",
			"255.0.0.0/9", "255.128.0.0/10", "255.192.0.0/11", "255.224.0.0/12", "255.240.0.0/13", "255.248.0.0/14", "255.252.0.0/15", "255.254.0.0/16",
			"255.255.0.0/17", "255.255.128.0/18", "255.255.192.0/19", "255.255.224.0/20", "255.255.240.0/21", "255.255.248.0/22", "255.255.252.0/23", "255.255.254.0/24",
			"255.255.255.0/25", "255.255.255.128/26", "255.255.255.192/27", "255.255.255.224/28", "255.255.255.240/29", "255.255.255.248/30", "255.255.255.252/31", "255.255.255.254/32"},
			policy.StatusPass, pass},
		{"all but the first address", []string{"0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/30", "0.0.0.8/29", "0.0.0.16/28", "0.0.0.32/27", "0.0.0.64/26", "0.0.0.128/25",
			"0.0.1.0/24", "0.0.2.0/23", "0.0.4.0/22", "0.0.8.0/21", "0.0.16.0/20", "0.0.32.0/19", "0.0.64.0/18", "0.0.128.0/17",
			"0.1.0.0/16", "0.2.0.0/15", "0.4.0.0/14", "0.8.0.0/13", "0.16.0.0/12", "0.32.0.0/11", "0.64.0.0/10", "0.128.0.0/9",
			"1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"},
			policy.StatusPass, pass},
		{"halves of IPv4 with a hole between", []string{"0.0.0.0/1", "128.0.0.1/32", "128.0.0.2/31", "128.0.0.4/30", "128.0.0.8/29", "128.0.0.16/28", "128.0.0.32/27", "128.0.0.64/26", "128.0.0.128/25",
			"128.0.1.0/24", "128.0.2.0/23", "128.0.4.0/22", "128.0.8.0/21", "128.0.16.0/20", "128.0.32.0/19", "128.0.64.0/18", "128.0.128.0/17",
			"128.1.0.0/16", "128.2.0.0/15", "128.4.0.0/14", "128.8.0.0/13", "128.16.0.0/12", "128.32.0.0/11", "128.64.0.0/10", "128.128.0.0/9", "129.0.0.0/8",
			"130.0.0.0/7", "132.0.0.0/6", "136.0.0.0/5", "144.0.0.0/4", "160.0.0.0/3", "192.0.0.0/2"},
			policy.StatusPass, pass},
		// ::/1 holds ::ffff:0:0/96 but is an IPv6 block: with 8000::/1 it is all of IPv6, and with
		// half of IPv4 it is no IPv4 address more.
		{"::/1 and half of IPv4", []string{"::/1", "0.0.0.0/1"}, policy.StatusPass, pass},
		{"unparseable blocks admit nothing", []string{"0.0.0.0/0/0", "everything"}, policy.StatusPass, pass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := endpointAccessRestricted(cluster(func(c *ekstypes.Cluster) {
				c.ResourcesVpcConfig = &ekstypes.VpcConfigResponse{EndpointPrivateAccess: true, EndpointPublicAccess: true, PublicAccessCidrs: tc.cidrs}
			}))
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.detail, o.Detail)
		})
	}
}
