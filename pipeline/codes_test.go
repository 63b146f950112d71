package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"meetarchive/archive"
)

// TestCodeOfLocalErrors: a local file error has its own code and a hint
// naming the directory, never "connection" (a syscall.Errno satisfies
// net.Error); network and other errors keep theirs.
func TestCodeOfLocalErrors(t *testing.T) {
	tmp := "/data/archive/2024/03/abc/.meetarchive-0123456789abcdef.partial"
	put := func(errno syscall.Errno) error {
		return fmt.Errorf("archive: put 2024/03/abc/Hd_0_0.mp4: %w", &fs.PathError{Op: "write", Path: tmp, Err: errno})
	}
	tests := []struct {
		name     string
		err      error
		code     Code
		hintHas  []string // the hint names these
		hintNone string   // and not this
	}{
		{"ENOSPC", put(syscall.ENOSPC), CodeDiskFull, []string{"no space left", "/data/archive/2024/03/abc", "free space"}, ".partial"},
		{"EDQUOT", put(syscall.EDQUOT), CodeDiskFull, []string{"quota", "/data/archive/2024/03/abc"}, ".partial"},
		{"EROFS", put(syscall.EROFS), CodeLocalIO, []string{"read-only", "/data/archive/2024/03/abc"}, ".partial"},
		{"EACCES", put(syscall.EACCES), CodeLocalIO, []string{"permission denied", "/data/archive/2024/03/abc"}, ".partial"},
		{"EPERM", put(syscall.EPERM), CodeLocalIO, []string{"permission denied"}, ".partial"},
		{"EIO", put(syscall.EIO), CodeLocalIO, []string{"input/output error", "/data/archive/2024/03/abc"}, ".partial"},
		{"rename ENOSPC", &os.LinkError{Op: "rename", Old: tmp, New: "/data/archive/x.mp4", Err: syscall.ENOSPC}, CodeDiskFull, []string{"/data/archive/x.mp4"}, ""},
		{"report temp file", &fs.PathError{Op: "write", Path: "/out/.manifest.csv.k2j3.tmp", Err: syscall.ENOSPC}, CodeDiskFull, []string{"/out:", "free space"}, ".tmp"},
		{"reset by peer", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "connection", []string{"network problem"}, ""},
		{"integrity", fmt.Errorf("x: %w", archive.ErrIntegrity), CodeIntegrity, []string{"did not match"}, ""},
		{"a store error", errors.New("s3: internal error"), CodeStore, []string{"destination failed"}, ""},
		{"unexpected EOF", io.ErrUnexpectedEOF, "connection", []string{"network problem"}, ""},
		{"cancelled", context.Canceled, "cancelled", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := codeOf(tc.err)
			if c != tc.code {
				t.Fatalf("codeOf = %q, want %q", c, tc.code)
			}
			h := hintFor(c, tc.err)
			for _, want := range tc.hintHas {
				if !strings.Contains(h, want) {
					t.Errorf("hint %q does not say %q", h, want)
				}
			}
			if tc.hintNone != "" && strings.Contains(h, tc.hintNone) {
				t.Errorf("hint %q names the temporary file", h)
			}
			if hint(c) == "" && c != "cancelled" {
				t.Errorf("code %q has no hint of its own", c)
			}
		})
	}
}
