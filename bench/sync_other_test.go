//go:build !unix

package bench

// flushDisks is a no-op where sync(2) is not available.
func flushDisks() {}
