package meetingtest

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"slices"
)

type faultState struct {
	Fault
	used int
}

func (s *Server) setFaultsLocked(faults []Fault) {
	s.faults = make([]*faultState, len(faults))
	for i, f := range faults {
		s.faults[i] = &faultState{Fault: f}
	}
}

// pickFault returns the first fault of the table that hits this request
// (endpoint matches, kind accepted by the filter if any, ConfUUID matches
// one of confUUIDs or is "", Times not used up, Probability drawn),
// counting the hit; nil if none does.
func (s *Server) pickFault(endpoint string, confUUIDs []string, kind func(string) bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Endpoint != endpoint || (kind != nil && !kind(f.Kind)) {
			continue
		}
		if f.ConfUUID != "" && !slices.Contains(confUUIDs, f.ConfUUID) {
			continue
		}
		if f.Times > 0 && f.used >= f.Times {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && s.faultRNG.Float64() >= f.Probability {
			continue
		}
		f.used++
		s.ctr.Faults++
		s.ctr.FaultHits[endpoint+"/"+f.Kind]++
		hit := f.Fault
		return &hit
	}
	return nil
}

// faultStatus returns the status and error code of a "status" fault.
func faultStatus(f *Fault, endpoint string) (int, string, string) {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	code := f.Code
	if code == "" {
		usg := endpoint == EndpointAuth || endpoint == EndpointValidate || endpoint == EndpointRefresh || endpoint == EndpointLogout
		switch {
		case status == http.StatusUnauthorized:
			code = CodeTokenInvalid
		case status == http.StatusTooManyRequests:
			code = CodeThrottled
		case status == http.StatusNotFound:
			code = CodeNoAPI
		case status == http.StatusForbidden && !usg:
			code = CodeNoPermission
		case status < 500 && usg:
			code = CodeAuthBadRequest
		case status < 500:
			code = CodeRequestError
		default:
			code = CodeServerError
		}
	}
	msg := f.Message
	if msg == "" {
		msg = "injected fault: " + http.StatusText(status)
	}
	return status, code, msg
}

const htmlPage = `<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><h1>Service temporarily unavailable</h1><p>The gateway is under maintenance. Please try again later.</p></body></html>
`

func writeHTML(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(htmlPage))
}

// resetConn closes the connection under the request without an answer,
// with SO_LINGER 0 so the peer sees a reset.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		raw = nc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = raw.Close()
}

// mangleJSON turns a JSON document into one of the wrong shape: every number
// and boolean becomes the string "abc" (so "rcdSize":"abc"); a document
// without numbers or booleans becomes the bare string "abc".
func mangleJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []byte(`"abc"`)
	}
	changed := false
	var walk func(any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e)
			}
			return t
		case []any:
			for i, e := range t {
				t[i] = walk(e)
			}
			return t
		case json.Number, bool:
			changed = true
			return "abc"
		default:
			return v
		}
	}
	v = walk(v)
	if !changed {
		return []byte(`"abc"`)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return []byte(`"abc"`)
	}
	return out
}
