package archive

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// VersionReader reads one version of an object, not the current one: what
// a store with Capabilities.Versions offers beside Store (the S3 store).
// verify --ledger reads the version the custody ledger recorded, so that a
// later version written over it does not hide what was committed.
type VersionReader interface {
	// StatVersion reports that version of the object at key as Stat
	// does, with its retention and legal hold as the server holds them
	// (empty where they cannot be read); ErrNotExist when there is no
	// such version.
	StatVersion(ctx context.Context, key, versionID string) (Object, error)
	// OpenVersion streams that version's bytes; ErrNotExist when there
	// is no such version.
	OpenVersion(ctx context.Context, key, versionID string) (io.ReadCloser, error)
}

var _ VersionReader = (*S3Store)(nil)

// StatVersion reports one version of the object at key as the server does.
func (s *S3Store) StatVersion(ctx context.Context, key, versionID string) (Object, error) {
	if err := checkKey(key); err != nil {
		return Object{}, fmt.Errorf("archive: stat %s: %w", key, err)
	}
	if versionID == "" {
		return Object{}, fmt.Errorf("archive: stat %s: no version id", s.URI(key))
	}
	obj, err := s.head(ctx, key, versionID)
	if err != nil {
		return Object{}, fmt.Errorf("archive: stat %s version %s: %w", s.URI(key), versionID, err)
	}
	s.versionLock(ctx, key, &obj)
	return obj, nil
}

// versionLock completes obj's retention and legal hold from the server
// when HEAD did not carry them (a server or a policy that leaves them
// out): what it cannot read stays empty.
func (s *S3Store) versionLock(ctx context.Context, key string, obj *Object) {
	full, vid := aws.String(s.ObjectKey(key)), nzString(obj.VersionID)
	if obj.LockMode == "" || obj.RetainUntil.IsZero() {
		out, err := s.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(s.bucket), Key: full, VersionId: vid})
		if err == nil && out.Retention != nil {
			obj.LockMode = string(out.Retention.Mode)
			if out.Retention.RetainUntilDate != nil {
				obj.RetainUntil = out.Retention.RetainUntilDate.UTC()
			}
		}
	}
	if !obj.LegalHold {
		out, err := s.client.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String(s.bucket), Key: full, VersionId: vid})
		obj.LegalHold = err == nil && out.LegalHold != nil && out.LegalHold.Status == types.ObjectLockLegalHoldStatusOn
	}
}

// OpenVersion streams one version of the object at key, as stored (like
// Open, without the SDK's checksum validation).
func (s *S3Store) OpenVersion(ctx context.Context, key, versionID string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", key, err)
	}
	if versionID == "" {
		return nil, fmt.Errorf("archive: open %s: no version id", s.URI(key))
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.ObjectKey(key)), VersionId: aws.String(versionID)},
		func(o *s3.Options) { o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired })
	if err != nil {
		if isNotFound(err) {
			err = ErrNotExist
		}
		return nil, fmt.Errorf("archive: open %s version %s: %w", s.URI(key), versionID, err)
	}
	return out.Body, nil
}
