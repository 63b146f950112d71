package archive

import (
	"fmt"
	"strings"
)

// CheckDest refuses a destination that is neither an s3:// URI nor a
// plain directory path but looks like a mistyped URI: surrounding white
// space, "s3:/bucket", "S3//bucket", or another scheme ("gs://", "https://",
// "file://"). Such a string would otherwise name a local directory in the
// working directory, and a run (with --delete-after-archive, even a
// deletion from the platform) would go ahead against the wrong place.
func CheckDest(dest string) error {
	switch {
	case dest == "":
		return fmt.Errorf("empty destination")
	case strings.TrimSpace(dest) != dest:
		return fmt.Errorf("destination %q begins or ends with white space", dest)
	}
	if i := strings.Index(dest, ":"); i > 1 && isScheme(dest[:i]) {
		if strings.EqualFold(dest[:i], "s3") && strings.HasPrefix(dest[i:], "://") {
			return nil
		}
		return fmt.Errorf("destination %q looks like a URI but is not s3://bucket/prefix (only S3 and local directories are supported; a directory whose name has a colon must be given as ./%s)", dest, dest)
	}
	if l := strings.ToLower(dest); strings.HasPrefix(l, "s3/") || strings.HasPrefix(l, "s3//") {
		return fmt.Errorf("destination %q: did you mean s3://%s? (a local directory named s3 must be given as ./%s)", dest, strings.TrimLeft(dest[2:], "/"), dest)
	}
	return nil
}

// isScheme reports whether s is a URI scheme: a letter, then letters,
// digits, "+", "-" or ".". A single letter ("C:") is a drive, not a scheme.
func isScheme(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return len(s) > 1
}
