package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// updConf is a conference of two 1 MiB files starting at start. rcdSize
// 0 lets the simulator compute it from the files (it grows with a file);
// any other value stays as given.
func updConf(i int, start time.Time, rcdSize int) meetingtest.Conference {
	return meetingtest.Conference{
		ConfUUID: fmt.Sprintf("0bda%028x", i), ConfID: fmt.Sprintf("8%08d", i), Subject: fmt.Sprintf("Review %d", i),
		ScheduserName: "Ada", StartTime: start.Format(meetingtest.StartTimeLayout), RcdTime: 900,
		IsDecodeFinish: true, Available: true, DecodeEndTime: start.Add(time.Hour).UnixMilli(), RcdSize: rcdSize,
		Files: []meetingtest.File{
			{FileType: meetingtest.FileTypeHd, Name: "0_0.mp4", Size: 1 << 20},
			{FileType: meetingtest.FileTypeHd, Name: "0_1.mp4", Size: 1 << 20},
		},
	}
}

// servedSince is the files the simulator served in full after the first
// `from` responses, as "confUUID type/name", sorted.
func servedSince(sim *meetingtest.Server, from int) []string {
	var out []string
	for _, s := range sim.Served()[from:] {
		out = append(out, s.ConfUUID+" "+s.FileType+"/"+s.Name)
	}
	slices.Sort(out)
	return out
}

// rowStatuses is a run's rows as "confUUID type/name status", sorted.
func rowStatuses(t *testing.T, out string) []string {
	t.Helper()
	var got []string
	for _, r := range readManifest(t, out) {
		got = append(got, r["confUUID"]+" "+r["fileType"]+"/"+r["fileName"]+" "+r["status"])
	}
	slices.Sort(got)
	return got
}

// TestUpdatedFilesAddedLater: a conference given a third file after it was
// archived. The next run that looks (a date range, whose listed rcdSize
// grew; --recheck on an input run; a --since-last run whose overlap lists
// it, even with rcdSize unchanged) archives the third file only (status
// updated, exit 0, counted in summary.json, listed in sha256sums.txt); the
// first two are not downloaded again. An input run without --recheck does
// not notice.
func TestUpdatedFilesAddedLater(t *testing.T) {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		rcdSize     int // 0: grows with the file
		args        func(input string) []string
		env         func(run int) map[string]string
		wantUpdated bool
	}{
		{
			name:        "date range, rcdSize grew",
			args:        func(string) []string { return []string{"--from", "2024-05-01", "--to", "2024-05-01"} },
			wantUpdated: true,
		},
		{
			name:        "input run with --recheck",
			rcdSize:     2,
			args:        func(in string) []string { return []string{"--input", in, "--recheck"} },
			wantUpdated: true,
		},
		{
			name:    "input run without --recheck",
			rcdSize: 2,
			args:    func(in string) []string { return []string{"--input", in} },
		},
		{
			name:    "since-last overlap, rcdSize unchanged",
			rcdSize: 2,
			args:    func(string) []string { return []string{"--since-last", "--from", "2024-05-01"} },
			env: func(run int) map[string]string {
				// Window 1 ends at 12:30; window 2 starts 2 h before that.
				now := day.Add(13 * time.Hour)
				if run == 2 {
					now = day.Add(14 * time.Hour)
				}
				return map[string]string{"MEETARCHIVE_TEST_NOW": now.Format(time.RFC3339)}
			},
			wantUpdated: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := updConf(1, day.Add(11*time.Hour), tc.rcdSize), updConf(2, day.Add(11*time.Hour+30*time.Minute), tc.rcdSize)
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: meetingtest.Dataset{Conferences: []meetingtest.Conference{a, b}}, Seed: 20})
			dir := t.TempDir()
			dest := filepath.Join(dir, "archive")
			input := writeInput(t, dir, "confUUID", a.ConfUUID, b.ConfUUID)
			run := func(n int) (result, string) {
				t.Helper()
				out := filepath.Join(dir, fmt.Sprintf("out%d", n))
				env := simEnv(sim)
				if tc.env != nil {
					for k, v := range tc.env(n) {
						env[k] = v
					}
				}
				return runBin(t, env, append([]string{"run", "--dest", dest, "--out", out, "--links", "downloadurls"}, tc.args(input)...)...), out
			}
			if res, _ := run(1); res.code != 0 {
				t.Fatalf("run 1: exit %d\n%s", res.code, res.stderr)
			}
			if err := sim.AddFile(a.ConfUUID, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "0_2.mp4", Size: 1 << 20}); err != nil {
				t.Fatal(err)
			}
			served := len(sim.Served())
			res, out := run(2)
			if res.code != 0 {
				t.Fatalf("run 2: exit %d, want 0\n%s", res.code, res.stderr)
			}
			want := []string{
				a.ConfUUID + " Hd/0_0.mp4 already-archived", a.ConfUUID + " Hd/0_1.mp4 already-archived",
				b.ConfUUID + " Hd/0_0.mp4 already-archived", b.ConfUUID + " Hd/0_1.mp4 already-archived",
			}
			var wantServed []string
			wantCounts := map[string]float64{"updated": 0, "already-archived": 2}
			if tc.wantUpdated {
				want = append(want, a.ConfUUID+" Hd/0_2.mp4 updated")
				wantServed = []string{a.ConfUUID + " Hd/0_2.mp4"}
				wantCounts = map[string]float64{"updated": 1, "already-archived": 1}
			}
			slices.Sort(want)
			if got := rowStatuses(t, out); !slices.Equal(got, want) {
				t.Errorf("run 2 rows:\n got %v\nwant %v", got, want)
			}
			if got := servedSince(sim, served); !slices.Equal(got, wantServed) {
				t.Errorf("run 2 downloaded %v, want %v (the archived files never again)", got, wantServed)
			}
			counts, _ := readSummary(t, out)["counts"].(map[string]any)
			for st, n := range wantCounts {
				if counts[st] != n {
					t.Errorf("summary.json counts[%s] = %v, want %v", st, counts[st], n)
				}
			}
			sums, err := os.ReadFile(filepath.Join(out, report.SHA256Sums))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Count(string(sums), "\n"), 4+len(wantServed); got != want {
				t.Errorf("sha256sums.txt has %d lines, want %d:\n%s", got, want, sums)
			}
			if !tc.wantUpdated {
				return
			}
			newSum := sim.FileSHA256(a.ConfUUID, "Hd", "0_2.mp4")
			if !strings.Contains(string(sums), newSum+"  ") {
				t.Errorf("sha256sums.txt lacks the new file's %s:\n%s", newSum, sums)
			}
			// The sidecar now lists the three files: verify re-reads them
			// all, and a bag holds them with the sidecar.
			if res := runBin(t, nil, "verify", "--manifest", filepath.Join(out, report.ManifestCSV), "--dest", dest); res.code != 0 {
				t.Errorf("verify: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			bag := filepath.Join(dir, "bag")
			if res := runBin(t, nil, "bag", "--manifest", filepath.Join(out, report.ManifestCSV), "--dest", dest, "--out", bag, "--quiet"); res.code != 0 {
				t.Fatalf("bag: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			for _, r := range readManifest(t, out) {
				if r["confUUID"] != a.ConfUUID {
					continue
				}
				if _, err := os.Stat(filepath.Join(bag, "data", filepath.FromSlash(r["objectKey"]))); err != nil {
					t.Errorf("bag: %s: %v", r["objectKey"], err)
				}
			}
		})
	}
}

// TestUpdatedRecheckUsage: --recheck with --force is a usage error.
func TestUpdatedRecheckUsage(t *testing.T) {
	dir := t.TempDir()
	in := writeInput(t, dir, "confUUID", "0bda0000000000000000000000000001")
	res := runBin(t, map[string]string{"MEETARCHIVE_API": "http://127.0.0.1:1", "MEETARCHIVE_TOKEN": "x"},
		"run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "o"), "--recheck", "--force")
	if res.code != 2 || !strings.Contains(res.stderr, "--recheck") {
		t.Errorf("exit %d, want 2 naming --recheck:\n%s", res.code, res.stderr)
	}
}

// TestUpdatedTimeZone: --time-zone renders the key template's Local
// fields and the startTimeLocal column on that zone's wall clock (22:30
// UTC on 31 May is 00:30 on 1 June in Berlin), keeps startTime and the
// default template's keys as they were, and says so in summary.json; the
// environment twin works; an unknown zone is a usage error (exit 2).
func TestUpdatedTimeZone(t *testing.T) {
	c := updConf(7, time.Date(2024, 5, 31, 22, 30, 0, 0, time.UTC), 0)
	const localTemplate = "{{.LocalYear}}/{{.LocalMonth}}/{{.LocalDay}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}"
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantKey   string // of Hd/0_0.mp4
		wantLocal string
		wantZone  string
	}{
		{name: "no zone, default template", wantKey: "2024/05/" + c.ConfUUID + "/Hd_0_0.mp4"},
		{name: "Berlin, default template: same keys", args: []string{"--time-zone", "Europe/Berlin"},
			wantKey: "2024/05/" + c.ConfUUID + "/Hd_0_0.mp4", wantLocal: "2024-06-01 00:30", wantZone: "Europe/Berlin"},
		{name: "Berlin, local template", args: []string{"--time-zone", "Europe/Berlin", "--key-template", localTemplate},
			wantKey: "2024/06/01/" + c.ConfUUID + "/Hd_0_0.mp4", wantLocal: "2024-06-01 00:30", wantZone: "Europe/Berlin"},
		{name: "environment twin", args: []string{"--key-template", localTemplate}, env: map[string]string{"MEETARCHIVE_TIME_ZONE": "America/New_York"},
			wantKey: "2024/05/31/" + c.ConfUUID + "/Hd_0_0.mp4", wantLocal: "2024-05-31 18:30", wantZone: "America/New_York"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: meetingtest.Dataset{Conferences: []meetingtest.Conference{c}}, Seed: 21})
			dir := t.TempDir()
			dest, out := filepath.Join(dir, "archive"), filepath.Join(dir, "out")
			env := simEnv(sim)
			for k, v := range tc.env {
				env[k] = v
			}
			args := append([]string{"run", "--input", writeInput(t, dir, c.ConfUUID), "--dest", dest, "--out", out}, tc.args...)
			if res := runBin(t, env, args...); res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			if _, err := os.Stat(filepath.Join(dest, filepath.FromSlash(tc.wantKey))); err != nil {
				t.Errorf("object at %s: %v", tc.wantKey, err)
			}
			for _, r := range readManifest(t, out) {
				if r["startTime"] != "2024-05-31 22:30" || r["startTimeLocal"] != tc.wantLocal {
					t.Errorf("%s: startTime %q startTimeLocal %q; want 2024-05-31 22:30 and %q", r["fileName"], r["startTime"], r["startTimeLocal"], tc.wantLocal)
				}
			}
			s := readSummary(t, out)
			if s["platformTimes"] != "UTC" || (s["timeZone"] != nil || tc.wantZone != "") && s["timeZone"] != tc.wantZone {
				t.Errorf("summary.json platformTimes %v timeZone %v; want UTC and %q", s["platformTimes"], s["timeZone"], tc.wantZone)
			}
		})
	}
	t.Run("unknown zone", func(t *testing.T) {
		dir := t.TempDir()
		res := runBin(t, map[string]string{"MEETARCHIVE_API": "http://127.0.0.1:1", "MEETARCHIVE_TOKEN": "x"},
			"run", "--input", writeInput(t, dir, c.ConfUUID), "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "o"), "--time-zone", "Europe/Atlantis")
		if res.code != 2 || !strings.Contains(res.stderr, "--time-zone") || !strings.Contains(res.stderr, "Europe/Atlantis") {
			t.Errorf("exit %d, want 2 naming --time-zone and the zone:\n%s", res.code, res.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
			t.Errorf("--out was created: a usage error does nothing")
		}
	})
}
