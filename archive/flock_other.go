//go:build !unix

package archive

import (
	"errors"
	"os"
)

// flockWorks: no flock here, so a DirStore declares no NativeLock and
// keeps no state.
const flockWorks = false

// oNoFollow: no such flag here (state in a directory needs a Unix system).
const oNoFollow = 0

// errWouldBlock: the lock is held by someone else.
var errWouldBlock = errors.New("lock held")

// flockNB is not available here: state in a directory needs a Unix system.
func flockNB(*os.File) error {
	return errors.New("locking a state file needs a Unix system")
}
