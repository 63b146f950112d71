package archive_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// TestCommitMarksCallsS3: on S3, CommitMarks says how many ListObjectsV2
// calls the listing made: one per page of 1,000 keys.
func TestCommitMarksCallsS3(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	st := s3Store(t, b, "cm", archive.Options{})
	ctx := context.Background()
	tests := []struct {
		name  string
		marks int // commit marks in the bucket when listed (the cases add to it, in order)
		want  int
	}{
		{"none: one call", 0, 1},
		{"three: one call", 3, 1},
		{"1,001: two pages", 1001, 2},
	}
	put := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(16)
			for ; put < tt.marks; put++ {
				key := fmt.Sprintf("cm/%s/%032x.json", archive.SidecarDir, put)
				g.Go(func() error {
					_, err := b.Client.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), Body: bytes.NewReader([]byte("{}"))})
					return err
				})
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			n := 0
			calls, err := archive.CommitMarks(ctx, st, func(string, archive.Object) error { n++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.marks || calls != tt.want {
				t.Errorf("%d marks in %d calls, want %d in %d", n, calls, tt.marks, tt.want)
			}
		})
	}
}
