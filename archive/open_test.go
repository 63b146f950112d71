package archive_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"meetarchive/archive"
)

func TestOpenDestinations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name     string
		dest     string
		opts     archive.Options
		wantType string
		wantErr  error // nil: no error expected unless wantAnyErr
		anyErr   bool
	}{
		{"directory", dir, archive.Options{}, "*archive.DirStore", nil, false},
		{"s3 with prefix", "s3://my-bucket/some/prefix", archive.Options{Region: "us-east-1"}, "*archive.S3Store", nil, false},
		{"s3 without prefix", "S3://my-bucket", archive.Options{Region: "us-east-1"}, "*archive.S3Store", nil, false},
		{"s3 bad bucket", "s3://a/b", archive.Options{}, "", nil, true},
		{"s3 hostile prefix", "s3://my-bucket/../x", archive.Options{}, "", archive.ErrInvalidKey, true},
		{"lock on directory", dir, archive.Options{LockMode: "COMPLIANCE", RetainDays: 1}, "", archive.ErrLockUnsupported, true},
		{"legal hold on directory", dir, archive.Options{LegalHold: true}, "", archive.ErrLockUnsupported, true},
		{"sse on directory", dir, archive.Options{SSE: "AES256"}, "", nil, true},
		{"invalid options", dir, archive.Options{PartSize: 1}, "", nil, true},
		{"empty", "", archive.Options{}, "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := archive.Open(ctx, tc.dest, tc.opts)
			if tc.anyErr {
				if err == nil {
					t.Fatalf("Open(%q) succeeded, want an error", tc.dest)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("Open(%q) err = %v, want %v", tc.dest, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.dest, err)
			}
			defer st.Close()
			if got := typeName(st); got != tc.wantType {
				t.Errorf("Open(%q) = %s, want %s", tc.dest, got, tc.wantType)
			}
		})
	}
	st, err := archive.Open(ctx, "s3://my-bucket/some/prefix/", archive.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.URI("2024/05/x.mp4"), "s3://my-bucket/some/prefix/2024/05/x.mp4"; got != want {
		t.Errorf("URI = %q, want %q", got, want)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *archive.DirStore:
		return "*archive.DirStore"
	case *archive.S3Store:
		return "*archive.S3Store"
	}
	return "?"
}

func TestOpenURI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, root := newDir(t)
	obj := putBytes(t, st, "2024/05/conf/Hd_0_1.mp4", []byte("recorded"), archive.Expect{})

	got, key, err := archive.OpenURI(ctx, obj.URI, archive.Options{})
	if err != nil {
		t.Fatalf("OpenURI(%s): %v", obj.URI, err)
	}
	if want := strings.TrimPrefix(filepath.ToSlash(filepath.Join(root, "2024/05/conf/Hd_0_1.mp4")), "/"); key != want {
		t.Errorf("key = %q, want %q", key, want)
	}
	res := archive.Verify(ctx, got, []archive.VerifyItem{{Key: key, SHA256: obj.SHA256, Bytes: obj.Bytes}}, nil)
	if res[0].Status != "ok" {
		t.Errorf("Verify through OpenURI = %s %v, want ok", res[0].Status, res[0].Err)
	}
	if got.URI(key) != obj.URI {
		t.Errorf("URI round trip = %q, want %q", got.URI(key), obj.URI)
	}

	s3st, key, err := archive.OpenURI(ctx, "s3://my-bucket/p/2024/05/x.mp4", archive.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatalf("OpenURI(s3): %v", err)
	}
	if s3 := s3st.(*archive.S3Store); s3.Bucket() != "my-bucket" || s3.Prefix() != "" || key != "p/2024/05/x.mp4" {
		t.Errorf("OpenURI(s3) = bucket %q prefix %q key %q", s3.Bucket(), s3.Prefix(), key)
	}
	for _, bad := range []string{"relative/path.mp4", "s3://my-bucket", "s3://my-bucket/", "/"} {
		if _, _, err := archive.OpenURI(ctx, bad, archive.Options{}); err == nil {
			t.Errorf("OpenURI(%q) succeeded, want an error", bad)
		}
	}
}

func TestIsS3URI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"s3://bucket/key", true},
		{"S3://bucket/key", true},
		{"s3://", true},
		{"S3://", true},
		{"s3:/", false},
		{"s3", false},
		{"", false},
		{"/srv/s3://x", false},
		{"./s3://x", false},
		{"s4://bucket", false},
		{"relative/dir", false},
	} {
		if got := archive.IsS3URI(tc.s); got != tc.want {
			t.Errorf("IsS3URI(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestSplitURI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, uri := range []string{"s3://my-bucket/p/x.mp4", "S3://my-bucket/p/x.mp4", "/srv/archive/2024/x.mp4"} {
		root, key, err := archive.SplitURI(uri)
		if err != nil {
			t.Fatalf("SplitURI(%q): %v", uri, err)
		}
		st, okey, err := archive.OpenURI(ctx, uri, archive.Options{Region: "us-east-1"})
		if err != nil {
			t.Fatalf("OpenURI(%q): %v", uri, err)
		}
		if root != st.RootURI() || key != okey {
			t.Errorf("SplitURI(%q) = %q %q, want OpenURI's root %q key %q", uri, root, key, st.RootURI(), okey)
		}
		_ = st.Close()
	}
	for _, bad := range []string{"relative/path.mp4", "s3://my-bucket", "s3://my-bucket/", "/"} {
		if _, _, err := archive.SplitURI(bad); err == nil {
			t.Errorf("SplitURI(%q) succeeded, want an error", bad)
		}
	}
}
