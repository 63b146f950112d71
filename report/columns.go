package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// colKind is how a column is typed in the spreadsheet.
type colKind int

const (
	kindText     colKind = iota // plain string cell
	kindInt                     // number
	kindBytes                   // number, "#,##0"
	kindTime                    // Excel date-time, "yyyy-mm-dd hh:mm:ss" (UTC)
	kindWallTime                // the API's zone-less "2019-12-19 02:07": Excel date-time "yyyy-mm-dd hh:mm"
	kindBool                    // boolean
)

// column is one manifest column: its name (CSV header and XLSX header), its
// spreadsheet type and width, and how a Row maps to and from its CSV text.
type column struct {
	name  string
	kind  colKind
	width float64
	get   func(r *Row) any             // string, int, int64, bool or time.Time
	set   func(r *Row, s string) error // parse the CSV text back
	blank blankRule                    // when a zero value is an empty cell
}

// blankRule says when a column's zero (0 or false) is written as an empty
// cell, in manifest.csv and in the workbook: a zero that says nothing.
type blankRule uint8

const (
	blankNever  blankRule = iota
	blankZero             // always: recordingSecs (unknown), attempts (not attempted), estimatedBytes (not a dry run)
	blankNoFile           // on a row that names no file: fileIndex, bytes, legalHold, deleted do not apply
)

// blankRules are the columns whose zero may be an empty cell.
var blankRules = map[string]blankRule{
	"recordingSecs": blankZero, "attempts": blankZero, "estimatedBytes": blankZero,
	"fileIndex": blankNoFile, "bytes": blankNoFile, "legalHold": blankNoFile, "deleted": blankNoFile,
}

func init() {
	for _, cols := range [][]column{manifestColumns, failureColumns} {
		for i := range cols {
			cols[i].blank = blankRules[cols[i].name]
		}
	}
}

// namesNoFile reports whether r is a conference-level row: no fileType,
// fileName or objectURI.
func namesNoFile(r *Row) bool { return r.FileType == "" && r.FileName == "" && r.ObjectURI == "" }

// isBlank reports whether column c's value v of a row is written as an
// empty cell (noFile: the row names no file).
func (c *column) isBlank(v any, noFile bool) bool {
	switch c.blank {
	case blankZero:
	case blankNoFile:
		if !noFile {
			return false
		}
	default:
		return false
	}
	switch v := v.(type) {
	case int:
		return v == 0
	case int64:
		return v == 0
	case bool:
		return !v
	}
	return false
}

func textCol(name string, width float64, p func(r *Row) *string) column {
	return column{name: name, kind: kindText, width: width,
		get: func(r *Row) any { return *p(r) },
		set: func(r *Row, s string) error { *p(r) = s; return nil }}
}

func intCol(name string, width float64, p func(r *Row) *int) column {
	return column{name: name, kind: kindInt, width: width,
		get: func(r *Row) any { return *p(r) },
		set: func(r *Row, s string) error {
			if s == "" {
				*p(r) = 0
				return nil
			}
			v, err := strconv.Atoi(s)
			*p(r) = v
			return err
		}}
}

func bytesCol(name string, width float64, p func(r *Row) *int64) column {
	return column{name: name, kind: kindBytes, width: width,
		get: func(r *Row) any { return *p(r) },
		set: func(r *Row, s string) error {
			if s == "" {
				*p(r) = 0
				return nil
			}
			v, err := strconv.ParseInt(s, 10, 64)
			*p(r) = v
			return err
		}}
}

func timeCol(name string, width float64, p func(r *Row) *time.Time) column {
	return column{name: name, kind: kindTime, width: width,
		get: func(r *Row) any { return *p(r) },
		set: func(r *Row, s string) error {
			if s == "" {
				*p(r) = time.Time{}
				return nil
			}
			t, err := time.Parse(time.RFC3339, s)
			*p(r) = t
			return err
		}}
}

func boolCol(name string, width float64, p func(r *Row) *bool) column {
	return column{name: name, kind: kindBool, width: width,
		get: func(r *Row) any { return *p(r) },
		set: func(r *Row, s string) error {
			if s == "" {
				*p(r) = false
				return nil
			}
			v, err := strconv.ParseBool(s)
			*p(r) = v
			return err
		}}
}

// optCol is a value that may be unknown: a nil pointer is an empty cell,
// never a zero. parse reads the CSV text back.
func optCol[T any](name string, k colKind, width float64, p func(r *Row) **T, parse func(string) (T, error)) column {
	return column{name: name, kind: k, width: width,
		get: func(r *Row) any {
			if v := *p(r); v != nil {
				return *v
			}
			return nil
		},
		set: func(r *Row, s string) error {
			if s == "" {
				*p(r) = nil
				return nil
			}
			v, err := parse(s)
			if err != nil {
				return err
			}
			*p(r) = &v
			return nil
		}}
}

// optIntCol is a number that may be unknown.
func optIntCol(name string, width float64, p func(r *Row) **int) column {
	return optCol(name, kindInt, width, p, strconv.Atoi)
}

// optBoolCol is a boolean that may be unknown (an empty cell, never false).
func optBoolCol(name string, width float64, p func(r *Row) **bool) column {
	return optCol(name, kindBool, width, p, strconv.ParseBool)
}

// manifestColumns is the column order of manifest.csv and of the Recordings
// sheet. Appending is fine; never reorder or rename (scripts depend on it).
var manifestColumns = []column{
	intCol("seq", 8, func(r *Row) *int { return &r.Seq }),
	textCol("confUUID", 36, func(r *Row) *string { return &r.ConfUUID }),
	textCol("confID", 14, func(r *Row) *string { return &r.ConfID }),
	textCol("subject", 40, func(r *Row) *string { return &r.Subject }),
	textCol("scheduserName", 20, func(r *Row) *string { return &r.ScheduserName }),
	{name: "startTime", kind: kindWallTime, width: 17,
		get: func(r *Row) any { return r.StartTime },
		set: func(r *Row, s string) error { r.StartTime = s; return nil }},
	intCol("recordingSecs", 14, func(r *Row) *int { return &r.RecordingSecs }),
	{name: "status", kind: kindText, width: 18,
		get: func(r *Row) any { return string(r.Status) },
		set: func(r *Row, s string) error { r.Status = Status(s); return nil }},
	intCol("fileIndex", 10, func(r *Row) *int { return &r.FileIndex }),
	textCol("fileType", 14, func(r *Row) *string { return &r.FileType }),
	textCol("fileName", 16, func(r *Row) *string { return &r.FileName }),
	textCol("objectURI", 60, func(r *Row) *string { return &r.ObjectURI }),
	bytesCol("bytes", 16, func(r *Row) *int64 { return &r.Bytes }),
	textCol("sha256", 66, func(r *Row) *string { return &r.SHA256 }),
	textCol("platformSha256", 66, func(r *Row) *string { return &r.PlatformSHA256 }),
	textCol("versionId", 24, func(r *Row) *string { return &r.VersionID }),
	textCol("lockMode", 12, func(r *Row) *string { return &r.LockMode }),
	timeCol("retainUntil", 20, func(r *Row) *time.Time { return &r.RetainUntil }),
	boolCol("legalHold", 11, func(r *Row) *bool { return &r.LegalHold }),
	boolCol("deleted", 10, func(r *Row) *bool { return &r.Deleted }),
	intCol("attempts", 10, func(r *Row) *int { return &r.Attempts }),
	textCol("errorCode", 18, func(r *Row) *string { return &r.ErrorCode }),
	textCol("errorMessage", 60, func(r *Row) *string { return &r.ErrorMessage }),
	bytesCol("estimatedBytes", 16, func(r *Row) *int64 { return &r.EstimatedBytes }),
	timeCol("finishedAt", 20, func(r *Row) *time.Time { return &r.FinishedAt }),
	optIntCol("recordAuthType", 16, func(r *Row) **int { return &r.RecordAuthType }),
	optBoolCol("isDecodeFinish", 15, func(r *Row) **bool { return &r.IsDecodeFinish }),
	optBoolCol("available", 11, func(r *Row) **bool { return &r.Available }),
	timeCol("decodeEndTimeUTC", 20, func(r *Row) *time.Time { return &r.DecodeEndTime }),
	optIntCol("rcdSize", 10, func(r *Row) **int { return &r.RcdSize }),
	textCol("playbackURL", 60, func(r *Row) *string { return &r.PlaybackURL }),
	textCol("objectKey", 60, func(r *Row) *string { return &r.ObjectKey }),
	textCol("hint", 60, func(r *Row) *string { return &r.Hint }),
	{name: "startTimeLocal", kind: kindWallTime, width: 17,
		get: func(r *Row) any { return r.StartTimeLocal },
		set: func(r *Row, s string) error { r.StartTimeLocal = s; return nil }},
}

// ManifestColumns returns the header of manifest.csv (and of the Recordings
// sheet), in order.
func ManifestColumns() []string { return columnNames(manifestColumns) }

// failureColumns is the column order of the Failures sheet: one row per
// manifest row a rerun should retry.
var failureColumns = []column{
	intCol("seq", 8, func(r *Row) *int { return &r.Seq }),
	textCol("confUUID", 36, func(r *Row) *string { return &r.ConfUUID }),
	textCol("confID", 14, func(r *Row) *string { return &r.ConfID }),
	textCol("subject", 40, func(r *Row) *string { return &r.Subject }),
	{name: "status", kind: kindText, width: 18,
		get: func(r *Row) any { return string(r.Status) }},
	textCol("fileType", 14, func(r *Row) *string { return &r.FileType }),
	textCol("fileName", 16, func(r *Row) *string { return &r.FileName }),
	intCol("attempts", 10, func(r *Row) *int { return &r.Attempts }),
	textCol("errorCode", 18, func(r *Row) *string { return &r.ErrorCode }),
	textCol("errorMessage", 60, func(r *Row) *string { return &r.ErrorMessage }),
	{name: "hint", kind: kindText, width: 70, get: func(r *Row) any { return Hint(*r) }},
	timeCol("finishedAt", 20, func(r *Row) *time.Time { return &r.FinishedAt }),
}

// failuresCSVColumns is the header of failures.csv: one row per conference, a
// valid --input for a rerun (its first column is confUUID).
var failuresCSVColumns = []string{"confUUID", "confID", "subject", "status", "errorCode", "errorMessage", "attempts", "hint"}

func columnNames(cols []column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

// csvText formats a column value for CSV: text neutralised, times RFC 3339
// UTC (whole seconds, "" when zero), booleans "true"/"false".
func csvText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return Neutralize(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return formatTime(v)
	default:
		return Neutralize(fmt.Sprint(v))
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// parseWallTime parses the API's zone-less start time.
func parseWallTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
