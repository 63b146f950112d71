package main

// End-to-end tests of run --since-last on the built binary: recordings that
// appear over simulated days, transcode for more than a day or are listed
// late, a day without a run and a killed run; two runs at once on one
// destination. Against a directory and the S3 server.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// sinceDest is a destination under test: how the binary reaches it and how
// the test reads what it holds.
type sinceDest struct {
	uri      string
	env      map[string]string
	state    func(t *testing.T) (pipeline.State, bool) // the state, if any
	archived func(t *testing.T) map[string]bool        // confUUIDs with a sidecar
	leaseTTL time.Duration                             // S3: the lease a killed run leaves
}

func dirSinceDest(t *testing.T, sim *meetingtest.Server) sinceDest {
	root := filepath.Join(t.TempDir(), "archive")
	env := simEnv(sim)
	return sinceDest{
		uri: root, env: env,
		state: func(t *testing.T) (pipeline.State, bool) {
			b, err := os.ReadFile(filepath.Join(root, "_meetarchive", "state", "since-last.json"))
			if errors.Is(err, os.ErrNotExist) {
				return pipeline.State{}, false
			}
			if err != nil {
				t.Fatal(err)
			}
			return parseStateT(t, b), true
		},
		archived: func(t *testing.T) map[string]bool {
			m, _ := filepath.Glob(filepath.Join(root, "_meetarchive", "*.json"))
			out := map[string]bool{}
			for _, p := range m {
				out[strings.TrimSuffix(filepath.Base(p), ".json")] = true
			}
			return out
		},
	}
}

func s3SinceDest(t *testing.T, sim *meetingtest.Server) sinceDest {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	env := s3Env(sim, b)
	const ttl = 3 * time.Second
	env["MEETARCHIVE_TEST_LEASE_TTL"] = ttl.String()
	return sinceDest{
		uri: b.URI("archive"), env: env, leaseTTL: ttl,
		state: func(t *testing.T) (pipeline.State, bool) {
			out, err := b.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String("archive/_meetarchive/state/since-last.json")})
			if err != nil {
				return pipeline.State{}, false
			}
			defer out.Body.Close()
			data, err := io.ReadAll(out.Body)
			if err != nil {
				t.Fatal(err)
			}
			return parseStateT(t, data), true
		},
		archived: func(t *testing.T) map[string]bool {
			out := map[string]bool{}
			for _, k := range archivetest.Keys(t, b) {
				rest, ok := strings.CutPrefix(k, "archive/_meetarchive/")
				if ok && !strings.Contains(rest, "/") && strings.HasSuffix(rest, ".json") {
					out[strings.TrimSuffix(rest, ".json")] = true
				}
			}
			return out
		},
	}
}

func parseStateT(t *testing.T, data []byte) pipeline.State {
	t.Helper()
	s, err := pipeline.ParseState(data)
	if err != nil {
		t.Fatalf("the state does not parse: %v\n%s", err, data)
	}
	return s
}

var sinceDests = map[string]func(*testing.T, *meetingtest.Server) sinceDest{"dir": dirSinceDest, "s3": s3SinceDest}

// day0 is the first simulated day.
var day0 = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func at(day, hour, minute int) time.Time {
	return day0.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

func dayConf(i int, start time.Time, decoded bool) meetingtest.Conference {
	return meetingtest.Conference{
		ConfUUID: fmt.Sprintf("5a5e%028x", i), ConfID: fmt.Sprintf("9%08d", i), Subject: fmt.Sprintf("Day meeting %d", i),
		ScheduserName: "Li Wei", StartTime: start.Format(meetingtest.StartTimeLayout), RcdTime: 600,
		IsDecodeFinish: decoded, Available: true, DecodeEndTime: start.Add(26 * time.Hour).UnixMilli(),
		Files: []meetingtest.File{
			{FileType: meetingtest.FileTypeHd, Name: "0_0.mp4", Size: 48 << 10},
			{FileType: meetingtest.FileTypeAux, Name: "0_0.mp4", Size: 24 << 10},
		},
	}
}

// manifestByConf is a run's manifest: each conference's rows.
func manifestByConf(t *testing.T, out string) map[string][]map[string]string {
	t.Helper()
	m := map[string][]map[string]string{}
	for _, r := range readManifest(t, out) {
		m[r["confUUID"]] = append(m[r["confUUID"]], r)
	}
	return m
}

func wantStatus(t *testing.T, run string, m map[string][]map[string]string, conf, status, code string) {
	t.Helper()
	rows := m[conf]
	if len(rows) == 0 {
		t.Errorf("%s: no row for %s", run, conf)
		return
	}
	for _, r := range rows {
		if r["status"] != status || code != "" && r["errorCode"] != code {
			t.Errorf("%s: %s is %s (%s %s), want %s %s", run, conf, r["status"], r["errorCode"], r["errorMessage"], status, code)
			return
		}
	}
}

// TestSinceLastOverDays: a week of nightly --since-last runs. Recordings
// appear day by day; one transcodes for three days, one never finishes (and
// is reported pending-expired), one fails until its fault is lifted; one is
// listed late (its start lies before the last window's end); day 3's run
// never happens and day 4's is killed (SIGKILL) mid-download. After the last
// run every recording is archived or reported as not archived, and no file
// was downloaded twice.
func TestSinceLastOverDays(t *testing.T) {
	for name, newDest := range sinceDests {
		t.Run(name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Seed: 14})
			dest := newDest(t, sim)
			dir := t.TempDir()
			c := map[int]meetingtest.Conference{}
			add := func(i int, start time.Time, decoded bool) {
				t.Helper()
				c[i] = dayConf(i, start, decoded)
				if err := sim.Add(c[i]); err != nil {
					t.Fatal(err)
				}
			}
			id := func(i int) string { return c[i].ConfUUID }
			c5Fault := meetingtest.Fault{Endpoint: meetingtest.EndpointDownloadURLs, Kind: meetingtest.FaultStatus, Status: 403,
				Code: meetingtest.CodeNoPermission, ConfUUID: dayConf(5, day0, true).ConfUUID}
			setFaults := func(f ...meetingtest.Fault) {
				t.Helper()
				if err := sim.SetFaults(f); err != nil {
					t.Fatal(err)
				}
			}
			run := func(n int, now time.Time, extra ...string) (result, string) {
				t.Helper()
				out := filepath.Join(dir, fmt.Sprintf("run%d", n))
				env := map[string]string{"MEETARCHIVE_TEST_NOW": now.Format(time.RFC3339)}
				for k, v := range dest.env {
					env[k] = v
				}
				args := append([]string{"run", "--since-last", "--from", "2024-05-01", "--max-pending-age", "96h",
					"--dest", dest.uri, "--out", out}, extra...)
				return runBin(t, env, args...), out
			}

			// Day 0's recordings; run 1 on day 1 at 02:30.
			add(1, at(0, 9, 0), true)
			add(2, at(0, 13, 0), false) // transcodes until day 4
			add(3, at(1, 0, 45), true)  // inside the next run's overlap: listed again
			add(4, at(0, 15, 0), false) // never finishes
			add(5, at(0, 16, 0), true)  // no permission until the last day
			setFaults(c5Fault)
			res, out := run(1, at(1, 2, 30))
			if res.code != 1 {
				t.Fatalf("run 1: exit %d, want 1 (conference 5 failed)\n%s", res.code, res.stderr)
			}
			m := manifestByConf(t, out)
			wantStatus(t, "run 1", m, id(1), "archived", "")
			wantStatus(t, "run 1", m, id(2), "pending-transcode", "")
			wantStatus(t, "run 1", m, id(5), "failed", "")
			st, ok := dest.state(t)
			if !ok || !st.WindowEnd.Equal(at(1, 2, 0)) || len(st.Carry) != 3 {
				t.Fatalf("state after run 1: %+v (found %v); want windowEnd %s and 3 carried", st, ok, at(1, 2, 0))
			}

			// Day 1: a new recording, and one listed late (it started at
			// 01:15, before run 1's window ended, but appears only now).
			add(6, at(1, 10, 0), true)
			add(7, at(1, 1, 15), true)
			res, out = run(2, at(2, 2, 30))
			if res.code != 1 {
				t.Fatalf("run 2: exit %d, want 1\n%s", res.code, res.stderr)
			}
			m = manifestByConf(t, out)
			wantStatus(t, "run 2", m, id(7), "archived", "")
			wantStatus(t, "run 2", m, id(6), "archived", "")
			wantStatus(t, "run 2", m, id(3), "already-archived", "")
			wantStatus(t, "run 2", m, id(2), "pending-transcode", "")
			wantStatus(t, "run 2", m, id(4), "pending-transcode", "")
			wantStatus(t, "run 2", m, id(5), "failed", "")
			if _, listedAgain := m[id(1)]; listedAgain {
				t.Errorf("run 2 asked again for conference 1, archived by run 1 and outside its window")
			}

			// Day 2: a recording; day 3's run never happens. Day 3: two
			// more, and conference 2 finishes transcoding. Day 4's run is
			// killed while conference 10's first file is being asked for.
			add(8, at(2, 11, 0), true)
			add(9, at(3, 9, 0), true)
			add(10, at(3, 10, 0), true)
			sim.Update(id(2), func(c *meetingtest.Conference) { c.IsDecodeFinish = true })
			setFaults(c5Fault, meetingtest.Fault{Endpoint: meetingtest.EndpointMedia, Kind: meetingtest.FaultLatency, Latency: time.Minute, ConfUUID: id(10), Times: 1})
			out3 := filepath.Join(dir, "run3")
			env := map[string]string{"MEETARCHIVE_TEST_NOW": at(4, 2, 30).Format(time.RFC3339)}
			for k, v := range dest.env {
				env[k] = v
			}
			cmd, _ := startBin(t, env, mediaStalled(sim), "run", "--since-last", "--from", "2024-05-01", "--max-pending-age", "96h",
				"--dest", dest.uri, "--out", out3, "--concurrency", "1")
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			setFaults(c5Fault)
			if st, _ := dest.state(t); st.RunID != "" && !st.WindowEnd.Equal(at(2, 2, 0)) {
				t.Fatalf("the killed run moved the state: windowEnd %s, want %s", st.WindowEnd, at(2, 2, 0))
			}
			if dest.leaseTTL > 0 {
				// The killed run's lease holds until it expires.
				res, _ := run(30, at(4, 2, 40))
				if res.code != 2 || !strings.Contains(res.stderr, "held by meetarchive pid") {
					t.Errorf("a run while the killed run's lease lives: exit %d, want 2 naming the holder\n%s", res.code, res.stderr)
				}
				time.Sleep(dest.leaseTTL + 500*time.Millisecond)
			}

			// Day 5: a recording; day 5's run (day 6 at 02:30) covers
			// everything since run 2's window ended.
			add(11, at(5, 14, 0), true)
			res, out = run(4, at(6, 2, 30))
			if res.code != 1 {
				t.Fatalf("run 4: exit %d, want 1\n%s", res.code, res.stderr)
			}
			m = manifestByConf(t, out)
			for _, i := range []int{10, 11, 2} {
				wantStatus(t, "run 4", m, id(i), "archived", "")
			}
			for _, i := range []int{8, 9} {
				wantStatus(t, "run 4", m, id(i), "already-archived", "")
			}
			wantStatus(t, "run 4", m, id(4), "failed", string(pipeline.CodePendingExpired))
			wantStatus(t, "run 4", m, id(5), "failed", "")
			failures := readCSV(t, filepath.Join(out, "failures.csv"))
			found := false
			for _, r := range failures {
				found = found || r["confUUID"] == id(4)
			}
			if !found {
				t.Errorf("run 4: the expired conference is not in failures.csv")
			}

			// Day 6: the fault is lifted; the last run archives what was owed.
			setFaults()
			res, out = run(5, at(7, 2, 30))
			if res.code != 0 {
				t.Fatalf("run 5: exit %d, want 0\n%s", res.code, res.stderr)
			}
			m = manifestByConf(t, out)
			wantStatus(t, "run 5", m, id(5), "archived", "")
			if _, again := m[id(4)]; again {
				t.Errorf("run 5 asked again for the expired conference 4")
			}
			st, _ = dest.state(t)
			if !st.WindowEnd.Equal(at(7, 2, 0)) || len(st.Carry) != 0 {
				t.Errorf("final state: windowEnd %s carry %+v; want %s and nothing carried", st.WindowEnd, st.Carry, at(7, 2, 0))
			}

			// Every recording archived or reported; none downloaded twice.
			archived := dest.archived(t)
			for i, conf := range c {
				if !archived[conf.ConfUUID] && i != 4 {
					t.Errorf("conference %d (%s) is neither archived nor reported", i, conf.ConfUUID)
				}
			}
			if archived[id(4)] {
				t.Errorf("conference 4 never finished transcoding yet is archived")
			}
			served := map[string]int{}
			for _, s := range sim.Served() {
				served[s.ConfUUID+"/"+s.FileType+"/"+s.Name]++
			}
			for k, n := range served {
				if n > 1 {
					t.Errorf("%s downloaded %d times", k, n)
				}
			}
			if want := 2 * (len(c) - 1); len(served) != want {
				t.Errorf("%d files downloaded, want %d", len(served), want)
			}
		})
	}
}

// TestSinceLastTwoRunsAtOnce: a second --since-last run on the same
// destination while the first holds the state exits 2 naming it; the first
// finishes and writes an intact state.
func TestSinceLastTwoRunsAtOnce(t *testing.T) {
	for name, newDest := range sinceDests {
		t.Run(name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Seed: 15})
			dest := newDest(t, sim)
			dir := t.TempDir()
			for i := 1; i <= 3; i++ {
				if err := sim.Add(dayConf(i, at(0, 8+i, 0), true)); err != nil {
					t.Fatal(err)
				}
			}
			if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: meetingtest.EndpointMedia, Kind: meetingtest.FaultLatency,
				Latency: 2 * time.Second, ConfUUID: dayConf(1, day0, true).ConfUUID, Times: 1}}); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"MEETARCHIVE_TEST_NOW": at(1, 2, 30).Format(time.RFC3339)}
			for k, v := range dest.env {
				env[k] = v
			}
			args := func(out string) []string {
				return []string{"run", "--since-last", "--from", "2024-05-01", "--dest", dest.uri, "--out", filepath.Join(dir, out)}
			}
			first, firstErr := startBin(t, env, mediaStalled(sim), args("first")...)
			second := runBin(t, env, args("second")...)
			if second.code != 2 {
				t.Errorf("second run: exit %d, want 2\n%s", second.code, second.stderr)
			}
			if want := fmt.Sprintf("held by meetarchive pid %d", first.Process.Pid); !strings.Contains(second.stderr, want) {
				t.Errorf("second run's message does not name the holder (%q):\n%s", want, second.stderr)
			}
			if err := first.Wait(); err != nil {
				t.Fatalf("first run: %v\n%s", err, firstErr.String())
			}
			st, ok := dest.state(t)
			if !ok || !st.WindowEnd.Equal(at(1, 2, 0)) || len(st.Carry) != 0 || st.RunID == "" {
				t.Fatalf("state after the first run: %+v (found %v); want windowEnd %s, nothing carried", st, ok, at(1, 2, 0))
			}
			summary := readSummary(t, filepath.Join(dir, "first"))
			if summary["runId"] != st.RunID {
				t.Errorf("state written by run %q, want the first run %v", st.RunID, summary["runId"])
			}
			// The state is free again: the next run proceeds and downloads nothing twice.
			env["MEETARCHIVE_TEST_NOW"] = at(2, 2, 30).Format(time.RFC3339)
			if res := runBin(t, env, args("third")...); res.code != 0 {
				t.Fatalf("third run: exit %d\n%s", res.code, res.stderr)
			}
			if n := len(sim.Served()); n != 6 {
				t.Errorf("%d files served, want 6 (3 conferences x 2, once each)", n)
			}
		})
	}
}

// TestSinceLastUsage: flag conflicts are usage errors (exit 2) and create
// nothing; a first run without --from says what is missing.
func TestSinceLastUsage(t *testing.T) {
	sim := meetingtest.Start(t, meetingtest.Config{Seed: 16})
	dir := t.TempDir()
	in := writeInput(t, dir, dayConf(1, day0, true).ConfUUID)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"with --input", []string{"--since-last", "--input", in}, "not both"},
		{"with --to", []string{"--since-last", "--from", "2024-05-01", "--to", "2024-05-02"}, "--to conflicts"},
		{"negative overlap", []string{"--since-last", "--since-last-overlap", "-1h"}, "--since-last-overlap"},
		{"zero max pending age", []string{"--since-last", "--max-pending-age", "0s"}, "--max-pending-age"},
		{"settle without --since-last", []string{"--from", "2024-05-01", "--to", "2024-05-02", "--settle", "1h"}, "need --since-last"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			args := append([]string{"run", "--dest", filepath.Join(dir, "dest"), "--out", out}, tc.args...)
			res := runBin(t, simEnv(sim), args...)
			if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q\n%s", res.code, tc.want, res.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("--out %s was created", out)
			}
		})
	}
	t.Run("first run without --from", func(t *testing.T) {
		res := runBin(t, simEnv(sim), "run", "--since-last", "--dest", filepath.Join(dir, "dest"), "--out", filepath.Join(dir, "out-first"))
		if res.code != 2 || !strings.Contains(res.stderr, "give --from") {
			t.Errorf("exit %d, want 2 asking for --from\n%s", res.code, res.stderr)
		}
	})
}

// TestSinceLastListingFailsDryRunAndShards: a run whose listing fails
// (exit 3), an interrupted run (SIGTERM, exit 130) and a dry run leave the
// state as it was; the next run covers the whole gap. Each shard keeps its
// own state.
func TestSinceLastListingFailsDryRunAndShards(t *testing.T) {
	sim := meetingtest.Start(t, meetingtest.Config{Seed: 17})
	dest := dirSinceDest(t, sim)
	dir := t.TempDir()
	run := func(out string, now time.Time, extra ...string) result {
		t.Helper()
		env := map[string]string{"MEETARCHIVE_TEST_NOW": now.Format(time.RFC3339)}
		for k, v := range dest.env {
			env[k] = v
		}
		args := append([]string{"run", "--since-last", "--from", "2024-05-01", "--dest", dest.uri, "--out", filepath.Join(dir, out)}, extra...)
		return runBin(t, env, args...)
	}
	c1, c2, c3 := dayConf(1, at(0, 9, 0), true), dayConf(2, at(1, 10, 0), true), dayConf(3, at(1, 11, 0), false)
	for _, c := range []meetingtest.Conference{c1} {
		if err := sim.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if res := run("run1", at(1, 2, 30)); res.code != 0 {
		t.Fatalf("run 1: exit %d\n%s", res.code, res.stderr)
	}
	first, _ := dest.state(t)
	for _, c := range []meetingtest.Conference{c2, c3} {
		if err := sim.Add(c); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("listing fails", func(t *testing.T) {
		if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: meetingtest.EndpointList, Kind: meetingtest.FaultStatus, Status: 403, Code: meetingtest.CodeNoPermission}}); err != nil {
			t.Fatal(err)
		}
		defer sim.SetFaults(nil)
		if res := run("run2", at(2, 2, 30)); res.code != 3 {
			t.Fatalf("exit %d, want 3 (the window could not be listed)\n%s", res.code, res.stderr)
		}
		if st, _ := dest.state(t); st.RunID != first.RunID || !st.WindowEnd.Equal(first.WindowEnd) {
			t.Errorf("state moved: %+v, want run 1's %+v", st, first)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: meetingtest.EndpointMedia, Kind: meetingtest.FaultLatency, Latency: time.Minute, ConfUUID: c2.ConfUUID}}); err != nil {
			t.Fatal(err)
		}
		defer sim.SetFaults(nil)
		env := map[string]string{"MEETARCHIVE_TEST_NOW": at(2, 2, 30).Format(time.RFC3339)}
		for k, v := range dest.env {
			env[k] = v
		}
		cmd, stderr := startBin(t, env, mediaStalled(sim), "run", "--since-last", "--dest", dest.uri, "--out", filepath.Join(dir, "interrupted"), "--grace", "0s")
		_ = cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("exit %v, want 130\n%s", err, stderr.String())
		}
		if st, _ := dest.state(t); st.RunID != first.RunID {
			t.Errorf("an interrupted run wrote the state: %+v", st)
		}
		if !strings.Contains(stderr.String(), "state left as it was") {
			t.Errorf("the log does not say the state was left\n%s", stderr.String())
		}
	})
	t.Run("dry run", func(t *testing.T) {
		served := len(sim.Served())
		res := run("dry", at(2, 2, 30), "--dry-run")
		if res.code != 0 {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		m := manifestByConf(t, filepath.Join(dir, "dry"))
		wantStatus(t, "dry run", m, c2.ConfUUID, "planned", "")
		wantStatus(t, "dry run", m, c3.ConfUUID, "pending-transcode", "")
		if st, _ := dest.state(t); st.RunID != first.RunID {
			t.Errorf("a dry run wrote the state: %+v", st)
		}
		if n := len(sim.Served()); n != served {
			t.Errorf("a dry run downloaded %d files", n-served)
		}
	})
	t.Run("next run covers the gap", func(t *testing.T) {
		res := run("run3", at(3, 2, 30))
		if res.code != 0 {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		m := manifestByConf(t, filepath.Join(dir, "run3"))
		wantStatus(t, "run 3", m, c2.ConfUUID, "archived", "")
		wantStatus(t, "run 3", m, c3.ConfUUID, "pending-transcode", "")
		st, _ := dest.state(t)
		if !st.WindowEnd.Equal(at(3, 2, 0)) || len(st.Carry) != 1 || st.Carry[0].ConfUUID != c3.ConfUUID || !st.Carry[0].FirstSeen.Equal(at(3, 2, 30)) {
			t.Errorf("state %+v: want windowEnd %s and conference 3 carried, first seen %s", st, at(3, 2, 0), at(3, 2, 30))
		}
		sum := readSummary(t, filepath.Join(dir, "run3"))
		opts, _ := sum["options"].(map[string]any)
		if got, want := opts["sinceLastWindow"], "2024-05-02T00:00:00Z..2024-05-04T02:00:00Z"; got != want {
			t.Errorf("summary's window %v, want %s", got, want)
		}
	})
	t.Run("shards", func(t *testing.T) {
		shardDest := filepath.Join(t.TempDir(), "sharded")
		for k := range 2 {
			env := map[string]string{"MEETARCHIVE_TEST_NOW": at(3, 2, 30).Format(time.RFC3339)}
			for key, v := range dest.env {
				env[key] = v
			}
			res := runBin(t, env, "run", "--since-last", "--from", "2024-05-01", "--shard", fmt.Sprintf("%d/2", k),
				"--dest", shardDest, "--out", filepath.Join(dir, fmt.Sprintf("shard%d", k)))
			if res.code != 0 {
				t.Fatalf("shard %d: exit %d\n%s", k, res.code, res.stderr)
			}
		}
		carried := 0
		for k := range 2 {
			b, err := os.ReadFile(filepath.Join(shardDest, "_meetarchive", "state", fmt.Sprintf("since-last-%d-of-2.json", k)))
			if err != nil {
				t.Fatalf("shard %d's state: %v", k, err)
			}
			st := parseStateT(t, b)
			if st.Shard != fmt.Sprintf("%d/2", k) {
				t.Errorf("shard %d's state says shard %q", k, st.Shard)
			}
			carried += len(st.Carry)
		}
		if carried != 1 {
			t.Errorf("%d conferences carried over by the shards together, want 1 (conference 3)", carried)
		}
	})
}

// mediaStalled reports whether a run reached the media latency fault (it is
// now stalled in a download: the moment to kill or signal it).
func mediaStalled(sim *meetingtest.Server) func() bool {
	return func() bool {
		return sim.Counters().FaultHits[meetingtest.EndpointMedia+"/"+meetingtest.FaultLatency] > 0
	}
}

// TestSinceLastShortListKeepsTheWindow: a night whose recording list held
// fewer recordings than it declared (list-count-short: recordings lost
// without a name, so none can be carried over) exits 1 and leaves the
// state where it was, so the next run lists the same window again; a
// tester found the state moved past it, and the next night said green.
func TestSinceLastShortListKeepsTheWindow(t *testing.T) {
	c1, c2 := dayConf(1, at(0, 9, 0), true), dayConf(2, at(1, 10, 0), true)
	sim := meetingtest.Start(t, meetingtest.Config{Seed: 23})
	short := meetingtest.Start(t, meetingtest.Config{Seed: 23, ListCountDelta: 2}) // declares 2 it never shows
	for _, s := range []*meetingtest.Server{sim, short} {
		for _, c := range []meetingtest.Conference{c1, c2} {
			if err := s.Add(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	dest := dirSinceDest(t, sim)
	dir := t.TempDir()
	run := func(s *meetingtest.Server, out string, now time.Time) result {
		t.Helper()
		env := map[string]string{"MEETARCHIVE_TEST_NOW": now.Format(time.RFC3339)}
		for k, v := range dest.env {
			env[k] = v
		}
		env["MEETARCHIVE_API"] = s.URL
		return runBin(t, env, "run", "--since-last", "--from", "2024-05-01", "--dest", dest.uri, "--out", filepath.Join(dir, out))
	}
	if res := run(sim, "night1", at(1, 2, 30)); res.code != 0 {
		t.Fatalf("night 1: exit %d\n%s", res.code, res.stderr)
	}
	first, ok := dest.state(t)
	if !ok {
		t.Fatal("night 1 wrote no state")
	}

	res := run(short, "night2", at(2, 2, 30))
	if res.code != 1 {
		t.Fatalf("night 2 (short list): exit %d, want 1\n%s", res.code, res.stderr)
	}
	if st, _ := dest.state(t); st.RunID != first.RunID || !st.WindowEnd.Equal(first.WindowEnd) {
		t.Errorf("the state moved after a short list: %+v, want night 1's %+v", st, first)
	}
	if !strings.Contains(res.stderr, "lists this window again") {
		t.Errorf("the log does not say the window is listed again\n%s", res.stderr)
	}

	res = run(sim, "night3", at(3, 2, 30))
	if res.code != 0 {
		t.Fatalf("night 3: exit %d\n%s", res.code, res.stderr)
	}
	for _, night := range []string{"night2", "night3"} {
		opts, _ := readSummary(t, filepath.Join(dir, night))["options"].(map[string]any)
		if got, want := opts["sinceLastWindow"], "2024-05-02T00:00:00Z.."; !strings.HasPrefix(fmt.Sprint(got), want) {
			t.Errorf("%s's window %v, want it to start where night 1's ended less the overlap (%s)", night, got, want)
		}
	}
	if st, _ := dest.state(t); st.RunID == first.RunID || !st.WindowEnd.Equal(at(3, 2, 0)) {
		t.Errorf("night 3's state %+v, want windowEnd %s", st, at(3, 2, 0))
	}
}

// TestSinceLastStateNotWrittenIsFatalEverywhere: a --since-last state that
// cannot be written (another writer changed it meanwhile) makes the run
// fatal (exit 3), and its custody ledger's run-end line and summary.json
// say so too: the state is written before the run's end is recorded (the
// ledger said exit 0 while the process exited 3).
func TestSinceLastStateNotWrittenIsFatalEverywhere(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 1<<20, 213)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 213, MediaRate: 512 << 10}) // about 2 s a file: the state is changed meanwhile
	dir := t.TempDir()
	out, dest := filepath.Join(dir, "out"), filepath.Join(dir, "arch")
	env := simEnv(sim)
	env["MEETARCHIVE_TEST_NOW"] = ds.Conferences[len(ds.Conferences)-1].StartTime[:10] + "T23:00:00Z"
	cmd, stderr := startBin(t, env, func() bool { return sim.Counters().Media >= 1 },
		"run", "--since-last", "--from", ds.Conferences[0].StartTime[:10], "--all-users", "--dest", dest, "--out", out, "--concurrency", "1")
	// Another writer puts a state there while the run archives.
	state := filepath.Join(dest, "_meetarchive", "state", "since-last.json")
	if err := os.WriteFile(state, []byte(`{"format":1,"windowEnd":"2020-01-01T00:00:00Z","carry":[]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != report.ExitFatal {
		t.Fatalf("exit %v, want 3 (the state could not be written)\n%s", err, stderr.String())
	}
	sum, err := report.ReadSummary(filepath.Join(out, report.SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if sum.ExitCode != report.ExitFatal || !strings.Contains(sum.Fatal, "--since-last state") {
		t.Errorf("summary.json exit %d, fatal %q: want 3 and the state's error", sum.ExitCode, sum.Fatal)
	}
	if !strings.Contains(sum.Verdict.Text, "rerun with --since-last: it starts where the last completed run ended.") {
		t.Errorf("the verdict %q does not say to rerun with --since-last", sum.Verdict.Text)
	}
	stored, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(pipeline.LedgerKey(sum.RunID))))
	if err != nil {
		t.Fatalf("no ledger stored: %v", err)
	}
	lines := parseLedger(t, stored)
	var end report.LedgerRunEnd
	_ = json.Unmarshal(lines[len(lines)-1].Data, &end)
	if end.ExitCode != report.ExitFatal || !strings.Contains(end.Fatal, "--since-last state") {
		t.Errorf("the ledger's run-end %+v: want exit 3 and the state's error", end)
	}
	if b, _ := os.ReadFile(state); !strings.Contains(string(b), "2020-01-01") {
		t.Errorf("the other writer's state was overwritten:\n%s", b)
	}
}
