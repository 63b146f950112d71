package archive

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PoolStats reports the store's part buffer pool: how many buffers it may
// hand out, how many are out now, and the most that were out at once.
func PoolStats(s *S3Store) (capacity, out, peak int) {
	return s.pool.cap(), int(s.pool.out.Load()), int(s.pool.peak.Load())
}

// SendTamperedPart starts a multipart upload of key, sends data as part 1 the
// way Put sends parts but with its CRC32C changed, aborts the upload and
// returns the part's error (nil if the server took the damaged part).
func SendTamperedPart(ctx context.Context, s *S3Store, key string, data []byte) error {
	full := s.ObjectKey(key)
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full), ChecksumAlgorithm: partChecksumAlgorithm,
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	defer s.abort(context.WithoutCancel(ctx), full, aws.ToString(out.UploadId))
	good := partCRC32C([][]byte{data}, int64(len(data)))
	bad := partCRC32C([][]byte{append([]byte{1}, data...)}, int64(len(data)+1))
	if good == bad {
		return fmt.Errorf("tampered checksum equals the right one")
	}
	_, err = s.sendPart(ctx, full, aws.ToString(out.UploadId), 1, [][]byte{data}, int64(len(data)), bad)
	return err
}

// PutTamperedSingle sends data to key the way Put sends an object that fits
// in one part, but with a SHA-256 that is not the data's; it returns the
// server's answer (nil if it stored the object).
func PutTamperedSingle(ctx context.Context, s *S3Store, key string, data []byte, wrongSHA256 string) error {
	_, err := s.putSingle(ctx, s.ObjectKey(key), [][]byte{data}, int64(len(data)), wrongSHA256, Expect{Size: Unknown, PlatformSize: Unknown})
	return err
}
