package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"
)

// KeyFields are the values a key template can use. Year, Month and Day are
// taken from StartTime ("2006-01-02 15:04", the platform's time, UTC) when
// all three are empty, and are "unknown" when StartTime cannot be parsed.
// LocalYear, LocalMonth, LocalDay and LocalStart ("2006-01-02 15:04") are
// StartTime on the wall clock of the template's zone (InZone; UTC when it
// has none), always computed by Key: the other fields never change with
// the zone, so the keys of a template without them do not either.
type KeyFields struct {
	ConfUUID, ConfID, Subject, ScheduserName, StartTime, FileType, FileName string
	Index                                                                   int
	Year, Month, Day                                                        string
	LocalYear, LocalMonth, LocalDay, LocalStart                             string
}

// DefaultKeyTemplate files each recording under its start month and its
// conference UUID, so two conferences can never collide, e.g.
// "2024/05/0a1b.../Hd_0_1.mp4".
const DefaultKeyTemplate = "{{.Year}}/{{.Month}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}"

// Key limits: S3 allows 1024 bytes per key; file systems 255 bytes per name.
const (
	MaxKeyBytes     = 1024
	MaxSegmentBytes = 200 // leaves room below NAME_MAX (255) for temp-name affixes
)

// KeyTemplate renders object keys; see ParseKeyTemplate.
type KeyTemplate struct {
	text string
	t    *template.Template
	zone *time.Location // of the Local fields; nil: UTC
}

// InZone returns a copy of the template whose LocalYear, LocalMonth,
// LocalDay and LocalStart are on the wall clock of loc (nil: UTC).
func (t *KeyTemplate) InZone(loc *time.Location) *KeyTemplate {
	c := *t
	c.zone = loc
	return &c
}

// ParseKeyTemplate parses a text/template over KeyFields. Besides the fields,
// it offers the functions lower, upper and `trunc N` (at most N characters).
//
// Every string field has "/" and "\" replaced by "_" before rendering, so
// only the template itself makes folders; the result goes through SanitizeKey.
// The template must make keys unique: it is refused when two conferences that
// differ only in ConfUUID, or two files of one conference that differ in
// FileType, FileName and Index, would get the same key.
func ParseKeyTemplate(text string) (*KeyTemplate, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("archive: key template: empty")
	}
	t, err := template.New("key").Option("missingkey=error").Funcs(template.FuncMap{
		"lower": strings.ToLower,
		"upper": strings.ToUpper,
		"trunc": func(n int, s string) string {
			if n < 0 {
				n = 0
			}
			if utf8.RuneCountInString(s) <= n {
				return s
			}
			return string([]rune(s)[:n])
		},
	}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("archive: key template: %w", err)
	}
	kt := &KeyTemplate{text: text, t: t}
	a := KeyFields{ConfUUID: "00000000-aaaa-4000-8000-000000000001", ConfID: "900000001", Subject: "Weekly",
		ScheduserName: "Ann", StartTime: "2024-05-06 07:08", FileType: "Hd", FileName: "0_1.mp4", Index: 0}
	b := a
	b.ConfUUID = "00000000-bbbb-4000-8000-000000000002"
	c := a
	c.FileType, c.FileName, c.Index = "Sd", "1_2.mp4", 1
	ka, err := kt.Key(a)
	if err != nil {
		return nil, err
	}
	kb, err := kt.Key(b)
	if err != nil {
		return nil, err
	}
	kc, err := kt.Key(c)
	if err != nil {
		return nil, err
	}
	if ka == kb {
		return nil, fmt.Errorf("archive: key template %q: keys do not depend on {{.ConfUUID}}: two conferences would collide", text)
	}
	if ka == kc {
		return nil, fmt.Errorf("archive: key template %q: keys do not depend on {{.FileType}}, {{.FileName}} or {{.Index}}: two files would collide", text)
	}
	return kt, nil
}

// MustParseKeyTemplate is ParseKeyTemplate that panics (for constants).
func MustParseKeyTemplate(text string) *KeyTemplate {
	t, err := ParseKeyTemplate(text)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the template's text.
func (t *KeyTemplate) String() string { return t.text }

// fieldSlashes keeps a field's text from adding folders to a key.
var fieldSlashes = strings.NewReplacer("/", "_", `\`, "_")

// Key renders the template for f and sanitises the result (SanitizeKey).
func (t *KeyTemplate) Key(f KeyFields) (string, error) {
	if f.Year == "" && f.Month == "" && f.Day == "" {
		f.Year, f.Month, f.Day = splitDate(f.StartTime)
	}
	f.LocalYear, f.LocalMonth, f.LocalDay, f.LocalStart = localDate(f.StartTime, t.zone)
	for _, p := range []*string{&f.ConfUUID, &f.ConfID, &f.Subject, &f.ScheduserName, &f.StartTime,
		&f.FileType, &f.FileName, &f.Year, &f.Month, &f.Day, &f.LocalYear, &f.LocalMonth, &f.LocalDay, &f.LocalStart} {
		*p = fieldSlashes.Replace(*p)
	}
	var sb strings.Builder
	if err := t.t.Execute(&sb, f); err != nil {
		return "", fmt.Errorf("archive: key template: %w", err)
	}
	return SanitizeKey(sb.String()), nil
}

// splitDate gives year, month and day of a start time such as "2019-12-19 02:07",
// or "unknown" three times.
func splitDate(s string) (year, month, day string) {
	if t, ok := parseStart(s); ok {
		return t.Format("2006"), t.Format("01"), t.Format("02")
	}
	return "unknown", "unknown", "unknown"
}

// localDate gives year, month, day and "2006-01-02 15:04" of a start time
// (UTC) on the wall clock of loc (nil: UTC), or "unknown" four times.
func localDate(s string, loc *time.Location) (year, month, day, start string) {
	t, ok := parseStart(s)
	if !ok {
		return "unknown", "unknown", "unknown", "unknown"
	}
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("2006"), t.Format("01"), t.Format("02"), t.Format("2006-01-02 15:04")
}

func parseStart(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// SanitizeKey makes k a safe object key, deterministically (and idempotently):
//   - invalid UTF-8 bytes, control characters and bidirectional-text controls become "_";
//   - backslashes become "/";
//   - empty segments (a leading "/", "//", a trailing "/") are dropped, each
//     segment is trimmed of surrounding spaces, "." becomes "_" and ".." becomes "__";
//   - a segment longer than MaxSegmentBytes, and a key longer than MaxKeyBytes
//     (1024), is cut on a rune boundary and given "~" plus 8 hex digits of the
//     SHA-256 of what was cut from, so long keys that differ stay different
//     (a segment keeps a short extension such as ".mp4");
//   - a first segment equal to the reserved SidecarDir, in any case, gets
//     another leading "_" (so no object key can name a sidecar, not even on a
//     case-insensitive file system);
//   - an empty result becomes "_".
func SanitizeKey(k string) string {
	k = strings.ToValidUTF8(k, "_")
	k = strings.Map(func(r rune) rune {
		switch {
		case r == '\\':
			return '/'
		case unicode.IsControl(r), isBidiControl(r), r == '\uFEFF':
			return '_'
		}
		return r
	}, k)
	var segs []string
	for _, seg := range strings.Split(k, "/") {
		if seg == "" {
			continue
		}
		seg = strings.TrimSpace(seg)
		switch seg {
		case "":
			seg = "_"
		case ".":
			seg = "_"
		case "..":
			seg = "__"
		}
		if len(seg) > MaxSegmentBytes {
			seg = shortenSegment(seg, MaxSegmentBytes)
		}
		segs = append(segs, seg)
	}
	if len(segs) == 0 {
		return "_"
	}
	if strings.EqualFold(segs[0], SidecarDir) {
		segs[0] = "_" + segs[0] // the sidecar area is not for objects
	}
	out := strings.Join(segs, "/")
	if len(out) <= MaxKeyBytes {
		return out
	}
	// Too long: keep the last segment (the file name) whole, cut the folders
	// and mark the cut with a hash of the whole key.
	tag := hashTag(out)
	last := segs[len(segs)-1]
	dir := strings.Join(segs[:len(segs)-1], "/")
	dir = truncateUTF8(dir, MaxKeyBytes-len(last)-1-len(tag))
	dir = strings.TrimRight(dir, "/ ")
	i := strings.LastIndexByte(dir, '/')
	head, tail := dir[:i+1], dir[i+1:]
	tail = strings.TrimSpace(truncateUTF8(tail, MaxSegmentBytes-len(tag)))
	return head + tail + tag + "/" + last
}

func isBidiControl(r rune) bool {
	return r == '\u061C' || r == '\u200E' || r == '\u200F' ||
		r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}

// hashTag is "~" and 8 hex digits of the SHA-256 of s.
func hashTag(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "~" + hex.EncodeToString(sum[:4])
}

// shortenSegment cuts seg to at most max bytes, keeping a short extension and
// adding a hash tag of the original.
func shortenSegment(seg string, max int) string {
	tag := hashTag(seg)
	ext := path.Ext(seg)
	if len(ext) > 12 || strings.ContainsAny(ext, " ~") {
		ext = ""
	}
	stem := truncateUTF8(seg[:len(seg)-len(ext)], max-len(tag)-len(ext))
	return strings.TrimSpace(stem) + tag + ext
}

// truncateUTF8 returns the longest prefix of s of at most n bytes that ends on a rune boundary.
func truncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// checkKey is what both stores accept as a key: what SanitizeKey could produce
// (without requiring trimmed segments), and nothing that could climb out of a
// root or prefix.
func checkKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("key %q: %s: %w", truncateUTF8(key, 200), why, ErrInvalidKey)
	}
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyBytes:
		return bad(fmt.Sprintf("longer than %d bytes", MaxKeyBytes))
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.ContainsRune(key, '\\'):
		return bad("contains a backslash")
	case strings.HasPrefix(key, "/"):
		return bad("absolute")
	}
	for _, r := range key {
		if unicode.IsControl(r) || isBidiControl(r) {
			return bad("contains a control character")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return bad("empty segment")
		case seg == "." || seg == "..":
			return bad(`"." or ".." segment`)
		case len(seg) > 255:
			return bad("segment longer than 255 bytes")
		}
	}
	return nil
}

// checkPutKey is checkKey plus the reserved sidecar area.
func checkPutKey(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if first, _, _ := strings.Cut(key, "/"); strings.EqualFold(first, SidecarDir) {
		return fmt.Errorf("key %q: %s/ is reserved for sidecars: %w", key, SidecarDir, ErrInvalidKey)
	}
	return nil
}

// checkPutKeyFor is Put's key check: checkPutKey, or checkMetaKey for a
// record of the reserved area (Expect.Reserved).
func checkPutKeyFor(key string, want Expect) error {
	if want.Reserved {
		return checkMetaKey(key)
	}
	return checkPutKey(key)
}

// checkMetaKey is checkKey for PutMeta, GetMeta and Lock: the key must be
// in the reserved area.
func checkMetaKey(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if !strings.HasPrefix(key, SidecarDir+"/") {
		return fmt.Errorf("key %q: not in the reserved area %s/: %w", key, SidecarDir, ErrInvalidKey)
	}
	return nil
}

// checkPrefix checks a List prefix: "" (everything), or a valid key,
// optionally followed by "/".
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return checkKey(strings.TrimSuffix(prefix, "/"))
}

// KeyCollision reports whether two of keys would land on one object in a
// store, and if so which (i < j): two keys collide when they are equal, when
// they are equal but for letter case (a DirStore on a case-insensitive file
// system, as macOS and Windows have by default, keeps one file for both), or
// when one is a folder of the other ("a/b" and "a/B/c": a DirStore cannot
// have a file and a folder of one name). It compares Unicode simple case
// folding (strings.EqualFold), not normalisation forms: "é" as one code point
// and as "e" plus a combining accent are different keys here, as they are to
// S3 and to Linux file systems. This is stricter than S3 needs (S3 keys are
// case-sensitive and "a/b" and "a/b/c" can both exist), so one rule serves
// both stores. Include a conference's SidecarKey among its keys to check that
// no object takes the sidecar's place.
func KeyCollision(keys []string) (i, j int, ok bool) {
	files := make(map[string]int, len(keys))   // folded key -> index
	folders := make(map[string]int, len(keys)) // folded folder -> index of a key below it
	found := func(a, b int) (int, int, bool) { return min(a, b), max(a, b), true }
	for j, k := range keys {
		f := foldKey(k)
		if i, dup := files[f]; dup {
			return found(i, j)
		}
		if i, dup := folders[f]; dup {
			return found(i, j)
		}
		files[f] = j
		for n := strings.IndexByte(f, '/'); n >= 0; {
			dir := f[:n]
			if i, dup := files[dir]; dup {
				return found(i, j)
			}
			if _, seen := folders[dir]; !seen {
				folders[dir] = j
			}
			next := strings.IndexByte(f[n+1:], '/')
			if next < 0 {
				break
			}
			n += 1 + next
		}
	}
	return 0, 0, false
}

// foldKey maps k to one representative of all keys strings.EqualFold treats
// as equal to it (simple case folding: the smallest rune of each fold orbit).
func foldKey(k string) string {
	return strings.Map(func(r rune) rune {
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			low = min(low, f)
		}
		return low
	}, k)
}
