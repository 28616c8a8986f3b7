package policy

import (
	"strconv"
	"strings"
)

// quote is how every name and value appears in a finding: Go-quoted, so an attacker's name with
// spaces, quotes or control characters cannot forge the rest of a message.
func quote(s string) string { return strconv.Quote(s) }

// quoteList quotes each value and joins them with ", ".
func quoteList(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(s)
	}
	return strings.Join(out, ", ")
}
