package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"meetarchive/redact"
)

// flexInt is an integer the API may send as a number or as a string of digits
// ("segmentSize" is documented as a string). null and "" are 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
		b = []byte(s)
	}
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = flexInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return fmt.Errorf("not an integer: %.40q", b)
	}
	*n = flexInt(f)
	return nil
}

// flexString is a string the API may send as a number ("code": 0).
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var num json.Number
		if err := json.Unmarshal(b, &num); err != nil {
			return err
		}
		*s = flexString(num.String())
	default:
		return fmt.Errorf("not a string or number: %.20q", b)
	}
	return nil
}

// errorBody is the API's error answer. Some services say code/message.
type errorBody struct {
	ErrorCode flexString `json:"error_code"`
	ErrorMsg  string     `json:"error_msg"`
	RequestID string     `json:"request_id"`
	Code      flexString `json:"code"`
	Message   string     `json:"message"`
}

// parseAPIError builds the APIError of a non-2xx answer; any body is accepted.
func parseAPIError(op string, status int, h http.Header, body []byte, now time.Time) *APIError {
	ae := &APIError{Op: op, StatusCode: status, RequestID: h.Get("X-Request-Id")}
	if h != nil {
		ae.RetryAfter = parseRetryAfter(h.Get("Retry-After"), now)
	}
	var eb errorBody
	if len(body) > 0 && json.Unmarshal(body, &eb) == nil {
		ae.Code = strings.TrimSpace(string(eb.ErrorCode))
		ae.Message = eb.ErrorMsg
		if ae.Code == "" && !successCode(string(eb.Code)) {
			ae.Code = strings.TrimSpace(string(eb.Code))
		}
		if ae.Message == "" {
			ae.Message = eb.Message
		}
		if eb.RequestID != "" {
			ae.RequestID = eb.RequestID
		}
	}
	ae.Code = clip(ae.Code, 64)
	ae.Message = clip(strings.ToValidUTF8(ae.Message, "?"), 300)
	ae.RequestID = clip(ae.RequestID, 128)
	return ae
}

func successCode(c string) bool {
	switch strings.ToLower(strings.TrimSpace(c)) {
	case "", "0", "200", "success", "ok":
		return true
	}
	return false
}

// clip is redact.Clip: text bound for an error is scrubbed of every secret
// first, then cut to at most n bytes, so that no cut keeps the start of one.
func clip(s string, n int) string { return redact.Clip(s, n) }

// decode turns a 2xx answer into out. Anything unusable becomes a
// *BadResponseError; an error body that came with status 2xx becomes an
// *APIError. Unknown fields are ignored; missing fields stay zero.
func decode(op string, status int, contentType string, body []byte, out any) error {
	bad := func(reason string) error {
		return &BadResponseError{Op: op, StatusCode: status, Reason: reason}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		if out == nil {
			return nil
		}
		return bad("empty body")
	}
	ct := strings.ToLower(contentType)
	if trimmed[0] == '<' || strings.Contains(ct, "html") {
		return bad("an HTML page instead of JSON (is the API base URL right?)")
	}
	if trimmed[0] != '{' {
		return bad("not a JSON object")
	}
	if !json.Valid(trimmed) {
		var se *json.SyntaxError
		err := json.Unmarshal(trimmed, new(any))
		if errors.As(err, &se) {
			if se.Offset >= int64(len(trimmed)) {
				// The document stops in the middle: cut short on the way
				// (a proxy, a dropped connection). Worth another try.
				return &BadResponseError{Op: op, StatusCode: status, truncated: true,
					Reason: fmt.Sprintf("JSON ends early, after %d bytes", len(trimmed))}
			}
			return bad(fmt.Sprintf("malformed JSON at byte %d of %d", se.Offset, len(trimmed)))
		}
		return bad("malformed JSON")
	}
	// An error body with status 2xx.
	var eb errorBody
	if json.Unmarshal(trimmed, &eb) == nil && strings.TrimSpace(string(eb.ErrorCode)) != "" {
		ae := parseAPIError(op, status, nil, trimmed, time.Time{})
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(trimmed, out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "(top level)"
			}
			return bad(fmt.Sprintf("field %s: got JSON %s, want %s", clip(field, 80), te.Value, te.Type))
		}
		return bad("unusable JSON: " + clip(err.Error(), 200))
	}
	return nil
}
