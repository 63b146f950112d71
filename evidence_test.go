package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"meetarchive/archive"
	"meetarchive/export/meetingtest"
	"meetarchive/redact"
	"meetarchive/report"
)

// evidenceNames are the evidence objects of a conference archived through
// record info links, in their order after the recordings.
var evidenceNames = []string{"details.json", "recordinfo.json", "history.json", "attendees.json", "controls.json"}

// evidenceRuns splits a manifest's rows by conference: the recordings'
// rows and the evidence rows (by file name).
func evidenceRuns(rows []map[string]string) (media map[string][]map[string]string, ev map[string]map[string]map[string]string) {
	media, ev = map[string][]map[string]string{}, map[string]map[string]map[string]string{}
	for _, r := range rows {
		u := r["confUUID"]
		if r["fileType"] != report.FileTypeEvidence {
			media[u] = append(media[u], r)
			continue
		}
		if ev[u] == nil {
			ev[u] = map[string]map[string]string{}
		}
		ev[u][r["fileName"]] = r
	}
	return media, ev
}

// readSums reads sha256sums.txt into path -> sha256.
func readSums(t *testing.T, out string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(out, report.SHA256Sums))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	if err := report.ScanSHA256Sums(f, func(s report.FileSum) error { m[s.Path] = s.SHA256; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEvidenceBesideTheRecordings: a demo-like run (the sample dataset,
// record info links, a history that keeps its meetings) leaves, for every
// archived conference, its five evidence objects: in manifest.csv and
// sha256sums.txt (every line of which holds: the files are re-hashed here,
// as `sha256sum -c` would), counted in summary.json's evidence, not in its
// conferences or files. verify re-hashes them: one changed byte of one of
// them makes it exit 1, naming that object. A rerun finds them already
// archived.
func TestEvidenceBesideTheRecordings(t *testing.T) {
	ds := meetingtest.SampleDataset()
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true, HistoryRetention: -1})
	dir := t.TempDir()
	out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "archive")
	in := writeInput(t, dir, ds.UUIDs()...)
	res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out, "--evidence")
	if res.code != 0 {
		t.Fatalf("run exit %d\n%s", res.code, res.stderr)
	}
	media, ev := evidenceRuns(readManifest(t, out))
	sums := readSums(t, out)
	archivedConfs, mediaFiles := 0, 0
	for _, c := range ds.Conferences {
		rows := media[c.ConfUUID]
		if len(rows) == 0 || rows[0]["status"] != "archived" {
			if len(ev[c.ConfUUID]) != 0 {
				t.Errorf("%s (%s): evidence rows %v for a conference not archived", c.ConfUUID, rows[0]["status"], ev[c.ConfUUID])
			}
			continue
		}
		archivedConfs++
		mediaFiles += len(rows)
		for i, name := range evidenceNames {
			r := ev[c.ConfUUID][name]
			switch {
			case r == nil:
				t.Errorf("%s: no evidence row %s", c.ConfUUID, name)
				continue
			case r["status"] != "archived" || r["errorCode"] != "":
				t.Errorf("%s %s: %s %s %s", c.ConfUUID, name, r["status"], r["errorCode"], r["errorMessage"])
				continue
			case r["fileIndex"] != strconv.Itoa(len(rows)+i):
				t.Errorf("%s %s: fileIndex %s, want %d (after the recordings)", c.ConfUUID, name, r["fileIndex"], len(rows)+i)
			}
			if want := "2024/03/" + c.ConfUUID + "/evidence_" + name; r["objectKey"] != want {
				t.Errorf("%s: key %q, want %q (the default key template)", name, r["objectKey"], want)
			}
			if sums[r["objectKey"]] != r["sha256"] {
				t.Errorf("sha256sums.txt has %q for %s, the manifest %s", sums[r["objectKey"]], r["objectKey"], r["sha256"])
			}
		}
		side, err := os.ReadFile(filepath.Join(dest, archive.SidecarDir, c.ConfUUID+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var sc archive.Sidecar
		if err := json.Unmarshal(side, &sc); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range sc.Files {
			if f.FileType == report.FileTypeEvidence {
				n++
			}
		}
		if n != len(evidenceNames) {
			t.Errorf("%s: the sidecar lists %d evidence objects, want %d", c.ConfUUID, n, len(evidenceNames))
		}
	}
	if archivedConfs == 0 {
		t.Fatal("nothing archived")
	}
	// sha256sum -c from the destination root: every line holds.
	for p, want := range sums {
		if got := fileSHA256(t, filepath.Join(dest, filepath.FromSlash(p))); got != want {
			t.Errorf("%s: sha256 %s, sha256sums.txt says %s", p, got, want)
		}
	}
	if want := mediaFiles + archivedConfs*len(evidenceNames); len(sums) != want {
		t.Errorf("sha256sums.txt has %d lines, want %d recordings and evidence objects", len(sums), want)
	}
	sum := readSummary(t, out)
	counts := sum["counts"].(map[string]any)
	if counts["archived"] != float64(archivedConfs) || sum["files"] != float64(mediaFiles) {
		t.Errorf("counts %v, files %v; want %d archived conferences and %d files (recordings only)", counts, sum["files"], archivedConfs, mediaFiles)
	}
	evs := sum["evidence"].(map[string]any)
	if evs["objects"] != float64(archivedConfs*len(evidenceNames)) || len(evs["gaps"].(map[string]any)) != 0 {
		t.Errorf("summary evidence %v, want %d objects and no gaps", evs, archivedConfs*len(evidenceNames))
	}

	manifest := filepath.Join(out, report.ManifestCSV)
	if res := runBin(t, nil, "verify", "--manifest", manifest, "--dest", dest, "--quiet"); res.code != 0 {
		t.Fatalf("verify of the untouched archive: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// A rerun: every conference already archived, its evidence too, and
	// no history call.
	before := sim.Counters().Requests
	out2 := filepath.Join(dir, "report2")
	if res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out2, "--evidence"); res.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
	}
	_, ev2 := evidenceRuns(readManifest(t, out2))
	for u, byName := range ev {
		for name, r := range byName {
			if r2 := ev2[u][name]; r2 == nil || r2["status"] != "already-archived" || r2["sha256"] != r["sha256"] {
				t.Errorf("rerun %s %s: %v, want already-archived with sha256 %s", u, name, r2, r["sha256"])
			}
		}
	}
	after := sim.Counters().Requests
	for _, e := range []string{meetingtest.EndpointHistoryDetail, meetingtest.EndpointAttendees, meetingtest.EndpointCtlRecords} {
		if after[e] != before[e] {
			t.Errorf("the rerun called %s %d times, want 0", e, after[e]-before[e])
		}
	}

	// One changed byte in one evidence object: verify finds it.
	var victim map[string]string
	for _, c := range ds.Conferences {
		if r := ev[c.ConfUUID]["attendees.json"]; r != nil {
			victim = r
			break
		}
	}
	b, err := os.ReadFile(victim["objectURI"])
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"displayName"`)
	b[i+2] ^= 0x20 // "displayName" -> "DisplayName": same size, other bytes
	if err := os.WriteFile(victim["objectURI"], b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(dir, "verify.csv")
	res = runBin(t, nil, "verify", "--manifest", manifest, "--dest", dest, "--report", rep, "--quiet")
	if res.code != 1 {
		t.Fatalf("verify after one evidence byte changed: exit %d, want 1\n%s", res.code, res.stderr)
	}
	f, err := os.Open(rep)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, r := range recs[1:] {
		if r[1] != "ok" {
			bad = append(bad, r[0]+" "+r[1]+" "+r[2])
		}
	}
	if want := []string{"object mismatch " + victim["objectURI"]}; !slices.Equal(bad, want) {
		t.Errorf("verify found %q, want only %q", bad, want)
	}
}

// TestEvidenceGapsDoNotFailTheRun: attendee records refused (403, not an
// administrator) or a deployment without the control-record and history
// detail APIs (404): every recording is archived, the run exits 0 with a
// green verdict and nothing in failures.csv, and each missing object has
// its row with its code, counted in summary.json's evidence gaps. An API
// the deployment lacks is asked once, not once per conference.
func TestEvidenceGapsDoNotFailTheRun(t *testing.T) {
	tests := []struct {
		name      string
		cfg       meetingtest.Config
		wantCodes map[string]string // evidence name -> errorCode ("" stored)
		wantCalls map[string]int64  // per endpoint, for all conferences
	}{
		{
			name: "attendee records refused (403)",
			cfg: meetingtest.Config{Faults: []meetingtest.Fault{
				{Endpoint: meetingtest.EndpointAttendees, Kind: "status", Status: 403, Code: "MMC.111070002"}}},
			wantCodes: map[string]string{"details.json": "", "history.json": "", "attendees.json": "evidence-not-permitted", "controls.json": ""},
			wantCalls: map[string]int64{meetingtest.EndpointAttendees: 3, meetingtest.EndpointCtlRecords: 3},
		},
		{
			name: "history detail and control records not deployed (404)",
			cfg:  meetingtest.Config{NotDeployed: []string{meetingtest.EndpointHistoryDetail, meetingtest.EndpointCtlRecords}},
			wantCodes: map[string]string{"details.json": "", "history.json": "evidence-not-deployed", "attendees.json": "",
				"controls.json": "evidence-not-deployed"},
			wantCalls: map[string]int64{meetingtest.EndpointHistoryDetail: 1, meetingtest.EndpointCtlRecords: 1, meetingtest.EndpointAttendees: 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(3, 1, 8<<10, 401)
			cfg := tc.cfg
			cfg.Dataset, cfg.Seed, cfg.HistoryRetention = ds, 401, -1
			sim := meetingtest.Start(t, cfg)
			dir := t.TempDir()
			out := filepath.Join(dir, "report")
			res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"),
				"--out", out, "--links", "downloadurls", "--evidence", "--concurrency", "1") // one at a time: the calls are counted
			if res.code != 0 {
				t.Fatalf("run exit %d, want 0\n%s", res.code, res.stderr)
			}
			media, ev := evidenceRuns(readManifest(t, out))
			gaps := map[string]float64{}
			for _, u := range ds.UUIDs() {
				if len(media[u]) != 1 || media[u][0]["status"] != "archived" {
					t.Errorf("%s: recording rows %v, want one archived", u, media[u])
				}
				for name, code := range tc.wantCodes {
					r := ev[u][name]
					switch {
					case r == nil:
						t.Errorf("%s: no evidence row %s", u, name)
					case code == "" && r["status"] != "archived":
						t.Errorf("%s %s: %s %s, want archived", u, name, r["status"], r["errorCode"])
					case code != "" && (r["status"] != "unavailable" || r["errorCode"] != code || r["objectURI"] != "" || r["hint"] == ""):
						t.Errorf("%s %s: %s %q object %q hint %q, want unavailable %s with a hint", u, name, r["status"], r["errorCode"], r["objectURI"], r["hint"], code)
					case code != "":
						gaps[code]++
					}
				}
			}
			sum := readSummary(t, out)
			if v := sum["verdict"].(map[string]any); v["level"] != "green" {
				t.Errorf("verdict %v, want green: the recordings are all archived", v)
			}
			if counts := sum["counts"].(map[string]any); counts["archived"] != float64(len(ds.Conferences)) {
				t.Errorf("counts %v, want %d archived", counts, len(ds.Conferences))
			}
			got := sum["evidence"].(map[string]any)["gaps"].(map[string]any)
			if len(got) != len(gaps) {
				t.Errorf("summary evidence gaps %v, want %v", got, gaps)
			}
			for c, n := range gaps {
				if got[c] != n {
					t.Errorf("summary evidence gaps %v, want %v", got, gaps)
				}
			}
			if f := readCSV(t, filepath.Join(out, report.FailuresCSV)); len(f) != 0 {
				t.Errorf("failures.csv lists %v, want nothing", f)
			}
			calls := sim.Counters().Requests
			for e, n := range tc.wantCalls {
				if calls[e] != n {
					t.Errorf("%s called %d times, want %d", e, calls[e], n)
				}
			}
		})
	}
}

// TestEvidenceOff: --evidence=false (or MEETARCHIVE_EVIDENCE=false) stores
// no evidence object, asks no history API, and its sidecars list only the
// recordings.
func TestEvidenceOff(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flag", map[string]string{"MEETARCHIVE_EVIDENCE": "true"}, []string{"--evidence=false"}},
		{"environment", map[string]string{"MEETARCHIVE_EVIDENCE": "false"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(2, 2, 8<<10, 409)
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 409, HistoryRetention: -1})
			env := simEnv(sim)
			for k, v := range tc.env {
				env[k] = v
			}
			dir := t.TempDir()
			out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "a")
			args := append([]string{"run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", out}, tc.args...)
			if res := runBin(t, env, args...); res.code != 0 {
				t.Fatalf("run exit %d\n%s", res.code, res.stderr)
			}
			for _, r := range readManifest(t, out) {
				if r["fileType"] == report.FileTypeEvidence || r["status"] != "archived" {
					t.Errorf("row %s %s %s: want only archived recordings", r["confUUID"], r["fileType"], r["status"])
				}
			}
			err := filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.HasPrefix(d.Name(), "evidence_") {
					t.Errorf("evidence object stored: %s", p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			calls := sim.Counters().Requests
			for _, e := range []string{meetingtest.EndpointHistoryDetail, meetingtest.EndpointAttendees, meetingtest.EndpointCtlRecords} {
				if calls[e] != 0 {
					t.Errorf("%s called %d times, want 0", e, calls[e])
				}
			}
			if ev := readSummary(t, out)["evidence"].(map[string]any); ev["objects"] != float64(0) {
				t.Errorf("summary evidence %v, want none", ev)
			}
		})
	}
}

// TestEvidenceHoldsNoSecret: with every evidence answer echoing the
// request (its access token) in its error body or its page, no stored
// object, report file or output holds a secret; the echo is quoted
// somewhere (there was something to redact).
func TestEvidenceHoldsNoSecret(t *testing.T) {
	const (
		appID  = "ev-app"
		appKey = "ev-app-key-7c1d3f92"
	)
	for _, endpoint := range []string{meetingtest.EndpointHistoryDetail, meetingtest.EndpointAttendees, meetingtest.EndpointCtlRecords} {
		t.Run(endpoint, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(2, 1, 4<<10, 419)
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 419, AppID: appID, AppKey: appKey, RecordInfo: true, HistoryRetention: -1,
				Faults: []meetingtest.Fault{{Endpoint: endpoint, Kind: meetingtest.FaultEcho}}})
			tap := newCredentialTap(t, sim)
			env := map[string]string{"MEETARCHIVE_API": tap.URL, "MEETARCHIVE_RATE": "500", "MEETARCHIVE_LOG_LEVEL": "debug",
				"MEETARCHIVE_MAX_ATTEMPTS": "2", "MEETARCHIVE_APP_ID": appID, "MEETARCHIVE_APP_KEY": appKey}
			dir := t.TempDir()
			dest, out := filepath.Join(dir, "archive"), filepath.Join(dir, "report")
			res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", out)
			if res.code != 0 {
				t.Fatalf("run exit %d, want 0 (evidence never fails the run)\n%s", res.code, res.stderr)
			}
			if sim.Counters().FaultHits[endpoint+"/"+meetingtest.FaultEcho] == 0 {
				t.Fatalf("the echo fault on %s was never hit", endpoint)
			}
			texts := map[string]string{"stdout": res.stdout, "stderr": res.stderr}
			for _, d := range []string{out, dest} {
				for p, s := range textsUnder(t, d) {
					texts[p] = s
				}
			}
			echoed := false
			secrets := append([]string{appKey}, tap.seen()...)
			for where, text := range texts {
				echoed = echoed || strings.Contains(text, "echo of the request")
				for _, s := range secrets {
					for _, f := range redact.Forms(s) {
						if strings.Contains(text, f) {
							t.Errorf("%s holds %q (a form of a secret)", where, f)
						}
					}
				}
			}
			if !echoed {
				t.Errorf("no output quotes the echo: the test saw nothing to redact")
			}
		})
	}
}

// TestDemoStoresEvidence: `meetarchive demo` (what make demo runs) leaves
// every archived conference with its five evidence objects, in
// manifest.csv and sha256sums.txt, and verify passes over them.
func TestDemoStoresEvidence(t *testing.T) {
	dir := t.TempDir()
	if res := runBin(t, nil, "demo", "--dir", dir, "--quiet"); res.code != 0 {
		t.Fatalf("demo exit %d\n%s", res.code, res.stderr)
	}
	out := filepath.Join(dir, "report")
	media, ev := evidenceRuns(readManifest(t, out))
	sums := readSums(t, out)
	archived := 0
	for u, rows := range media {
		if rows[0]["status"] != "archived" {
			continue
		}
		archived++
		for _, name := range evidenceNames {
			r := ev[u][name]
			if r == nil || r["status"] != "archived" || sums[r["objectKey"]] != r["sha256"] || r["sha256"] == "" {
				t.Errorf("%s %s: row %v, sha256sums.txt %q", u, name, r, sums[r["objectKey"]])
			}
		}
	}
	if archived == 0 {
		t.Fatal("the demo archived nothing")
	}
	res := runBin(t, nil, "verify", "--manifest", filepath.Join(out, report.ManifestCSV), "--dest", filepath.Join(dir, "archive"), "--quiet")
	if res.code != 0 {
		t.Errorf("verify of the demo archive: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
