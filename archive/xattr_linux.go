package archive

import (
	"encoding/json"
	"os"

	"golang.org/x/sys/unix"
)

// Extended attributes a DirStore records on each file it writes.
const (
	sha256Attr   = "user.meetarchive.sha256"
	metadataAttr = "user.meetarchive.metadata" // JSON object of Object.Metadata
)

// maxMetadataAttr caps the metadata attribute read back (ext4 allows 4 KiB per inode).
const maxMetadataAttr = 64 << 10

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

// setMetadataAttr records md in f's extended attributes, best effort.
func setMetadataAttr(f *os.File, md map[string]string) {
	if len(md) == 0 {
		return
	}
	data, err := json.Marshal(md)
	if err != nil || len(data) > maxMetadataAttr {
		return
	}
	_ = unix.Fsetxattr(int(f.Fd()), metadataAttr, data, 0)
}

// getMetadataAttr reads the metadata recorded by setMetadataAttr, nil if none.
func getMetadataAttr(path string) map[string]string {
	n, err := unix.Getxattr(path, metadataAttr, nil)
	if err != nil || n <= 0 || n > maxMetadataAttr {
		return nil
	}
	buf := make([]byte, n)
	n, err = unix.Getxattr(path, metadataAttr, buf)
	if err != nil {
		return nil
	}
	var md map[string]string
	if json.Unmarshal(buf[:n], &md) != nil || len(md) == 0 {
		return nil
	}
	return md
}
