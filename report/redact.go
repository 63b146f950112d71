package report

import (
	"regexp"
	"strings"
)

// Redacted replaces a secret's value.
const Redacted = "REDACTED"

var (
	// "accessToken":"v", "Authorization": "v", "app_key":"v" (JSON bodies in error messages).
	reJSONSecret = regexp.MustCompile(`(?i)("[a-z0-9_.-]*(?:token|password|passwd|secret|authorization|app_?key|api_?key|signature|credential)[a-z0-9_.-]*"\s*:\s*")((?:[^"\\]|\\.)+)"`)
	// X-Access-Token: v (the header's value: one word).
	reTokenHeader = regexp.MustCompile(`(?i)\b((?:x-access-token|x-auth-token|x-amz-security-token)\s*:[ \t]*)([^\s"',;]+)`)
	// Authorization: v, Authorization: Basic v, Authorization: HMAC-SHA256 signature=...
	// A credential is one word of 8 or more characters, so that "Budget authorization: Q3" stays.
	reAuthHeader = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization\s*:[ \t]*(?:(?:basic|bearer|digest|negotiate|token|hmac-sha256|aws4-hmac-sha256)[ \t]+)?)([^\s"']{8,})`)
	// Cookie: a=b; c=d (to the end of the line or a quote; only name=value text).
	reCookieHeader = regexp.MustCompile(`(?i)\b((?:set-)?cookie\s*:[ \t]*)([^\s"';=]+=[^\r\n"]*)`)
	// token=v, access_token=v, X-Amz-Signature=v, password=v (query strings, forms, free text).
	reParamSecret = regexp.MustCompile(`(?i)([a-z0-9_.-]*(?:token|password|passwd|secret|app_?key|api_?key|access_?key|signature|credential))(=|%3d)([^&\s"'<>#;,]+)`)
	// Bearer v.
	reBearer = regexp.MustCompile(`(?i)\b(bearer)\s+[a-z0-9._~+/=-]+`)
	// scheme://user:password@host.
	reUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@"]*:)([^@\s/"]+)@`)
)

// secretWords are the lower-case words without which no pattern can match.
var secretWords = []string{"token", "passw", "secret", "key", "signature", "credential", "authorization", "cookie", "bearer"}

// Redact removes secrets from s: the value of any `token=` style parameter
// (token, access_token, download_token, X-Amz-Signature, password, app_key,
// ...; also URL-encoded as `token%3D`), of an `X-Access-Token:` header, of an
// `Authorization:` header (its credential: a word of 8 or more characters
// after an optional scheme such as Basic or HMAC-SHA256), of a `Cookie:`
// header, of a JSON member named like a secret ("accessToken":"..."), a
// `Bearer` credential and the password in `scheme://user:password@host`. Each value becomes
// "REDACTED". Redact is idempotent and leaves text without secrets unchanged.
// It cannot find a bare secret that has no name beside it.
func Redact(s string) string {
	if !strings.ContainsAny(s, "=:%") && !containsFold(s, "bearer") {
		return s
	}
	lower := strings.ToLower(s)
	hit := false
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			hit = true
			break
		}
	}
	if hit && isASCII(s) {
		// The same replacements, each skipped when the literal text it
		// needs is absent (exact for ASCII text: with (?i), a pattern's k
		// and s also match the non-ASCII Kelvin sign and long s).
		if strings.Contains(s, `"`) {
			s = reJSONSecret.ReplaceAllString(s, `${1}`+Redacted+`"`)
		}
		if strings.Contains(lower, "x-access-token") || strings.Contains(lower, "x-auth-token") || strings.Contains(lower, "x-amz-security-token") {
			s = reTokenHeader.ReplaceAllString(s, `${1}`+Redacted)
		}
		if strings.Contains(lower, "authorization") {
			s = reAuthHeader.ReplaceAllString(s, `${1}`+Redacted)
		}
		if strings.Contains(lower, "cookie") {
			s = reCookieHeader.ReplaceAllString(s, `${1}`+Redacted)
		}
		s = redactParamsASCII(s)
		if strings.Contains(strings.ToLower(s), "bearer") {
			s = reBearer.ReplaceAllString(s, `${1} `+Redacted)
		}
	} else if hit {
		s = reJSONSecret.ReplaceAllString(s, `${1}`+Redacted+`"`)
		s = reTokenHeader.ReplaceAllString(s, `${1}`+Redacted)
		s = reAuthHeader.ReplaceAllString(s, `${1}`+Redacted)
		s = reCookieHeader.ReplaceAllString(s, `${1}`+Redacted)
		s = reParamSecret.ReplaceAllString(s, `${1}${2}`+Redacted)
		s = reBearer.ReplaceAllString(s, `${1} `+Redacted)
	}
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		s = reUserinfo.ReplaceAllString(s, `${1}`+Redacted+`@`)
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// paramWords are the names reParamSecret redacts the value of: a parameter
// name ends with one of them.
var paramWords = []string{"token", "password", "passwd", "secret", "app_key", "appkey",
	"api_key", "apikey", "access_key", "accesskey", "signature", "credential"}

func isParamNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// isParamValueStop reports the bytes that end a value in reParamSecret:
// [&\s"'<>#;,] (\s being \t \n \f \r and space).
func isParamValueStop(c byte) bool {
	switch c {
	case '&', '\t', '\n', '\f', '\r', ' ', '"', '\'', '<', '>', '#', ';', ',':
		return true
	}
	return false
}

// redactParamsASCII does what reParamSecret.ReplaceAllString(s,
// "${1}${2}REDACTED") does, for ASCII text, in one pass (the regular
// expression backtracks over every parameter name at every position: it
// cost about 100 µs per playback URL). A match is a run of name characters
// that ends with one of paramWords, then "=" or "%3d" (any case), then a
// non-empty value; matches do not overlap and are found left to right.
func redactParamsASCII(s string) string {
	var b strings.Builder
	last := 0 // s[:last] is decided
	for p := 0; p < len(s); p++ {
		sep := 0
		switch {
		case s[p] == '=':
			sep = 1
		case s[p] == '%' && p+2 < len(s) && s[p+1] == '3' && (s[p+2] == 'd' || s[p+2] == 'D'):
			sep = 3
		default:
			continue
		}
		q := p
		for q > last && isParamNameChar(s[q-1]) {
			q--
		}
		name := s[q:p]
		word := false
		for _, w := range paramWords {
			if len(name) >= len(w) && strings.EqualFold(name[len(name)-len(w):], w) {
				word = true
				break
			}
		}
		v := p + sep
		if !word || v >= len(s) || isParamValueStop(s[v]) {
			continue
		}
		e := v
		for e < len(s) && !isParamValueStop(s[e]) {
			e++
		}
		b.WriteString(s[last:v])
		b.WriteString(Redacted)
		last = e
		p = e - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(word)], word) {
			return true
		}
	}
	return false
}

// formulaTriggers are the first characters that make a spreadsheet treat a
// CSV cell as a formula (OWASP, CSV injection).
const formulaTriggers = "=+-@\t\r"

// Neutralize returns s prefixed with a single quote when it begins with '=',
// '+', '-', '@', TAB or CR, so that a spreadsheet opening the CSV shows it as
// text instead of evaluating it (OWASP's advice against CSV injection).
// Other text is returned unchanged; Neutralize is idempotent.
// Reading a CSV back (ReadManifest) does not remove the prefix.
func Neutralize(s string) string {
	if s != "" && strings.IndexByte(formulaTriggers, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// redactRow redacts every text field of r.
func redactRow(r Row) Row {
	r.ConfUUID = Redact(r.ConfUUID)
	r.ConfID = Redact(r.ConfID)
	r.Subject = Redact(r.Subject)
	r.ScheduserName = Redact(r.ScheduserName)
	r.StartTime = Redact(r.StartTime)
	r.Status = Status(Redact(string(r.Status)))
	r.FileType = Redact(r.FileType)
	r.FileName = Redact(r.FileName)
	r.ObjectURI = Redact(r.ObjectURI)
	r.SHA256 = Redact(r.SHA256)
	r.PlatformSHA256 = Redact(r.PlatformSHA256)
	r.VersionID = Redact(r.VersionID)
	r.LockMode = Redact(r.LockMode)
	r.ErrorCode = Redact(r.ErrorCode)
	r.ErrorMessage = Redact(r.ErrorMessage)
	r.PlaybackURL = Redact(r.PlaybackURL)
	r.ObjectKey = Redact(r.ObjectKey)
	return r
}

// redactInfo redacts every text field of info (the Options map is copied).
func redactInfo(info RunInfo) RunInfo {
	info.RunID = Redact(info.RunID)
	info.Version = Redact(info.Version)
	info.Input = Redact(info.Input)
	info.InputSHA256 = Redact(info.InputSHA256)
	info.DateRange = Redact(info.DateRange)
	info.Dest = Redact(info.Dest)
	info.Shard = Redact(info.Shard)
	opts := make(map[string]string, len(info.Options))
	for k, v := range info.Options {
		// A secret-looking option name means a secret value, whatever it looks like.
		if isSecretName(k) {
			v = Redacted
		}
		opts[Redact(k)] = Redact(v)
	}
	info.Options = opts
	return info
}

func isSecretName(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"token", "passw", "secret", "app_key", "appkey", "app-key", "credential", "authorization"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
