package nodescan

import (
	"strconv"
	"time"

	"github.com/cisgate/cisgate/evidence"
	"github.com/cisgate/cisgate/policy"
)

// unknownValue is the actual value of a result that could not be decided.
const unknownValue = "unknown"

// configUnavailable is the WARN outcome of a configuration check when the evidence holds no
// effective configuration; ok is false when the configuration is there to decide on.
func configUnavailable(ev *Evidence, expected string) (Outcome, bool) {
	switch {
	case ev.Kubelet == nil:
		return Outcome{Status: policy.StatusWarn, Expected: expected, Actual: unknownValue, Detail: ev.KubeletErr.Error()}, true
	case ev.ConfigErr != nil:
		return Outcome{Status: policy.StatusWarn, Expected: expected, Actual: unknownValue,
			Detail: "cannot read the kubelet configuration: " + ev.ConfigErr.Error()}, true
	}
	return Outcome{}, false
}

// settingOutcome decides a check on one effective setting: PASS when compliant, else FAIL.
// The detail says what was found; a setting's note (e.g. a re-defaulted zero) is appended.
func settingOutcome[T any](s Setting[T], compliant bool, expected, actual, detail string) Outcome {
	status := evidence.PassOrFail(compliant)
	if s.Note != "" {
		detail += " (" + s.Note + ")"
	}
	return Outcome{Status: status, Expected: expected, Actual: actual, Source: s.Source.String(), Detail: detail}
}

// boolSettingOutcome decides a check that a boolean setting is want: PASS when it is, with the
// detail that describes its effective value (whenTrue or whenFalse).
func boolSettingOutcome(ev *Evidence, setting *kubeletSetting[bool], want bool, whenTrue, whenFalse string) Outcome {
	expected := formatBool(want)
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := setting.effective(ev.Config)
	detail := whenFalse
	if s.Value {
		detail = whenTrue
	}
	return settingOutcome(s, s.Value == want, expected, formatBool(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
}

// unsetSuffix ends the detail of a value nothing set: which mode's default applies.
func (s Setting[T]) unsetSuffix(mode ConfigMode) string {
	if s.Source.Kind != SourceDefault || s.Note != "" {
		return ""
	}
	return "; not set, so the kubelet's " + mode.String() + " default applies"
}

func formatBool(b bool) string              { return strconv.FormatBool(b) }
func formatInt32(n int32) string            { return strconv.FormatInt(int64(n), 10) }
func formatDuration(d time.Duration) string { return d.String() }
