package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// readSidecar reads a directory destination's sidecar of confUUID.
func readSidecar(t *testing.T, dest, confUUID string) archive.Sidecar {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dest, archive.SidecarDir, confUUID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var sc archive.Sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

// readEvidenceAnswer reads the first answer of a stored evidence document
// into v.
func readEvidenceAnswer(t *testing.T, dest, key string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(key)))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pages []struct {
			Answer json.RawMessage `json:"answer"`
		} `json:"pages"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Pages) == 0 {
		t.Fatalf("%s: %v (%d pages)", key, err, len(doc.Pages))
	}
	if err := json.Unmarshal(doc.Pages[0].Answer, v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}

// TestUpdatedEvidenceRenewed: a conference archived with its evidence
// (record info links) gains a third file; the next date-range run archives
// it (updated) and stores the evidence that changed anew, beside the old:
// evidence_details.v2.json with the platform's rcdSize now and
// evidence_recordinfo.v2.json listing three files, in the manifest (after
// the conference's recordings, the updated one included), in
// sha256sums.txt and in the sidecar (superseding the earlier objects,
// which keep their content). verify re-hashes them all; a bag carries
// them.
func TestUpdatedEvidenceRenewed(t *testing.T) {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	a := updConf(1, day.Add(11*time.Hour), 0)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: meetingtest.Dataset{Conferences: []meetingtest.Conference{a}}, Seed: 20, RecordInfo: true, HistoryRetention: -1})
	dir := t.TempDir()
	dest := filepath.Join(dir, "archive")
	run := func(out string) {
		t.Helper()
		res := runBin(t, simEnv(sim), "run", "--dest", dest, "--out", out, "--links", "recordinfo", "--evidence", "--from", "2024-05-01", "--to", "2024-05-01")
		if res.code != 0 {
			t.Fatalf("%s: exit %d\n%s", filepath.Base(out), res.code, res.stderr)
		}
	}
	run(filepath.Join(dir, "out1"))
	before := readSidecar(t, dest, a.ConfUUID)
	if err := sim.AddFile(a.ConfUUID, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "0_2.mp4", Size: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out2")
	run(out)

	rows := readManifest(t, out)
	var order []string
	byKey := map[string]map[string]string{}
	for _, r := range rows {
		order = append(order, r["fileType"]+"/"+r["fileName"]+"="+r["status"])
		byKey[r["objectKey"]] = r
	}
	firstEvidence := slices.IndexFunc(rows, func(r map[string]string) bool { return r["fileType"] == report.FileTypeEvidence })
	lastRecording := -1
	for i, r := range rows {
		if r["fileType"] != report.FileTypeEvidence {
			lastRecording = i
		}
	}
	if firstEvidence < 0 || lastRecording > firstEvidence {
		t.Errorf("manifest order %v: want every recording row (the updated one too) before the evidence rows", order)
	}

	after := readSidecar(t, dest, a.ConfUUID)
	old := map[string]archive.SidecarFile{}
	for _, f := range before.Files {
		if f.FileType == report.FileTypeEvidence {
			old[f.Name] = f
		}
	}
	sums := readSums(t, out)
	renewed := map[string]archive.SidecarFile{}
	for _, f := range after.Files[len(before.Files):] {
		if f.FileType == report.FileTypeEvidence {
			renewed[f.Name] = f
		}
	}
	tests := []struct {
		name  string
		check func(f archive.SidecarFile) string // what is wrong with the new object's content
	}{
		{"details.json", func(f archive.SidecarFile) string {
			var d struct {
				RcdSize int `json:"rcdSize"`
			}
			readEvidenceAnswer(t, dest, f.Key, &d)
			if d.RcdSize != 3 {
				return fmt.Sprintf("rcdSize %d, want the platform's 3 now", d.RcdSize)
			}
			return ""
		}},
		{"recordinfo.json", func(f archive.SidecarFile) string {
			var files []map[string]any
			readEvidenceAnswer(t, dest, f.Key, &files)
			if len(files) != 3 {
				return fmt.Sprintf("lists %d files, want 3", len(files))
			}
			return ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev, ok := old[tc.name]
			if !ok {
				t.Fatalf("the first run stored no evidence %s", tc.name)
			}
			f, ok := renewed[tc.name]
			if !ok {
				t.Fatalf("the update stored no new evidence %s; the rows: %v", tc.name, order)
			}
			ext := filepath.Ext(prev.Key)
			if want := strings.TrimSuffix(prev.Key, ext) + ".v2" + ext; f.Key != want || f.Supersedes != prev.Key {
				t.Errorf("sidecar: at %s superseding %q, want %s superseding %s", f.Key, f.Supersedes, want, prev.Key)
			}
			if msg := tc.check(f); msg != "" {
				t.Errorf("%s: %s", f.Key, msg)
			}
			if got := fileSHA256(t, filepath.Join(dest, filepath.FromSlash(prev.Key))); got != prev.SHA256 {
				t.Errorf("the earlier %s changed: sha256 %s, archived %s", prev.Key, got, prev.SHA256)
			}
			if r := byKey[f.Key]; r["status"] != string(report.Archived) || r["sha256"] != f.SHA256 || sums[f.Key] != f.SHA256 {
				t.Errorf("manifest row %v, sha256sums.txt %q; want archived with sha256 %s in both", r, sums[f.Key], f.SHA256)
			}
			if r := byKey[prev.Key]; r["status"] != string(report.AlreadyArchived) {
				t.Errorf("the earlier %s: row %v, want already-archived", prev.Key, r)
			}
		})
	}
	if res := runBin(t, nil, "verify", "--manifest", filepath.Join(out, report.ManifestCSV), "--dest", dest); res.code != 0 {
		t.Errorf("verify: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	bag := filepath.Join(dir, "bag")
	if res := runBin(t, nil, "bag", "--manifest", filepath.Join(out, report.ManifestCSV), "--dest", dest, "--out", bag, "--quiet"); res.code != 0 {
		t.Fatalf("bag: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, f := range renewed {
		if _, err := os.Stat(filepath.Join(bag, "data", filepath.FromSlash(f.Key))); err != nil {
			t.Errorf("bag: %v", err)
		}
	}
}

// TestUpdatedTimeZoneNotLocal: --time-zone takes an IANA name; "Local"
// (this machine's zone, whatever it is) and an empty value are usage
// errors naming the flag, from the command line or its environment twin,
// and nothing is done; UTC is a zone like any other.
func TestUpdatedTimeZoneNotLocal(t *testing.T) {
	c := updConf(8, time.Date(2024, 5, 31, 22, 30, 0, 0, time.UTC), 0)
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
	}{
		{name: "Local", args: []string{"--time-zone", "Local"}, wantCode: 2},
		{name: "empty", args: []string{"--time-zone", ""}, wantCode: 2},
		{name: "Local from the environment", env: map[string]string{"MEETARCHIVE_TIME_ZONE": "Local"}, wantCode: 2},
		{name: "UTC", args: []string{"--time-zone", "UTC"}, wantCode: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: meetingtest.Dataset{Conferences: []meetingtest.Conference{c}}, Seed: 22})
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			env := simEnv(sim)
			for k, v := range tc.env {
				env[k] = v
			}
			args := append([]string{"run", "--input", writeInput(t, dir, c.ConfUUID), "--dest", filepath.Join(dir, "archive"), "--out", out}, tc.args...)
			res := runBin(t, env, args...)
			if res.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.wantCode, res.stderr)
			}
			if tc.wantCode != 0 {
				if !strings.Contains(res.stderr, "--time-zone") {
					t.Errorf("stderr does not name --time-zone:\n%s", res.stderr)
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("--out was created: a usage error does nothing")
				}
				if n := len(sim.Served()); n != 0 {
					t.Errorf("%d files downloaded: a usage error does nothing", n)
				}
				return
			}
			if s := readSummary(t, out); s["timeZone"] != "UTC" {
				t.Errorf("summary.json timeZone %v, want UTC", s["timeZone"])
			}
			for _, r := range readManifest(t, out) {
				if r["startTimeLocal"] != "2024-05-31 22:30" {
					t.Errorf("%s: startTimeLocal %q, want 2024-05-31 22:30", r["fileName"], r["startTimeLocal"])
				}
			}
		})
	}
}

// TestSimulateLateFile: `meetarchive simulate --late-file` gives a
// conference a file after the first run archived it: that run archives
// the conference's two files; the next date-range run (its listed rcdSize
// grew by the third file's 1 MiB) archives the third (updated) and keeps
// the first two. A bad --late-file exits 2 naming it.
func TestSimulateLateFile(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 1, FilesPerConference: 2, FileSize: 1 << 10, Seed: 1,
		Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	conf := ds.Conferences[0].ConfUUID
	addr := startSimulate(t, "--conferences", "1", "--files-per-conference", "2", "--file-size", "1KiB",
		"--late-file", conf+":Hd/late_0.mp4:1048576", "--sim-app-key", testAppKey, "--app-id", testAppID)
	env := map[string]string{"MEETARCHIVE_API": "http://" + addr, "MEETARCHIVE_APP_ID": testAppID, "MEETARCHIVE_APP_KEY": testAppKey,
		"MEETARCHIVE_RATE": "500", "MEETARCHIVE_EVIDENCE": "false"}
	dir := t.TempDir()
	dest := filepath.Join(dir, "archive")
	run := func(out string) []string {
		t.Helper()
		res := runBin(t, env, "run", "--dest", dest, "--out", out, "--links", "downloadurls", "--from", "2024-01-01", "--to", "2024-01-01")
		if res.code != 0 {
			t.Fatalf("%s: exit %d\n%s", filepath.Base(out), res.code, res.stderr)
		}
		var got []string
		for _, r := range readManifest(t, out) {
			got = append(got, r["fileType"]+"/"+r["fileName"]+"="+r["status"]+":"+r["bytes"])
		}
		slices.Sort(got)
		return got
	}
	var first, second []string
	for _, f := range ds.Conferences[0].Files {
		first = append(first, fmt.Sprintf("%s/%s=archived:%d", f.FileType, f.Name, f.Size))
		second = append(second, fmt.Sprintf("%s/%s=already-archived:%d", f.FileType, f.Name, f.Size))
	}
	second = append(second, "Hd/late_0.mp4=updated:1048576")
	slices.Sort(first)
	slices.Sort(second)
	if got := run(filepath.Join(dir, "out1")); !slices.Equal(got, first) {
		t.Errorf("first run: got %v, want %v", got, first)
	}
	if got := run(filepath.Join(dir, "out2")); !slices.Equal(got, second) {
		t.Errorf("second run: got %v, want %v", got, second)
	}

	for _, bad := range []string{conf + ":Vid/x.mp4", "0bda00000000000000000000000000ff:Hd/x.mp4", conf + ":Hd", conf + ":Hd/x.mp4:big"} {
		if res := runBin(t, nil, "simulate", "--addr", "127.0.0.1:0", "--conferences", "1", "--late-file", bad); res.code != 2 || !strings.Contains(res.stderr, "late") {
			t.Errorf("simulate --late-file %s: exit %d, %q; want 2 naming it", bad, res.code, res.stderr)
		}
	}
}
