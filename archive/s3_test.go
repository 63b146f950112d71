package archive_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// smallParts keeps multipart tests quick: 5 MiB parts, 2 in flight.
var smallParts = archive.Options{PartSize: 5 * mib, PartConcurrency: 2, MaxUploads: 2}

// TestS3Store runs the store suite on an S3 store under a prefix of a fresh
// bucket, unversioned and versioned, with 5 MiB parts.
func TestS3Store(t *testing.T) {
	t.Parallel()
	for _, versioned := range []bool{false, true} {
		t.Run(map[bool]string{false: "unversioned", true: "versioned"}[versioned], func(t *testing.T) {
			t.Parallel()
			archivetest.Run(t, func(t *testing.T) archivetest.Fixture {
				b := archivetest.NewBucket(t, archivetest.BucketOptions{Versioning: versioned})
				st := s3Store(t, b, "prefix/run1", smallParts)
				ctx := context.Background()
				full := func(key string) *string { return aws.String(st.ObjectKey(key)) }
				return archivetest.Fixture{
					Store: st,
					Area:  st.Prefix(),
					List: func(t *testing.T) []string {
						names := archivetest.Keys(t, b)
						for _, k := range archivetest.IncompleteUploads(t, b) {
							names = append(names, "upload:"+k)
						}
						return names
					},
					Write: func(t *testing.T, key string, data []byte) {
						t.Helper()
						if _, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: full(key), Body: bytes.NewReader(data)}); err != nil {
							t.Fatalf("overwrite %s: %v", key, err)
						}
					},
					Remove: func(t *testing.T, key string) {
						t.Helper()
						if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: full(key)}); err != nil {
							t.Fatalf("delete %s: %v", key, err)
						}
					},
					PartSize:      smallParts.PartSize,
					RacyIfVersion: true, // versitygw 1.8: If-Match is checked apart from the write
				}
			})
		})
	}
}

// TestS3ObjectHeaders: what Put stores beside the bytes, as the server
// reports it: the metadata, our SHA-256 when it was known before the upload
// (always for a single part, which is read whole first), the archived-by
// marker, the content type and the checksum the server checked (our SHA-256
// for a single part, CRC32C per part for a multipart upload).
func TestS3ObjectHeaders(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	st := s3Store(t, b, "h", smallParts)
	ctx := context.Background()
	tests := []struct {
		name       string
		size       int64
		platform   bool
		wantSHA256 bool // in the metadata
	}{
		{"single part, hash known", 1000, true, true},
		{"single part, hash unknown", 1000, false, true},
		{"multipart, hash known", 11 * mib, true, true},
		{"multipart, hash unknown", 11 * mib, false, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sum := genSHA256(t, uint64(i), tc.size)
			want := known(tc.size, sum)
			if !tc.platform {
				want.PlatformSHA256 = ""
			}
			want.ContentType = "video/mp4"
			key := "k/" + strings.ReplaceAll(tc.name, " ", "_") + ".mp4"
			if _, err := st.Put(ctx, key, newGen(uint64(i), tc.size), want); err != nil {
				t.Fatalf("Put: %v", err)
			}
			head, err := b.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String("h/" + key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if tc.size <= smallParts.PartSize {
				if got, want := aws.ToString(head.ChecksumSHA256), b64Hex(t, sum); got != want {
					t.Errorf("single part: checksum SHA256 = %q, want %q (our SHA-256)", got, want)
				}
			} else if head.ChecksumCRC32C == nil {
				t.Errorf("multipart: no CRC32C checksum (SHA256 %q, type %q)", aws.ToString(head.ChecksumSHA256), head.ChecksumType)
			}
			wantMD := map[string]string{"confuuid": testConf, "confid": "900000001", "filetype": "Hd", "archived-by": "meetarchive"}
			if tc.wantSHA256 {
				wantMD["sha256"] = sum
			}
			if !reflect.DeepEqual(head.Metadata, wantMD) {
				t.Errorf("metadata = %v, want %v", head.Metadata, wantMD)
			}
			if got := aws.ToString(head.ContentType); got != "video/mp4" {
				t.Errorf("content type = %q, want video/mp4", got)
			}
		})
	}
}

// TestS3LargeStreamBoundedMemory streams 200 MiB while sampling the heap.
func TestS3LargeStreamBoundedMemory(t *testing.T) {
	// Not parallel: it measures this process's heap.
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	opts := archive.Options{PartSize: 8 * mib, PartConcurrency: 2, MaxUploads: 1}
	st := s3Store(t, b, "big", opts)
	ctx := context.Background()
	const size = 200 * mib
	const seed = 42
	sum := genSHA256(t, seed, size)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseInuse, baseAlloc := ms.HeapInuse, ms.HeapAlloc
	var maxInuse, maxAlloc atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > maxInuse.Load() {
				maxInuse.Store(ms.HeapInuse)
			}
			if ms.HeapAlloc > maxAlloc.Load() {
				maxAlloc.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	gen := newGen(seed, size)
	start := time.Now()
	obj, err := st.Put(ctx, "2024/01/big/Hd_0_1.mp4", gen, known(size, sum))
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	growInuse := int64(maxInuse.Load()) - int64(baseInuse)
	growAlloc := int64(maxAlloc.Load()) - int64(baseAlloc)
	t.Logf("200 MiB in %v (%.0f MiB/s); heap growth: HeapInuse %.1f MiB, HeapAlloc %.1f MiB; part buffer budget %.0f MiB",
		elapsed, float64(size)/mib/elapsed.Seconds(), float64(growInuse)/mib, float64(growAlloc)/mib, float64(opts.MemoryBudget())/mib)
	limit := opts.MemoryBudget() + 8*mib // the part buffers, and little else
	if growInuse >= limit || growAlloc >= limit {
		t.Errorf("heap grew by %d (inuse) / %d (alloc) bytes, want < %d", growInuse, growAlloc, limit)
	}
	if gen.Sum() != sum || obj.SHA256 != sum || obj.Bytes != size {
		t.Errorf("Put = %d bytes %s; generator %s; want %d %s", obj.Bytes, obj.SHA256, gen.Sum(), int64(size), sum)
	}
	rc, err := st.Open(ctx, "2024/01/big/Hd_0_1.mp4")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got, n := readAllHash(t, rc); got != sum || n != size {
		t.Errorf("read back from S3: %d bytes sha256 %s, want %d %s", n, got, int64(size), sum)
	}
}

func TestS3ComplianceLockedVersionCannotBeDeleted(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
	st := s3Store(t, b, "locked", archive.Options{LockMode: "COMPLIANCE", RetainDays: 1})
	ctx := context.Background()
	if err := st.Preflight(ctx); err != nil {
		t.Fatalf("Preflight on an Object Lock bucket: %v", err)
	}
	data := []byte("a recording that must stay")
	before := time.Now().UTC()
	obj, err := st.Put(ctx, "2024/05/conf/Hd_0_1.mp4", bytes.NewReader(data), known(int64(len(data)), sha256Hex(data)))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if obj.VersionID == "" {
		t.Fatalf("Put: no VersionID read back from a versioned (locked) bucket")
	}
	if obj.LockMode != "COMPLIANCE" {
		t.Errorf("LockMode = %q, want COMPLIANCE (as read back)", obj.LockMode)
	}
	// What the server says, independently of the store.
	ret, err := b.Client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{
		Bucket: aws.String(b.Name), Key: aws.String("locked/2024/05/conf/Hd_0_1.mp4"), VersionId: aws.String(obj.VersionID)})
	if err != nil {
		t.Fatalf("GetObjectRetention: %v", err)
	}
	if got := aws.ToTime(ret.Retention.RetainUntilDate); !got.Equal(obj.RetainUntil) {
		t.Errorf("Object.RetainUntil = %v, server says %v", obj.RetainUntil, got)
	}
	if lo, hi := before.Add(24*time.Hour-time.Minute), time.Now().Add(24*time.Hour+time.Minute); obj.RetainUntil.Before(lo) || obj.RetainUntil.After(hi) {
		t.Errorf("RetainUntil = %v, want about a day from now", obj.RetainUntil)
	}

	_, err = b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String("locked/2024/05/conf/Hd_0_1.mp4"), VersionId: aws.String(obj.VersionID)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("DeleteObject(locked version) err = %v, want AccessDenied", err)
	}
	// GOVERNANCE bypass does not apply to COMPLIANCE either.
	_, err = b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String("locked/2024/05/conf/Hd_0_1.mp4"), VersionId: aws.String(obj.VersionID),
		BypassGovernanceRetention: aws.Bool(true)})
	if err == nil {
		t.Fatalf("DeleteObject(locked version, bypass governance) succeeded, want refusal")
	}
	rc, err := st.Open(ctx, "2024/05/conf/Hd_0_1.mp4")
	if err != nil {
		t.Fatalf("Open after refused delete: %v", err)
	}
	if got, _ := readAllHash(t, rc); got != sha256Hex(data) {
		t.Errorf("content after refused delete: sha256 %s, want %s", got, sha256Hex(data))
	}

	// A multipart upload gets the same lock; the sidecar too.
	const size = 6 * mib
	big, err := archive.NewS3Store(ctx, b.Name, "locked", archive.Options{PartSize: 5 * mib, LockMode: "COMPLIANCE", RetainDays: 1,
		ClientOptions: []func(*s3.Options){b.Env.ClientOption()}})
	if err != nil {
		t.Fatal(err)
	}
	mobj, err := big.Put(ctx, "2024/05/conf/Sd_0_2.mp4", newGen(9, size), known(size, genSHA256(t, 9, size)))
	if err != nil {
		t.Fatalf("Put multipart: %v", err)
	}
	if mobj.LockMode != "COMPLIANCE" || mobj.RetainUntil.IsZero() || mobj.VersionID == "" {
		t.Errorf("multipart read back = %+v, want COMPLIANCE with a retain-until and a version", mobj)
	}
	sc := archive.Sidecar{ConfUUID: "c0ffee00-0000-4000-8000-0000000000cc", ArchivedAt: time.Now(),
		Files: []archive.SidecarFile{archive.SidecarFileFrom("Hd", "0_1.mp4", obj), archive.SidecarFileFrom("Sd", "0_2.mp4", mobj)}}
	if err := archive.PutSidecar(ctx, big, sc); err != nil {
		t.Fatalf("PutSidecar: %v", err)
	}
	if _, ok, err := archive.Archived(ctx, big, sc.ConfUUID); !ok || err != nil {
		t.Errorf("Archived = %v, %v; want true", ok, err)
	}
	h, err := b.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String("locked/_meetarchive/" + sc.ConfUUID + ".json")})
	if err != nil {
		t.Fatalf("HeadObject(sidecar): %v", err)
	}
	if h.ObjectLockMode != types.ObjectLockModeCompliance {
		t.Errorf("sidecar lock = %q, want COMPLIANCE", h.ObjectLockMode)
	}
}

func TestS3GovernanceLegalHoldReadBack(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	st := s3Store(t, b, "", archive.Options{LockMode: "governance", RetainUntil: until, LegalHold: true})
	ctx := context.Background()
	data := bytes.Repeat([]byte("x"), 1000)
	obj, err := st.Put(ctx, "k/Hd_0_1.mp4", bytes.NewReader(data), known(1000, sha256Hex(data)))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if obj.LockMode != "GOVERNANCE" || !obj.RetainUntil.Equal(until) || !obj.LegalHold {
		t.Errorf("read back mode %q until %v hold %v, want GOVERNANCE %v true", obj.LockMode, obj.RetainUntil, obj.LegalHold, until)
	}
	// The legal hold keeps even a governance bypass from deleting the version.
	_, err = b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String("k/Hd_0_1.mp4"),
		VersionId: aws.String(obj.VersionID), BypassGovernanceRetention: aws.Bool(true)})
	if err == nil {
		t.Errorf("DeleteObject of a legal-hold version succeeded, want refusal")
	}
	// Let the cleanup remove it.
	_, _ = b.Client.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: aws.String(b.Name), Key: aws.String("k/Hd_0_1.mp4"),
		VersionId: aws.String(obj.VersionID), LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOff}})
}

func TestS3Preflight(t *testing.T) {
	t.Parallel()
	plain := archivetest.NewBucket(t, archivetest.BucketOptions{})
	locked := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
	env := plain.Env
	lock := archive.Options{LockMode: "COMPLIANCE", RetainDays: 1}
	badCreds := func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(env.AccessKey, "not-the-secret", "")
	}
	unknownKey := func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("no-such-access-key", "whatever", "")
	}
	tests := []struct {
		name     string
		bucket   string
		opts     archive.Options
		clientOp func(*s3.Options)
		wantErr  []error
		wantMsg  string
	}{
		{"plain bucket", plain.Name, archive.Options{}, nil, nil, ""},
		{"lock options on lock bucket", locked.Name, lock, nil, nil, ""},
		{"legal hold on lock bucket", locked.Name, archive.Options{LegalHold: true}, nil, nil, ""},
		{"lock options on plain bucket", plain.Name, lock, nil, []error{archive.ErrPreflight, archive.ErrLockUnsupported}, "Object Lock"},
		{"legal hold on plain bucket", plain.Name, archive.Options{LegalHold: true}, nil, []error{archive.ErrPreflight, archive.ErrLockUnsupported}, "Object Lock"},
		{"wrong secret", plain.Name, archive.Options{}, badCreds, []error{archive.ErrPreflight}, "credentials refused"},
		{"unknown access key", plain.Name, archive.Options{}, unknownKey, []error{archive.ErrPreflight}, "credentials refused"},
		{"missing bucket", "mat-no-such-bucket-0000", archive.Options{}, nil, []error{archive.ErrPreflight}, "bucket does not exist"},
		// versitygw accepts and ignores SSE headers: preflight must not pretend.
		{"sse not confirmed", plain.Name, archive.Options{SSE: "AES256"}, nil, []error{archive.ErrPreflight}, "server-side encryption AES256 asked"},
		{"unreachable endpoint", plain.Name, archive.Options{}, func(o *s3.Options) {
			o.BaseEndpoint = aws.String("http://127.0.0.1:1")
			o.RetryMaxAttempts = 1
		}, []error{archive.ErrPreflight}, "endpoint unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			opts.ClientOptions = []func(*s3.Options){env.ClientOption()}
			if tc.clientOp != nil {
				opts.ClientOptions = append(opts.ClientOptions, tc.clientOp)
			}
			st, err := archive.Open(context.Background(), "s3://"+tc.bucket+"/pre/flight", opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			err = st.Preflight(context.Background())
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Preflight err = %v, want errors.Is %v", err, want)
				}
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Preflight: %v", err)
			}
			if err != nil {
				t.Logf("Preflight: %v", err)
				msg := err.Error()
				for _, want := range []string{tc.wantMsg, tc.bucket, "endpoint http://127.0.0.1:"} {
					if !strings.Contains(msg, want) {
						t.Errorf("Preflight error %q does not name %q", msg, want)
					}
				}
				if strings.Contains(msg, env.SecretKey) || strings.Contains(msg, "not-the-secret") {
					t.Errorf("Preflight error reveals a secret: %q", msg)
				}
			}
		})
	}
	t.Cleanup(func() {
		// After every preflight (run after the subtests): no probe left behind.
		for _, b := range []archivetest.Bucket{plain, locked} {
			if got := archivetest.IncompleteUploads(t, b); len(got) != 0 {
				t.Errorf("%s: preflight left incomplete uploads %v", b.Name, got)
			}
			if got := archivetest.Keys(t, b); len(got) != 0 {
				t.Errorf("%s: preflight left objects %v", b.Name, got)
			}
		}
	})
}

// TestS3MaxUploads: no more than MaxUploads uploads read their source at once.
func TestS3MaxUploads(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	const maxUploads = 2
	st := s3Store(t, b, "", archive.Options{MaxUploads: maxUploads})
	var active, peak atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &slowReader{data: []byte(strings.Repeat("m", 100)), active: &active, peak: &peak}
			_, err := st.Put(context.Background(), "slot/"+string(rune('a'+i)), r, unknown())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	if got := peak.Load(); got != maxUploads {
		t.Errorf("peak uploads reading at once = %d, want %d (MaxUploads)", got, maxUploads)
	}
}

// slowReader counts itself active from its first read to EOF, and dawdles.
type slowReader struct {
	data         []byte
	started      bool
	active, peak *atomic.Int32
}

func (s *slowReader) Read(p []byte) (int, error) {
	if !s.started {
		s.started = true
		n := s.active.Add(1)
		for {
			old := s.peak.Load()
			if n <= old || s.peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(150 * time.Millisecond)
	}
	if len(s.data) == 0 {
		s.active.Add(-1)
		return 0, io.EOF
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// b64Hex is a hex digest in base64, as S3 checksum headers carry it.
func b64Hex(t *testing.T, h string) string {
	t.Helper()
	raw, err := hex.DecodeString(h)
	if err != nil {
		t.Fatalf("hex %q: %v", h, err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}
