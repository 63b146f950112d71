package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// rowsOf collects a run's rows.
type rowsOf struct{ rows []report.Row }

func (r *rowsOf) AddAll(rows ...report.Row) error { r.rows = append(r.rows, rows...); return nil }

// TestS3StreamsLargeRecordingInBoundedHeap: a 200 MiB recording streams
// through the pipeline into S3 while the heap grows by less than the memory
// budget plus 16 MiB, and its SHA-256 read back matches what the simulator
// served.
func TestS3StreamsLargeRecordingInBoundedHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MiB transfer")
	}
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	ds := meetingtest.GenerateFiles(1, 1, 200<<20, 37)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 37})
	ctx := context.Background()
	j := newTestJob(t, sim, "downloadurls", Options{Concurrency: 1})
	// A small memory budget: the heap is bounded by it, not by the file.
	opts := archive.Options{Memory: 2 * archive.DefaultPartSize, ClientOptions: []func(*s3.Options){b.Env.ClientOption()}}
	store, err := archive.Open(ctx, b.URI("big"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j.Store = store

	heapGrowth := sampleHeap()
	got := &rowsOf{}
	res := j.Run(ctx, ctx, SliceSource([]Item{{ConfUUID: ds.Conferences[0].ConfUUID}}).Items(), got)
	growth := heapGrowth()
	if res.Fatal != nil || len(got.rows) != 1 || got.rows[0].Status != report.Archived {
		t.Fatalf("rows %+v, result %+v", got.rows, res)
	}
	limit := opts.MemoryBudget() + 16<<20
	t.Logf("200 MiB upload: heap in use grew by %.1f MiB (budget %d MiB)", float64(growth)/(1<<20), opts.MemoryBudget()>>20)
	if growth >= limit {
		t.Errorf("heap grew by %.1f MiB, want < the %d MiB budget + 16 MiB", float64(growth)/(1<<20), opts.MemoryBudget()>>20)
	}
	served := sim.Served()
	if len(served) != 1 {
		t.Fatalf("simulator served %d files, want 1", len(served))
	}
	sc, err := archive.GetSidecar(ctx, store, ds.Conferences[0].ConfUUID)
	if err != nil || len(sc.Files) != 1 {
		t.Fatalf("sidecar %+v: %v", sc, err)
	}
	rc, err := store.Open(ctx, sc.Files[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		t.Fatal(err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != served[0].SHA256 {
		t.Errorf("read back sha256 %s, simulator served %s", sum, served[0].SHA256)
	}
}

// TestS3ResumeAcrossRunsWithoutPlatformHash: a run stopped after some
// multipart objects of a conference are stored (downloadurls links: no
// platform SHA-256, so none in the objects' metadata either); the next run
// reads those objects back instead of downloading them again, and commits
// the conference with every file's true SHA-256.
func TestS3ResumeAcrossRunsWithoutPlatformHash(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	const size = 12 << 20 // more than one part
	ds := meetingtest.GenerateFiles(1, 4, size, 41)
	u := ds.Conferences[0].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 41, MediaRate: 48 << 20})
	ctx := context.Background()
	store, err := archive.Open(ctx, b.URI("resume"), archive.Options{ClientOptions: []func(*s3.Options){b.Env.ClientOption()}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j := newTestJob(t, sim, "downloadurls", Options{Concurrency: 1})
	j.Store = store

	work, stop := context.WithCancel(ctx)
	go func() {
		for len(sim.Served()) < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		stop()
	}()
	first := &rowsOf{}
	j.Run(work, work, SliceSource([]Item{{ConfUUID: u}}).Items(), first)
	stored := 0
	for _, r := range first.rows {
		if r.ErrorCode == string(CodeUncommitted) {
			stored++
		}
	}
	if stored == 0 {
		t.Fatalf("no file stored before the stop: %+v", first.rows)
	}
	before := sim.MediaBytesServed()
	second := &rowsOf{}
	j.Run(ctx, ctx, SliceSource([]Item{{ConfUUID: u}}).Items(), second)
	if again := sim.MediaBytesServed() - before; again > int64(4-stored)*size {
		t.Errorf("the rerun downloaded %d bytes; %d of 4 files were stored already", again, stored)
	}
	for _, r := range second.rows {
		if want := sim.FileSHA256(u, r.FileType, r.FileName); r.Status != report.Archived || r.SHA256 != want {
			t.Errorf("%s/%s: %s sha256 %s, want archived with %s", r.FileType, r.FileName, r.Status, r.SHA256, want)
		}
	}
}

// TestMediaStreamsWaitForAnUploadSlot: with more conferences in flight
// (Concurrency) than the S3 store takes uploads (MaxUploads), a conference
// waits for an upload slot before it opens its media stream: the media host
// never has more responses open than there are uploads, and no stream sits
// open and idle while another upload finishes.
func TestMediaStreamsWaitForAnUploadSlot(t *testing.T) {
	const (
		confs      = 6
		maxUploads = 2
		size       = 2 << 20
	)
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	ds := meetingtest.GenerateFiles(confs, 1, size, 41)
	// Slow media (4 MiB/s a response) so that the transfers overlap.
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 41, MediaRate: 4 << 20})
	ctx := context.Background()
	j := newTestJob(t, sim, "downloadurls", Options{Concurrency: confs})
	opts := archive.Options{MaxUploads: maxUploads, ClientOptions: []func(*s3.Options){b.Env.ClientOption()}}
	store, err := archive.Open(ctx, b.URI("slots"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j.Store = store
	items := make([]Item, confs)
	for i, c := range ds.Conferences {
		items[i] = Item{Seq: i, ConfUUID: c.ConfUUID}
	}
	got := &rowsOf{}
	res := j.Run(ctx, ctx, SliceSource(items).Items(), got)
	if res.Fatal != nil || len(got.rows) != confs {
		t.Fatalf("rows %+v, result %+v", got.rows, res)
	}
	for _, r := range got.rows {
		if r.Status != report.Archived {
			t.Errorf("%s: %s %s", r.ConfUUID, r.Status, r.ErrorMessage)
		}
	}
	if peak := sim.Counters().MediaPeak; peak > maxUploads {
		t.Errorf("the media host had %d responses open at once; want at most %d (the store's uploads)", peak, maxUploads)
	}
}
