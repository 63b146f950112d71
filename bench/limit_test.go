package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"golang.org/x/sync/errgroup"

	"meetarchive/archive/archivetest"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

// The limit of a workload is the lower of two plain transfers of its bytes,
// each with limitStreams in flight: the media host's files downloaded to
// nowhere, and as many bytes uploaded from memory to the S3 server by the
// SDK's transfermanager. Our run can be no faster than either.
const (
	limitStreams    = 4
	limitPartSize   = 8 << 20 // transfermanager's part size
	limitPartFlight = 5       // transfermanager's parts in flight per upload (its default)
)

// allLinks asks for fresh download links of every conference (untimed: the
// limit measures the transfer, not the API).
func (s *sim) allLinks(ctx context.Context, confs []meetingtest.Conference) ([]export.File, error) {
	var files []export.File
	for _, c := range confs {
		fs, err := s.links(ctx, c)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	return files, nil
}

// discardAll downloads files with limitStreams plain GETs in flight and
// throws the bytes away; they must come to want bytes in all.
func (s *sim) discardAll(ctx context.Context, files []export.File, want int64) error {
	var total atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limitStreams)
	for _, f := range files {
		g.Go(func() error {
			resp, err := s.get(ctx, f)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil {
				return fmt.Errorf("GET %s: %w", f, err)
			}
			total.Add(n)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if got := total.Load(); got != want {
		return fmt.Errorf("downloaded %d bytes, want %d", got, want)
	}
	return nil
}

// newTransferManager is the SDK's standard uploader for b: 8 MiB parts, 5 in
// flight per upload, its default checksum.
func newTransferManager(b archivetest.Bucket) *transfermanager.Client {
	return transfermanager.New(b.Client, func(o *transfermanager.Options) {
		o.PartSizeBytes = limitPartSize
		o.Concurrency = limitPartFlight
	})
}

// uploadAll uploads one object per size under prefix, from memory, with
// limitStreams transfermanager uploads in flight.
func uploadAll(ctx context.Context, tm *transfermanager.Client, b archivetest.Bucket, prefix string, sizes []int64) error {
	block := randomBlock()
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limitStreams)
	for i, size := range sizes {
		g.Go(func() error {
			_, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
				Bucket: aws.String(b.Name),
				Key:    aws.String(fmt.Sprintf("%s/%d.mp4", prefix, i)),
				Body:   archivetest.Repeat(block, size),
			})
			if err != nil {
				return fmt.Errorf("transfermanager upload %d: %w", i, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// randomBlock is 1 MiB of random bytes, the upload baseline's source.
func randomBlock() []byte {
	block := make([]byte, mib)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(block)
	return block
}

// fileSizes lists the sizes of every file of confs.
func fileSizes(confs []meetingtest.Conference) []int64 {
	var sizes []int64
	for _, c := range confs {
		for _, f := range c.Files {
			sizes = append(sizes, f.Size)
		}
	}
	return sizes
}
