//go:build unix

package archive

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDirStoreSweepsStaleTemporaryFiles: the first write into a directory
// removes the temporary files a killed writer left there (our names,
// older than the store, no live writer's flock) and nothing else.
func TestDirStoreSweepsStaleTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "2024", "05", "conf")
	other := filepath.Join(root, "2024", "05", "other")
	for _, d := range []string{dir, other} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	files := []struct {
		dir, name string
		old       bool // mtime before the store opened
		held      bool // a live writer holds its flock
		swept     bool // want it removed
	}{
		{dir, ".meetarchive-0123456789abcdef.partial", true, false, true},
		{dir, ".meetarchive-fedcba9876543210.partial", true, true, false},   // a live writer
		{dir, ".meetarchive-00112233445566ff.partial", false, false, false}, // newer than the store
		{dir, ".meetarchive-xyz.partial", true, false, false},               // not our name
		{dir, "recording.partial", true, false, false},
		{dir, "Hd_0_0.mp4", true, false, false},
		{other, ".meetarchive-0123456789abcdef.partial", true, false, false}, // a directory not written into
	}
	var holds []func()
	defer func() {
		for _, h := range holds {
			h()
		}
	}()
	for _, f := range files {
		p := filepath.Join(f.dir, f.name)
		if err := os.WriteFile(p, []byte("half a recording"), 0o666); err != nil {
			t.Fatal(err)
		}
		if f.old {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		if f.held {
			holds = append(holds, holdTemp(p))
		}
	}
	d, err := NewDirStore(root)
	if err != nil {
		t.Fatal(err)
	}
	// A file newer than the store: written after it opened.
	d.opened = time.Now().Add(-time.Minute)
	if _, err := d.Put(context.Background(), "2024/05/conf/Hd_0_1.mp4", strings.NewReader("bytes"), Expect{Size: 5, PlatformSize: -1}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(f.dir, f.name)
		_, err := os.Stat(p)
		if gone := os.IsNotExist(err); gone != f.swept {
			t.Errorf("%s: removed %v, want %v", strings.TrimPrefix(p, root), gone, f.swept)
		}
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Contains(names, "Hd_0_1.mp4") {
		t.Errorf("the Put's own file is missing: %v", names)
	}
}
