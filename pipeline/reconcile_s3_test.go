package pipeline

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/export"
)

// markCounter counts the commit marks a reconciliation reads (GetMeta) and,
// with hideTimes, lists objects without their ModTime: the S3 store as it
// was before its listing reported LastModified.
type markCounter struct {
	archive.Store
	hideTimes bool
	gets      atomic.Int64
}

func (s *markCounter) GetMeta(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	s.gets.Add(1)
	return s.Store.GetMeta(ctx, key, limit)
}

func (s *markCounter) List(ctx context.Context, prefix string, fn func(archive.Object) error) error {
	return s.Store.List(ctx, prefix, func(o archive.Object) error {
		if s.hideTimes {
			o.ModTime = time.Time{}
		}
		return fn(o)
	})
}

// TestReconcileS3SkipsOldMarks: on the S3 server the listing's
// LastModified lets the reconciliation skip the commit marks written more
// than a day before the window starts (no GET each, every run), and still
// read those written later; without the times (before) it read them all.
func TestReconcileS3SkipsOldMarks(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{}) // skips without an S3 server
	ctx := context.Background()
	store, err := archive.Open(ctx, b.URI("marks"), archive.Options{ClientOptions: []func(*s3.Options){b.Env.ClientOption()}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if caps := store.Capabilities(); !caps.RoughTimes {
		t.Fatalf("S3 Capabilities %+v: want RoughTimes", caps)
	}
	const marks = 3
	for i := range marks {
		putMark(t, store, i, "2025-03-02 10:00") // written now
	}
	later := time.Now().UTC().Add(48 * time.Hour).Truncate(24 * time.Hour)
	afterTheMarks := &export.ListQuery{From: later, To: EndOfDay(later.Add(24 * time.Hour))}
	tests := []struct {
		name      string
		window    *export.ListQuery
		hideTimes bool
		wantGets  int64
		wantLines int
	}{
		{"window after the marks, times listed (now)", afterTheMarks, false, 0, 0},
		{"window after the marks, no times (before)", afterTheMarks, true, marks, 0},
		{"window before the marks were written", march, false, marks, marks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counted := &markCounter{Store: store, hideTimes: tt.hideTimes}
			api := &fakeReconcileAPI{listCount: -1, histCount: -1}
			c, err := Reconcile(ctx, api, counted, Reconciliation{Window: tt.window})
			if err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			if got := counted.gets.Load(); got != tt.wantGets {
				t.Errorf("commit marks read (GETs) = %d, want %d", got, tt.wantGets)
			}
			if got := len(c.Lines); got != tt.wantLines {
				t.Errorf("lines = %d (%v), want %d", got, fatesOf(c), tt.wantLines)
			}
			// One listing (a wrapped store counts its listing as one call)
			// and the GETs.
			if d := c.Sources[len(c.Sources)-1]; d.Calls != 1+int(tt.wantGets) {
				t.Errorf("destination source calls = %d, want %d", d.Calls, 1+tt.wantGets)
			}
		})
	}
}
