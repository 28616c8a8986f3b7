package output

import (
	"encoding/xml"
	"io"
	"strings"

	"github.com/cisgate/cisgate/policy"
)

// JUnit XML as CI systems read it: one test case per object, failing when any blocking finding
// is on it; non-blocking findings are listed in system-out.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, r *Report) error {
	byObject := map[ObjectRef][]Finding{}
	for _, f := range r.Findings {
		byObject[f.Object] = append(byObject[f.Object], f)
	}
	suite := junitSuite{Name: "cisgate " + string(r.Benchmark)}
	for _, obj := range r.Checked {
		c := junitCase{Name: obj.String(), Classname: obj.File}
		var blocking, other []string
		for _, f := range byObject[obj] {
			line := "[" + f.ID + "] " + string(f.Status) + " " + f.Path + ": " + f.Detail
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
			c.Failure = &junitFailure{
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
	doc := junitSuites{Name: "cisgate", Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
