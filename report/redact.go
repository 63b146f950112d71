package report

import (
	"strings"

	"meetarchive/redact"
)

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

// redactRow redacts every text field of r (redact.String).
func redactRow(r Row) Row {
	r.ConfUUID = redact.String(r.ConfUUID)
	r.ConfID = redact.String(r.ConfID)
	r.Subject = redact.String(r.Subject)
	r.ScheduserName = redact.String(r.ScheduserName)
	r.StartTime = redact.String(r.StartTime)
	r.Status = Status(redact.String(string(r.Status)))
	r.FileType = redact.String(r.FileType)
	r.FileName = redact.String(r.FileName)
	r.ObjectURI = redact.String(r.ObjectURI)
	r.SHA256 = redact.String(r.SHA256)
	r.PlatformSHA256 = redact.String(r.PlatformSHA256)
	r.VersionID = redact.String(r.VersionID)
	r.LockMode = redact.String(r.LockMode)
	r.ErrorCode = redact.String(r.ErrorCode)
	r.ErrorMessage = redact.String(r.ErrorMessage)
	r.PlaybackURL = redact.String(r.PlaybackURL)
	r.ObjectKey = redact.String(r.ObjectKey)
	return r
}

// redactInfo redacts every text field of info (the Options map is copied).
func redactInfo(info RunInfo) RunInfo {
	info.RunID = redact.String(info.RunID)
	info.Version = redact.String(info.Version)
	info.Input = redact.String(info.Input)
	info.InputSHA256 = redact.String(info.InputSHA256)
	info.DateRange = redact.String(info.DateRange)
	info.Dest = redact.String(info.Dest)
	info.Shard = redact.String(info.Shard)
	opts := make(map[string]string, len(info.Options))
	for k, v := range info.Options {
		// A secret-looking option name means a secret value, whatever it looks like.
		if isSecretName(k) {
			v = redact.Marker
		}
		opts[redact.String(k)] = redact.String(v)
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
