package pipeline

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// TestS3FilesAddedLater: on S3 (a versioned bucket with Object Lock, where
// the sidecar is a locked record and objects carry versions and the
// store's mark) a conference given a third file is updated by a --recheck
// run: the third file only is downloaded, the rewritten sidecar is a new
// version listing all three, and the next run finds the conference
// already archived.
func TestS3FilesAddedLater(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
	ds := meetingtest.GenerateFiles(1, 2, 1<<20, 97)
	c := ds.Conferences[0]
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 97, RecordInfo: true})
	ctx := context.Background()
	store, err := archive.Open(ctx, b.URI("upd"), archive.Options{ClientOptions: []func(*s3.Options){b.Env.ClientOption()},
		LockMode: "GOVERNANCE", RetainDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j := newTestJob(t, sim, "recordinfo", Options{Concurrency: 1, Tool: "test"})
	j.Store = store
	run := func() []report.Row {
		t.Helper()
		rows := &rowsOf{}
		if res := j.Run(ctx, ctx, SliceSource([]Item{{ConfUUID: c.ConfUUID}}).Items(), rows); res.Fatal != nil || res.WriteErr != nil {
			t.Fatal(res)
		}
		return rows.rows
	}
	run()
	if err := sim.AddFile(c.ConfUUID, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "9_9.mp4", Size: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	j.Options.Recheck = "--recheck"
	served := len(sim.Served())
	rows := run()
	if got, want := mediaOf(sim, served), []string{"Hd/9_9.mp4"}; !slices.Equal(got, want) {
		t.Errorf("media downloaded %v, want %v", got, want)
	}
	var updated []report.Row
	for _, r := range rows {
		if r.Status == report.Updated {
			updated = append(updated, r)
		} else if r.Status != report.AlreadyArchived {
			t.Errorf("%s/%s: %s %s %s", r.FileType, r.FileName, r.Status, r.ErrorCode, r.ErrorMessage)
		}
	}
	if len(updated) != 1 || updated[0].VersionID == "" || updated[0].LockMode != "GOVERNANCE" {
		t.Fatalf("updated rows %+v; want one, with a version and the lock", updated)
	}
	sc, ok, err := archive.Archived(ctx, store, c.ConfUUID)
	if err != nil || !ok || len(sc.Files) != 3 || len(sc.Updates) != 1 {
		t.Fatalf("Archived: %v %v, %d files, %d updates; want archived with 3 files and 1 update", ok, err, len(sc.Files), len(sc.Updates))
	}
	j.Options.Recheck = ""
	for _, r := range run() {
		if r.Status != report.AlreadyArchived {
			t.Errorf("third run: %s/%s: %s, want already-archived", r.FileType, r.FileName, r.Status)
		}
	}
}
