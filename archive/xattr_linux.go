package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

const sha256Attr = "user.meetarchive.sha256"

// setSHA256Attr records sum in f's extended attributes, best effort (not
// every file system has user attributes).
func setSHA256Attr(f *os.File, sum string) {
	_ = unix.Fsetxattr(int(f.Fd()), sha256Attr, []byte(sum), 0)
}

// getSHA256Attr reads the SHA-256 recorded by setSHA256Attr, "" if none.
func getSHA256Attr(path string) string {
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, sha256Attr, buf)
	if err != nil || n != 64 || !validSHA256(string(buf)) {
		return ""
	}
	return string(buf)
}
