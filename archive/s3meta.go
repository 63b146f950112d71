package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The S3Store's documents of the reserved area, List, Delete and Lock.

// PutMeta writes data at key in the reserved area with one PutObject
// (SHA-256 checksum, the store's encryption; a record also with its lock
// and storage class), its condition sent as If-None-Match: * or If-Match on
// the ETag. The version is the ETag.
func (s *S3Store) PutMeta(ctx context.Context, key string, data []byte, m Meta) (string, error) {
	if err := checkMetaKey(key); err != nil {
		return "", fmt.Errorf("archive: put %s: %w", key, err)
	}
	if m.IfAbsent && m.IfVersion != "" {
		return "", fmt.Errorf("archive: put %s: both IfAbsent and IfVersion", key)
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.ObjectKey(key)), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/json"),
		ChecksumAlgorithm:    types.ChecksumAlgorithm(ChecksumAlgorithm), // a bucket with Object Lock wants one
		ServerSideEncryption: types.ServerSideEncryption(s.opts.SSE), SSEKMSKeyId: nzString(s.opts.SSEKMSKeyID),
		IfMatch: nzString(m.IfVersion),
	}
	if m.IfAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	if md := normalizeMetadata(m.Metadata); md != nil {
		in.Metadata = make(map[string]string, len(md))
		for k, v := range md {
			in.Metadata[k] = metadataValue(v)
		}
	}
	if m.Record {
		lock := s.lockFor(time.Now())
		in.StorageClass = types.StorageClass(s.opts.StorageClass)
		in.ObjectLockMode, in.ObjectLockRetainUntilDate = types.ObjectLockMode(lock.mode), lock.retainUntil
		if lock.legalHold {
			in.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn
		}
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		switch {
		case (m.IfAbsent || m.IfVersion != "") && isPreconditionFailed(err),
			m.IfVersion != "" && isNotFound(err): // If-Match on no object
			err = ErrConditionFailed
		}
		return "", fmt.Errorf("archive: put %s: %w", s.URI(key), err)
	}
	return aws.ToString(out.ETag), nil
}

// isPreconditionFailed: a conditional request's condition did not hold
// (412), or a conflicting conditional write was in progress (409).
func isPreconditionFailed(err error) bool {
	switch apiCode(err) {
	case "PreconditionFailed", "ConditionalRequestConflict":
		return true
	}
	st := httpStatus(err)
	return st == 412 || st == 409
}

// GetMeta reads the document at key in the reserved area with one
// GetObject; its version is the ETag that came with the bytes.
func (s *S3Store) GetMeta(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	if err := checkMetaKey(key); err != nil {
		return nil, "", fmt.Errorf("archive: get %s: %w", key, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.ObjectKey(key))})
	if err != nil {
		if isNotFound(err) {
			err = ErrNotExist
		}
		return nil, "", fmt.Errorf("archive: get %s: %w", s.URI(key), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("archive: get %s: %w", s.URI(key), err)
	}
	if int64(len(data)) > limit {
		return nil, "", fmt.Errorf("archive: get %s: larger than %d bytes", s.URI(key), limit)
	}
	return data, aws.ToString(out.ETag), nil
}

// List lists the objects under the prefix with ListObjectsV2, in key order.
func (s *S3Store) List(ctx context.Context, prefix string, fn func(Object) error) error {
	_, err := s.ListCalls(ctx, prefix, fn)
	return err
}

// ListCalls is List, and says how many ListObjectsV2 calls it made (one
// per page of up to 1,000 keys), also when it fails.
func (s *S3Store) ListCalls(ctx context.Context, prefix string, fn func(Object) error) (calls int, err error) {
	if err := checkPrefix(prefix); err != nil {
		return 0, fmt.Errorf("archive: list %s: %w", prefix, err)
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: nzString(s.prefix + prefix),
	})
	for p.HasMorePages() {
		calls++
		page, err := p.NextPage(ctx)
		if err != nil {
			return calls, fmt.Errorf("archive: list %s: %w", s.URI(prefix), err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || checkKey(key) != nil {
				continue // not a key this store could Stat
			}
			// LastModified is in the listing: ModTime costs no call.
			if err := fn(Object{Key: key, URI: s.URI(key), Bytes: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified).UTC()}); err != nil {
				return calls, err
			}
		}
	}
	return calls, nil
}

// Delete removes the current version of the object at key (a versioned
// bucket keeps it behind a delete marker).
func (s *S3Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("archive: delete %s: %w", key, err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.ObjectKey(key))})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("archive: delete %s: %w", s.URI(key), err)
	}
	return nil
}

// Lock: S3 has no lock that dies with the process (no
// Capabilities.NativeLock); the state holds a lease instead.
func (s *S3Store) Lock(_ context.Context, key string, _ []byte) (func() error, error) {
	if err := checkMetaKey(key); err != nil {
		return nil, fmt.Errorf("archive: lock %s: %w", key, err)
	}
	return nil, fmt.Errorf("archive: lock %s: %w", s.URI(key), errors.ErrUnsupported)
}
