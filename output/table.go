package output

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cisgate/cisgate/policy"
)

func writeTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tMODE\tOBJECT\tPATH\tDETAIL")
	var fails, warns, exempt int
	for _, f := range r.Findings {
		obj := f.Object.String()
		if f.Object.File != "" {
			obj += " (" + f.Object.File + ")"
		}
		mode, detail := string(f.Mode), f.Detail+f.expiredNote()
		if f.Advisory {
			mode = "advisory" // never blocks
		}
		if f.ExemptReason != "" {
			mode, detail = "exempt", detail+" [exempt: "+f.ExemptReason+"]"
			exempt++
		} else if f.Status == policy.StatusFail {
			fails++
		} else {
			warns++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Status, mode, obj, f.Path, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s: %d objects checked, %d FAIL (%d blocking), %d WARN, %d exempt\n",
		r.Benchmark, len(r.Checked), fails, r.Blocking(), warns, exempt)
	return err
}
