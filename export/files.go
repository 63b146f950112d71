package export

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"
)

// fileList accumulates one Links call's files, page by page. It drops only
// what is provably the same file listed twice (the same type and the same
// full URL, as on two overlapping pages; or, where the platform gives both,
// the same type, name, size and SHA-256) and refuses two different files
// that would carry one identity (File.ID): such a listing cannot be archived
// without dropping or misnaming a file.
type fileList struct {
	op    string
	files []File
	urls  map[string]bool // type + full URL
	ids   map[string]int  // File.ID -> index in files
}

func newFileList(op string) *fileList {
	return &fileList{op: op, urls: map[string]bool{}, ids: map[string]int{}}
}

// add adds f, reporting whether it was new.
func (l *fileList) add(f File) (bool, error) {
	u := f.FileType + "\x00" + strings.TrimSpace(f.URL)
	if l.urls[u] {
		return false, nil
	}
	l.urls[u] = true
	if i, ok := l.ids[f.ID()]; ok {
		prev := l.files[i]
		if sameContent(prev, f) {
			return false, nil
		}
		return false, ambiguousFiles(l.op, prev, f)
	}
	l.ids[f.ID()] = len(l.files)
	l.files = append(l.files, f)
	return true, nil
}

// sameContent reports whether two listed files are provably one: the
// platform gave both a SHA-256 and a size, and they agree.
func sameContent(a, b File) bool {
	return a.SHA256 != "" && a.SHA256 == b.SHA256 && a.Size >= 0 && a.Size == b.Size
}

func ambiguousFiles(op string, a, b File) error {
	return &ValidationError{Op: op, kind: ErrAmbiguousFiles, Reason: fmt.Sprintf(
		"two different links of type %s are both named %q (%s and %s): nothing in the links tells the files apart, so neither can be archived under its own name",
		a.FileType, a.Name, redactedLink(a.URL), redactedLink(b.URL))}
}

// redactedLink is a link as an error may show it: scheme, host and path,
// and the names (not the values) of its query parameters.
func redactedLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "(unparsable link)"
	}
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	q := u.Query()
	if len(q) == 0 {
		return s
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k+"=…")
	}
	sort.Strings(keys)
	return s + "?" + strings.Join(keys, "&")
}

// fileName is a file's name from its download link: the last segment of the
// URL's path when it has an extension ("…/videoHD/0_1.mp4" gives "0_1.mp4");
// otherwise the value of a query parameter that names a file
// ("…/download?file=0_1.mp4" gives "0_1.mp4"); otherwise the last segment
// of the path ("file" when there is none). Two different files whose links
// give one name are refused (ErrAmbiguousFiles), never renamed.
func fileName(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return urlBase(raw)
	}
	base := urlBase(raw)
	if hasExt(base) {
		return base
	}
	if n := queryFileName(u.Query()); n != "" {
		return n
	}
	return base
}

// fileNameKeys are the query parameters that commonly name the file, in the
// order they are preferred.
var fileNameKeys = []string{"file", "filename", "fileName", "name", "object", "objectName", "key", "path"}

// queryFileName is the file name a query carries, or "": a preferred key
// first, else any parameter (in key order) whose value's last path
// segment has an extension. Parameters that carry credentials are skipped.
func queryFileName(q url.Values) string {
	pick := func(k string) string {
		if secretParam(k) || signingParam(k) {
			return ""
		}
		for _, v := range q[k] {
			if _, fn, ok := strings.Cut(v, "filename="); ok { // response-content-disposition
				v = strings.Trim(strings.TrimSpace(fn), `"'`)
			}
			if b := path.Base(strings.TrimSpace(v)); hasExt(b) {
				return b
			}
		}
		return ""
	}
	for _, k := range fileNameKeys {
		if n := pick(k); n != "" {
			return n
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n := pick(k); n != "" {
			return n
		}
	}
	return ""
}

// signingParam reports whether a query parameter belongs to a URL's
// signature or expiry (sign=, t=, auth_key=, Expires=, ...), never to the
// file's name.
func signingParam(k string) bool {
	switch strings.ToLower(k) {
	case "sign", "signature", "auth_key", "t", "expires", "policy", "key-pair-id":
		return true
	}
	return false
}

// hasExt reports whether a name ends in an extension of 1 to 8 letters or
// digits ("0_1.mp4", "a.m4a"), as a media file name does.
func hasExt(name string) bool {
	ext := path.Ext(name)
	if len(ext) < 2 || len(ext) > 9 || len(ext) == len(name) {
		return false
	}
	for _, r := range ext[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
