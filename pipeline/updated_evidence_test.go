package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"meetarchive/archive"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// evidenceUpdated is a simulator with one conference of two files of 1 MiB
// each, archived once with its evidence by the returned job.
func evidenceUpdated(t *testing.T, links string) (*meetingtest.Server, *Job, meetingtest.Conference) {
	t.Helper()
	ds := meetingtest.GenerateFiles(1, 2, 1<<20, 89)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 89, HistoryRetention: -1, RecordInfo: true})
	j := newEvidenceJob(t, sim, links, "")
	c := ds.Conferences[0]
	rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
	if fatal != nil {
		t.Fatal(fatal)
	}
	for _, r := range rows {
		if r.Status != report.Archived {
			t.Fatalf("first run: %s %s: %s %s %s", r.FileType, r.FileName, r.Status, r.ErrorCode, r.ErrorMessage)
		}
	}
	return sim, j, c
}

// inReportOrder is rows as the report orders a conference's: by FileIndex.
func inReportOrder(rows []report.Row) []report.Row {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b report.Row) int { return a.FileIndex - b.FileIndex })
	return out
}

// checkRecordingsFirst fails unless the rows' file indexes are 0..n-1 and
// no evidence row comes before a row of a recording (README: evidence
// rows come after the conference's recordings).
func checkRecordingsFirst(t *testing.T, rows []report.Row) {
	t.Helper()
	ordered := inReportOrder(rows)
	seenEvidence := false
	for i, r := range ordered {
		if r.FileIndex != i {
			t.Errorf("row %d (%s/%s): fileIndex %d, want %d", i, r.FileType, r.FileName, r.FileIndex, i)
		}
		if r.IsEvidence() {
			seenEvidence = true
		} else if seenEvidence {
			t.Errorf("row %d (%s/%s %s) comes after an evidence row; report order %v", i, r.FileType, r.FileName, r.Status, statusesOf(ordered))
		}
	}
}

// TestUpdateRenewsChangedEvidence: a conference given a third file after
// it was archived with its evidence. The update stores the evidence that
// changed (the details; record info's file list when the files came from
// it) anew at revision keys, listed in the rewritten sidecar as
// superseding the earlier objects, which keep their bytes; evidence that
// did not change is not stored again; history, attendee and control
// records are not asked for again. The rows keep the README's order:
// recordings (kept, then updated), then evidence. The next run finds it
// all already archived, in the same order.
func TestUpdateRenewsChangedEvidence(t *testing.T) {
	tests := []struct {
		name      string
		links     string
		dateRange bool // else --recheck on an input run
		change    func(sim *meetingtest.Server, c meetingtest.Conference) error
		wantNew   []string // evidence stored anew
	}{
		{
			name: "downloadurls, date range, a third file", links: "downloadurls", dateRange: true,
			change: func(sim *meetingtest.Server, c meetingtest.Conference) error {
				return sim.AddFile(c.ConfUUID, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "9_9.mp4", Size: 1 << 20})
			},
			wantNew: []string{"details.json"},
		},
		{
			name: "recordinfo, recheck, a third file", links: "recordinfo",
			change: func(sim *meetingtest.Server, c meetingtest.Conference) error {
				return sim.AddFile(c.ConfUUID, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "9_9.mp4", Size: 1 << 20})
			},
			wantNew: []string{"details.json", "recordinfo.json"},
		},
		{
			name: "recordinfo, recheck, a file changed within the same rcdSize", links: "recordinfo",
			change: func(sim *meetingtest.Server, c meetingtest.Conference) error {
				sim.Update(c.ConfUUID, func(c *meetingtest.Conference) { c.Files[0].Size += 1000 })
				return nil
			},
			wantNew: []string{"recordinfo.json"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			sim, j, c := evidenceUpdated(t, tc.links)
			before, err := archive.GetSidecar(ctx, j.Store, c.ConfUUID)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.change(sim, c); err != nil {
				t.Fatal(err)
			}
			if tc.dateRange {
				j.Known = listed(t, j, c)
			} else {
				j.Options.Recheck = "--recheck"
			}
			calls := sim.Counters().Requests
			rows, fatal := j.conference(ctx, Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			for _, e := range []string{meetingtest.EndpointHistoryDetail, meetingtest.EndpointAttendees, meetingtest.EndpointCtlRecords} {
				if n := sim.Counters().Requests[e] - calls[e]; n != 0 {
					t.Errorf("the update called %s %d times, want 0", e, n)
				}
			}
			checkRecordingsFirst(t, rows)
			if got := statusesOf(rows); !slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, "="+string(report.Updated)) }) {
				t.Fatalf("rows %v: no updated recording", got)
			}

			old := map[string]archive.SidecarFile{}
			for _, f := range before.Files {
				if f.FileType == report.FileTypeEvidence {
					old[f.Name] = f
				}
			}
			after, err := archive.GetSidecar(ctx, j.Store, c.ConfUUID)
			if err != nil {
				t.Fatal(err)
			}
			var renewed []string
			for _, f := range after.Files[len(before.Files):] {
				if f.FileType != report.FileTypeEvidence {
					continue
				}
				renewed = append(renewed, f.Name)
				prev, ok := old[f.Name]
				if !ok {
					t.Errorf("sidecar: evidence %s stored anew, but none was stored before", f.Name)
					continue
				}
				if want := revisionKey(prev.Key, 2); f.Key != want || f.Supersedes != prev.Key {
					t.Errorf("sidecar: %s at %s superseding %q, want %s superseding %s", f.Name, f.Key, f.Supersedes, want, prev.Key)
				}
				if !slices.Contains(after.Updates[len(after.Updates)-1].Added, f.Key) {
					t.Errorf("sidecar: the update's added keys %v lack %s", after.Updates[len(after.Updates)-1].Added, f.Key)
				}
				if err := archive.VerifyObject(ctx, j.Store, archive.Object{Key: prev.Key, Bytes: prev.Bytes, SHA256: prev.SHA256}); err != nil {
					t.Errorf("the earlier %s: %v", f.Name, err)
				}
				var row report.Row
				for _, r := range rows {
					if r.ObjectKey == f.Key {
						row = r
					}
				}
				if row.Status != report.Archived || !row.IsEvidence() || row.SHA256 != f.SHA256 || !strings.Contains(row.ErrorMessage, prev.Key) {
					t.Errorf("row of %s: %s %s/%s sha256 %s %q; want archived evidence, sha256 %s, naming %s", f.Key, row.Status, row.FileType, row.FileName, row.SHA256, row.ErrorMessage, f.SHA256, prev.Key)
				}
				doc := readDoc(t, j.Store, row)
				switch f.Name {
				case "details.json":
					var d struct {
						RcdSize int `json:"rcdSize"`
					}
					if err := json.Unmarshal(doc.Pages[0].Answer, &d); err != nil {
						t.Fatal(err)
					}
					if d.RcdSize != 3 {
						t.Errorf("%s: rcdSize %d, want the platform's 3 now", f.Key, d.RcdSize)
					}
				case "recordinfo.json":
					var files []recordInfoFile
					if err := json.Unmarshal(doc.Pages[0].Answer, &files); err != nil {
						t.Fatal(err)
					}
					var got, want []string
					for _, rf := range files {
						got = append(got, fmt.Sprintf("%s:%d", rf.Name, rf.FileSize))
						if rf.SHA256 == "" {
							t.Errorf("%s: %s without its sha256", f.Key, rf.Name)
						}
					}
					cur, _ := sim.Conference(c.ConfUUID)
					for _, cf := range cur.Files {
						want = append(want, fmt.Sprintf("%s:%d", cf.Name, cf.Size))
					}
					if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
						t.Errorf("%s lists %v, want the platform's files now %v", f.Key, got, want)
					}
				}
			}
			if !slices.Equal(renewed, tc.wantNew) {
				t.Errorf("evidence stored anew: got %v, want %v", renewed, tc.wantNew)
			}

			// The next run: all already archived, recordings first.
			j.Options.Recheck, j.Known = "", nil
			again, fatal := j.conference(ctx, Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			checkRecordingsFirst(t, again)
			if len(again) != len(after.Files) {
				t.Errorf("next run: %d rows, want one per sidecar entry (%d)", len(again), len(after.Files))
			}
			for _, r := range again {
				if r.Status != report.AlreadyArchived {
					t.Errorf("next run: %s/%s %s, want already-archived", r.FileType, r.FileName, r.Status)
				}
			}
		})
	}
}
