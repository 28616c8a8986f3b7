package controller

import "fmt"

// survive runs one unit of a controller's work and turns a panic in it (a bug on some object)
// into an error. The controllers share a process with the webhook: a crash there would take the
// webhook down, and in enforce mode its failurePolicy with it.
func survive(work func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return work()
}
