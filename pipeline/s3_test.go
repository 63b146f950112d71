package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
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
// through the pipeline into S3 while the heap grows by less than 64 MiB, and
// its SHA-256 read back matches what the simulator served.
func TestS3StreamsLargeRecordingInBoundedHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MiB transfer")
	}
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	ds := genDataset(1, 1, 200<<20, 37)
	sim := newSim(t, meetingtest.Config{Dataset: ds, Seed: 37})
	ctx := context.Background()
	j := newTestJob(t, sim, "downloadurls", Options{Concurrency: 1})
	store, err := archive.Open(ctx, b.URI("big"), archive.Options{ClientOptions: []func(*s3.Options){b.Env.ClientOption()}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j.Store = store

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	got := &rowsOf{}
	res := j.Run(ctx, ctx, SliceSource([]Item{{ConfUUID: ds.Conferences[0].ConfUUID}}).Items(), got)
	close(stop)
	wg.Wait()
	if res.Fatal != nil || len(got.rows) != 1 || got.rows[0].Status != report.Archived {
		t.Fatalf("rows %+v, result %+v", got.rows, res)
	}
	growth := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("200 MiB upload: heap in use grew by %.1f MiB (part size %d MiB)", float64(growth)/(1<<20), archive.DefaultPartSize>>20)
	if growth >= 64<<20 {
		t.Errorf("heap grew by %.1f MiB, want < 64 MiB", float64(growth)/(1<<20))
	}
	served := sim.Served()
	if len(served) != 1 {
		t.Fatalf("simulator served %d files, want 1", len(served))
	}
	sc, err := store.GetSidecar(ctx, ds.Conferences[0].ConfUUID)
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
