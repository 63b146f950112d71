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

// redactOptions redacts the run's options: a secret-looking option name
// means a secret value, whatever it looks like.
func redactOptions(options map[string]string) map[string]string {
	opts := make(map[string]string, len(options))
	for k, v := range options {
		if isSecretName(k) {
			v = redact.Marker
		}
		opts[redact.String(k)] = redact.String(v)
	}
	return opts
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
