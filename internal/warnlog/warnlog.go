// Package warnlog keeps the Warning headers the API server sends back, admission webhooks'
// warnings among them, as kubectl prints them: for tests and the demo to read.
package warnlog

import "sync"

// Log is a client-go rest.WarningHandler that keeps every warning until Take. Set it as a
// rest.Config's WarningHandler; it is safe for concurrent use.
type Log struct {
	mu   sync.Mutex
	msgs []string
}

// HandleWarningHeader implements rest.WarningHandler.
func (l *Log) HandleWarningHeader(_ int, _ string, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, text)
}

// Take returns the warnings since the last Take, oldest first, and forgets them.
func (l *Log) Take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.msgs
	l.msgs = nil
	return out
}
