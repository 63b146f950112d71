package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"meetarchive/archive"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// trickyNames are file names that differ but may sanitise to one key.
var trickyNames = []string{
	"0_0.mp4", "0_0.mp4 ", " 0_0.mp4", "0_0.MP4", "0_0..mp4", "0_0.mp4.", "..mp4", "a b.mp4", "a  b.mp4",
	"ü.mp4", "u\u0308.mp4", "ｕ.mp4", "CON.mp4", "con.mp4", "x%2Fy.mp4", "1_0.m4a", "1_0.M4A", "rec.aac",
}

// keyTemplates are the key templates the README shows, and the ones a user
// is likely to try.
var keyTemplates = []string{
	archive.DefaultKeyTemplate,
	"{{.ConfUUID}}/{{.FileName}}",
	"{{.ConfUUID}}/{{.Index}}_{{.FileName}}",
	"{{.Year}}/{{.ConfUUID}}/{{.FileType}}/{{.FileName}}",
}

// TestPropertyArchivedRowsAreTrue: for random conferences with random file
// names and types (names equal after sanitising included), with every key
// template, every file a run reports archived is present with its SHA-256,
// and no two rows share an object URI.
func TestPropertyArchivedRowsAreTrue(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	types := []string{"Aux", "Hd", "Sd"}
	tally := map[string]int{}
	for round := range rounds {
		for _, tmpl := range keyTemplates {
			t.Run(fmt.Sprintf("round %d %s", round, tmpl), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(round), 7))
				var ds meetingtest.Dataset
				for c := range 3 {
					conf := meetingtest.Conference{
						ConfUUID: fmt.Sprintf("%08x%024x", round, c+1), ConfID: fmt.Sprint(900000 + c), Subject: "s",
						StartTime: "2024-05-01 08:00", IsDecodeFinish: true, Available: true,
					}
					seen := map[string]bool{}
					for range 1 + rng.IntN(4) {
						f := meetingtest.File{FileType: types[rng.IntN(len(types))], Name: trickyNames[rng.IntN(len(trickyNames))], Size: int64(100 + rng.IntN(2000))}
						if seen[f.FileType+"/"+f.Name] {
							continue
						}
						seen[f.FileType+"/"+f.Name] = true
						conf.Files = append(conf.Files, f)
					}
					ds.Conferences = append(ds.Conferences, conf)
				}
				sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: int64(round)})
				j := newTestJob(t, sim, "downloadurls", Options{Concurrency: 3})
				j.Keys = archive.MustParseKeyTemplate(tmpl)
				var items []Item
				for i, c := range ds.Conferences {
					items = append(items, Item{Seq: i, ConfUUID: c.ConfUUID})
				}
				got := &rowsOf{}
				res := j.Run(context.Background(), context.Background(), SliceSource(items).Items(), got)
				if res.Fatal != nil {
					t.Fatal(res.Fatal)
				}
				uris := map[string]string{}
				for _, r := range got.rows {
					tally[string(r.Status)+"/"+r.ErrorCode]++
					if r.ObjectURI != "" {
						if other, dup := uris[strings.ToLower(r.ObjectURI)]; dup {
							t.Errorf("rows %s and %s/%s/%s share object %s", other, r.ConfUUID, r.FileType, r.FileName, r.ObjectURI)
						}
						uris[strings.ToLower(r.ObjectURI)] = r.ConfUUID + "/" + r.FileType + "/" + r.FileName
					}
					if r.Status != report.Archived {
						if r.Status != report.Failed || r.ErrorCode != string(CodeKeyCollision) {
							t.Errorf("%s %s/%q: %s %s %s", r.ConfUUID, r.FileType, r.FileName, r.Status, r.ErrorCode, r.ErrorMessage)
						}
						continue
					}
					want := sim.FileSHA256(r.ConfUUID, r.FileType, r.FileName)
					b, err := os.ReadFile(r.ObjectURI)
					if err != nil {
						t.Errorf("archived %s/%q: %v", r.FileType, r.FileName, err)
						continue
					}
					sum := sha256.Sum256(b)
					if hex.EncodeToString(sum[:]) != want || r.SHA256 != want {
						t.Errorf("archived %s/%q at %s: file sha256 %x, row %s, platform %s", r.FileType, r.FileName, r.ObjectURI, sum, r.SHA256, want)
					}
				}
			})
		}
	}
	t.Logf("rows: %v", tally)
}
