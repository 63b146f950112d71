package export

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the checks every answer goes through before it is used
// (errors.Is). An answer that fails one is never retried: asking again
// rarely changes what a server believes, and a rerun will ask anyway.
var (
	// ErrResponseMismatch: the answer is about another conference than the
	// one asked for (its confUUID differs, compared case-insensitively).
	ErrResponseMismatch = errors.New("answer about another conference")
	// ErrTooManyPages: paging never ends (every page says there is another,
	// or a page brings nothing new while the answer says more is left).
	ErrTooManyPages = errors.New("paging does not end")
	// ErrAmbiguousFiles: two different links of one conference carry the
	// same file type and name, and nothing proves them one file.
	ErrAmbiguousFiles = errors.New("files cannot be told apart")
	// ErrInvalidConfUUID: an argument that is not a conference UUID (see
	// NormalizeConfUUID). No request is sent.
	ErrInvalidConfUUID = errors.New("not a conference UUID")
)

// Upper bounds past which a size is taken as nonsense, not as a big file.
const (
	maxRcdSizeMB   = 1 << 24 // rcdSize (MB): 16 TiB for one recording
	maxFileSizeB   = 1 << 44 // fileSize (bytes): 16 TiB for one file
	confUUIDLength = 32
)

// ValidationError is an answer that was well-formed JSON but could not be
// trusted: about another conference (wraps ErrResponseMismatch), missing a
// required field or carrying an impossible value (wraps ErrBadResponse), or
// paging without end (wraps ErrTooManyPages); or an argument that is not a
// conference UUID (wraps ErrInvalidConfUUID). Its text names the field and
// the values involved. ErrorCode gives "response-mismatch", "bad-response",
// "too-many-pages" or "invalid-input".
type ValidationError struct {
	Op     string // "details", "downloadurls", "recordinfo", "list", "delete", "history", "historydetail", "attendees", "ctlrecords"
	Field  string // the answer's field, e.g. "confUUID", "data[3].available", "segmentList[0].fileList[1].sha256"; "" for paging
	Reason string // what is wrong, with the values (redacted, clipped)
	kind   error
}

func (e *ValidationError) Error() string {
	s := "export: " + e.Op + ": " + e.kind.Error()
	if e.Field != "" {
		s += ": field " + e.Field
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap gives the sentinel: ErrResponseMismatch, ErrBadResponse,
// ErrTooManyPages or ErrInvalidConfUUID.
func (e *ValidationError) Unwrap() error { return e.kind }

// code is the manifest's errorCode for e.
func (e *ValidationError) code() string {
	switch e.kind {
	case ErrResponseMismatch:
		return CodeResponseMismatch
	case ErrTooManyPages:
		return CodeTooManyPages
	case ErrInvalidConfUUID:
		return CodeInvalidConfUUID
	case ErrAmbiguousFiles:
		return CodeAmbiguousFiles
	}
	return CodeBadResponse
}

func badField(op, field, format string, args ...any) error {
	return &ValidationError{Op: op, Field: field, Reason: fmt.Sprintf(format, args...), kind: ErrBadResponse}
}

func mismatch(op, field, asked, got string) error {
	return &ValidationError{Op: op, Field: field, kind: ErrResponseMismatch,
		Reason: fmt.Sprintf("asked for %s, the answer says %q", asked, clip(got, 80))}
}

func tooManyPages(op, format string, args ...any) error {
	return &ValidationError{Op: op, Reason: fmt.Sprintf(format, args...), kind: ErrTooManyPages}
}

// NormalizeConfUUID returns a conference UUID in the platform's form: 32
// lower-case hexadecimal digits without dashes. It accepts any case, the
// dashed 8-4-4-4-12 layout and surrounding white space; anything else is an
// error wrapping ErrInvalidConfUUID. Every Client method normalises its
// confUUID argument with it before any request, and every answer's confUUID
// is compared with the normalised form.
func NormalizeConfUUID(s string) (string, error) {
	id, ok := normConfUUID(s)
	if !ok {
		return "", &ValidationError{Op: "confUUID", kind: ErrInvalidConfUUID,
			Reason: fmt.Sprintf("%q: want 32 hexadecimal digits, with or without the dashes of the 8-4-4-4-12 layout", clip(s, 80))}
	}
	return id, nil
}

func normConfUUID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != confUUIDLength {
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			b[i] = c + ('a' - 'A')
		default:
			return "", false
		}
	}
	return string(b), true
}

// argConfUUID normalises a method's confUUID argument.
func argConfUUID(op, s string) (string, error) {
	id, err := NormalizeConfUUID(s)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.Op = op
		}
		return "", err
	}
	return id, nil
}

// checkConfUUID compares an answer's confUUID with the one asked for
// (normalised); a missing one is a bad response.
func checkConfUUID(op, field, asked, got string, present bool) error {
	if !present || strings.TrimSpace(got) == "" {
		return badField(op, field, "missing (the answer does not say which conference it is about)")
	}
	if id, ok := normConfUUID(got); !ok || id != asked {
		return mismatch(op, field, asked, got)
	}
	return nil
}

// checkRecording checks a recording detail: its confUUID (equal to asked
// when asked is not "", else only well-formed), the required available and
// isDecodeFinish, and a plausible rcdSize. prefix names the element in a
// list ("data[3]."). On success rec.ConfUUID is in the normalised form.
func checkRecording(op, prefix, asked string, rec *Recording) error {
	if asked != "" {
		if err := checkConfUUID(op, prefix+"confUUID", asked, rec.ConfUUID, rec.Has(FieldConfUUID)); err != nil {
			return err
		}
		rec.ConfUUID = asked
	} else {
		if !rec.Has(FieldConfUUID) || strings.TrimSpace(rec.ConfUUID) == "" {
			return badField(op, prefix+"confUUID", "missing")
		}
		id, ok := normConfUUID(rec.ConfUUID)
		if !ok {
			return badField(op, prefix+"confUUID", "%q is not a conference UUID (32 hexadecimal digits)", clip(rec.ConfUUID, 80))
		}
		rec.ConfUUID = id
	}
	about := ""
	if prefix != "" {
		about = " (conference " + rec.ConfUUID + ")"
	}
	for _, f := range []Field{FieldAvailable, FieldIsDecodeFinish} {
		if !rec.Has(f) {
			return badField(op, prefix+f.String(), "missing%s: whether the recording can be downloaded is unknown, not false", about)
		}
	}
	if rec.Has(FieldRcdSize) && (rec.RcdSize < 0 || rec.RcdSize > maxRcdSizeMB) {
		return badField(op, prefix+"rcdSize", "%d MB%s is not a possible size", rec.RcdSize, about)
	}
	return nil
}

// checkSHA256 accepts "" (not given) or 64 hexadecimal digits.
func checkSHA256(op, field, s string) error {
	s = strings.TrimSpace(s)
	if s == "" || normSHA256(s) != "" {
		return nil
	}
	return badField(op, field, "%q is not a SHA-256 (64 hexadecimal digits)", clip(s, 80))
}

// checkFileSize accepts 0 (not given) up to maxFileSizeB bytes.
func checkFileSize(op, field string, n int64) error {
	if n < 0 || n > maxFileSizeB {
		return badField(op, field, "%d bytes is not a possible size", n)
	}
	return nil
}
