package report

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrBadCell is what errors.Is finds in the error of a manifest cell that
// the writer could not have written (see CellError).
var ErrBadCell = errors.New("corrupt manifest cell")

// CellError is a manifest cell that is not what the writer writes: a value
// that does not parse, or one that parses but breaks the manifest's rules
// (an unknown status, an archived file without a 64-hex SHA-256, a
// negative number, a confUUID that is neither the platform's form nor an
// invalid input line as given, a control byte in text).
type CellError struct {
	Path   string // the manifest file
	Line   int    // 1-based line the cell is on
	Column string // the column's header name
	Value  string // the cell as read
	Reason string // what is wrong with it
}

func (e *CellError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Sprintf("%s: row at line %d, column %s: %s (cell %s)", e.Path, e.Line, e.Column, e.Reason, strconv.QuoteToASCII(v))
}

func (e *CellError) Unwrap() error { return ErrBadCell }

var (
	reConfUUID = regexp.MustCompile(`^[0-9a-f]{32}$`)
	knownStats = func() map[Status]bool {
		m := map[Status]bool{}
		for _, s := range Statuses() {
			m[s] = true
		}
		return m
	}()
)

// nonNegative are the integer columns no row can hold a negative value in.
var nonNegative = map[string]bool{"seq": true, "fileIndex": true, "bytes": true, "attempts": true, "estimatedBytes": true}

// checkCell checks one cell of a parsed row against what the writer writes:
// text without control characters the writer escapes (by the column's
// rule) and integer columns that cannot be negative. It returns the reason
// when the cell is wrong.
func checkCell(col string, raw string, r *Row) string {
	rule, text := rowRules[col]
	switch {
	case text:
		if !escapesNothing(raw, rule.multiLine) {
			return "a control character or invalid UTF-8 the writer would have escaped"
		}
	default:
		if !nonNegative[col] {
			return ""
		}
		if n, err := strconv.ParseInt(raw, 10, 64); raw != "" && err == nil && n < 0 {
			return "negative"
		}
		for _, c := range raw {
			if c < '0' || c > '9' {
				return "not a whole number as the writer writes one (digits only)"
			}
		}
	}
	return ""
}

// escapesNothing reports whether CleanText would escape no character of s.
func escapesNothing(s string, multiLine bool) bool {
	for i := 0; i < len(s); {
		piece, size := escapeAt(s, i, multiLine)
		if piece != "" {
			return false
		}
		i += size
	}
	return true
}

// checkRow checks the rules that span a row's cells; it returns the column
// at fault and the reason, or "" when the row is sound.
func checkRow(r *Row) (col, reason string) {
	if !knownStats[r.Status] {
		return "status", "not a status this report knows"
	}
	if !givenTextRow(r) && !reConfUUID.MatchString(r.ConfUUID) {
		return "confUUID", "not a conference UUID (32 lower-case hexadecimal digits)"
	}
	stored := r.Status.Stored()
	switch {
	case stored && !namesNoFile(r) && !reHex64.MatchString(r.SHA256):
		return "sha256", "an archived file without a SHA-256 of 64 lower-case hexadecimal digits"
	case r.SHA256 != "" && !reHex64.MatchString(r.SHA256):
		return "sha256", "not a SHA-256 of 64 lower-case hexadecimal digits"
	}
	return "", ""
}

// checkStoredRow checks what a row that says a file is stored must carry
// (archived or already-archived, naming a file): a bytes cell, and an
// objectKey that is a relative path without "." or ".." segments, used by
// no other stored row of the manifest (seen maps the keys seen so far to a
// marker). A row that says nothing is stored carries no SHA-256.
func checkStoredRow(r *Row, raw func(col string) (string, bool), seen map[string]int) (col, reason string) {
	if !r.Status.Stored() {
		switch r.Status {
		case PendingTranscode, Unavailable, NotFound, NoFiles, InvalidInput, DuplicateInput, Planned:
			if r.SHA256 != "" {
				return "sha256", "a SHA-256 on a row whose status says nothing was stored"
			}
		}
		return "", ""
	}
	if namesNoFile(r) {
		return "", ""
	}
	if b, ok := raw("bytes"); ok && b == "" {
		return "bytes", "an archived file without its size"
	}
	k, ok := raw("objectKey")
	if !ok || k == "" {
		return "", "" // an older manifest without the key: sha256sums.txt cannot list it, and its Summary counts it
	}
	if reason := badKey(k); reason != "" {
		return "objectKey", reason
	}
	if _, dup := seen[k]; dup {
		return "objectKey", "a second stored row on the same object key"
	}
	seen[k] = 1
	return "", ""
}

// badKey says why an archived row's objectKey is not one the archive
// writes: absolute, with an empty, "." or ".." segment or a
// backslash.
func badKey(k string) string {
	switch {
	case strings.HasPrefix(k, "/") || strings.Contains(k, "\\"):
		return "not a relative object key"
	}
	for _, seg := range strings.Split(k, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "an object key with an empty, \".\" or \"..\" segment"
		}
	}
	return ""
}

// givenTextRow reports whether a row's confUUID may be the input's text as
// given rather than a conference UUID: an invalid-input row, and the
// cancelled row the report writes for a planned input line that never got
// a row of its own (which may have been an invalid line).
func givenTextRow(r *Row) bool {
	return r.Status == InvalidInput || (r.Status == Cancelled && (r.ErrorCode == CodeInterrupted || r.ErrorCode == CodeNoResult))
}

// parseReason says why a cell did not parse, without repeating the cell
// (CellError shows it, escaped).
func parseReason(err error) string {
	var ne *strconv.NumError
	var te *time.ParseError
	switch {
	case errors.As(err, &ne):
		return "does not parse: " + ne.Err.Error()
	case errors.As(err, &te):
		return "does not parse as an RFC 3339 time"
	}
	return "does not parse"
}
