//go:build unix

package archive

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// flockWorks: flockNB takes a lock (DirStore's Capabilities.NativeLock).
const flockWorks = true

// oNoFollow makes an open refuse a symbolic link in the last element.
const oNoFollow = unix.O_NOFOLLOW

// errWouldBlock: the flock is held by someone else.
var errWouldBlock = errors.New("lock held")

// flockNB takes an exclusive flock on f without waiting.
func flockNB(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return errWouldBlock
		}
		return err
	}
}
