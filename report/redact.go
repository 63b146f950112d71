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
	if hit {
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
