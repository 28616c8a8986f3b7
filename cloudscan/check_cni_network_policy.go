package cloudscan

// cni-network-policy (4.3.1, "Ensure CNI plugin supports network policies"): the Amazon VPC CNI
// EKS add-on (vpc-cni) is ACTIVE and its configuration values set enableNetworkPolicy to "true"
// (the add-on's configuration schema, aws eks describe-addon-configuration; EKS User Guide,
// "Restrict Pod network traffic with Kubernetes network policies"). A cluster without the
// add-on FAILs: the CNI's network policy agent comes with it. On Auto Mode, network policy is
// built into the nodes and the add-on is absent: that WARNs instead, since it is switched on in
// the NodeClass, which the EKS API does not show.

import (
	"strconv"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"sigs.k8s.io/yaml"

	"github.com/cisgate/cisgate/policy"
)

func init() {
	register(&Check{Slug: "cni-network-policy", Decides: `the vpc-cni add-on is ACTIVE with enableNetworkPolicy "true" in its configuration values`, Evaluate: cniNetworkPolicy})
}

func cniNetworkPolicy(ev *Evidence) Outcome {
	const expected = `vpc-cni add-on ACTIVE, enableNetworkPolicy "true"`
	switch {
	case ev.AddonErr != nil:
		return unread(expected, sourceAddon, ev.AddonErr)
	case ev.AddonMissing && ev.EKS != nil && autoMode(ev):
		return Outcome{Status: policy.StatusWarn, Expected: expected, Actual: "no vpc-cni add-on (Auto Mode)", Source: sourceAddon,
			Detail: "on EKS Auto Mode the nodes enforce network policy when the NodeClass sets spec.networkPolicy and the ConfigMap kube-system/amazon-vpc-cni sets enable-network-policy-controller: \"true\"; not visible through the EKS API"}
	case ev.AddonMissing:
		return decided(false, expected, "no vpc-cni add-on", sourceAddon, `the cluster has no vpc-cni EKS add-on: install it with configuration values {"enableNetworkPolicy": "true"}, or another CNI that enforces NetworkPolicies`)
	}
	status := ev.Addon.Status
	raw := ""
	if ev.Addon.ConfigurationValues != nil {
		raw = *ev.Addon.ConfigurationValues
	}
	enabled, parseErr := networkPolicyEnabled(raw)
	actual := "status " + string(status) + ", enableNetworkPolicy " + strconv.Quote(enabled)
	var problems []string
	if status != ekstypes.AddonStatusActive {
		problems = append(problems, "the vpc-cni add-on's status must be ACTIVE, not "+string(status))
	}
	switch {
	case parseErr != nil:
		problems = append(problems, "the vpc-cni add-on's configurationValues do not parse: "+parseErr.Error())
	case enabled != "true":
		problems = append(problems, `the vpc-cni add-on's configurationValues must set enableNetworkPolicy: "true"`)
	}
	if len(problems) > 0 {
		return decided(false, expected, actual, sourceAddon, joinProblems(problems))
	}
	return decided(true, expected, actual, sourceAddon, "the VPC CNI enforces network policies")
}

// networkPolicyEnabled reads enableNetworkPolicy from the add-on's configuration values (JSON or
// YAML, as EKS accepts them); the schema's type is a string, a bool is read as its text. Empty
// values leave it unset.
func networkPolicyEnabled(values string) (string, error) {
	if values == "" {
		return "", nil
	}
	var v struct {
		EnableNetworkPolicy any `json:"enableNetworkPolicy"`
	}
	if err := yaml.Unmarshal([]byte(values), &v); err != nil {
		return "", err
	}
	switch x := v.EnableNetworkPolicy.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", nil
}
