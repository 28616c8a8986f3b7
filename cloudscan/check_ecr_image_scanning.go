package cloudscan

// ecr-image-scanning (5.1.1, "Ensure Image Vulnerability Scanning using Amazon ECR image scanning
// or a third party provider"): every private ECR repository a Pod of the cluster pulls from scans
// its images: the repository's imageScanningConfiguration.scanOnPush is true, or a rule of the
// registry's scanning configuration (BASIC or ENHANCED) scans it on push or continuously through
// a repository filter that matches its name. Images outside ECR are left to the third-party
// scanners the item allows, so a cluster that pulls nothing from ECR decides nothing.

import (
	"strconv"

	"github.com/cisgate/cisgate/policy"
)

func init() {
	register(&Check{Slug: "ecr-image-scanning", Decides: "every ECR repository a Pod pulls from has scanOnPush, or a registry scanning rule covers it", Evaluate: ecrImageScanning})
}

func ecrImageScanning(ev *Evidence) Outcome {
	const expected = "every ECR repository in use scans on push or is covered by a registry scanning rule"
	if ev.PodsErr != nil {
		return unread(expected, sourceImages, ev.PodsErr)
	}
	exempt := ""
	if ev.ExemptPods > 0 {
		exempt = "; " + strconv.Itoa(ev.ExemptPods) + " Pods exempt by the config not counted"
	}
	if len(ev.Repositories) == 0 {
		return Outcome{Status: policy.StatusWarn, Expected: expected, Actual: "no Pod image in ECR" + exempt, Source: sourceImages,
			Detail: "no Pod pulls from a private ECR registry; scanning by a third-party provider is not decided"}
	}
	var unscanned, unknown, notFound []string
	var reasons []string
	for _, r := range ev.Repositories {
		switch {
		case r.Err != nil:
			unknown = append(unknown, r.Ref())
			reasons = appendOnce(reasons, r.Err.Error())
		case !r.Found:
			notFound = append(notFound, r.Ref()+" (used by "+r.Pod+")")
		case *r.ScanOnPush || r.Rule != "":
		case r.RuleErr != nil:
			unknown = append(unknown, r.Ref())
			reasons = appendOnce(reasons, r.RuleErr.Error())
		default:
			unscanned = append(unscanned, r.Ref()+" (used by "+r.Pod+")")
		}
	}
	total := len(ev.Repositories)
	scanned := total - len(unscanned) - len(unknown) - len(notFound)
	actual := strconv.Itoa(scanned) + " of " + strconv.Itoa(total) + " repositories scanned"
	if len(unknown) == total {
		actual = unknownValue
	}
	actual += exempt
	var problems []string
	if len(unscanned) > 0 {
		problems = append(problems, "these repositories must set imageScanningConfiguration.scanOnPush true or match a registry scanning rule: "+quoteAll(unscanned))
	}
	if len(notFound) > 0 {
		problems = append(problems, "these repositories do not exist in their registry: "+quoteAll(notFound))
	}
	if len(unscanned) > 0 {
		if len(unknown) > 0 {
			problems = append(problems, "not decided for "+quoteAll(unknown)+": "+joinProblems(reasons))
		}
		return decided(false, expected, actual, sourceImages, joinProblems(problems))
	}
	if len(unknown) > 0 || len(notFound) > 0 {
		if len(unknown) > 0 {
			problems = append(problems, "not decided for "+quoteAll(unknown)+": "+joinProblems(reasons))
		}
		return Outcome{Status: policy.StatusWarn, Expected: expected, Actual: actual, Source: sourceImages, Detail: joinProblems(problems)}
	}
	return decided(true, expected, actual, sourceImages, "every ECR repository in use is scanned ("+strconv.Itoa(total)+")")
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
