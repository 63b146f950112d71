package redact

import (
	"net/url"
	"strings"
)

// PageURL returns a link to a web page (the playback page of a recording)
// reduced to what names the page and carries no credential: its scheme,
// host and path. The query and the fragment go whole, whatever their
// parameters are called (token=, auth_key=, sign=, t=, ...), and so do the
// user information (user:password@) and a path segment's ;parameters. A
// path segment that looks like a token, one holding a run of 16 or more
// letters and digits that mixes both (a hex or base64 credential), becomes
// Marker, unless it equals one of keep (ignoring case and dashes: the
// recording's own confUUID). The rest goes through String. Text that is not
// an absolute URL is cut at its first '?' or '#' and goes through String.
func PageURL(raw string, keep ...string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			raw = raw[:i]
		}
		if i := strings.Index(raw, "://"); i >= 0 {
			if j := strings.LastIndexByte(raw[i+3:], '@'); j >= 0 {
				raw = raw[:i+3] + raw[i+3+j+1:]
			}
		}
		return String(raw)
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		if j := strings.IndexByte(seg, ';'); j >= 0 {
			seg = seg[:j]
		}
		plain, err := url.PathUnescape(seg)
		if err != nil {
			plain = seg
		}
		if looksLikeToken(plain) && !kept(plain, keep) {
			seg = Marker
		}
		segs[i] = seg
	}
	return String(u.Scheme + "://" + u.Host + strings.Join(segs, "/"))
}

// looksLikeToken reports whether a path segment holds a run of 16 or more
// ASCII letters and digits with both in it.
func looksLikeToken(seg string) bool {
	run, letters, digits := 0, false, false
	for i := 0; i <= len(seg); i++ {
		var c byte
		if i < len(seg) {
			c = seg[i]
		}
		switch {
		case c >= '0' && c <= '9':
			run, digits = run+1, true
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			run, letters = run+1, true
			continue
		}
		if run >= 16 && letters && digits {
			return true
		}
		run, letters, digits = 0, false, false
	}
	return false
}

// kept reports whether seg is one of keep, ignoring case and dashes.
func kept(seg string, keep []string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "")) }
	for _, k := range keep {
		if k != "" && norm(seg) == norm(k) {
			return true
		}
	}
	return false
}
