//go:build unix

package bench

import "syscall"

// flushDisks writes dirty pages back before a timed run, so one run's
// unwritten data does not slow the next one down.
func flushDisks() { syscall.Sync() }
