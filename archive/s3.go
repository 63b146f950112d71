package archive

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// ChecksumAlgorithm is the S3 checksum of the small requests the store sends
// whole (sidecars): the SDK computes it and the server checks it. Recordings
// are sent as parts with CRC32C, or whole with our own SHA-256: see
// partChecksumAlgorithm.
const ChecksumAlgorithm = "SHA256"

// cleanupTimeout bounds the work done after a failed or cancelled upload
// (aborting its multipart upload) and the read-back after a successful one,
// on a context that outlives the caller's.
const cleanupTimeout = time.Minute

// S3Store stores objects in an S3-compatible bucket under a prefix.
//
// Put streams a recording in parts read into buffers of the store's memory
// budget (Options.Memory: one bounded pool shared by all its uploads), as
// one PutObject when it fits in one part, else as a multipart upload, hashing
// every byte once as it goes; the integrity check runs when the stream ends
// and fails the read, so a mismatched, short or failed stream never completes
// its upload (the multipart upload is aborted; a single PutObject is never
// sent). At most Options.MaxUploads uploads run at once.
//
// Unlike a DirStore, Put does not refuse a key that holds another
// conference's object (ErrKeyTaken). Checking would cost a HEAD before every
// upload (the HEAD Put makes comes after it, when an unversioned bucket has
// already lost the old object), and no conditional write can say "only if
// the object there is this conference's": If-None-Match would refuse a
// rerun's own replacement too. Keys of different conferences are kept apart
// before any upload instead: the key template must use {{.ConfUUID}}
// (ParseKeyTemplate), a caller checks a conference's keys with KeyCollision,
// and Stat reports an object's owner (Object.Metadata["confuuid"]) to a
// caller that looks before it writes, as one resuming a conference does. A
// bucket with versioning or Object Lock keeps every replaced version.
//
// Every object Put writes carries the metadata archived-by=meetarchive,
// which Stat reports as Object.Marked (Capabilities.MarksObjects): an
// object another tool overwrote has lost it. PutMeta sends its conditions
// as If-None-Match: * and If-Match (Capabilities.ConditionalWrites); the
// state's lease depends on the server honouring them.
type S3Store struct {
	client   *s3.Client
	pool     *partPool // part buffers of all uploads: the memory budget
	bucket   string
	prefix   string // "" or ending in "/"
	endpoint string // for messages
	opts     Options
	sem      chan struct{}
}

var _ Store = (*S3Store)(nil)

// NewS3Store opens bucket (keys under prefix) with the standard AWS
// configuration chain, overridden by opts. It makes no request: call Preflight.
func NewS3Store(ctx context.Context, bucket, prefix string, opts Options) (*S3Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := validBucketName(bucket); err != nil {
		return nil, fmt.Errorf("archive: s3 store: %w", err)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return nil, fmt.Errorf("archive: s3 store: prefix: %w", err)
		}
		prefix += "/"
	}
	o := opts.withDefaults()

	var lo []func(*config.LoadOptions) error
	if o.Region != "" {
		lo = append(lo, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Logger != nil {
		lo = append(lo, config.WithLogger(o.Logger))
	}
	// No config.WithHTTPClient: with AWS_CA_BUNDLE set it makes LoadDefaultConfig
	// fail; the SDK's default client honours AWS_CA_BUNDLE by itself.
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("archive: s3 store: AWS profile %q (%s) is in none of %s: %w",
				pe.Profile, profileSource(o.Profile), strings.Join(sharedFiles(), " and "), err)
		}
		return nil, fmt.Errorf("archive: s3 store: load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	optFns := []func(*s3.Options){func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		// Multipart objects have composite checksums the SDK cannot validate
		// on GET; do not log that on every read (Verify hashes everything anyway).
		so.DisableLogOutputChecksumValidationSkipped = true
	}}
	optFns = append(optFns, o.ClientOptions...)
	optFns = append(optFns, func(so *s3.Options) {
		if so.BaseEndpoint != nil && localEndpoint(*so.BaseEndpoint) {
			so.UsePathStyle = true // virtual-host style cannot work on an IP address
		}
	})
	client := s3.NewFromConfig(cfg, optFns...)
	endpoint := "AWS S3 (" + cfg.Region + ")"
	if be := client.Options().BaseEndpoint; be != nil {
		endpoint = *be
	}
	return &S3Store{
		client: client, pool: newPartPool(o.MemoryBudget(), o.PartSize), bucket: bucket, prefix: prefix, endpoint: endpoint,
		opts: o, sem: make(chan struct{}, o.MaxUploads),
	}, nil
}

// localEndpoint reports whether an endpoint URL's host is an IP address or localhost.
func localEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || net.ParseIP(h) != nil
}

// Client is the underlying S3 client (tests, tools).
func (s *S3Store) Client() *s3.Client { return s.client }

// Bucket is the store's bucket.
func (s *S3Store) Bucket() string { return s.bucket }

// Prefix is the store's key prefix ("" or ending in "/").
func (s *S3Store) Prefix() string { return s.prefix }

// Endpoint describes the endpoint, for messages.
func (s *S3Store) Endpoint() string { return s.endpoint }

// ObjectKey is the full S3 key of key (prefix + key).
func (s *S3Store) ObjectKey(key string) string { return s.prefix + key }

// URI is s3://bucket/prefix/key.
func (s *S3Store) URI(key string) string { return "s3://" + s.bucket + "/" + s.prefix + key }

// RootURI is s3://bucket/prefix/ (s3://bucket/ without a prefix).
func (s *S3Store) RootURI() string { return s.URI("") }

// Capabilities: conditional writes (If-None-Match, If-Match), Object Lock,
// encryption and storage classes, a checksum the server checks on every
// request, versions, the archived-by mark, and Options.MaxUploads uploads at
// once. Times are rough (LastModified as the server stamped it, from the
// listing or HEAD, no extra call), not comparable (the servers of a cluster
// need not agree on the clock), and another conference's object is replaced
// (see S3Store).
func (s *S3Store) Capabilities() Capabilities {
	return Capabilities{ConditionalWrites: true, RoughTimes: true, ObjectLock: true, Encryption: true, ServerChecksums: true,
		Versions: true, MarksObjects: true, UploadSlots: s.UploadSlots()}
}

// Close releases nothing; it exists for Store.
func (s *S3Store) Close() error { return nil }

// lockFields are the Object Lock, SSE and storage-class request values.
type lockFields struct {
	mode        string
	retainUntil *time.Time
	legalHold   bool
}

func (s *S3Store) lockFor(now time.Time) lockFields {
	var l lockFields
	if s.opts.LockMode != "" {
		l.mode = s.opts.LockMode
		t := s.opts.retainUntil(now)
		l.retainUntil = &t
	}
	l.legalHold = s.opts.LegalHold
	return l
}

// UploadSlots is how many uploads Put takes at once (Options.MaxUploads); a
// further Put waits for one to end. A caller that opens a source stream per
// upload (a media download) opens no more than this many, so that none sits
// open and idle while it waits.
func (s *S3Store) UploadSlots() int { return cap(s.sem) }

func (s *S3Store) lockRequested() bool { return s.opts.LockMode != "" || s.opts.LegalHold }

// Put streams r to key; see Store and S3Store.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader, want Expect) (Object, error) {
	if err := checkPutKeyFor(key, want); err != nil {
		return Object{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	if want.PlatformSHA256 != "" && !validSHA256(want.PlatformSHA256) {
		return Object{}, fmt.Errorf("archive: put %s: %w: platform sha256 %q is not a hex SHA-256", key, ErrIntegrity, want.PlatformSHA256)
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return Object{}, fmt.Errorf("archive: put %s: %w", key, ctx.Err())
	}
	defer func() { <-s.sem }()

	full := s.ObjectKey(key)
	cr := newCheckingReader(ctx, r, want)
	// The expected size lets the part size grow for very long streams (more
	// than 10,000 parts).
	size := int64(-1)
	switch {
	case want.Size >= 0:
		size = want.Size
	case want.PlatformSize >= 0:
		size = want.PlatformSize
	}
	started := time.Now()
	var st uploadState
	versionID, err := s.upload(ctx, full, cr, want, size, &st)
	if err != nil {
		s.cleanupFailedUpload(ctx, full, st, started)
		if f := cr.failure(); f != nil {
			err = f // our own verdict (integrity, source, ctx) is the clearer one
		}
		return Object{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	if !cr.complete() {
		// Cannot happen (upload reads to EOF before it completes); never
		// keep an object whose stream was not checked.
		_ = s.deleteVersion(ctx, full, versionID)
		return Object{}, fmt.Errorf("archive: put %s: upload completed before the stream was checked", key)
	}
	obj, err := s.readBack(ctx, key, versionID)
	if err != nil {
		return Object{}, fmt.Errorf("archive: put %s: read back: %w", key, err)
	}
	var bad string
	switch {
	case obj.Bytes != cr.n:
		bad = fmt.Sprintf("server reports %d bytes, sent %d", obj.Bytes, cr.n)
	case obj.SHA256 != "" && obj.SHA256 != cr.sum():
		bad = fmt.Sprintf("server reports sha256 %s, sent %s", obj.SHA256, cr.sum())
	}
	if bad != "" {
		// Stored but not what was sent: remove that version (refused if locked).
		if derr := s.deleteVersion(ctx, full, obj.VersionID); derr != nil {
			bad += fmt.Sprintf("; version %q could not be removed: %v", obj.VersionID, derr)
		}
		return Object{}, fmt.Errorf("archive: put %s: %w: %s", key, ErrIntegrity, bad)
	}
	obj.SHA256 = cr.sum()
	return obj, nil
}

func nzString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// objectMetadata is the user metadata stored with an object: the caller's
// (confuuid, confid, filetype; see normalizeMetadata), values that are not
// printable ASCII MIME-encoded (as S3 requires), plus sha256 when the
// platform announced it (the upload only completes if it matches), plus
// archived-by=meetarchive.
func objectMetadata(want Expect) map[string]string {
	user := normalizeMetadata(want.Metadata)
	md := make(map[string]string, len(user)+2)
	for k, v := range user {
		md[k] = metadataValue(v)
	}
	if want.PlatformSHA256 != "" {
		md[metaSHA256] = strings.ToLower(want.PlatformSHA256)
	}
	md[markerKey] = markerValue
	return md
}

// cleanupFailedUpload makes sure a failed upload leaves no multipart upload
// behind, on a context that outlives the caller's: it aborts the upload it
// created and, when CreateMultipartUpload was sent but its answer (the upload
// ID) never came (e.g. ctx cancelled meanwhile), aborts uploads of this exact
// key started since this Put began (less a minute of clock skew).
func (s *S3Store) cleanupFailedUpload(ctx context.Context, full string, st uploadState, started time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if st.uploadID != "" {
		// A part the server was still writing when the abort came can
		// leave the upload behind (seen with versitygw under load): look
		// again, and abort again, a few times.
		for try := range 4 {
			s.abort(ctx, full, st.uploadID)
			if !s.uploadExists(ctx, full, st.uploadID) {
				return
			}
			select {
			case <-time.After(100 * time.Millisecond << try):
			case <-ctx.Done():
				return
			}
		}
		return
	}
	if !st.creating {
		return
	}
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.bucket), Prefix: aws.String(full),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, u := range page.Uploads {
			if aws.ToString(u.Key) != full || u.UploadId == nil {
				continue
			}
			if u.Initiated != nil && u.Initiated.Before(started.Add(-time.Minute)) {
				continue // not ours
			}
			s.abort(ctx, full, *u.UploadId)
		}
	}
}

// uploadExists reports whether a multipart upload is still open (false
// when the server says there is no such upload, or cannot tell).
func (s *S3Store) uploadExists(ctx context.Context, full, uploadID string) bool {
	_, err := s.client.ListParts(ctx, &s3.ListPartsInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full), UploadId: aws.String(uploadID), MaxParts: aws.Int32(1),
	})
	return err == nil
}

func (s *S3Store) abort(ctx context.Context, full, uploadID string) {
	_, _ = s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full), UploadId: aws.String(uploadID),
	})
}

func (s *S3Store) deleteVersion(ctx context.Context, full, versionID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full), VersionId: nzString(versionID),
	})
	return err
}

// readBack asks the server what it stored: size, version, lock mode,
// retain-until and legal hold (HeadObject, then GetObjectRetention and
// GetObjectLegalHold when a lock was asked and HEAD did not say).
func (s *S3Store) readBack(ctx context.Context, key, versionID string) (Object, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	full := s.ObjectKey(key)
	obj, err := s.head(ctx, key, versionID)
	if err != nil {
		return obj, err
	}
	if !s.lockRequested() {
		return obj, nil
	}
	vid := nzString(obj.VersionID)
	if s.opts.LockMode != "" && (obj.LockMode == "" || obj.RetainUntil.IsZero()) {
		out, err := s.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{
			Bucket: aws.String(s.bucket), Key: aws.String(full), VersionId: vid,
		})
		if err != nil {
			return obj, fmt.Errorf("get object retention: %w", err)
		}
		if out.Retention != nil {
			obj.LockMode = string(out.Retention.Mode)
			if out.Retention.RetainUntilDate != nil {
				obj.RetainUntil = out.Retention.RetainUntilDate.UTC()
			}
		}
	}
	if s.opts.LegalHold && !obj.LegalHold {
		out, err := s.client.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{
			Bucket: aws.String(s.bucket), Key: aws.String(full), VersionId: vid,
		})
		if err != nil {
			return obj, fmt.Errorf("get object legal hold: %w", err)
		}
		obj.LegalHold = out.LegalHold != nil && out.LegalHold.Status == types.ObjectLockLegalHoldStatusOn
	}
	return obj, nil
}

// head is HeadObject mapped to an Object. SHA256 is the object's sha256
// metadata, else its full-object SHA-256 checksum, else "".
func (s *S3Store) head(ctx context.Context, key, versionID string) (Object, error) {
	_, obj, err := s.headOutput(ctx, key, versionID)
	return obj, err
}

func (s *S3Store) headOutput(ctx context.Context, key, versionID string) (*s3.HeadObjectOutput, Object, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.ObjectKey(key)),
		VersionId: nzString(versionID), ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		if isNotFound(err) {
			return nil, Object{}, ErrNotExist
		}
		return nil, Object{}, err
	}
	obj := Object{
		Key: key, URI: s.URI(key), Bytes: aws.ToInt64(out.ContentLength),
		VersionID: aws.ToString(out.VersionId), LockMode: string(out.ObjectLockMode),
		LegalHold: out.ObjectLockLegalHoldStatus == types.ObjectLockLegalHoldStatusOn,
		SSE:       string(out.ServerSideEncryption), StorageClass: string(out.StorageClass),
		ModTime: aws.ToTime(out.LastModified).UTC(),
	}
	if obj.VersionID == "" {
		obj.VersionID = versionID
	}
	if out.ObjectLockRetainUntilDate != nil {
		obj.RetainUntil = out.ObjectLockRetainUntilDate.UTC()
	}
	obj.Metadata = readMetadata(out.Metadata)
	obj.Marked = out.Metadata[markerKey] == markerValue
	if v := strings.ToLower(out.Metadata[metaSHA256]); validSHA256(v) {
		obj.SHA256 = v
	} else if sum := fullObjectSHA256(out.ChecksumSHA256, out.ChecksumType); sum != "" {
		obj.SHA256 = sum
	}
	return out, obj, nil
}

// fullObjectSHA256 turns a full-object base64 SHA-256 checksum into hex; "" for
// a composite (multipart) checksum or none.
func fullObjectSHA256(b64 *string, typ types.ChecksumType) string {
	if b64 == nil || typ == types.ChecksumTypeComposite || strings.Contains(*b64, "-") {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(*b64)
	if err != nil || len(raw) != 32 {
		return ""
	}
	return hex.EncodeToString(raw)
}

// Stat reports the object at key as the server does; ErrNotExist if absent.
func (s *S3Store) Stat(ctx context.Context, key string) (Object, error) {
	if err := checkKey(key); err != nil {
		return Object{}, fmt.Errorf("archive: stat %s: %w", key, err)
	}
	obj, err := s.head(ctx, key, "")
	if err != nil {
		return Object{}, fmt.Errorf("archive: stat %s: %w", s.URI(key), err)
	}
	return obj, nil
}

// Open streams the object at key; ErrNotExist if absent. The bytes come as
// stored, without the SDK's checksum validation: Verify hashes every byte
// itself, and reports a damaged object as a mismatch rather than a read error.
func (s *S3Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", key, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.ObjectKey(key))},
		func(o *s3.Options) { o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired })
	if err != nil {
		if isNotFound(err) {
			err = ErrNotExist
		}
		return nil, fmt.Errorf("archive: open %s: %w", s.URI(key), err)
	}
	return out.Body, nil
}

// Preflight checks, before any download: the bucket is reachable with these
// credentials (HeadBucket); when lock options are set, the bucket has Object
// Lock enabled (else ErrLockUnsupported); and it is writable with the very
// headers uploads will use (lock, SSE, storage class, checksum): a probe
// multipart upload under `<prefix>_meetarchive/.preflight-<random>` is created,
// given one small part and aborted, so nothing is left behind, not even on a
// bucket whose default retention would make a probe object undeletable. With
// SSE asked, the server must confirm that encryption in its answer.
// Every failure wraps ErrPreflight and names the endpoint and bucket.
func (s *S3Store) Preflight(ctx context.Context) error {
	fail := func(what string, causes ...error) error {
		err := fmt.Errorf("archive: preflight endpoint %s bucket %s: %s: %w", s.endpoint, s.bucket, what, ErrPreflight)
		for _, c := range causes {
			err = fmt.Errorf("%w: %w", err, c)
		}
		return err
	}
	// Credentials first: without any, every request fails before it is
	// sent, and that is not the endpoint's fault. (A success is cached
	// for the requests that follow.)
	if creds := s.client.Options().Credentials; creds != nil {
		if _, err := creds.Retrieve(ctx); err != nil {
			if isCtxErr(err) {
				return fail("cancelled", err)
			}
			return fail(noCredentials(s.opts.Profile), err)
		}
	}
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		if isCtxErr(err) {
			return fail("cancelled", err)
		}
		return fail(s.explainAccess(ctx, err), err)
	}
	if s.lockRequested() {
		out, err := s.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(s.bucket)})
		switch {
		case err != nil && apiCode(err) == "ObjectLockConfigurationNotFoundError":
			return fail("object lock options given but the bucket has no Object Lock configuration", ErrLockUnsupported)
		case err != nil:
			return fail("read the bucket's object lock configuration", err)
		case out.ObjectLockConfiguration == nil || out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled:
			return fail("object lock options given but Object Lock is not enabled on the bucket", ErrLockUnsupported)
		}
	}
	sse, err := s.probeWrite(ctx)
	if err != nil {
		return fail("write probe", err)
	}
	if s.opts.SSE != "" && sse != s.opts.SSE {
		// S3 echoes the encryption it applies; a server that ignores the
		// header (versitygw does) would store the recordings in the clear.
		return fail(fmt.Sprintf("server-side encryption %s asked but the server confirms %q", s.opts.SSE, sse))
	}
	return nil
}

// explainAccess names why the bucket could not be reached. HEAD answers carry
// no error code, so a failed HeadBucket is followed by a ListObjectsV2 whose
// error body says more (NoSuchBucket, InvalidAccessKeyId, ...). versitygw
// answers an unknown access key with 404 XAdminUserNotFound, not 403.
func (s *S3Store) explainAccess(ctx context.Context, headErr error) string {
	code := apiCode(headErr)
	status := httpStatus(headErr)
	if status == 0 {
		return unreachable(headErr)
	}
	if _, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), MaxKeys: aws.Int32(1), Prefix: nzString(s.prefix),
	}); err != nil {
		if c := apiCode(err); c != "" {
			code = c
		}
	}
	switch code {
	case "NoSuchBucket":
		return "bucket does not exist"
	case "InvalidAccessKeyId", "XAdminUserNotFound", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId", "AuthorizationHeaderMalformed":
		return fmt.Sprintf("credentials refused (%s)", code)
	case "AccessDenied", "AllAccessDisabled":
		return fmt.Sprintf("access denied (%s): check the credentials and the bucket policy", code)
	case "PermanentRedirect", "AuthorizationHeaderMalformedRegion":
		return fmt.Sprintf("wrong region (%s)", code)
	}
	switch status {
	case 404:
		return "bucket does not exist"
	case 403:
		return "access denied: check the credentials and the bucket policy"
	case 301, 307:
		return "wrong region"
	}
	return fmt.Sprintf("bucket not reachable (HTTP %d %s)", status, code)
}

// noCredentials says which credentials the AWS configuration chain looked
// for and found none of, naming the profile and files it read.
func noCredentials(profile string) string {
	name := profile
	if name == "" {
		name = os.Getenv("AWS_PROFILE")
	}
	if name == "" {
		name = "default"
	}
	return fmt.Sprintf("no AWS credentials found: looked for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, "+
		"profile %q (%s) in %s, a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN), "+
		"container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI) and the EC2 instance role; "+
		"set one of them (or choose a profile with --s3-profile or AWS_PROFILE)",
		name, profileSource(profile), strings.Join(sharedFiles(), " and "))
}

// profileSource says where the AWS profile's name came from.
func profileSource(profile string) string {
	switch {
	case profile != "":
		return "--s3-profile"
	case os.Getenv("AWS_PROFILE") != "":
		return "AWS_PROFILE"
	}
	return "the default, as AWS_PROFILE is not set"
}

// sharedFiles are the shared credentials and config files the AWS
// configuration reads (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, or
// their defaults under ~/.aws).
func sharedFiles() []string {
	creds, cfg := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), os.Getenv("AWS_CONFIG_FILE")
	if creds == "" {
		creds = config.DefaultSharedCredentialsFilename()
	}
	if cfg == "" {
		cfg = config.DefaultSharedConfigFilename()
	}
	return []string{creds, cfg}
}

// unreachable names why a request got no HTTP answer at all: the
// endpoint's host name does not resolve, nothing listens there, its TLS
// certificate is not trusted, or it did not answer in time.
func unreachable(err error) string {
	var (
		dns *net.DNSError
		uae x509.UnknownAuthorityError
		hne x509.HostnameError
		cie x509.CertificateInvalidError
		cve *tls.CertificateVerificationError
		ne  net.Error
	)
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("endpoint unreachable: its host name %s does not resolve (DNS): check --s3-endpoint (or AWS_ENDPOINT_URL_S3) and the DNS", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "endpoint unreachable: connection refused (nothing listens there): check --s3-endpoint (or AWS_ENDPOINT_URL_S3) and that the server is up"
	case errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie):
		return "endpoint's TLS certificate not trusted: give its CA in AWS_CA_BUNDLE (a PEM file), or check --s3-endpoint"
	case errors.As(err, &ne) && ne.Timeout():
		return "endpoint unreachable: no answer in time (timeout): check the network, proxies and --s3-endpoint"
	}
	return "endpoint unreachable: check --s3-endpoint (or AWS_ENDPOINT_URL_S3) and the network"
}

// probeWrite creates a multipart upload with the upload headers, sends one
// small part and aborts it. sse is the encryption the server says it applies.
func (s *S3Store) probeWrite(ctx context.Context) (sse string, err error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	key := s.ObjectKey(SidecarDir + "/.preflight-" + hex.EncodeToString(rnd[:]))
	out, err := s.client.CreateMultipartUpload(ctx, s.createMultipartInput(key))
	if err != nil {
		return "", fmt.Errorf("create multipart upload: %w", err)
	}
	sse = string(out.ServerSideEncryption)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	probe := [][]byte{[]byte("meetarchive preflight\n")}
	_, perr := s.uploadPart(ctx, key, aws.ToString(out.UploadId), 1, probe, int64(len(probe[0])))
	_, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: out.UploadId,
	})
	if perr != nil {
		return sse, fmt.Errorf("upload part: %w", perr)
	}
	if aerr != nil {
		return sse, fmt.Errorf("abort probe upload %s: %w", key, aerr)
	}
	return sse, nil
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// isNotFound: no such key or version (a missing bucket is not "not found").
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	switch apiCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchVersion":
		return true
	case "NoSuchBucket":
		return false
	}
	return httpStatus(err) == 404
}
