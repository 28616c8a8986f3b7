package output

import (
	"io"
	"strings"

	"github.com/cisgate/cisgate/policy"
)

// writeJUnit renders one test case per object, failing when any blocking finding is on it;
// non-blocking findings are listed in system-out.
func writeJUnit(w io.Writer, r *Report) error {
	byObject := map[ObjectRef][]Finding{}
	for _, f := range r.Findings {
		byObject[f.Object] = append(byObject[f.Object], f)
	}
	suite := JUnitSuite{Name: "cisgate " + string(r.Benchmark)}
	for _, obj := range r.Checked {
		c := JUnitCase{Name: obj.String(), Classname: obj.File}
		var blocking, other []string
		for _, f := range byObject[obj] {
			line := "[" + f.ID + "] " + string(f.Status) + " " + f.Path + ": " + f.Detail + f.expiredNote()
			switch {
			case f.Blocks():
				blocking = append(blocking, line)
			case f.ExemptReason != "":
				other = append(other, line+" (exempt: "+f.ExemptReason+")")
			case f.Advisory:
				other = append(other, line+" (advisory)")
			case f.Status == policy.StatusFail:
				other = append(other, line+" ("+string(f.Mode)+" mode)")
			default:
				other = append(other, line)
			}
		}
		if len(blocking) > 0 {
			c.Failure = &JUnitMessage{
				Message: blocking[0],
				Type:    "CIS",
				Text:    strings.Join(blocking, "\n"),
			}
			suite.Failures++
		}
		c.SystemOut = strings.Join(other, "\n")
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	return WriteJUnit(w, JUnitSuites{Name: "cisgate", Suites: []JUnitSuite{suite}})
}
