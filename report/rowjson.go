package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// errSlowPath makes decodeRowLine fall back to encoding/json.
var errSlowPath = errors.New("not in the fast path")

// decodeRowLine decodes a journal row line ({"row":{...}}). The journal's
// own lines (written by json.Marshal of a record) are parsed directly,
// several times faster than encoding/json; anything else (an unknown
// field, a null, a line of another shape) goes through encoding/json, so
// the result is always what json.Unmarshal gives.
func decodeRowLine(b []byte) (Row, error) {
	r, err := fastRow(b)
	if err == nil {
		return r, nil
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Row{}, err
	}
	if rec.Row == nil {
		return Row{}, errors.New("not a row")
	}
	return *rec.Row, nil
}

const rowLinePrefix = `{"row":{`

func fastRow(b []byte) (Row, error) {
	var r Row
	if len(b) < len(rowLinePrefix) || string(b[:len(rowLinePrefix)]) != rowLinePrefix {
		return r, errSlowPath
	}
	p := &rowParser{b: b, i: len(rowLinePrefix)}
	if p.peek() == '}' {
		p.i++
	} else {
		for {
			key, err := p.key()
			if err != nil {
				return r, err
			}
			if err := p.field(&r, key); err != nil {
				return r, err
			}
			c := p.next()
			if c == '}' {
				break
			}
			if c != ',' {
				return r, errSlowPath
			}
		}
	}
	if p.next() != '}' || p.i != len(b) {
		return r, errSlowPath
	}
	return r, nil
}

type rowParser struct {
	b []byte
	i int
}

func (p *rowParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *rowParser) next() byte {
	c := p.peek()
	p.i++
	return c
}

// key reads `"name":` (a name without escapes).
func (p *rowParser) key() ([]byte, error) {
	if p.next() != '"' {
		return nil, errSlowPath
	}
	start := p.i
	for p.i < len(p.b) && p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			return nil, errSlowPath
		}
		p.i++
	}
	key := p.b[start:p.i]
	p.i++
	if p.next() != ':' {
		return nil, errSlowPath
	}
	return key, nil
}

// str reads a JSON string.
func (p *rowParser) str() (string, error) {
	if p.next() != '"' {
		return "", errSlowPath
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return "", errSlowPath
			}
			return string(s), nil
		}
		if c == '\\' {
			return p.escapedStr(start)
		}
		if c < 0x20 {
			return "", errSlowPath
		}
		p.i++
	}
	return "", errSlowPath
}

// escapedStr reads the rest of a string that has escapes, from start.
func (p *rowParser) escapedStr(start int) (string, error) {
	out := make([]byte, 0, p.i-start+16)
	out = append(out, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(out) {
				return "", errSlowPath
			}
			return string(out), nil
		case c < 0x20:
			return "", errSlowPath
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return "", errSlowPath
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r1, ok := p.hex4()
			if !ok {
				return "", errSlowPath
			}
			if utf16.IsSurrogate(r1) {
				if p.i+6 > len(p.b) || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
					return "", errSlowPath
				}
				p.i += 2
				r2, ok := p.hex4()
				if !ok {
					return "", errSlowPath
				}
				r1 = utf16.DecodeRune(r1, r2)
				if r1 == utf8.RuneError {
					return "", errSlowPath
				}
			}
			out = utf8.AppendRune(out, r1)
		default:
			return "", errSlowPath
		}
	}
	return "", errSlowPath
}

func (p *rowParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.i += 4
	return r, true
}

// integer reads a JSON integer.
func (p *rowParser) integer() (int64, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if c := p.peek(); c == '.' || c == 'e' || c == 'E' {
		return 0, errSlowPath
	}
	v, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	if err != nil {
		return 0, errSlowPath
	}
	return v, nil
}

func (p *rowParser) int() (int, error) {
	v, err := p.integer()
	if err != nil || int64(int(v)) != v {
		return 0, errSlowPath
	}
	return int(v), nil
}

func (p *rowParser) bool() (bool, error) {
	switch {
	case len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "true":
		p.i += 4
		return true, nil
	case len(p.b)-p.i >= 5 && string(p.b[p.i:p.i+5]) == "false":
		p.i += 5
		return false, nil
	}
	return false, errSlowPath
}

func (p *rowParser) time() (time.Time, error) {
	s, err := p.str()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errSlowPath
	}
	return t, nil
}

// field reads the value of key into r. Every field of Row must be here (a
// test checks it); an unknown key takes the slow path.
func (p *rowParser) field(r *Row, key []byte) (err error) {
	switch string(key) {
	case "seq":
		r.Seq, err = p.int()
	case "confUUID":
		r.ConfUUID, err = p.str()
	case "confID":
		r.ConfID, err = p.str()
	case "subject":
		r.Subject, err = p.str()
	case "scheduserName":
		r.ScheduserName, err = p.str()
	case "startTime":
		r.StartTime, err = p.str()
	case "recordingSecs":
		r.RecordingSecs, err = p.int()
	case "status":
		var s string
		s, err = p.str()
		r.Status = Status(s)
	case "fileIndex":
		r.FileIndex, err = p.int()
	case "fileType":
		r.FileType, err = p.str()
	case "fileName":
		r.FileName, err = p.str()
	case "objectURI":
		r.ObjectURI, err = p.str()
	case "bytes":
		r.Bytes, err = p.integer()
	case "sha256":
		r.SHA256, err = p.str()
	case "platformSha256":
		r.PlatformSHA256, err = p.str()
	case "versionId":
		r.VersionID, err = p.str()
	case "lockMode":
		r.LockMode, err = p.str()
	case "retainUntil":
		r.RetainUntil, err = p.time()
	case "legalHold":
		r.LegalHold, err = p.bool()
	case "deleted":
		r.Deleted, err = p.bool()
	case "attempts":
		r.Attempts, err = p.int()
	case "errorCode":
		r.ErrorCode, err = p.str()
	case "errorMessage":
		r.ErrorMessage, err = p.str()
	case "hint":
		r.Hint, err = p.str()
	case "estimatedBytes":
		r.EstimatedBytes, err = p.integer()
	case "finishedAt":
		r.FinishedAt, err = p.time()
	case "recordAuthType":
		var v int
		v, err = p.int()
		r.RecordAuthType = &v
	case "isDecodeFinish":
		var v bool
		v, err = p.bool()
		r.IsDecodeFinish = &v
	case "available":
		var v bool
		v, err = p.bool()
		r.Available = &v
	case "decodeEndTimeUTC":
		r.DecodeEndTime, err = p.time()
	case "rcdSize":
		var v int
		v, err = p.int()
		r.RcdSize = &v
	case "playbackURL":
		r.PlaybackURL, err = p.str()
	case "objectKey":
		r.ObjectKey, err = p.str()
	case "startTimeLocal":
		r.StartTimeLocal, err = p.str()
	default:
		return errSlowPath
	}
	return err
}

// appendRowLine appends r's journal line, {"row":{...}} and a newline, as
// json.Marshal of record{Row: &r} would write it (same fields, order and
// omissions) but without reflection; text is not HTML-escaped. r must be
// sanitised (its text valid UTF-8). A time json.Marshal refuses (a year
// outside 0..9999) makes it return an error.
func appendRowLine(b []byte, r *Row) ([]byte, error) {
	b = append(b, `{"row":{"seq":`...)
	b = strconv.AppendInt(b, int64(r.Seq), 10)
	b = append(b, `,"confUUID":`...)
	b = appendJSONString(b, r.ConfUUID)
	str := func(name, v string) {
		if v != "" {
			b = append(b, ',', '"')
			b = append(b, name...)
			b = append(b, '"', ':')
			b = appendJSONString(b, v)
		}
	}
	num := func(name string, v int64) {
		if v != 0 {
			b = append(b, ',', '"')
			b = append(b, name...)
			b = append(b, '"', ':')
			b = strconv.AppendInt(b, v, 10)
		}
	}
	flag := func(name string, v bool) {
		if v {
			b = append(b, ',', '"')
			b = append(b, name...)
			b = append(b, `":true`...)
		}
	}
	var terr error
	tm := func(name string, v time.Time) {
		if v.IsZero() {
			return
		}
		if y := v.Year(); y < 0 || y > 9999 {
			terr = fmt.Errorf("%s: year %d outside 0..9999", name, y)
			return
		}
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':', '"')
		b = v.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	str("confID", r.ConfID)
	str("subject", r.Subject)
	str("scheduserName", r.ScheduserName)
	str("startTime", r.StartTime)
	num("recordingSecs", int64(r.RecordingSecs))
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(r.Status))
	num("fileIndex", int64(r.FileIndex))
	str("fileType", r.FileType)
	str("fileName", r.FileName)
	str("objectURI", r.ObjectURI)
	num("bytes", r.Bytes)
	str("sha256", r.SHA256)
	str("platformSha256", r.PlatformSHA256)
	str("versionId", r.VersionID)
	str("lockMode", r.LockMode)
	tm("retainUntil", r.RetainUntil)
	flag("legalHold", r.LegalHold)
	flag("deleted", r.Deleted)
	num("attempts", int64(r.Attempts))
	str("errorCode", r.ErrorCode)
	str("errorMessage", r.ErrorMessage)
	str("hint", r.Hint)
	num("estimatedBytes", r.EstimatedBytes)
	tm("finishedAt", r.FinishedAt)
	if r.RecordAuthType != nil {
		b = append(b, `,"recordAuthType":`...)
		b = strconv.AppendInt(b, int64(*r.RecordAuthType), 10)
	}
	if r.IsDecodeFinish != nil {
		b = append(b, `,"isDecodeFinish":`...)
		b = strconv.AppendBool(b, *r.IsDecodeFinish)
	}
	if r.Available != nil {
		b = append(b, `,"available":`...)
		b = strconv.AppendBool(b, *r.Available)
	}
	tm("decodeEndTimeUTC", r.DecodeEndTime)
	if r.RcdSize != nil {
		b = append(b, `,"rcdSize":`...)
		b = strconv.AppendInt(b, int64(*r.RcdSize), 10)
	}
	str("playbackURL", r.PlaybackURL)
	str("objectKey", r.ObjectKey)
	str("startTimeLocal", r.StartTimeLocal)
	if terr != nil {
		return b, terr
	}
	return append(b, "}}\n"...), nil
}
