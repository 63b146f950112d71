package archive

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// Defaults for Options' zero values.
const (
	DefaultPartSize        = 8 << 20 // bytes
	DefaultPartConcurrency = 4
	DefaultMaxUploads      = 4

	// MinPartSize and MaxPartSize are S3's limits for a multipart upload part.
	MinPartSize = 5 << 20
	MaxPartSize = 5 << 30
)

// Lock modes and SSE algorithms accepted by Options.
const (
	LockGovernance = "GOVERNANCE"
	LockCompliance = "COMPLIANCE"
	SSEAES256      = "AES256"
	SSEKMS         = "aws:kms"
)

// Options configure a store. Only the S3 store uses them; a directory store
// refuses the S3-only ones (lock, SSE, storage class).
//
// Memory budget of an S3 store: the part buffers of all its uploads come from
// one bounded pool of Memory/PartSize buffers of PartSize bytes, so they never
// exceed Memory bytes however many uploads are in flight. An upload takes a
// buffer for the part it reads and gives it back once the part is sent; it
// holds at most PartConcurrency+1 (PartConcurrency sending, one filling). By
// default
//
//	Memory = MaxUploads x 2 x PartSize    (4 x 2 x 8 MiB = 64 MiB)
//
// one part filling and one sending per upload, which keeps the uploads at the
// S3 server's speed (an idle upload's share goes to the busy ones). A
// recording is never held whole unless it is smaller than one part. A stream
// of known size that would need more than 10,000 parts gets parts of several
// buffers (from 80 GiB at 8 MiB parts); Put refuses it when one such part
// exceeds the budget.
//
// The process holds about Memory + 35 MiB at its peak (16 uploads of 64 MiB,
// 4 at once: 99 MiB with the default 64 MiB, 67 MiB with 32 MiB, 131 MiB
// with 96 MiB; the former transfermanager path held 320 MiB). The buffers
// are allocated once and recycled, so uploads make little garbage (14 MiB
// per GiB sent): over 16 files of 64 MiB, GOGC 25..100 or a runtime memory
// limit of Memory + 48 MiB changed the peak by less than 1 MiB
// (TestS3PeakRSS). Over one 4 GiB file the garbage does add up at the
// default GOGC, so a process that uploads runs at GCPercent (below).
type Options struct {
	// S3 connection (the standard AWS configuration chain underneath:
	// environment, shared config and credentials files, AWS_ENDPOINT_URL_S3).
	Endpoint  string // e.g. http://127.0.0.1:7070; "" = from the AWS config chain
	Region    string // "" = from the AWS config chain, else us-east-1
	Profile   string // shared config profile; "" = default chain
	PathStyle bool   // path-style addressing (always on for IP-address and localhost endpoints)

	PartSize        int64 // multipart part size in bytes; default 8 MiB (5 MiB..5 GiB)
	PartConcurrency int   // parts in flight per upload; default 4
	MaxUploads      int   // uploads in flight per store; default 4
	Memory          int64 // bytes of part buffers for all uploads together; 0 = MaxUploads x 2 x PartSize (see above)

	LockMode    string    // "", GOVERNANCE or COMPLIANCE (needs RetainDays or RetainUntil)
	RetainDays  int       // retention from the upload time, in days
	RetainUntil time.Time // fixed retain-until date
	LegalHold   bool      // put a legal hold on every object

	SSE          string // "", AES256 or aws:kms; Preflight requires the server to confirm it
	SSEKMSKeyID  string // KMS key for SSE aws:kms
	StorageClass string // e.g. STANDARD, STANDARD_IA, GLACIER_IR; "" = bucket default (read back into Object.StorageClass)

	// ReadOnly opens the destination for reading only (a dry run): a
	// directory that does not exist is not created, and the store is never
	// written to by Open. Put and PutSidecar must not be called.
	ReadOnly bool

	// ClientOptions are extra SDK options applied to the S3 client after the
	// ones above (tests: static credentials; never set from the command line).
	ClientOptions []func(*s3.Options)

	// Logger receives the AWS SDK's own log lines (its warnings: an IMDS
	// fallback while it looks for credentials, a checksum it could not
	// validate), for the AWS configuration and the S3 client alike; nil
	// leaves the SDK's default, plain text on stderr.
	Logger logging.Logger
}

// GCPercent is the Go collector's target a process uploading with a memory
// budget should run with (debug.SetGCPercent): uploads make little garbage
// (about 14 MiB per GiB), but with the default 100 the collector lets it
// pile up above the budget: measured by make bench, one 4 GiB file peaked
// 41 MiB above one 256 MiB file at 100 and 15 MiB above it at 25.
const GCPercent = 25

// FieldError is a bad Options field: Validate's errors are of this type
// (joined when there are several), so that a caller can name its own flag.
type FieldError struct {
	Field  string // the Options field, e.g. "PartSize"
	Reason string
}

func (e *FieldError) Error() string { return "archive: options: " + e.Field + ": " + e.Reason }

// Validate checks the options and names the bad field.
func (o Options) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		switch {
		case err != nil:
			bad("Endpoint", "not a URL")
		case u.Scheme != "http" && u.Scheme != "https":
			bad("Endpoint", "scheme must be http or https, got %q", u.Scheme)
		case u.Host == "":
			bad("Endpoint", "no host in %q", o.Endpoint)
		case u.User != nil:
			bad("Endpoint", "must not carry credentials")
		}
	}
	if o.PartSize != 0 && (o.PartSize < MinPartSize || o.PartSize > MaxPartSize) {
		bad("PartSize", "%d bytes is outside S3's %d..%d", o.PartSize, int64(MinPartSize), int64(MaxPartSize))
	}
	if o.PartConcurrency < 0 || o.PartConcurrency > 64 {
		bad("PartConcurrency", "%d is outside 0..64 (0 = default %d)", o.PartConcurrency, DefaultPartConcurrency)
	}
	if o.MaxUploads < 0 || o.MaxUploads > 256 {
		bad("MaxUploads", "%d is outside 0..256 (0 = default %d)", o.MaxUploads, DefaultMaxUploads)
	}
	if ps := o.withDefaults().PartSize; o.Memory < 0 || o.Memory > 0 && o.Memory < 2*ps {
		bad("Memory", "%d bytes is less than 2 parts of %d bytes (one read while one is sent; 0 = default)", o.Memory, ps)
	}
	mode := strings.ToUpper(o.LockMode)
	switch mode {
	case "":
		if o.RetainDays != 0 || !o.RetainUntil.IsZero() {
			bad("LockMode", "retention (RetainDays/RetainUntil) needs a lock mode (GOVERNANCE or COMPLIANCE)")
		}
	case LockGovernance, LockCompliance:
		switch {
		case o.RetainDays < 0:
			bad("RetainDays", "%d is negative", o.RetainDays)
		case o.RetainDays > 0 && !o.RetainUntil.IsZero():
			bad("RetainDays", "give RetainDays or RetainUntil, not both")
		case o.RetainDays == 0 && o.RetainUntil.IsZero():
			bad("RetainDays", "lock mode %s needs RetainDays or RetainUntil", mode)
		case o.RetainDays > 100*366:
			bad("RetainDays", "%d is more than 100 years", o.RetainDays)
		case !o.RetainUntil.IsZero() && !o.RetainUntil.After(time.Now()):
			bad("RetainUntil", "%s is not in the future", o.RetainUntil.Format(time.RFC3339))
		}
	default:
		bad("LockMode", "%q is not GOVERNANCE or COMPLIANCE", o.LockMode)
	}
	switch o.SSE {
	case "", SSEAES256:
		if o.SSEKMSKeyID != "" {
			bad("SSEKMSKeyID", "needs SSE %s", SSEKMS)
		}
	case SSEKMS:
	default:
		bad("SSE", "%q is not %s or %s", o.SSE, SSEAES256, SSEKMS)
	}
	for _, c := range o.StorageClass {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			bad("StorageClass", "%q is not a storage class name (A-Z, 0-9, _)", o.StorageClass)
			break
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns o with zero values replaced by defaults and names normalised.
func (o Options) withDefaults() Options {
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	if o.PartConcurrency == 0 {
		o.PartConcurrency = DefaultPartConcurrency
	}
	if o.MaxUploads == 0 {
		o.MaxUploads = DefaultMaxUploads
	}
	o.LockMode = strings.ToUpper(o.LockMode)
	return o
}

// MemoryBudget is the most bytes of part buffers the S3 store's uploads hold
// at once with these options: Memory rounded down to whole parts, by default
// MaxUploads x 2 x PartSize (see Options).
func (o Options) MemoryBudget() int64 {
	o = o.withDefaults()
	if o.Memory == 0 {
		return int64(o.MaxUploads) * 2 * o.PartSize
	}
	return o.Memory / o.PartSize * o.PartSize
}

// retainUntil is the retain-until date for an object uploaded at now.
func (o Options) retainUntil(now time.Time) time.Time {
	if !o.RetainUntil.IsZero() {
		return o.RetainUntil.UTC()
	}
	if o.RetainDays > 0 {
		return now.UTC().Add(time.Duration(o.RetainDays) * 24 * time.Hour).Truncate(time.Second)
	}
	return time.Time{}
}
