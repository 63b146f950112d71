package archive_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// TestDirStore runs the store suite on a DirStore rooted at <tmp>/root.
func TestDirStore(t *testing.T) {
	t.Parallel()
	archivetest.Run(t, func(t *testing.T) archivetest.Fixture {
		parent := t.TempDir()
		st, err := archive.NewDirStore(filepath.Join(parent, "root"))
		if err != nil {
			t.Fatalf("NewDirStore: %v", err)
		}
		path := func(key string) string { return filepath.Join(st.Root(), filepath.FromSlash(key)) }
		return archivetest.Fixture{
			Store: st,
			Area:  "root/",
			List:  func(t *testing.T) []string { return files(t, parent) },
			Write: func(t *testing.T, key string, data []byte) {
				t.Helper()
				// In place, as another program would (keeping any extended attribute).
				if err := os.WriteFile(path(key), data, 0o666); err != nil {
					t.Fatal(err)
				}
			},
			Remove: func(t *testing.T, key string) {
				t.Helper()
				if err := os.Remove(path(key)); err != nil {
					t.Fatal(err)
				}
			},
			StatKnowsSHA256:        true,
			RefusesOtherConference: true,
		}
	})
}

func newDir(t *testing.T) (*archive.DirStore, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "archive")
	st, err := archive.NewDirStore(root)
	if err != nil {
		t.Fatalf("NewDirStore: %v", err)
	}
	return st, st.Root()
}

// files lists every file (not folder) under dir, relative and slash-separated.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func putBytes(t *testing.T, st archive.Store, key string, data []byte, want archive.Expect) archive.Object {
	t.Helper()
	want.Size, want.PlatformSize, want.PlatformSHA256 = int64(len(data)), int64(len(data)), sha256Hex(data)
	obj, err := st.Put(context.Background(), key, bytes.NewReader(data), want)
	if err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	return obj
}

// TestDirSymlinkOutOfRoot: a symlink inside the root that leads out of it is
// never followed, for writing or reading.
func TestDirSymlinkOutOfRoot(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := archive.NewDirStore(filepath.Join(parent, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(st.Root(), "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"escape/x", "escape/secret", "escape/deeper/x"} {
		t.Run(key, func(t *testing.T) {
			if _, err := st.Put(ctx, key, strings.NewReader("pwned"), unknown()); !errors.Is(err, archive.ErrInvalidKey) {
				t.Errorf("Put err = %v, want ErrInvalidKey", err)
			}
			if _, err := st.Stat(ctx, key); key == "escape/secret" && !errors.Is(err, archive.ErrInvalidKey) {
				t.Errorf("Stat err = %v, want ErrInvalidKey", err)
			}
			if _, err := st.Open(ctx, key); key == "escape/secret" && !errors.Is(err, archive.ErrInvalidKey) {
				t.Errorf("Open err = %v, want ErrInvalidKey", err)
			}
		})
	}
	if got, want := files(t, parent), []string{"archive/escape", "outside/secret"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if data, _ := os.ReadFile(filepath.Join(outside, "secret")); string(data) != "outside" {
		t.Errorf("file outside the root changed: %q", data)
	}
}

// TestDirPreflightRootReplaced: the root replaced by a file after opening.
func TestDirPreflightRootReplaced(t *testing.T) {
	t.Parallel()
	gone := filepath.Join(t.TempDir(), "gone")
	st, err := archive.NewDirStore(gone)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gone, []byte("now a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = st.Preflight(context.Background())
	if !errors.Is(err, archive.ErrPreflight) || !strings.Contains(err.Error(), gone) {
		t.Errorf("Preflight = %v, want ErrPreflight naming %s", err, gone)
	}
	if _, err := archive.NewDirStore(gone); err == nil {
		t.Errorf("NewDirStore(a file) succeeded, want an error")
	}
}

// TestDirArchivedModTime: a file rewritten after its sidecar, even with its
// size and attributes kept, is not archived.
func TestDirArchivedModTime(t *testing.T) {
	t.Parallel()
	st, root := newDir(t)
	ctx := context.Background()
	const conf = "c0ffee00-0000-4000-8000-0000000000aa"
	obj := putBytes(t, st, "2024/05/"+conf+"/Hd_0_1.mp4", []byte("recording"), archive.Expect{})
	sc := archive.Sidecar{ConfUUID: conf, ArchivedAt: time.Now(), Files: []archive.SidecarFile{archive.SidecarFileFrom("Hd", "0_1.mp4", obj)}}
	if err := archive.PutSidecar(ctx, st, sc); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := archive.Archived(ctx, st, conf); !ok || err != nil {
		t.Fatalf("Archived = %v, %v; want true", ok, err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(obj.Key)), later, later); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := archive.Archived(ctx, st, conf); ok || err != nil {
		t.Errorf("Archived(file modified after the sidecar) = %v, %v; want false", ok, err)
	}
}

// TestDirKeyTaken: who may replace a file (the suite covers another
// conference and the same one).
func TestDirKeyTaken(t *testing.T) {
	t.Parallel()
	const a, b = "c0ffee00-0000-4000-8000-00000000000a", "c0ffee00-0000-4000-8000-00000000000b"
	conf := func(uuid string) archive.Expect {
		w := unknown()
		if uuid != "" {
			w.Metadata = map[string]string{"confuuid": uuid}
		}
		return w
	}
	tests := []struct {
		name    string
		first   func(t *testing.T, st *archive.DirStore, p string) // what is at the key before
		want    archive.Expect
		wantErr error
	}{
		{"another conference", func(t *testing.T, st *archive.DirStore, p string) { putBytes(t, st, "k/f.mp4", []byte("A"), conf(a)) }, conf(b), archive.ErrKeyTaken},
		{"same conference in upper case", func(t *testing.T, st *archive.DirStore, p string) { putBytes(t, st, "k/f.mp4", []byte("A"), conf(a)) }, conf(strings.ToUpper(a)), nil},
		{"no conference given", func(t *testing.T, st *archive.DirStore, p string) { putBytes(t, st, "k/f.mp4", []byte("A"), conf(a)) }, conf(""), nil},
		{"file of no conference", func(t *testing.T, st *archive.DirStore, p string) {
			putBytes(t, st, "k/f.mp4", []byte("A"), archive.Expect{})
		}, conf(b), nil},
		{"file written by another tool", func(t *testing.T, st *archive.DirStore, p string) {
			if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("A"), 0o666); err != nil {
				t.Fatal(err)
			}
		}, conf(b), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, root := newDir(t)
			p := filepath.Join(root, "k", "f.mp4")
			tc.first(t, st, p)
			_, err := st.Put(context.Background(), "k/f.mp4", strings.NewReader("B"), tc.want)
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("Put err = %v, want %v", err, tc.wantErr)
			}
			want := "B"
			if tc.wantErr != nil {
				want = "A"
			}
			if got, _ := os.ReadFile(p); string(got) != want {
				t.Errorf("file holds %q, want %q", got, want)
			}
		})
	}
}

// racingReader runs during, once its stream has been read to its end.
type racingReader struct {
	r      io.Reader
	during func()
}

func (rr *racingReader) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err == io.EOF && rr.during != nil {
		rr.during()
		rr.during = nil
	}
	return n, err
}

// TestDirKeyTakenWhileStreaming: another conference's file that appears while
// a Put streams is not replaced either (the check is repeated before the
// rename), and the refused stream leaves no temporary file.
func TestDirKeyTakenWhileStreaming(t *testing.T) {
	t.Parallel()
	st, root := newDir(t)
	const a, b = "c0ffee00-0000-4000-8000-00000000000a", "c0ffee00-0000-4000-8000-00000000000b"
	src := &racingReader{r: strings.NewReader("B's recording"), during: func() {
		putBytes(t, st, "k/f.mp4", []byte("A's recording"), archive.Expect{Metadata: map[string]string{"confuuid": a}})
	}}
	_, err := st.Put(context.Background(), "k/f.mp4", src, archive.Expect{Size: archive.Unknown, PlatformSize: archive.Unknown,
		Metadata: map[string]string{"confuuid": b}})
	if !errors.Is(err, archive.ErrKeyTaken) {
		t.Fatalf("Put err = %v, want ErrKeyTaken", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "k", "f.mp4")); string(got) != "A's recording" {
		t.Errorf("file holds %q, want A's recording", got)
	}
	if got, want := files(t, root), []string{"k/f.mp4"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
}

// TestDirModesFromUmask: files come out 0666 and folders 0777 less the
// umask. Not parallel: the umask belongs to the whole process.
func TestDirModesFromUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	st, err := archive.NewDirStore(filepath.Join(t.TempDir(), "new", "root"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	obj := putBytes(t, st, "2024/05/conf/Hd_0_1.mp4", []byte("private"), archive.Expect{})
	if err := archive.PutSidecar(ctx, st, archive.Sidecar{ConfUUID: "c0ffee00-0000-4000-8000-000000000001"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Preflight(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want fs.FileMode
	}{
		{"root", st.Root(), 0o700},
		{"object folder", filepath.Dir(obj.URI), 0o700},
		{"year folder", filepath.Join(st.Root(), "2024"), 0o700},
		{"object", obj.URI, 0o600},
		{"sidecar folder", filepath.Join(st.Root(), archive.SidecarDir), 0o700},
		{"sidecar", filepath.Join(st.Root(), archive.SidecarDir, "c0ffee00-0000-4000-8000-000000000001.json"), 0o600},
	}
	for _, tc := range tests {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("%s %s: mode %o, want %o", tc.name, tc.path, got, tc.want)
		}
	}
	syscall.Umask(0o022)
	obj = putBytes(t, st, "2024/06/conf/Hd_0_1.mp4", []byte("shared"), archive.Expect{})
	for path, want := range map[string]fs.FileMode{obj.URI: 0o644, filepath.Dir(obj.URI): 0o755} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("under umask 022: %s mode %o, want %o", path, got, want)
		}
	}
}
