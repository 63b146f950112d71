package archive

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
)

// partChecksumAlgorithm is the S3 checksum sent with every part of a
// multipart upload; the server recomputes it and refuses a part damaged on
// the way. Our SHA-256 of the whole stream (the manifest's) is computed once,
// as the stream is read; a per-part SHA-256 would hash every byte a second
// time, so parts carry CRC32C, which this process computes itself from the
// part's buffer and sends as a header, with an unsigned payload (the SDK
// would otherwise hash each part with SHA-256 again to sign it over plain
// HTTP). Measured by BenchmarkPartChecksum on the 2-core build machine
// (AMD EPYC with SHA-NI, 8 MiB parts, best of 5 runs on a busy machine):
// SHA-256 1.3 GB/s, CRC64NVME 0.75 GB/s (hash/crc64 has no hardware path),
// CRC32C 15 GB/s, CRC32 33 GB/s. At 200 MB/s of uploads a per-part SHA-256
// costs 15% of a core, CRC64NVME 27%, CRC32C 1.3%, CRC32 0.6%: CRC32C, the
// cheapest of the checksums S3 recommends for parts (CRC32's saving, 0.7% of
// a core, is below the noise), with better error detection on long messages.
// An unsigned payload is what the SDK itself sends over HTTPS; over plain
// HTTP the CRC32C (a signed header) still catches damage, not a deliberate
// change by someone on the path: use HTTPS beyond a trusted network.
//
// A single-part object (smaller than a part) instead carries SHA-256, our own
// hash of the whole stream: free, signed, and a full-object checksum the
// server keeps.
const partChecksumAlgorithm = types.ChecksumAlgorithmCrc32c

// maxParts is S3's limit on the parts of one multipart upload.
const maxParts = 10000

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// partSource cuts a checked stream into parts. It reads one byte past each
// full part, so that it knows which part is the last one before that part is
// sent: the stream's integrity check (at its end) then always runs before a
// multipart upload completes.
type partSource struct {
	r        io.Reader
	carry    [1]byte
	hasCarry bool
}

// fill reads the next part into bufs (size bytes of room). last reports that
// the stream ended with this part.
func (ps *partSource) fill(bufs [][]byte, size int64) (n int64, last bool, err error) {
	for _, buf := range bufs {
		room := buf[:min(int64(len(buf)), size-n)]
		off := 0
		if ps.hasCarry && len(room) > 0 {
			room[0] = ps.carry[0]
			ps.hasCarry = false
			off = 1
		}
		m, err := io.ReadFull(ps.r, room[off:])
		n += int64(off + m)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return n, true, nil
		case err != nil:
			return n, false, err
		}
		if n == size {
			break
		}
	}
	// The part is full: is there more?
	for {
		m, err := ps.r.Read(ps.carry[:])
		switch {
		case m == 1:
			ps.hasCarry = true
			return n, false, nil
		case err == io.EOF:
			return n, true, nil
		case err != nil:
			return n, false, err
		}
	}
}

// partLayout is the part size for a stream of size bytes (-1 if unknown) and
// the pool buffers one part takes: PartSize and one, unless the stream would
// need more than 10,000 parts, in which case parts grow by whole buffers.
func (s *S3Store) partLayout(size int64) (partSize int64, k int, err error) {
	bufSize := s.opts.PartSize
	k = 1
	if size > 0 && (size+bufSize-1)/bufSize > maxParts {
		per := (size + maxParts - 1) / maxParts // smallest part size that fits
		k = int((per + bufSize - 1) / bufSize)
	}
	partSize = int64(k) * bufSize
	if partSize > MaxPartSize {
		return 0, 0, fmt.Errorf("a %d-byte stream needs parts larger than S3's %d bytes", size, int64(MaxPartSize))
	}
	if k > s.pool.cap() {
		return 0, 0, fmt.Errorf("%w: a %d-byte stream needs parts of %d bytes (%d buffers), the budget holds %d buffers of %d bytes",
			errBudgetTooSmall, size, partSize, k, s.pool.cap(), bufSize)
	}
	return partSize, k, nil
}

// uploadState is what a failed upload leaves to clean up.
type uploadState struct {
	uploadID string // "" if no multipart upload was created (or its creation failed)
	creating bool   // CreateMultipartUpload was sent
}

// upload sends the checked stream cr to full: one PutObject when it fits in
// one part, else a multipart upload of parts read into pool buffers, at most
// PartConcurrency parts in flight. It never completes an upload whose stream
// did not end cleanly (the checking reader fails the read instead of EOF).
// On failure st says what to abort.
func (s *S3Store) upload(ctx context.Context, full string, cr *checkingReader, want Expect, size int64, st *uploadState) (versionID string, err error) {
	partSize, k, err := s.partLayout(size)
	if err != nil {
		return "", err
	}
	bufs, err := s.pool.get(ctx, k)
	if err != nil {
		return "", err
	}
	src := &partSource{r: cr}
	n, last, err := src.fill(bufs, partSize)
	if err != nil {
		s.pool.put(bufs)
		return "", err
	}
	if last {
		defer s.pool.put(bufs)
		return s.putSingle(ctx, full, bufs, n, cr.sum(), want)
	}

	create := s.createMultipartInput(full)
	create.Metadata, create.ContentType = objectMetadata(want), nzString(want.ContentType)
	st.creating = true
	cout, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		s.pool.put(bufs)
		return "", fmt.Errorf("create multipart upload: %w", err)
	}
	st.uploadID = aws.ToString(cout.UploadId)

	parts, err := s.sendParts(ctx, full, st.uploadID, src, partShape{size: partSize, bufs: k}, bufs, n)
	if err != nil {
		if f := cr.failure(); f != nil {
			return "", f // the stream's own failure is the cause, not the cancelled parts
		}
		return "", err
	}
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full), UploadId: aws.String(st.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return "", fmt.Errorf("complete multipart upload: %w", err)
	}
	st.uploadID = "" // completed: nothing to abort
	return aws.ToString(out.VersionId), nil
}

// partShape is the size of each part and the pool buffers one takes.
type partShape struct {
	size int64
	bufs int
}

// sendParts sends the parts of a multipart upload, the first one (not the
// last) already read into bufs (n bytes), the rest read from src into pool
// buffers, at most PartConcurrency in flight. The first failure stops
// reading and sending; parts already in flight are waited for, not
// cancelled (only the caller's ctx cancels them), because a server may still
// finish a part its client gave up on and so bring back the upload the
// caller then aborts; a part still unanswered cleanupTimeout after the
// failure is cancelled all the same. Parts come back in any order.
func (s *S3Store) sendParts(ctx context.Context, full, uploadID string, src *partSource, pl partShape, bufs [][]byte, n int64) ([]types.CompletedPart, error) {
	wctx, stop := context.WithCancel(ctx) // waits for a slot or buffers; ended by the first failure
	defer stop()
	// The parts' requests: the caller's ctx, and at most cleanupTimeout
	// after the first failure (a server that no longer answers a part
	// does not hold the upload, and its abort, for ever).
	pctx, cancelParts := context.WithCancel(ctx)
	defer cancelParts()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		parts    []types.CompletedPart
		firstErr error
		drain    *time.Timer
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			stop()
			drain = time.AfterFunc(cleanupTimeout, cancelParts)
		}
		mu.Unlock()
	}
	slots := make(chan struct{}, s.opts.PartConcurrency)
	last := false
	for num := int32(1); ; num++ {
		if num > maxParts {
			s.pool.put(bufs)
			fail(fmt.Errorf("stream longer than %d parts of %d bytes", maxParts, pl.size))
			break
		}
		select {
		case slots <- struct{}{}:
		case <-wctx.Done():
		}
		if wctx.Err() != nil {
			s.pool.put(bufs)
			fail(wctx.Err())
			break
		}
		wg.Add(1)
		go func(num int32, bufs [][]byte, n int64) {
			defer wg.Done()
			defer func() { <-slots }()
			defer s.pool.put(bufs)
			p, err := s.uploadPart(pctx, full, uploadID, num, bufs, n)
			if err != nil {
				fail(fmt.Errorf("upload part %d: %w", num, err))
				return
			}
			mu.Lock()
			parts = append(parts, p)
			mu.Unlock()
		}(num, bufs, n)
		if last {
			break
		}
		var err error
		if bufs, err = s.pool.get(wctx, pl.bufs); err != nil {
			fail(err)
			break
		}
		if n, last, err = src.fill(bufs, pl.size); err != nil {
			s.pool.put(bufs)
			fail(err)
			break
		}
	}
	wg.Wait()
	if drain != nil {
		drain.Stop()
	}
	return parts, firstErr
}

// createMultipartInput starts a multipart upload of full with the store's
// headers: checksum, lock, encryption, storage class (Preflight's probe too).
func (s *S3Store) createMultipartInput(full string) *s3.CreateMultipartUploadInput {
	lock := s.lockFor(time.Now())
	in := &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full),
		ChecksumAlgorithm:    partChecksumAlgorithm, // composite: a CRC32C per part, checked as each arrives
		StorageClass:         types.StorageClass(s.opts.StorageClass),
		ServerSideEncryption: types.ServerSideEncryption(s.opts.SSE), SSEKMSKeyId: nzString(s.opts.SSEKMSKeyID),
		ObjectLockMode: types.ObjectLockMode(lock.mode), ObjectLockRetainUntilDate: lock.retainUntil,
	}
	if lock.legalHold {
		in.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn
	}
	return in
}

// uploadPart sends one part with its CRC32C, computed here from the buffers,
// as an unsigned payload (see partChecksumAlgorithm).
func (s *S3Store) uploadPart(ctx context.Context, full, uploadID string, num int32, bufs [][]byte, n int64) (types.CompletedPart, error) {
	return s.sendPart(ctx, full, uploadID, num, bufs, n, partCRC32C(bufs, n))
}

// partCRC32C is the base64 CRC32C of the first n bytes of bufs.
func partCRC32C(bufs [][]byte, n int64) string {
	sum := crc32.Checksum(nil, crc32c)
	for _, b := range bufs {
		c := min(int64(len(b)), n)
		sum = crc32.Update(sum, crc32c, b[:c])
		n -= c
	}
	return base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
}

// sendPart sends a part with the given CRC32C checksum.
func (s *S3Store) sendPart(ctx context.Context, full, uploadID string, num int32, bufs [][]byte, n int64, crc string) (types.CompletedPart, error) {
	body := newPartBody(bufs, n)
	defer body.detach()
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full), UploadId: aws.String(uploadID),
		PartNumber: aws.Int32(num), Body: body, ContentLength: aws.Int64(n),
		ChecksumAlgorithm: partChecksumAlgorithm, ChecksumCRC32C: aws.String(crc),
	}, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	if err != nil {
		return types.CompletedPart{}, err
	}
	return types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32C: aws.String(crc)}, nil
}

// putSingle stores a stream that fit in one part with one PutObject. The
// stream has been read to its end and checked, so our SHA-256 is known: it
// goes in the metadata, as the request's SHA-256 checksum (the server checks
// it) and as the signed payload hash (the SDK need not hash the body again).
func (s *S3Store) putSingle(ctx context.Context, full string, bufs [][]byte, n int64, hexSum string, want Expect) (string, error) {
	raw, err := hex.DecodeString(hexSum)
	if err != nil {
		return "", fmt.Errorf("our sha256 %q: %w", hexSum, err)
	}
	md := objectMetadata(want)
	md[metaSHA256] = hexSum
	lock := s.lockFor(time.Now())
	body := newPartBody(bufs, n)
	defer body.detach()
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full), Body: body, ContentLength: aws.Int64(n),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(raw)),
		Metadata: md, ContentType: nzString(want.ContentType),
		StorageClass:         types.StorageClass(s.opts.StorageClass),
		ServerSideEncryption: types.ServerSideEncryption(s.opts.SSE), SSEKMSKeyId: nzString(s.opts.SSEKMSKeyID),
		ObjectLockMode: types.ObjectLockMode(lock.mode), ObjectLockRetainUntilDate: lock.retainUntil,
	}
	if lock.legalHold {
		in.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn
	}
	out, err := s.client.PutObject(ctx, in, withPayloadHash(hexSum))
	if err != nil {
		return "", fmt.Errorf("put object: %w", err)
	}
	return aws.ToString(out.VersionId), nil
}

// withPayloadHash gives the SigV4 signer a payload hash already known, so it
// does not read the body to compute one.
func withPayloadHash(hexSum string) func(*s3.Options) {
	return s3.WithAPIOptions(func(stack *middleware.Stack) error {
		return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("meetarchivePayloadHash",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				return next.HandleFinalize(v4.SetPayloadHash(ctx, hexSum), in)
			}), "ComputePayloadHash", middleware.Before)
	})
}
