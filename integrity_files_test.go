package main

// Issue 18, defect 1: every file the platform lists is a row of its own, and
// an `archived` row's object holds that file's bytes; a file whose identity
// cannot be established fails the conference, never a silent skip or a
// rename onto another file.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// oneConference is a ready conference with these files (Hd unless the
// name says otherwise).
func oneConference(uuid string, names ...string) meetingtest.Dataset {
	c := meetingtest.Conference{
		ConfUUID: uuid, ConfID: "900100", Subject: "files", ScheduserName: "tester",
		StartTime: "2024-03-01 09:00", RcdTime: 60, IsDecodeFinish: true, Available: true,
	}
	for i, n := range names {
		c.Files = append(c.Files, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: n, Size: int64(20<<10 + i*1000)})
	}
	return meetingtest.Dataset{Conferences: []meetingtest.Conference{c}}
}

func TestEveryListedFileIsARow(t *testing.T) {
	const uuid = "0123456789abcdef0123456789abcdef"
	three := []string{"0_0.mp4", "0_1.mp4", "0_2.mp4"}
	cases := []struct {
		name      string
		files     []string
		mediaURLs string
		links     string
		wantCode  string // "" = every file archived
		pageCap   int    // LinksMaxLimit
		fault     string // an answer fault on the links endpoint
	}{
		{"query-only differences, record info", three, meetingtest.MediaURLsQuery, "recordinfo", "", 0, ""},
		{"query-only differences, downloadurls", three, meetingtest.MediaURLsQuery, "downloadurls", "", 0, ""},
		{"opaque links, record info", three, meetingtest.MediaURLsOpaque, "recordinfo", "ambiguous-files", 0, ""},
		{"opaque links, downloadurls", three, meetingtest.MediaURLsOpaque, "downloadurls", "ambiguous-files", 0, ""},
		{"names differing by case and ~N, record info", []string{"a.mp4", "A.mp4", "a~1.mp4"}, meetingtest.MediaURLsPath, "recordinfo", "key-collision", 0, ""},
		{"names differing by case and ~N, downloadurls", []string{"a.mp4", "A.mp4", "a~1.mp4"}, meetingtest.MediaURLsPath, "downloadurls", "key-collision", 0, ""},
		{"plain paths", three, meetingtest.MediaURLsPath, "downloadurls", "", 0, ""},
		{"a gateway that serves 20 links a page", manyNames(25), meetingtest.MediaURLsPath, "downloadurls", "", 20, ""},
		{"a gateway that serves 10 links a page", manyNames(25), meetingtest.MediaURLsPath, "downloadurls", "", 10, ""},
		{"a gateway that serves 3 links a page", manyNames(7), meetingtest.MediaURLsPath, "downloadurls", "", 3, ""},
		{"every link twice, downloadurls", three, meetingtest.MediaURLsQuery, "downloadurls", "", 0, meetingtest.FaultRepeat},
		{"every link twice, record info", three, meetingtest.MediaURLsQuery, "recordinfo", "", 0, meetingtest.FaultRepeat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ds := oneConference(uuid, tc.files...)
			cfg := meetingtest.Config{Dataset: ds, Seed: 5, MediaURLs: tc.mediaURLs, RecordInfo: true, LinksMaxLimit: tc.pageCap}
			if tc.fault != "" {
				cfg.Faults = []meetingtest.Fault{{Endpoint: tc.links, Kind: tc.fault}}
			}
			sim := meetingtest.Start(t, cfg)
			dir := t.TempDir()
			in := writeInput(t, dir, uuid)
			out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "archive")
			res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out, "--links", tc.links)
			rows := readManifest(t, out)
			wantRows := len(tc.files)
			if tc.wantCode == "ambiguous-files" {
				wantRows = 1 // the links are refused: one row for the conference
			}
			if len(rows) != wantRows {
				t.Fatalf("%d rows, want %d: %v\nstderr:\n%s", len(rows), wantRows, rows, res.stderr)
			}
			if tc.wantCode != "" {
				if res.code != 1 {
					t.Errorf("exit %d, want 1\n%s", res.code, res.stderr)
				}
				for _, r := range rows {
					if r["status"] != "failed" || r["errorCode"] != tc.wantCode {
						t.Errorf("row %s: status %q code %q, want failed %q (%s)", r["fileName"], r["status"], r["errorCode"], tc.wantCode, r["errorMessage"])
					}
				}
				if sc := filepath.Join(dest, "_meetarchive", uuid+".json"); fileExists(sc) {
					t.Errorf("a failed conference has a commit sidecar %s", sc)
				}
				return
			}
			if res.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
			}
			objects := map[string]bool{}
			names := map[string]bool{}
			for _, r := range rows {
				if r["status"] != "archived" {
					t.Errorf("row %s: status %q, want archived (%s %s)", r["fileName"], r["status"], r["errorCode"], r["errorMessage"])
					continue
				}
				if objects[r["objectURI"]] {
					t.Errorf("two rows point at %s", r["objectURI"])
				}
				objects[r["objectURI"]] = true
				names[r["fileName"]] = true
				want := sim.FileSHA256(uuid, meetingtest.FileTypeHd, r["fileName"])
				if got := fileSHA256(t, r["objectURI"]); got != want || r["sha256"] != want {
					t.Errorf("%s: object sha256 %s, row %s; the simulator's file %q is %s", r["objectURI"], got, r["sha256"], r["fileName"], want)
				}
			}
			for _, n := range tc.files {
				if !names[n] {
					t.Errorf("file %q has no archived row", n)
				}
			}
		})
	}
}

// manyNames is n segment names, 0_0.mp4 to 0_<n-1>.mp4.
func manyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("0_%d.mp4", i)
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestRerunReprovesStoredBytes: a stored recording
// whose bytes changed after it was archived is not vouched for on the
// strength of the SHA-256 kept beside it: the rerun reads the bytes, finds
// the change and downloads the file again, and sha256sums.txt lists only
// hashes the objects have.
func TestRerunReprovesStoredBytes(t *testing.T) {
	type variant struct {
		links     string
		keepMtime bool // the flip puts the file's modification time back
	}
	for _, v := range []variant{{"recordinfo", false}, {"downloadurls", false}, {"recordinfo", true}, {"downloadurls", true}} {
		links := v.links
		t.Run(fmt.Sprintf("%s/keep-mtime=%v", links, v.keepMtime), func(t *testing.T) {
			ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 3, FilesPerConference: 2, FileSize: 64 << 10, Seed: 11,
				Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 11, RecordInfo: true})
			dir := t.TempDir()
			in := writeInput(t, dir, ds.UUIDs()...)
			dest := filepath.Join(dir, "archive")
			args := func(out string) []string {
				return []string{"run", "--input", in, "--dest", dest, "--out", filepath.Join(dir, out), "--links", links}
			}
			if res := runBin(t, simEnv(sim), args("r1")...); res.code != 0 {
				t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
			}
			rows := readManifest(t, filepath.Join(dir, "r1"))
			first := map[string]string{} // objectURI -> SHA-256 the first run stored and checked
			for _, r := range rows {
				first[r["objectURI"]] = r["sha256"]
			}
			victim := rows[0]["objectURI"]
			fi, err := os.Stat(victim)
			if err != nil {
				t.Fatal(err)
			}
			flipByte(t, victim, 100)
			if v.keepMtime {
				if err := os.Chtimes(victim, fi.ModTime(), fi.ModTime()); err != nil {
					t.Fatal(err)
				}
			}

			before := sim.Counters().Media
			res := runBin(t, simEnv(sim), args("r2")...)
			if res.code != 0 {
				t.Fatalf("rerun: exit %d\n%s", res.code, res.stderr)
			}
			if got := sim.Counters().Media - before; got != 1 {
				t.Errorf("rerun fetched %d media files, want 1 (the altered one)", got)
			}
			for _, r := range readManifest(t, filepath.Join(dir, "r2")) {
				got := fileSHA256(t, r["objectURI"])
				if want := first[r["objectURI"]]; got != want || r["sha256"] != want {
					t.Errorf("%s (%s): object %s, row %s, first run %s", r["objectURI"], r["status"], got, r["sha256"], want)
				}
				if r["objectURI"] == victim && r["status"] != "archived" {
					t.Errorf("the altered object's row is %q, want archived (downloaded again)", r["status"])
				}
			}
			checkSums(t, filepath.Join(dir, "r2", "sha256sums.txt"), dest)
		})
	}
}

// flipByte changes one byte of a file in place.
func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

// checkSums checks every line of a sha256sums.txt against the files under
// root, as `sha256sum -c` run from root would.
func checkSums(t *testing.T, sums, root string) {
	t.Helper()
	b, err := os.ReadFile(sums)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatalf("%s is empty", sums)
	}
	for _, l := range lines {
		sum, p, ok := strings.Cut(l, "  ")
		if !ok {
			t.Errorf("%s: malformed line %q", sums, l)
			continue
		}
		if got := fileSHA256(t, filepath.Join(root, p)); got != sum {
			t.Errorf("%s lists %s for %s; the object's SHA-256 is %s", sums, sum, p, got)
		}
	}
}

// TestMistypedDestIsRefused: a --dest that looks like a mistyped URI is a
// usage error (exit 2) before anything is fetched or deleted; it used to
// become a directory named "s3:" in the working directory, and with
// --delete-after-archive the recordings were deleted from the platform.
func TestMistypedDestIsRefused(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 1, FilesPerConference: 1, FileSize: 4 << 10, Seed: 21,
		Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 21})
	for _, dest := range []string{"s3:/archive-bucket/meetings", " s3://archive-bucket/m", "gs://bucket/p", "https://s3.amazonaws.com/bucket", "file:///tmp/x"} {
		t.Run(dest, func(t *testing.T) {
			dir := t.TempDir()
			in := writeInput(t, dir, ds.UUIDs()...)
			cmd, _, stderr := binCommand(simEnv(sim), "run", "--input", in, "--dest", dest, "--out", filepath.Join(dir, "r"),
				"--delete-after-archive", "--confirm-delete")
			cmd.Dir = dir
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != 2 || !strings.Contains(stderr.String(), "--dest") {
				t.Errorf("exit %d, want 2 naming --dest\n%s", code, stderr.String())
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "input.csv" {
					t.Errorf("the refused run left %s in the working directory", e.Name())
				}
			}
		})
	}
	if c := sim.Counters(); c.Delete != 0 || c.Media != 0 {
		t.Errorf("%d deletions and %d downloads from refused runs", c.Delete, c.Media)
	}
}

// TestLinksAndSpecialFilesInOut (found by a tester): a hard link planted
// as the --out lock is refused (its other name is not overwritten), and a
// --metrics-file that is a FIFO or a device is refused rather than
// replaced by a regular file.
func TestLinksAndSpecialFilesInOut(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 1, 4<<10, 188)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 188})
	const precious = "precious bytes, not meetarchive's\n"
	t.Run("hard-linked lock", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "report")
		target := filepath.Join(dir, "precious.txt")
		if err := os.WriteFile(target, []byte(precious), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(out, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(target, filepath.Join(out, report.LockFile)); err != nil {
			t.Skipf("no hard links here: %v", err)
		}
		res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"), "--out", out)
		if res.code != report.ExitUsage || !strings.Contains(res.stderr, "hard link") {
			t.Errorf("exit %d, want %d naming the hard link\n%s", res.code, report.ExitUsage, res.stderr)
		}
		if b, _ := os.ReadFile(target); string(b) != precious {
			t.Errorf("the other name now holds %q", b)
		}
	})
	t.Run("metrics file is a FIFO", func(t *testing.T) {
		dir := t.TempDir()
		fifo := filepath.Join(dir, "metrics.fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"),
			"--out", filepath.Join(dir, "r"), "--metrics-file", fifo)
		if res.code != report.ExitUsage || !strings.Contains(res.stderr, "not a regular file") {
			t.Errorf("exit %d, want %d: not a regular file\n%s", res.code, report.ExitUsage, res.stderr)
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced: %v %v", st.Mode(), err)
		}
	})
}
