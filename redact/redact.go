// Package redact removes secrets from text before it is printed, logged or
// written to a report: it is the one redactor of meetarchive.
//
// Two rule families work together, because neither is enough alone:
//
//   - Patterns find a secret by the name beside it: the value of a
//     token=/onceToken=/access_token=/signature=/sign=/password=/app_key=/auth_key= parameter
//     (also URL-encoded as token%3D), of a JSON member named like a secret
//     (also inside JSON-escaped JSON), the whole credential of an
//     Authorization or Proxy-Authorization header after its scheme, the value
//     of X-Access-Token and similar headers, a Cookie header, a Bearer
//     credential and the password of scheme://user:password@host.
//   - A process-wide registry of known secret values (Add and
//     AddCredentialPair for credentials, AddSession for access tokens and
//     signatures, AddTransient for download tokens) finds a secret with no name beside it, in every form it
//     travels in: raw, base64 (standard and URL alphabets, padded or not),
//     base64 of "account:password", URL-escaped (query and path), JSON- and
//     HTML-escaped; also its beginning when the text ends inside it (a cut
//     made by someone else).
//
// Every secret becomes [Marker]. String is idempotent and returns text
// without secrets unchanged. Clip scrubs first, then cuts, so that the start
// of a secret never survives a cut.
package redact

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Marker replaces a secret.
const Marker = "REDACTED"

// ellipsis ends a text that Clip cut.
const ellipsis = "..."

// maxPasses bounds the passes String makes to reach a text that no rule
// changes any more (in practice one or two).
const maxPasses = 6

// A rule is a pattern anchored where one of its trigger words begins, and
// the groups that hold the secret (the first group that took part in a match
// is replaced). Anchoring at the words keeps String fast: the text is scanned
// once for the words, and a pattern runs only where one is.
type rule struct {
	triggers []string // lower-case ASCII
	re       *regexp.Regexp
	groups   []int
	// pre, when set, is a cheap test of the text from the trigger on that
	// every match passes: most texts never reach the pattern.
	pre func(rest string) bool
}

// then returns a pre test: after the trigger word, its name's other
// characters and blanks, the next byte is one of next.
func then(next string) func(string) bool {
	return func(rest string) bool {
		i := 0
		for i < len(rest) && (isNameByte(rest[i]) || rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
		return i < len(rest) && strings.IndexByte(next, rest[i]) >= 0
	}
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

// nameWords are the words that make a parameter, header or JSON member a
// secret; nameTriggers are their beginnings.
const nameWords = `token|passw[a-z]*|pwd|secret|app_?key|api_?key|access_?key|auth_?key|signature|sign|credential`

var nameTriggers = []string{"token", "passw", "pwd", "secret", "app", "api", "access", "auth", "sign", "credential"}

// credRest is the rest of a credential: to the end of the line or a quote,
// but across quoted auth-params (response="..."). An escaped line end or
// quote (\r, \n, \" in JSON or in an escaped report cell) ends it too, so
// that scrubbing text that was escaped after scrubbing changes nothing.
const credRest = `(?:=[ \t]*"[^"\r\n]*"?|\\[^rn"]|[^\r\n"'\\])*`

var rules = []rule{
	// "accessToken":"v", "Authorization": "v", "Authorization":["v"],
	// \"app_key\":\"v\" (JSON, also JSON-escaped inside a JSON string). An
	// escaped value runs to the next unescaped quote: more than the value,
	// never less.
	{append(nameTriggers, "authorization", "cookie"),
		regexp.MustCompile(`(?i)^(?:` + nameWords + `|authorization|cookie)[a-z0-9_.-]*\\*"\s*:\s*\[?\s*\\*"((?:[^"\\]|\\.)+)"?`), []int{1}, then(`\"`)},
	// Authorization: Basic v, Authorization: HMAC-SHA256 signature=a,access=b,
	// Authorization: <download token>, authorization=...: everything after a
	// known scheme, after a short unknown one, or from a credential-like word
	// (8 or more characters) on, to the end of the line or a quote. A short
	// word alone ("Budget authorization: Q3") stays.
	{[]string{"authorization"},
		regexp.MustCompile(`(?i)^authorization[ \t]*(?::|=|%3d)[ \t]*["']?(?:` +
			`(?:basic|bearer|digest|negotiate|ntlm|token|hmac|hmac-sha256|sdk-hmac-sha256|aws4-hmac-sha256|mac|oauth|apikey)[ \t]+([^\s"']` + credRest + `)` +
			`|[a-z][a-z0-9_-]{0,6}[ \t]+([^\s"']{8}` + credRest + `)` +
			`|([^\s"']{8}` + credRest + `))`), []int{1, 2, 3}, then(":=%")},
	// X-Access-Token: v, X-Auth-Token: v, X-Api-Key: v, client-secret: v.
	{nameTriggers,
		regexp.MustCompile(`(?i)^(?:token|api-?key|app-?key|secret|passw[a-z]*|pwd|signature|credential)[ \t]*:[ \t]*["']?([^\s"',;]+)`), []int{1}, then(":")},
	// Cookie: a=b; c=d and Set-Cookie: to the end of the line or a quote
	// (name=value text only: "Fortune cookie: tasty" stays).
	{[]string{"cookie"}, regexp.MustCompile(`(?i)^cookie[ \t]*:[ \t]*([^\s"';=]+=` + credRest + `)`), []int{1}, then(":")},
	// token=v, onceToken=v, access_token=v, X-Amz-Signature=v, sig=v,
	// password=v, app_key=v; also URL-encoded (token%3Dv).
	{append(nameTriggers, "sig"),
		regexp.MustCompile(`(?i)^(?:` + nameWords + `|sig)(?:=|%3d)([^&\s"'<>#;,]+)`), []int{1}, then("=%")},
	// Bearer v.
	{[]string{"bearer"}, regexp.MustCompile(`(?i)^bearer[ \t]+([a-z0-9._~+/=%-]+)`), []int{1}, nil},
	// scheme://user:password@host.
	{[]string{"://"}, regexp.MustCompile(`^://[^/\s:@"]*:([^@\s/"]+)@`), []int{1},
		func(rest string) bool { return strings.IndexByte(rest, '@') >= 0 }},
}

// trigger is one trigger word and the rules it starts.
type trigger struct {
	word  string
	rules []*rule
}

// triggersByByte lists the triggers by their first byte.
var triggersByByte = func() (t [256][]trigger) {
	for i := range rules {
		r := &rules[i]
		for _, w := range r.triggers {
			b := w[0]
			j := slices.IndexFunc(t[b], func(x trigger) bool { return x.word == w })
			if j < 0 {
				t[b] = append(t[b], trigger{word: w})
				j = len(t[b]) - 1
			}
			t[b][j].rules = append(t[b][j].rules, r)
		}
	}
	return t
}()

// patternSpans appends the secrets the patterns find in s.
func patternSpans(s string, spans []span) []span { return findPatterns(s, spans, true) }

// findPatterns is patternSpans; usePre false skips the cheap pre tests
// (tests show they lose no match).
func findPatterns(s string, spans []span, usePre bool) []span {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		for _, tr := range triggersByByte[c] {
			if !hasPrefixFold(s[i:], tr.word) {
				continue
			}
			for _, r := range tr.rules {
				if usePre && r.pre != nil && !r.pre(s[i:]) {
					continue
				}
				m := r.re.FindStringSubmatchIndex(s[i:])
				if m == nil {
					continue
				}
				for _, g := range r.groups {
					if m[2*g] >= 0 && m[2*g+1] > m[2*g] {
						spans = append(spans, span{i + m[2*g], i + m[2*g+1]})
						break
					}
				}
			}
		}
	}
	return spans
}

// hasPrefixFold reports whether s begins with the lower-case ASCII word w,
// ignoring ASCII case.
func hasPrefixFold(s, w string) bool {
	if len(s) < len(w) {
		return false
	}
	for j := 0; j < len(w); j++ {
		c := s[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[j] {
			return false
		}
	}
	return true
}

// String returns s with every secret replaced by [Marker]: the values the
// patterns find by their names, and every form of every registered secret.
// It is safe for concurrent use, idempotent, and returns s itself when no
// rule matches.
func String(s string) string { return scrub(s, true, true) }

// scrub is String with either rule family switched off (tests show that
// each is needed).
func scrub(s string, patterns, registered bool) string {
	for range maxPasses {
		t := pass(s, patterns, registered)
		if t == s {
			return s
		}
		s = t
	}
	return s
}

// pass applies every rule once, to the original text: the spans that any
// rule finds are merged and each merged span becomes one Marker.
func pass(s string, patterns, registered bool) string {
	var spans []span
	if patterns {
		spans = patternSpans(s, spans)
	}
	if registered {
		spans = reg.find(s, spans)
	}
	if len(spans) == 0 || markersOnly(s, spans) {
		return s
	}
	return replace(s, spans)
}

// Clip returns String(s) cut to at most n bytes on a rune boundary, ending
// with "..." when it was cut (n < 4: no ellipsis). Scrubbing comes first, so
// a secret that straddles the cut is gone, not half-kept.
func Clip(s string, n int) string {
	s = String(s)
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	keep, tail := n-len(ellipsis), ellipsis
	if keep <= 0 {
		keep, tail = n, ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + tail
}

type span struct{ start, end int }

// markersOnly reports whether every span is a Marker already, none touching
// another: replacing them would give s again.
func markersOnly(s string, spans []span) bool {
	sortSpans(spans)
	for i, sp := range spans {
		if s[sp.start:sp.end] != Marker {
			return false
		}
		if i > 0 && sp.start <= spans[i-1].end && sp != spans[i-1] {
			return false
		}
	}
	return true
}

// replace puts Marker over every span (unsorted, possibly overlapping or
// touching: merged first).
func replace(s string, spans []span) string {
	sortSpans(spans)
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		i++
		for i < len(spans) && spans[i].start <= end {
			end = max(end, spans[i].end)
			i++
		}
		b.WriteString(s[at:start])
		b.WriteString(Marker)
		at = end
	}
	b.WriteString(s[at:])
	return b.String()
}

// sortSpans sorts by start (insertion sort: a text holds a handful).
func sortSpans(sp []span) {
	for i := 1; i < len(sp); i++ {
		for j := i; j > 0 && sp[j].start < sp[j-1].start; j-- {
			sp[j], sp[j-1] = sp[j-1], sp[j]
		}
	}
}
