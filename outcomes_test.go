package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// TestAnswersAreCheckedNotTrusted: an answer about another conference, one
// without a required field, a malformed one, link pages that never end, a
// conference the platform does not know: each is a loud failure with its
// own code (exit 1), never archived, never a quiet "unavailable". An upper
// case answer, or an upper case input UUID, is the same conference.
func TestAnswersAreCheckedNotTrusted(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 4<<10, 103)
	u := ds.UUIDs()
	tests := []struct {
		name       string
		fault      meetingtest.Fault
		record     bool   // record info links
		input      string // the input line; default u[0]
		wantStatus string
		wantCode   string
		wantRetry  bool // in failures.csv
		wantExit   int
	}{
		{"another conference's answer", meetingtest.Fault{Endpoint: "details", Kind: "otherconf"}, false, "", "failed", "response-mismatch", true, 1},
		{"links of another conference", meetingtest.Fault{Endpoint: "downloadurls", Kind: "otherconf"}, false, "", "failed", "response-mismatch", true, 1},
		{"no confUUID in the answer", meetingtest.Fault{Endpoint: "details", Kind: "noconf"}, false, "", "failed", "bad-response", true, 1},
		{"no available field", meetingtest.Fault{Endpoint: "details", Kind: "noavailable"}, false, "", "failed", "bad-response", true, 1},
		{"no isDecodeFinish field", meetingtest.Fault{Endpoint: "details", Kind: "nodecode"}, false, "", "failed", "bad-response", true, 1},
		{"negative rcdSize", meetingtest.Fault{Endpoint: "details", Kind: "negsize"}, false, "", "failed", "bad-response", true, 1},
		{"platform sha256 not 64 hex", meetingtest.Fault{Endpoint: "recordinfo", Kind: "badsha"}, true, "", "failed", "bad-response", true, 1},
		{"endless link pages", meetingtest.Fault{Endpoint: "downloadurls", Kind: "endless"}, false, "", "failed", "too-many-pages", true, 1},
		{"upper case answer is the same conference", meetingtest.Fault{Endpoint: "details", Kind: "upperconf"}, false, "", "archived", "", false, 0},
		{"upper case input is normalised", meetingtest.Fault{}, false, strings.ToUpper(u[0]), "archived", "", false, 0},
		{"unknown conference", meetingtest.Fault{}, false, "00000000000000000000000000000000", "not-found", "not-found", false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := meetingtest.Config{Dataset: ds, Seed: 103, RecordInfo: tc.record}
			if tc.fault.Kind != "" {
				tc.fault.ConfUUID = u[0]
				cfg.Faults = []meetingtest.Fault{tc.fault}
			}
			sim := meetingtest.Start(t, cfg)
			dir := t.TempDir()
			input := tc.input
			if input == "" {
				input = u[0]
			}
			links := "downloadurls"
			if tc.record {
				links = "recordinfo"
			}
			out, dest := filepath.Join(dir, "r"), filepath.Join(dir, "a")
			in := writeInput(t, dir, input)
			res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out, "--links", links)
			if res.code != tc.wantExit {
				t.Errorf("exit %d, want %d\n%s", res.code, tc.wantExit, res.stderr)
			}
			rows := readManifest(t, out)
			if len(rows) == 0 {
				t.Fatal("no rows")
			}
			for _, r := range rows {
				if r["status"] != tc.wantStatus || r["errorCode"] != tc.wantCode {
					t.Errorf("row %s/%s: %s %s %q; want %s %s", r["fileType"], r["fileName"], r["status"], r["errorCode"], r["errorMessage"], tc.wantStatus, tc.wantCode)
				}
				if tc.wantStatus != "archived" && r["objectURI"] != "" {
					t.Errorf("a %s row names an object: %s", r["status"], r["objectURI"])
				}
			}
			retry := readCSV(t, filepath.Join(out, report.FailuresCSV))
			if (len(retry) > 0) != tc.wantRetry {
				t.Errorf("failures.csv has %d rows, want retry=%v", len(retry), tc.wantRetry)
			}
			if tc.wantStatus != "archived" {
				if m, _ := filepath.Glob(filepath.Join(dest, "_meetarchive", "*.json")); len(m) > 0 {
					t.Errorf("sidecars written for a failed conference: %v", m)
				}
				return
			}
			// The conference is committed under the input's UUID: a rerun finds it.
			media := sim.Counters().Media
			res = runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", filepath.Join(dir, "r2"), "--links", links)
			if res.code != 0 {
				t.Fatalf("rerun: exit %d\n%s", res.code, res.stderr)
			}
			for _, r := range readManifest(t, filepath.Join(dir, "r2")) {
				if r["status"] != "already-archived" {
					t.Errorf("rerun: %s, want already-archived", r["status"])
				}
			}
			if sim.Counters().Media != media {
				t.Error("rerun downloaded again")
			}
		})
	}
}

// TestKeyTemplateCollisionsFailLoudly: on the sample data, a key template
// without the file type makes files of one conference collide: that
// conference fails with key-collision (exit 1), no row claims an object
// another row claims, and verify finds every archived object intact.
func TestKeyTemplateCollisionsFailLoudly(t *testing.T) {
	ds := meetingtest.SampleDataset()
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true})
	dir := t.TempDir()
	out := filepath.Join(dir, "r")
	res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"), "--out", out,
		"--key-template", "{{.ConfUUID}}/{{.FileName}}")
	if res.code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	collided, uris := 0, map[string]bool{}
	for _, r := range readManifest(t, out) {
		if r["errorCode"] == "key-collision" {
			collided++
			if !strings.Contains(r["errorMessage"], "0_0.mp4") {
				t.Errorf("collision message does not name the files: %s", r["errorMessage"])
			}
		}
		if u := r["objectURI"]; u != "" {
			if uris[u] {
				t.Errorf("two rows claim %s", u)
			}
			uris[u] = true
		}
	}
	if collided == 0 {
		t.Error("no key-collision row")
	}
	if res := runBin(t, nil, "verify", "--manifest", filepath.Join(out, report.ManifestCSV)); res.code != 0 {
		t.Errorf("verify: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// TestStoppedConferenceShowsItsStoredObjects: a conference stopped part-way
// (SIGTERM with no grace) has a row for each object it stored, with its
// objectURI, size and SHA-256 and the code uncommitted; a rerun finishes
// it without downloading those files again.
func TestStoppedConferenceShowsItsStoredObjects(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 4, 512<<10, 107)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 107, MediaRate: 2 << 20}) // ~0.25 s a file
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	out, dest := filepath.Join(dir, "r"), filepath.Join(dir, "a")
	cmd, stderr := startBin(t, simEnv(sim), func() bool { return len(sim.Served()) >= 2 },
		"run", "--input", in, "--dest", dest, "--out", out, "--grace", "0s")
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, stderr.String())
	}
	stored := 0
	for _, r := range readManifest(t, out) {
		if r["errorCode"] != "uncommitted" {
			continue
		}
		stored++
		if r["status"] != "cancelled" || r["objectURI"] == "" || r["sha256"] == "" || r["bytes"] == "0" {
			t.Errorf("uncommitted row without its object: %v", r)
		} else if got := fileSHA256(t, r["objectURI"]); got != r["sha256"] {
			t.Errorf("%s: file sha256 %s, row %s", r["objectURI"], got, r["sha256"])
		}
	}
	if stored == 0 {
		t.Fatalf("no uncommitted row for the files stored before the signal\n%s", stderr.String())
	}
	served := len(sim.Served())
	res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", filepath.Join(dir, "r2"))
	if res.code != 0 {
		t.Fatalf("rerun: exit %d\n%s", res.code, res.stderr)
	}
	if again := len(sim.Served()) - served; again > 4-stored {
		t.Errorf("rerun downloaded %d files; %d of 4 were stored already", again, stored)
	}
}

// TestSigkillMidConferenceRerunFetchesOnlyTheRest: a run killed (SIGKILL)
// after some files of a multi-file conference are stored: the rerun
// downloads only the rest and commits the conference.
func TestSigkillMidConferenceRerunFetchesOnlyTheRest(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 4, 512<<10, 113)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 113, MediaRate: 2 << 20}) // ~0.25 s a file
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	dest := filepath.Join(dir, "a")
	cmd, _ := startBin(t, simEnv(sim), func() bool { return len(sim.Served()) >= 2 },
		"run", "--input", in, "--dest", dest, "--out", filepath.Join(dir, "r"))
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	stored := len(sim.Served()) // files sent whole before the kill (at most one more was in flight)
	before := sim.MediaBytesServed()
	res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", filepath.Join(dir, "r2"))
	if res.code != 0 {
		t.Fatalf("rerun: exit %d\n%s", res.code, res.stderr)
	}
	for _, r := range readManifest(t, filepath.Join(dir, "r2")) {
		if r["status"] != "archived" {
			t.Errorf("rerun: %s/%s is %s", r["fileType"], r["fileName"], r["status"])
		}
	}
	again := sim.MediaBytesServed() - before
	if max := int64(4-stored+1) * (512 << 10); again > max {
		t.Errorf("rerun downloaded %d bytes; %d of 4 files were stored whole before the kill, so at most %d were missing", again, stored, max)
	}
	t.Logf("%d of 4 files stored before the kill; the rerun downloaded %d bytes", stored, again)
}

// TestExitCodeOfEachStatus: exit 0 only when every input line ends
// archived, already-archived, pending-transcode, unavailable, no-files or
// duplicate-input; an invalid-input or not-found line makes it 1 (as a
// failed one does: TestExitCodes).
func TestExitCodeOfEachStatus(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 4, FilesPerConference: 1, FileSize: 2 << 10,
		Pending: 1, Unavailable: 1, NoFiles: 1, Seed: 117})
	byStatus := map[string]string{}
	for _, c := range ds.Conferences {
		switch {
		case !c.IsDecodeFinish:
			byStatus["pending-transcode"] = c.ConfUUID
		case !c.Available:
			byStatus["unavailable"] = c.ConfUUID
		case len(c.Files) == 0:
			byStatus["no-files"] = c.ConfUUID
		default:
			byStatus["archived"] = c.ConfUUID
		}
	}
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 117})
	tests := []struct {
		status string
		lines  []string
		want   int
	}{
		{"archived", []string{byStatus["archived"]}, 0},
		{"pending-transcode", []string{byStatus["pending-transcode"]}, 0},
		{"unavailable", []string{byStatus["unavailable"]}, 0},
		{"no-files", []string{byStatus["no-files"]}, 0},
		{"duplicate-input", []string{byStatus["unavailable"], byStatus["unavailable"]}, 0},
		{"invalid-input", []string{byStatus["unavailable"], "not-a-uuid"}, 1},
		{"not-found", []string{"0123456789abcdef0123456789abcdef"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.status, func(t *testing.T) {
			dir := t.TempDir()
			res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, tc.lines...), "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r"))
			if res.code != tc.want {
				t.Errorf("exit %d, want %d\n%s", res.code, tc.want, res.stderr)
			}
			seen := false
			for _, r := range readManifest(t, filepath.Join(dir, "r")) {
				seen = seen || r["status"] == tc.status
			}
			if !seen {
				t.Errorf("no %s row", tc.status)
			}
		})
	}
}
