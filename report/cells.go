package report

import (
	"reflect"
	"strconv"
	"unicode/utf8"

	"meetarchive/redact"
)

// Text limits, in bytes, of the report's text fields (after escaping; see
// CleanText). A UUID is 32 to 36 bytes and a SHA-256 64, so 200 bytes
// holds every well-formed identifier with room to spare while a junk input
// cell of megabytes becomes one short cell.
const (
	limitShort   = 200   // identifiers, codes, hashes, statuses, types, times
	limitName    = 1000  // subject, scheduler name, file name, hint, other text
	limitLong    = 2000  // errorMessage, objectURI and other URIs
	limitFatal   = 4096  // Summary.Fatal
	limitRunInfo = 4096  // RunInfo fields and options
	multiLine    = true  // the field may keep LF and TAB
	singleLine   = false // every control character is escaped
)

// fieldRule is how one text field of Row is cleaned.
type fieldRule struct {
	limit     int
	multiLine bool
}

// rowRules are the text fields of Row by JSON name. A string field of Row
// that is not named here gets defaultRule: every text field is cleaned,
// including fields added later.
var rowRules = map[string]fieldRule{
	"confUUID":       {limitShort, singleLine},
	"confID":         {limitShort, singleLine},
	"subject":        {limitName, multiLine},
	"scheduserName":  {limitName, singleLine},
	"startTime":      {limitShort, singleLine},
	"status":         {limitShort, singleLine},
	"fileType":       {limitShort, singleLine},
	"fileName":       {limitName, singleLine},
	"objectURI":      {limitLong, singleLine},
	"sha256":         {limitShort, singleLine},
	"platformSha256": {limitShort, singleLine},
	"versionId":      {limitShort, singleLine},
	"lockMode":       {limitShort, singleLine},
	"errorCode":      {limitShort, singleLine},
	"errorMessage":   {limitLong, multiLine},
	"hint":           {limitName, multiLine},
	"playbackURL":    {limitLong, singleLine},
	"objectKey":      {limitLong, singleLine},
	"startTimeLocal": {limitShort, singleLine},
}

var defaultRule = fieldRule{limitName, singleLine}

// rowTextField is a string-kinded field of Row and its rule.
type rowTextField struct {
	index int
	rule  fieldRule
}

// rowTextFields lists every string-kinded field of Row (Status included),
// found once by reflection so that no field can be forgotten.
var rowTextFields = func() []rowTextField {
	var fs []rowTextField
	t := reflect.TypeFor[Row]()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.String {
			continue
		}
		name := f.Tag.Get("json")
		for j := range len(name) {
			if name[j] == ',' {
				name = name[:j]
				break
			}
		}
		rule, ok := rowRules[name]
		if !ok {
			rule = defaultRule
		}
		fs = append(fs, rowTextField{index: i, rule: rule})
	}
	return fs
}()

// sanitizeRow is what every row goes through before it reaches the journal
// or a report file: every text field (found by reflection, so none is
// forgotten) has its secrets redacted, then is cleaned (CleanText with the
// field's limit). Scrubbing comes first, so a cut never keeps the start of
// a secret. It is idempotent.
func sanitizeRow(r Row) Row {
	v := reflect.ValueOf(&r).Elem()
	for _, f := range rowTextFields {
		fv := v.Field(f.index)
		s := fv.String()
		if c := CleanText(redact.String(s), f.rule.limit, f.rule.multiLine); c != s {
			fv.SetString(c)
		}
	}
	return r
}

// sanitizeInfo redacts and cleans every text field of info (the Options map
// is copied).
func sanitizeInfo(info RunInfo) RunInfo {
	for _, p := range []*string{&info.RunID, &info.Version, &info.Input, &info.InputSHA256,
		&info.DateRange, &info.Dest, &info.Shard} {
		*p = CleanText(redact.String(*p), limitRunInfo, singleLine)
	}
	opts := make(map[string]string, len(info.Options))
	for k, v := range redactOptions(info.Options) {
		opts[CleanText(k, limitShort, singleLine)] = CleanText(v, limitRunInfo, singleLine)
	}
	info.Options = opts
	return info
}

// cleanFatal redacts and cleans a fatal error's message.
func cleanFatal(msg string) string {
	return CleanText(redact.String(msg), limitFatal, multiLine)
}

// CleanText returns s fit for one report cell of at most limit bytes
// (limit >= 64):
//
//   - Control characters are escaped visibly: C0 bytes and DEL as \xNN
//     (\n, \r and \t as themselves, escaped), C1 controls, the line and
//     paragraph separators, the bidirectional overrides and isolates and
//     U+FEFF as \uNNNN, and a byte that is not UTF-8 as \xNN. When
//     multiLine is true, LF and TAB are kept as they are (CR is still
//     escaped: a CSV reader turns CRLF into LF).
//   - Text longer than limit (after escaping) is cut at a character
//     boundary and ends with "… (N bytes)", N being len(s): the result is
//     never longer than limit.
//
// Text that needs neither is returned unchanged. CleanText is idempotent.
func CleanText(s string, limit int, multiLine bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean && len(s) <= limit {
		return s
	}
	// Escaped length, stopping once it is known to be over the limit.
	n, escapes := 0, false
	for i := 0; i < len(s) && n <= limit; {
		piece, size := escapeAt(s, i, multiLine)
		if piece == "" {
			n += size
		} else {
			n += len(piece)
			escapes = true
		}
		i += size
	}
	if !escapes && n <= limit {
		return s // only characters that stay, within the limit
	}
	budget := len(s) + n // anything above n
	var note string
	if n > limit {
		note = "… (" + strconv.Itoa(len(s)) + " bytes)"
		budget = max(0, limit-len(note))
	}
	out := make([]byte, 0, min(n, limit))
	for i := 0; i < len(s); {
		piece, size := escapeAt(s, i, multiLine)
		add := size
		if piece != "" {
			add = len(piece)
		}
		if len(out)+add > budget {
			break
		}
		if piece == "" {
			out = append(out, s[i:i+size]...)
		} else {
			out = append(out, piece...)
		}
		i += size
	}
	return string(append(out, note...))
}

// escapeAt looks at the character starting at s[i]: it returns its size in
// bytes and "" when it stays as it is, or its visible escape.
func escapeAt(s string, i int, multiLine bool) (string, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		switch {
		case c == '\n' && multiLine, c == '\t' && multiLine:
			return "", 1
		case c == '\n':
			return `\n`, 1
		case c == '\r':
			return `\r`, 1
		case c == '\t':
			return `\t`, 1
		case c < 0x20 || c == 0x7f:
			return `\x` + hex2(c), 1
		}
		return "", 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		return `\x` + hex2(c), 1
	}
	switch {
	case r >= 0x80 && r <= 0x9f, // C1 controls
		r == 0x2028 || r == 0x2029, // line and paragraph separators
		r >= 0x202a && r <= 0x202e, // bidirectional embeddings and overrides
		r >= 0x2066 && r <= 0x2069, // bidirectional isolates
		r == 0xfeff:                // zero-width no-break space (BOM)
		return `\u` + hex4(r), size
	}
	return "", size
}

const hexDigits = "0123456789abcdef"

func hex2(c byte) string { return string([]byte{hexDigits[c>>4], hexDigits[c&15]}) }

func hex4(r rune) string {
	return string([]byte{hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15]})
}
