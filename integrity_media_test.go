package main

// Issue 18, media hosts a little off the happy path, on the built binary
// against the simulator: a body that stalls or trickles, bodies without a
// Content-Length (chunked, close-delimited, whole or cut), and a size absurd
// against the recording's rcdSize.

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
)

// runBinWithin is runBin with a safety net: a run still going after limit
// is killed and the test fails (a hang is the defect these tests guard
// against). It returns how long the run took.
func runBinWithin(t *testing.T, limit time.Duration, env map[string]string, args ...string) (result, time.Duration) {
	t.Helper()
	cmd, stdout, stderr := binCommand(env, args...)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		took := time.Since(began)
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		return result{code: code, stdout: stdout.String(), stderr: stderr.String()}, took
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v: still running after %v, killed\nstderr:\n%s", args, limit, stderr.String())
	}
	return result{}, 0
}

// mediaObjects lists the files under a directory destination that are not
// the tool's own (sidecars, state, partial uploads).
func mediaObjects(t *testing.T, dest string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "_meetarchive" {
			return filepath.SkipDir
		}
		if !d.IsDir() && !strings.HasSuffix(p, ".partial") && !strings.Contains(d.Name(), ".meetarchive-tmp") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func oneFileDataset(size, seed int64) meetingtest.Dataset {
	return meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 1, FilesPerConference: 1, FileSize: size, Seed: seed,
		Start: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)})
}

// TestStalledMediaEnds: a media host that sends 10 bytes and then nothing
// (or trickles a byte every 300 ms) does not hang the run. With
// --stall-timeout 1s --max-elapsed 3s the body is dropped, resumed (and
// dropped again) until the budget is spent; the file fails with errorCode
// "stalled", the run exits 1, and nothing is stored.
func TestStalledMediaEnds(t *testing.T) {
	const stall, budget = time.Second, 3 * time.Second
	tests := []struct {
		name, links, fault string
	}{
		{"silent, downloadurls", "downloadurls", "media:stall:at=10"},
		{"silent, record info", "recordinfo", "media:stall:at=10"},
		{"trickle, downloadurls", "downloadurls", "media:stall:at=10:latency=300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := oneFileDataset(300<<10, 51)
			f, err := meetingtest.ParseFault(tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 51, RecordInfo: true, Faults: []meetingtest.Fault{f}})
			dir := t.TempDir()
			in := writeInput(t, dir, ds.UUIDs()...)
			out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "archive")
			res, took := runBinWithin(t, 2*time.Minute, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out,
				"--links", tt.links, "--stall-timeout", stall.String(), "--max-elapsed", budget.String())
			t.Logf("the run ended after %v (stall timeout %v, elapsed budget %v)", took.Round(time.Millisecond), stall, budget)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\nstderr:\n%s", res.code, res.stderr)
			}
			rows := readManifest(t, out)
			if len(rows) != 1 || rows[0]["status"] != "failed" || rows[0]["errorCode"] != "stalled" {
				t.Fatalf("rows %v, want one failed row with errorCode stalled", rows)
			}
			if h := rows[0]["hint"]; !strings.Contains(h, "--stall-timeout") {
				t.Errorf("hint %q does not name --stall-timeout", h)
			}
			if objs := mediaObjects(t, dest); len(objs) != 0 {
				t.Errorf("the destination holds %v, want nothing", objs)
			}
			if c := sim.Counters(); c.Media < 2 {
				t.Errorf("%d media requests, want the stalled body resumed at least once", c.Media)
			}
		})
	}
}

// TestLengthlessMedia: a body without Content-Length.
// A chunked one that ends with its terminating chunk, or any whose size and
// SHA-256 match the platform's (record info), is archived with the file's
// bytes; a close-delimited one with nothing to check it against
// (downloadurls) fails with "unverifiable-length"; a cut one is never
// archived, with retries or with --max-attempts 1; cut once, it is resumed
// from the byte reached and archived whole.
func TestLengthlessMedia(t *testing.T) {
	type want struct{ status, code string }
	archived, unverifiable := want{"archived", ""}, want{"failed", "unverifiable-length"}
	truncated := want{"failed", "truncated"}
	tests := []struct {
		fault    string
		byLinks  map[string]want
		attempts []string // --max-attempts values to try
	}{
		{"media:chunked", map[string]want{"recordinfo": archived, "downloadurls": archived}, []string{"3", "1"}},
		{"media:close", map[string]want{"recordinfo": archived, "downloadurls": unverifiable}, []string{"3", "1"}},
		{"media:chunked:at=1000", map[string]want{"recordinfo": truncated, "downloadurls": truncated}, []string{"2", "1"}},
		{"media:close:at=1000", map[string]want{"recordinfo": truncated, "downloadurls": unverifiable}, []string{"2", "1"}},
		{"media:chunked:at=1000:times=1", map[string]want{"recordinfo": archived, "downloadurls": archived}, []string{"3"}},
		{"media:close:at=1000:times=1", map[string]want{"recordinfo": archived, "downloadurls": unverifiable}, []string{"3"}},
	}
	for _, tt := range tests {
		for _, links := range []string{"recordinfo", "downloadurls"} {
			for _, attempts := range tt.attempts {
				w := tt.byLinks[links]
				t.Run(tt.fault+"/"+links+"/max-attempts="+attempts, func(t *testing.T) {
					ds := oneFileDataset(300<<10, 61)
					f, err := meetingtest.ParseFault(tt.fault)
					if err != nil {
						t.Fatal(err)
					}
					sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 61, RecordInfo: true, Faults: []meetingtest.Fault{f}})
					dir := t.TempDir()
					in := writeInput(t, dir, ds.UUIDs()...)
					out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "archive")
					res, _ := runBinWithin(t, 2*time.Minute, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out,
						"--links", links, "--max-attempts", attempts, "--max-elapsed", "2s")
					rows := readManifest(t, out)
					if len(rows) != 1 {
						t.Fatalf("%d rows, want 1: %v", len(rows), rows)
					}
					r := rows[0]
					if r["status"] != w.status || r["errorCode"] != w.code {
						t.Fatalf("status %q, errorCode %q (%s); want %q, %q\nstderr:\n%s", r["status"], r["errorCode"], r["errorMessage"], w.status, w.code, res.stderr)
					}
					wantExit := 1
					if w.status == "archived" {
						wantExit = 0
					}
					if res.code != wantExit {
						t.Errorf("exit %d, want %d", res.code, wantExit)
					}
					objs := mediaObjects(t, dest)
					if w.status != "archived" {
						if len(objs) != 0 {
							t.Errorf("the destination holds %v, want nothing", objs)
						}
						return
					}
					c := ds.Conferences[0]
					fileType := c.Files[0].FileType
					if links == "recordinfo" {
						fileType = meetingtest.RecordType(fileType)
					}
					wantSum := sim.FileSHA256(c.ConfUUID, c.Files[0].FileType, c.Files[0].Name)
					if r["sha256"] != wantSum || r["bytes"] != "307200" || r["fileType"] != fileType {
						t.Errorf("row sha256 %s, %s bytes, type %s; want the file's %s, 307200, %s", r["sha256"], r["bytes"], r["fileType"], wantSum, fileType)
					}
					if len(objs) != 1 || fileSHA256(t, objs[0]) != wantSum {
						t.Errorf("the destination holds %v, want one object with the file's bytes", objs)
					}
				})
			}
		}
	}
}

// TestSizeAgainstRcdSize: files whose bytes are
// absurd against the recording's rcdSize (10 B for 500 MB, 9 MiB for 1 MB)
// are archived (rcdSize is a rounded estimate: only record info's exact size
// and SHA-256 can fail a file) with a warning in the log and a note in
// errorMessage; with --delete-after-archive the recording is not deleted
// (not-deleted). Sizes that fit get no note.
func TestSizeAgainstRcdSize(t *testing.T) {
	tests := []struct {
		name     string
		rcdSize  int
		size     int64
		extra    []string
		wantNote string // "" = none
		wantCode string
		deleted  bool
	}{
		{"10 B for 500 MB", 500, 10, nil, "less than 1/8 of the recording's rcdSize (500 MB)", "", false},
		{"9 MiB for 1 MB", 1, 9 << 20, nil, "more than 4 times the recording's rcdSize (1 MB)", "", false},
		{"3 MiB for 3 MB", 3, 3 << 20, nil, "", "", false},
		{"10 B for 500 MB is not deleted", 500, 10, []string{"--delete-after-archive", "--confirm-delete"},
			"less than 1/8 of the recording's rcdSize", "not-deleted", false},
		{"3 MiB for 3 MB is deleted", 3, 3 << 20, []string{"--delete-after-archive", "--confirm-delete"}, "", "", true},
		{"10 B for 500 MB of one file type only", 500, 10, []string{"--file-types", "Hd"}, "", "", false},
	}
	for _, tt := range tests {
		for _, links := range []string{"recordinfo", "downloadurls"} {
			t.Run(tt.name+"/"+links, func(t *testing.T) {
				ds := oneFileDataset(tt.size, 71)
				ds.Conferences[0].RcdSize = tt.rcdSize
				ds.Conferences[0].Files[0].FileType = meetingtest.FileTypeHd
				extra := tt.extra
				if links == "recordinfo" && len(extra) > 0 && extra[0] == "--file-types" {
					extra = []string{"--file-types", meetingtest.RecordType(meetingtest.FileTypeHd)}
				}
				sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 71, RecordInfo: true})
				dir := t.TempDir()
				in := writeInput(t, dir, ds.UUIDs()...)
				out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "archive")
				env := simEnv(sim)
				delete(env, "MEETARCHIVE_QUIET")
				res := runBin(t, env, append([]string{"run", "--input", in, "--dest", dest, "--out", out, "--links", links}, extra...)...)
				rows := readManifest(t, out)
				if len(rows) != 1 || rows[0]["status"] != "archived" {
					t.Fatalf("rows %v, want one archived row\nstderr:\n%s", rows, res.stderr)
				}
				r := rows[0]
				if res.code != 0 {
					t.Errorf("exit %d, want 0 (archived)", res.code)
				}
				msg, warned := r["errorMessage"], strings.Contains(res.stderr, "rcdSize")
				switch {
				case tt.wantNote == "" && (msg != "" || warned):
					t.Errorf("errorMessage %q (log warns: %v), want no note", msg, warned)
				case tt.wantNote != "" && (!strings.Contains(msg, tt.wantNote) || !warned):
					t.Errorf("errorMessage %q (log warns: %v), want a note saying %q and a warning", msg, warned, tt.wantNote)
				}
				if r["errorCode"] != tt.wantCode {
					t.Errorf("errorCode %q, want %q", r["errorCode"], tt.wantCode)
				}
				if got := sim.Counters().Deleted; (got == 1) != tt.deleted {
					t.Errorf("%d recordings deleted from the platform, want deleted %v", got, tt.deleted)
				}
			})
		}
	}
}

// TestStallTimeoutFlag: --stall-timeout and its environment twin refuse a
// value that is not positive (exit 2, naming it).
func TestStallTimeoutFlag(t *testing.T) {
	dir := t.TempDir()
	in := writeInput(t, dir, "00000000000000000000000000000001")
	env := map[string]string{"MEETARCHIVE_APP_ID": testAppID, "MEETARCHIVE_APP_KEY": testAppKey}
	args := []string{"run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r")}
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"zero", append(args, "--stall-timeout", "0s"), "", "--stall-timeout"},
		{"negative", append(args, "--stall-timeout", "-1s"), "", "--stall-timeout"},
		{"env twin", args, "0s", "--stall-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			if tt.env != "" {
				e["MEETARCHIVE_STALL_TIMEOUT"] = tt.env
			}
			res := runBin(t, e, tt.args...)
			if res.code != 2 || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 naming %s", res.code, res.stderr, tt.want)
			}
		})
	}
}
