package archive_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
)

func newDir(t *testing.T) (*archive.DirStore, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "archive")
	st, err := archive.NewDirStore(root)
	if err != nil {
		t.Fatalf("NewDirStore: %v", err)
	}
	return st, st.Root()
}

// tree lists every file and directory under dir (relative, sorted).
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func noTempFiles(t *testing.T, root string) {
	t.Helper()
	for _, p := range tree(t, root) {
		if strings.Contains(p, ".partial") || strings.Contains(p, ".preflight") {
			t.Errorf("temporary file left: %s", p)
		}
	}
}

func TestDirPut(t *testing.T) {
	t.Parallel()
	st, root := newDir(t)
	ctx := context.Background()
	tests := []struct {
		name string
		size int64
		want func(sum string, size int64) archive.Expect
	}{
		{"empty", 0, func(sum string, size int64) archive.Expect { return known(size, sum) }},
		{"all known", 3*mib + 1, func(sum string, size int64) archive.Expect { return known(size, sum) }},
		{"nothing known", 70_000, func(string, int64) archive.Expect { return unknown() }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(300 + i)
			sum := genSHA256(t, seed, tc.size)
			key := "2024/05/conf/" + strings.ReplaceAll(tc.name, " ", "_") + ".mp4"
			obj, err := st.Put(ctx, key, newGen(seed, tc.size), tc.want(sum, tc.size))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			wantPath := filepath.Join(root, filepath.FromSlash(key))
			if obj.URI != wantPath || obj.Key != key || obj.Bytes != tc.size || obj.SHA256 != sum {
				t.Errorf("Put = %+v, want URI %s, %d bytes, sha256 %s", obj, wantPath, tc.size, sum)
			}
			data, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatal(err)
			}
			if got := sha256Hex(data); got != sum {
				t.Errorf("file sha256 = %s, want %s", got, sum)
			}
			stat, err := st.Stat(ctx, key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if stat.Bytes != tc.size || (stat.SHA256 != "" && stat.SHA256 != sum) {
				t.Errorf("Stat = %+v, want %d bytes, sha256 %s or none", stat, tc.size, sum)
			}
			rc, err := st.Open(ctx, key)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got, n := readAllHash(t, rc); got != sum || n != tc.size {
				t.Errorf("Open read %d bytes %s, want %d %s", n, got, tc.size, sum)
			}
		})
	}
	noTempFiles(t, root)
}

func TestDirPutFailuresCommitNothing(t *testing.T) {
	t.Parallel()
	st, root := newDir(t)
	const size = 2*mib + 5
	const seed = 7
	sum := genSHA256(t, seed, size)
	// An earlier good version at one of the keys must survive a failed rewrite.
	good := putBytes(t, st, "conf/existing.mp4", []byte("the good archived copy"))

	tests := []struct {
		name    string
		key     string
		r       func(cancel context.CancelFunc) io.Reader
		want    archive.Expect
		wantErr error
	}{
		{"flipped byte", "conf/flipped.mp4", func(context.CancelFunc) io.Reader { return &flipReader{r: newGen(seed, size), at: 12345} }, known(size, sum), archive.ErrIntegrity},
		{"flipped byte over an existing file", "conf/existing.mp4", func(context.CancelFunc) io.Reader { return &flipReader{r: newGen(seed, size), at: size - 1} }, known(size, sum), archive.ErrIntegrity},
		{"short vs Content-Length", "conf/short.mp4", func(context.CancelFunc) io.Reader { return newGen(seed, size-1) }, func() archive.Expect { w := unknown(); w.Size = size; return w }(), archive.ErrIntegrity},
		{"long vs platform size", "conf/long.mp4", func(context.CancelFunc) io.Reader { return newGen(seed, size+1) }, func() archive.Expect { w := unknown(); w.PlatformSize = size; return w }(), archive.ErrIntegrity},
		{"bad platform sha256", "conf/badsum.mp4", func(context.CancelFunc) io.Reader { return newGen(seed, size) }, known(size, "xyz"), archive.ErrIntegrity},
		{"read error", "conf/readerr.mp4", func(context.CancelFunc) io.Reader { return &failReader{r: newGen(seed, size), n: mib, err: errSource} }, known(size, sum), errSource},
		{"cancelled", "conf/cancelled.mp4", func(cancel context.CancelFunc) io.Reader {
			return &cancelReader{r: newGen(seed, size), n: mib, cancel: cancel}
		}, known(size, sum), context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			obj, err := st.Put(ctx, tc.key, tc.r(cancel), tc.want)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Put err = %v, want %v", err, tc.wantErr)
			}
			if obj != (archive.Object{}) {
				t.Errorf("Put returned %+v with an error", obj)
			}
			if tc.key == good.Key {
				data, err := os.ReadFile(good.URI)
				if err != nil || string(data) != "the good archived copy" {
					t.Errorf("existing file after failed rewrite = %q, %v; want it untouched", data, err)
				}
			} else if _, err := st.Stat(context.Background(), tc.key); !errors.Is(err, archive.ErrNotExist) {
				t.Errorf("Stat after failed Put err = %v, want ErrNotExist", err)
			}
		})
	}
	noTempFiles(t, root)
	if got, want := tree(t, root), []string{"conf", "conf/existing.mp4"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("tree after failed puts = %v, want %v", got, want)
	}
}

func TestDirHostileKeysStayInsideRoot(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	root := filepath.Join(parent, "archive")
	outside := filepath.Join(parent, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := archive.NewDirStore(root)
	if err != nil {
		t.Fatal(err)
	}
	// A symlink inside the root that points out of it.
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range hostileSubjects {
		t.Run(tc.name, func(t *testing.T) {
			key := hostileKey(t, tc.subject)
			data := []byte(tc.name)
			obj, err := st.Put(ctx, key, bytes.NewReader(data), known(int64(len(data)), sha256Hex(data)))
			if err != nil {
				t.Fatalf("Put(%q): %v", key, err)
			}
			if !strings.HasPrefix(obj.URI, st.Root()+string(filepath.Separator)) {
				t.Errorf("URI %s outside root %s", obj.URI, st.Root())
			}
			if got, err := os.ReadFile(obj.URI); err != nil || string(got) != tc.name {
				t.Errorf("file at %s = %q, %v", obj.URI, got, err)
			}
		})
	}
	raw := append([]string{"escape/x", "escape/secret", "escape/deeper/x"}, rawHostileKeys...)
	for _, key := range raw {
		if _, err := st.Put(ctx, key, strings.NewReader("pwned"), unknown()); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("Put(raw %q) err = %v, want ErrInvalidKey", key, err)
		}
	}
	if _, err := st.Open(ctx, "escape/secret"); !errors.Is(err, archive.ErrInvalidKey) {
		t.Errorf("Open(through symlink out of root) err = %v, want ErrInvalidKey", err)
	}
	if _, err := st.Stat(ctx, "escape/secret"); !errors.Is(err, archive.ErrInvalidKey) {
		t.Errorf("Stat(through symlink out of root) err = %v, want ErrInvalidKey", err)
	}
	if got := tree(t, outside); strings.Join(got, ",") != "secret" {
		t.Errorf("outside the root: %v, want only the pre-existing secret", got)
	}
	if got := tree(t, parent); len(got) == 0 {
		t.Fatal("empty parent")
	} else {
		for _, p := range got {
			if !strings.HasPrefix(p, "archive") && !strings.HasPrefix(p, "outside") {
				t.Errorf("written next to the root: %s", p)
			}
		}
	}
	if data, _ := os.ReadFile(filepath.Join(outside, "secret")); string(data) != "outside" {
		t.Errorf("file outside the root changed: %q", data)
	}
	noTempFiles(t, root)
}

func TestDirSidecarAndArchived(t *testing.T) {
	t.Parallel()
	st, root := newDir(t)
	testSidecarAndArchived(t, st, func(key string, data []byte) {
		// In place, as another program would (keeps any extended attribute).
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(key)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}, func(key string) {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(key))); err != nil {
			t.Fatal(err)
		}
	})
	noTempFiles(t, root)
}

func TestDirVerify(t *testing.T) {
	t.Parallel()
	st, root := newDir(t)
	testVerify(t, st, func(key string, data []byte) {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(key)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}, func(key string) {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(key))); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDirPreflight(t *testing.T) {
	t.Parallel()
	st, root := newDir(t)
	if err := st.Preflight(context.Background()); err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	noTempFiles(t, root)
	// The root vanished after opening: preflight names it and wraps ErrPreflight.
	gone := filepath.Join(t.TempDir(), "gone")
	st2, err := archive.NewDirStore(gone)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gone, []byte("now a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = st2.Preflight(context.Background())
	if !errors.Is(err, archive.ErrPreflight) || !strings.Contains(err.Error(), gone) {
		t.Errorf("Preflight(root replaced by a file) = %v, want ErrPreflight naming %s", err, gone)
	}
	if _, err := archive.NewDirStore(gone); err == nil {
		t.Errorf("NewDirStore(a file) succeeded, want an error")
	}
}

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
	obj := putBytes(t, st, "2024/05/conf/Hd_0_1.mp4", []byte("recorded"))

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

// TestDirArchivedIgnoresOldTimes: files written before the sidecar count even
// when the clock says they are old; a file rewritten later does not.
func TestDirArchivedModTime(t *testing.T) {
	t.Parallel()
	st, root := newDir(t)
	ctx := context.Background()
	sc := archiveConference(t, st, "c0ffee00-0000-4000-8000-0000000000aa")
	if _, ok, err := st.Archived(ctx, sc.ConfUUID); !ok || err != nil {
		t.Fatalf("Archived = %v, %v; want true", ok, err)
	}
	p := filepath.Join(root, filepath.FromSlash(sc.Files[0].Key))
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.Archived(ctx, sc.ConfUUID); ok || err != nil {
		t.Errorf("Archived(file modified after the sidecar) = %v, %v; want false", ok, err)
	}
}
