package meetingtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// FaultEcho answers with an error (Fault.Status, default 400; Fault.Code, or
// the code a "status" fault would give) whose error_msg echoes the whole
// request back, as some gateways and proxies do: the request line with its
// query, the gateway's own session cookie (EchoCookie), the values of the
// credential headers with no name beside them, every header (Authorization
// and X-Access-Token included), the query decoded, the body, the headers
// again as a JSON object, and the request URL URL-escaped and
// base64-encoded. It applies to every endpoint, media included. A client must
// keep every secret of it out of what it prints.
const FaultEcho = "echo"

// EchoCookie is the session cookie value the server's echo answers show
// (Set-Cookie: gwsession=...): a secret the client never had, that only a
// redactor reading names can find.
func (s *Server) EchoCookie() string { return fmt.Sprintf("gws-%016x", s.key^0x6563686f636f6f6b) }

// EchoFaults is an echo fault on every endpoint (for Config.Faults).
func EchoFaults() []Fault {
	var out []Fault
	for _, e := range faultEndpoints {
		out = append(out, Fault{Endpoint: e, Kind: FaultEcho})
	}
	return out
}

// writeEcho answers an echo fault for endpoint; body is the request body
// already read (nil for none).
func (s *Server) writeEcho(w http.ResponseWriter, r *http.Request, body []byte, endpoint, reqID string, f *Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	_, code, _ := faultStatus(&Fault{Status: status, Code: f.Code}, endpoint)
	writeResponse(w, errorResponse(status, code, echoText(r, body, s.EchoCookie()), reqID))
}

// echoText is the request as a careless gateway would quote it (the
// secrets first, so that they fall inside what a client keeps of a message).
func echoText(r *http.Request, body []byte, cookie string) string {
	var b strings.Builder
	b.WriteString("echo of the request: " + r.Method + " " + r.URL.RequestURI() + " " + r.Proto + "\r\n")
	b.WriteString("Set-Cookie: gwsession=" + cookie + "; HttpOnly\r\n")
	b.WriteString("credentials seen:")
	for _, k := range []string{"Authorization", "X-Access-Token"} {
		if v := r.Header.Get(k); v != "" {
			b.WriteString(" " + v)
		}
	}
	b.WriteString("\r\n")
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range r.Header {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range names {
		for _, v := range r.Header[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	q := r.URL.Query()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range q[k] {
			b.WriteString("query " + k + " = " + v + "\n")
		}
	}
	b.WriteString("body: " + string(body) + "\n")
	if h, err := json.Marshal(r.Header); err == nil {
		b.WriteString("headers: " + string(h) + "\n")
	}
	b.WriteString("login?next=" + url.QueryEscape(r.URL.RequestURI()) + "\n")
	b.WriteString("trace " + base64.StdEncoding.EncodeToString([]byte(r.URL.RequestURI())) + "\n")
	return b.String()
}
