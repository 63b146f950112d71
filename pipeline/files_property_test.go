package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// propertyNames are file names a platform may list: distinct, equal but
// for case, or a "~N" name that an old renaming scheme would have invented.
var propertyNames = []string{"0_0.mp4", "0_1.mp4", "0_2.mp4", "a.mp4", "A.mp4", "a~1.mp4", "0_0.MP4", "rec.m4a"}

// platformShape is one random way a platform may answer for links.
type platformShape struct {
	links, mediaURLs string
	pageCap          int
	repeat           bool
}

func (p platformShape) String() string {
	return fmt.Sprintf("%s/%s/cap%d/repeat=%v", p.links, p.mediaURLs, p.pageCap, p.repeat)
}

// TestPropertyEveryListedFileIsARow checks that every listed file becomes
// exactly one row, against random platform answers (links differing only in the query, links naming
// no file, names differing by case or by "~N", every link listed twice, a
// gateway that caps its pages), on both stores: a conference is archived
// with exactly one row per distinct listed file, each row's object holding
// that file's bytes; or, where the files cannot be told apart or would
// share a key, it fails with the code that says so and commits nothing.
func TestPropertyEveryListedFileIsARow(t *testing.T) {
	rounds := 16
	if testing.Short() {
		rounds = 4
	}
	for _, storeKind := range []string{"dir", "s3"} {
		t.Run(storeKind, func(t *testing.T) {
			var bucket archivetest.Bucket
			if storeKind == "s3" {
				bucket = archivetest.NewBucket(t, archivetest.BucketOptions{}) // skips without an S3 server
			}
			tally := map[string]int{}
			for round := range rounds {
				rng := rand.New(rand.NewPCG(uint64(round), 18))
				shape := platformShape{
					links:     []string{"downloadurls", "recordinfo"}[rng.IntN(2)],
					mediaURLs: []string{meetingtest.MediaURLsPath, meetingtest.MediaURLsQuery, meetingtest.MediaURLsQuery, meetingtest.MediaURLsOpaque}[rng.IntN(4)],
					repeat:    rng.IntN(3) == 0,
				}
				if rng.IntN(3) == 0 {
					shape.pageCap = 20
				}
				t.Run(fmt.Sprintf("round %d %s", round, shape), func(t *testing.T) {
					ds := propertyDataset(rng, round)
					cfg := meetingtest.Config{Dataset: ds, Seed: int64(round), RecordInfo: true, MediaURLs: shape.mediaURLs, LinksMaxLimit: shape.pageCap}
					if shape.repeat {
						cfg.Faults = []meetingtest.Fault{{Endpoint: shape.links, Kind: meetingtest.FaultRepeat}}
					}
					sim := meetingtest.Start(t, cfg)
					j := newTestJob(t, sim, shape.links, Options{Concurrency: 3})
					if storeKind == "s3" {
						st, err := archive.Open(context.Background(), bucket.URI(fmt.Sprintf("round%d", round)),
							archive.Options{ClientOptions: []func(*s3.Options){bucket.Env.ClientOption()}})
						if err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() { st.Close() })
						j.Store = st
					}
					var items []Item
					for i, c := range ds.Conferences {
						items = append(items, Item{Seq: i, ConfUUID: c.ConfUUID})
					}
					got := &rowsOf{}
					res := j.Run(context.Background(), context.Background(), SliceSource(items).Items(), got)
					if res.Fatal != nil {
						t.Fatal(res.Fatal)
					}
					byConf := map[string][]report.Row{}
					for _, r := range got.rows {
						byConf[r.ConfUUID] = append(byConf[r.ConfUUID], r)
						tally[string(r.Status)+"/"+r.ErrorCode]++
					}
					for _, c := range ds.Conferences {
						checkConference(t, j, sim, shape, c, byConf[c.ConfUUID])
					}
				})
			}
			t.Logf("rows: %v", tally)
		})
	}
}

// propertyDataset is three ready conferences with random files; the third
// sometimes has more files than a capped gateway serves on one page.
func propertyDataset(rng *rand.Rand, round int) meetingtest.Dataset {
	types := []string{meetingtest.FileTypeHd, meetingtest.FileTypeSd, meetingtest.FileTypeAux}
	var ds meetingtest.Dataset
	for c := range 3 {
		conf := meetingtest.Conference{
			ConfUUID: fmt.Sprintf("%08x%024x", round+1800, c+1), ConfID: fmt.Sprint(910000 + c), Subject: "s",
			StartTime: "2024-05-01 08:00", RcdTime: 60, IsDecodeFinish: true, Available: true,
		}
		seen := map[string]bool{}
		n := 1 + rng.IntN(5)
		if c == 2 && rng.IntN(2) == 0 {
			n = 24
		}
		for i := 0; len(conf.Files) < n && i < 200; i++ {
			name := propertyNames[rng.IntN(len(propertyNames))]
			if n > len(propertyNames) {
				name = fmt.Sprintf("0_%d.mp4", i)
			}
			f := meetingtest.File{FileType: types[rng.IntN(len(types))], Name: name, Size: int64(100 + rng.IntN(3000))}
			if n > len(propertyNames) {
				f.FileType = meetingtest.FileTypeHd
			}
			if seen[f.FileType+"/"+f.Name] {
				continue
			}
			seen[f.FileType+"/"+f.Name] = true
			conf.Files = append(conf.Files, f)
		}
		ds.Conferences = append(ds.Conferences, conf)
	}
	return ds
}

// checkConference checks one conference's rows against what the platform
// listed.
func checkConference(t *testing.T, j *Job, sim *meetingtest.Server, shape platformShape, c meetingtest.Conference, rows []report.Row) {
	t.Helper()
	perType := map[string]int{}
	folded := map[string]int{}
	for _, f := range c.Files {
		perType[f.FileType]++
		folded[f.FileType+"/"+strings.ToLower(f.Name)]++
	}
	wantCode := ""
	for _, n := range perType {
		if shape.mediaURLs == meetingtest.MediaURLsOpaque && n > 1 {
			wantCode = "ambiguous-files" // every link is named "download"
		}
	}
	if wantCode == "" {
		for _, n := range folded {
			if n > 1 {
				wantCode = string(CodeKeyCollision)
			}
		}
	}
	_, committed, err := archive.Archived(context.Background(), j.Store, c.ConfUUID)
	if err != nil {
		t.Fatalf("%s: Archived: %v", c.ConfUUID, err)
	}
	if wantCode != "" {
		if committed {
			t.Errorf("%s: committed, want it to fail with %s", c.ConfUUID, wantCode)
		}
		for _, r := range rows {
			if r.Status != report.Failed || r.ErrorCode != wantCode {
				t.Errorf("%s %s/%q: %s %s, want failed %s (%s)", c.ConfUUID, r.FileType, r.FileName, r.Status, r.ErrorCode, wantCode, r.ErrorMessage)
			}
		}
		if len(rows) == 0 {
			t.Errorf("%s: no row", c.ConfUUID)
		}
		return
	}
	if !committed {
		t.Errorf("%s: not committed", c.ConfUUID)
	}
	if len(rows) != len(c.Files) {
		t.Errorf("%s: %d rows for %d listed files", c.ConfUUID, len(rows), len(c.Files))
	}
	want := map[string]meetingtest.File{} // row's type/name -> listed file
	for _, f := range c.Files {
		typ, name := f.FileType, f.Name
		if shape.links == "recordinfo" {
			typ = meetingtest.RecordType(typ)
		}
		if shape.mediaURLs == meetingtest.MediaURLsOpaque {
			name = "download"
		}
		want[typ+"/"+name] = f
	}
	objects := map[string]bool{}
	for _, r := range rows {
		f, ok := want[r.FileType+"/"+r.FileName]
		if !ok {
			t.Errorf("%s: row %s/%q names no listed file", c.ConfUUID, r.FileType, r.FileName)
			continue
		}
		delete(want, r.FileType+"/"+r.FileName)
		if r.Status != report.Archived {
			t.Errorf("%s %s/%q: %s %s %s", c.ConfUUID, r.FileType, r.FileName, r.Status, r.ErrorCode, r.ErrorMessage)
			continue
		}
		if objects[r.ObjectKey] {
			t.Errorf("%s: two rows on %s", c.ConfUUID, r.ObjectKey)
		}
		objects[r.ObjectKey] = true
		sum, _, err := archive.HashObject(context.Background(), j.Store, r.ObjectKey)
		if platform := sim.FileSHA256(c.ConfUUID, f.FileType, f.Name); err != nil || sum != platform || r.SHA256 != platform {
			t.Errorf("%s %s/%q at %s: object %s (%v), row %s, platform %s", c.ConfUUID, r.FileType, r.FileName, r.ObjectKey, sum, err, r.SHA256, platform)
		}
	}
	for k := range want {
		t.Errorf("%s: listed file %s has no row", c.ConfUUID, k)
	}
}
