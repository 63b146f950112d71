package meetingtest

// # Faults
//
// Config.Faults (or SetFaults) are checked in order; the first whose
// Endpoint matches, whose ConfUUID is "" or the request's, whose Times is 0
// or not used up, and whose Probability (drawn from a Seed-seeded generator)
// hits, applies. On API endpoints faults apply after the gateway limit and
// the access-token check; on media after the download token is consumed,
// except "reset", which happens before the token is looked at (the request
// never reached the media server, so its token stays valid).
// Kinds: "status" (Status, default 500, with an error body: Code or a code
// chosen from the status), "throttle" (429 APIG.0308, Retry-After when
// RetryAfter > 0), "latency" (sleep, then answer normally), "truncate" (API:
// the first half of the JSON with a matching Content-Length; media: the full
// Content-Length, half the body, or Offset bytes, or a random number of
// them with RandomOffset, then the connection closes), "html" (200
// text/html), "badjson" (200, numbers and booleans turned into "abc"), "reset"
// (connection closed with RST, no answer; on media with Offset or
// RandomOffset: after the token check, the headers and that many body
// bytes, then RST), "flip" (media: the middle byte
// inverted), "stall" (media: the headers and Offset body bytes, default
// half, then silence on an open connection until the client leaves; with
// Latency, the rest one byte every Latency: a trickle), "chunked" (media:
// no Content-Length, a chunked body; with Offset or RandomOffset the
// connection closes after that many bytes, without the terminating chunk),
// "close" (media: no Content-Length and not chunked, the end of the body is
// the connection's close; with Offset or RandomOffset it closes after that
// many bytes, which a client cannot tell from a whole body), "echo" (any endpoint: an error, Status default 400, whose
// message quotes the request's headers, query and body back: see
// FaultEcho), "omit" (list, history: the conference named by ConfUUID,
// which it needs, is left out of the answer and its count). The history
// endpoints are "history", "historydetail", "attendees" and "ctlrecords".
// Counters.Faults and FaultHits["endpoint/kind"] count hits.
//
// Answer faults rework a 200 answer into well-formed JSON a careful client
// must not trust (error answers pass unchanged; FaultOtherConf and the
// other constants say exactly what each does):
//
//	otherconf    details, downloadurls, recordinfo  confUUID of the next conference of the dataset
//	upperconf    details, list, downloadurls, recordinfo  confUUID in upper case (still valid)
//	noconf       details, list, downloadurls  confUUID (confUuid) left out
//	noavailable  details, list                available left out
//	nodecode     details, list                isDecodeFinish left out
//	badsha       recordinfo                   sha256 of 40 hexadecimal digits
//	negsize      details, list, recordinfo    rcdSize -1, fileSize -1
//	endless      downloadurls, recordinfo     every page full of new links, more always said to follow
//	repeat       downloadurls, recordinfo     every link listed twice on its page
//
// On the history APIs: otherconf (historydetail: conferenceData.confUUID),
// upperconf and noconf (history rows, historydetail), and nohasrecord
// (isHasRecordFile left out: history rows, historydetail).
//
// List faults touch every row; record info has no documented confUUID, so
// otherconf and upperconf add data.confUUID. For colliding file names use
// the dataset: GenerateConfig.CollidingNames or CollidingFiles (the
// sample's first conference has "0_0.mp4" in three file types).
// ParseFault and ParseFaults read faults in a flag form
// ("details:status:status=503:times=2", "media:truncate:at=random:times=3").

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
	return s.pickFaultWhere(endpoint, confUUIDs, func(f *Fault) bool { return kind == nil || kind(f.Kind) })
}

// pickFaultWhere is pickFault with a filter on the whole fault.
func (s *Server) pickFaultWhere(endpoint string, confUUIDs []string, accept func(*Fault) bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Endpoint != endpoint || !accept(&f.Fault) {
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

// Answer faults: a 200 answer whose JSON is well-formed but says something a
// careful client must not trust (or, for "upperconf", must accept). They
// rework the answer the endpoint would have given; error answers (an
// unknown conference, a bad parameter) pass unchanged. Each applies to the
// endpoints listed (Config.Validate refuses others).
const (
	// FaultOtherConf: the answer is about another conference: details'
	// confUUID, downloadurls' confUuid, history detail's
	// conferenceData.confUUID, or (record info documents no confUUID, so
	// the fault adds one) data.confUUID is the UUID of another conference
	// of the dataset. Endpoints: details, downloadurls, recordinfo,
	// historydetail.
	FaultOtherConf = "otherconf"
	// FaultUpperConf: the same confUUID in upper case, which is still the
	// conference asked for. Endpoints: details, list (every row),
	// downloadurls, recordinfo (data.confUUID added), history (every row),
	// historydetail.
	FaultUpperConf = "upperconf"
	// FaultNoConf: confUUID (downloadurls: confUuid) left out. Endpoints:
	// details, list (every row), downloadurls, history (every row),
	// historydetail.
	FaultNoConf = "noconf"
	// FaultNoHasRecord: isHasRecordFile left out. Endpoints: history (every
	// row), historydetail.
	FaultNoHasRecord = "nohasrecord"
	// FaultNoAvailable: available left out. Endpoints: details, list (every row).
	FaultNoAvailable = "noavailable"
	// FaultNoDecode: isDecodeFinish left out. Endpoints: details, list (every row).
	FaultNoDecode = "nodecode"
	// FaultBadSHA: every file's sha256 is 40 hexadecimal digits (the first
	// 40 of the true one: a SHA-1's length). Endpoint: recordinfo.
	FaultBadSHA = "badsha"
	// FaultNegSize: rcdSize -1 (details, list: every row) or every file's
	// fileSize -1 (recordinfo).
	FaultNegSize = "negsize"
	// FaultEndless: paging that never ends. downloadurls answers a full
	// page (the effective limit) of new links, Hd "0_<offset+i>.mp4", for
	// every offset; record info a full page of new segments (one
	// SPEAKER_VIDEO file each) with segmentCount one more than the segments
	// up to this page's end. The links carry unregistered tokens: their
	// media answers 403. Endpoints: downloadurls, recordinfo.
	FaultEndless = "endless"
	// FaultRepeat: every link is listed twice on its page (the same URL and
	// token), as an answer assembled from overlapping queries may be.
	// Endpoints: downloadurls, recordinfo (every file of a segment twice).
	FaultRepeat = "repeat"
)

// answerFaultEndpoints lists, per answer fault kind, where it applies.
var answerFaultEndpoints = map[string][]string{
	FaultOtherConf:   {EndpointDetails, EndpointDownloadURLs, EndpointRecordInfo, EndpointHistoryDetail},
	FaultUpperConf:   {EndpointDetails, EndpointList, EndpointDownloadURLs, EndpointRecordInfo, EndpointHistory, EndpointHistoryDetail},
	FaultNoConf:      {EndpointDetails, EndpointList, EndpointDownloadURLs, EndpointHistory, EndpointHistoryDetail},
	FaultNoHasRecord: {EndpointHistory, EndpointHistoryDetail},
	FaultNoAvailable: {EndpointDetails, EndpointList},
	FaultNoDecode:    {EndpointDetails, EndpointList},
	FaultBadSHA:      {EndpointRecordInfo},
	FaultNegSize:     {EndpointDetails, EndpointList, EndpointRecordInfo},
	FaultEndless:     {EndpointDownloadURLs, EndpointRecordInfo},
	FaultRepeat:      {EndpointDownloadURLs, EndpointRecordInfo},
}

// answerFaultKinds are the answer fault kinds, for Config.Validate.
var answerFaultKinds = []string{FaultOtherConf, FaultUpperConf, FaultNoConf, FaultNoAvailable,
	FaultNoDecode, FaultBadSHA, FaultNegSize, FaultEndless, FaultRepeat, FaultNoHasRecord}

// checkAnswerFault refuses an answer fault on an endpoint it does not apply to.
func checkAnswerFault(f Fault) error {
	eps, ok := answerFaultEndpoints[f.Kind]
	if !ok || slices.Contains(eps, f.Endpoint) {
		return nil
	}
	return fmt.Errorf("kind %s applies to %s only", f.Kind, strings.Join(eps, ", "))
}

// isAnswerFault reports whether kind reworks an answer.
func isAnswerFault(kind string) bool {
	_, ok := answerFaultEndpoints[kind]
	return ok
}

// reworkAnswer applies an answer fault to the 200 answer of endpoint.
func (s *Server) reworkAnswer(f *Fault, endpoint string, rq *apiRequest, resp *response) {
	if resp.status != http.StatusOK {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(resp.body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return
	}
	switch endpoint {
	case EndpointDetails:
		s.reworkRecording(f.Kind, doc)
	case EndpointList:
		rows, _ := doc["data"].([]any)
		for _, row := range rows {
			if m, ok := row.(map[string]any); ok {
				s.reworkRecording(f.Kind, m)
			}
		}
	case EndpointHistory:
		rows, _ := doc["data"].([]any)
		for _, row := range rows {
			if m, ok := row.(map[string]any); ok {
				s.reworkHistory(f.Kind, m)
			}
		}
	case EndpointHistoryDetail:
		if m, ok := doc["conferenceData"].(map[string]any); ok {
			s.reworkHistory(f.Kind, m)
		}
	case EndpointDownloadURLs:
		s.reworkDownloadURLs(f.Kind, rq, doc)
	case EndpointRecordInfo:
		s.reworkRecordInfo(f.Kind, rq, doc)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("meetingtest: marshal reworked answer: %v", err))
	}
	resp.body = b
}

// reworkConf applies otherconf, upperconf and noconf to m[key].
func (s *Server) reworkConf(kind string, m map[string]any, key, asked string) {
	switch kind {
	case FaultOtherConf:
		m[key] = s.otherConfUUID(asked)
	case FaultUpperConf:
		m[key] = strings.ToUpper(asked)
	case FaultNoConf:
		delete(m, key)
	}
}

func (s *Server) reworkRecording(kind string, m map[string]any) {
	id, _ := m["confUUID"].(string)
	switch kind {
	case FaultNoAvailable:
		delete(m, "available")
	case FaultNoDecode:
		delete(m, "isDecodeFinish")
	case FaultNegSize:
		m["rcdSize"] = -1
	default:
		s.reworkConf(kind, m, "confUUID", id)
	}
}

func (s *Server) reworkHistory(kind string, m map[string]any) {
	if kind == FaultNoHasRecord {
		delete(m, "isHasRecordFile")
		return
	}
	id, _ := m["confUUID"].(string)
	s.reworkConf(kind, m, "confUUID", id)
}

func (s *Server) reworkDownloadURLs(kind string, rq *apiRequest, doc map[string]any) {
	entries, _ := doc["recordUrls"].([]any)
	for _, e := range entries {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["confUuid"].(string)
		if kind == FaultRepeat {
			urls, _ := m["urls"].([]any)
			m["urls"] = twice(urls)
			continue
		}
		if kind != FaultEndless {
			s.reworkConf(kind, m, "confUuid", id)
			continue
		}
		q := rq.r.URL.Query()
		offset, _ := intParam(q, "offset", 0)
		limit, _ := intParam(q, "limit", 0)
		if limit <= 0 {
			limit = DownloadURLsDefaultLimit
		}
		limit = min(limit, DownloadURLsMaxLimit)
		base := s.baseURL(rq.r)
		urls := make([]any, 0, limit)
		for i := offset; i < offset+limit; i++ {
			name := "0_" + strconv.FormatInt(i, 10) + ".mp4"
			urls = append(urls, map[string]any{"token": randomHex(16), "fileType": FileTypeHd, "url": base + mediaPath(id, FileTypeHd, name)})
		}
		m["urls"] = urls
	}
}

func (s *Server) reworkRecordInfo(kind string, rq *apiRequest, doc map[string]any) {
	var req struct {
		ConfUUID      string `json:"confUUID"`
		SegmentOffset int    `json:"segmentOffset"`
		SegmentLimit  int    `json:"segmentLimit"`
	}
	_ = json.Unmarshal(rq.body, &req)
	data, ok := doc["data"].(map[string]any)
	if !ok {
		return
	}
	segs, _ := data["segmentList"].([]any)
	eachFile := func(fn func(map[string]any)) {
		for _, seg := range segs {
			sm, _ := seg.(map[string]any)
			files, _ := sm["fileList"].([]any)
			for _, f := range files {
				if fm, ok := f.(map[string]any); ok {
					fn(fm)
				}
			}
		}
	}
	switch kind {
	case FaultOtherConf, FaultUpperConf:
		s.reworkConf(kind, data, "confUUID", req.ConfUUID)
	case FaultBadSHA:
		eachFile(func(fm map[string]any) {
			if sum, _ := fm["sha256"].(string); len(sum) >= 40 {
				fm["sha256"] = sum[:40]
			}
		})
	case FaultNegSize:
		eachFile(func(fm map[string]any) { fm["fileSize"] = -1 })
	case FaultRepeat:
		for _, seg := range segs {
			if sm, ok := seg.(map[string]any); ok {
				files, _ := sm["fileList"].([]any)
				sm["fileList"] = twice(files)
			}
		}
	case FaultEndless:
		limit := req.SegmentLimit
		if limit <= 0 || limit > 100 {
			limit = 100
		}
		base := s.baseURL(rq.r)
		list := make([]any, 0, limit)
		for i := req.SegmentOffset; i < req.SegmentOffset+limit; i++ {
			name := "0_" + strconv.Itoa(i) + ".mp4"
			sum := sha256.Sum256([]byte(req.ConfUUID + "/" + name))
			list = append(list, map[string]any{
				"manualOrder": i, "segmentOrder": i, "segmentSize": "1024",
				"fileList": []any{map[string]any{
					"recordType": RecordType(FileTypeHd), "fileSize": 1024, "sha256": hex.EncodeToString(sum[:]),
					"downloadUrl": base + mediaPath(req.ConfUUID, FileTypeHd, name) + "?token=" + randomHex(16),
				}},
			})
		}
		data["segmentList"] = list
		data["segmentCount"] = req.SegmentOffset + limit + 1
	}
}

// twice lists every element of l twice, each copy after its original.
func twice(l []any) []any {
	out := make([]any, 0, 2*len(l))
	for _, v := range l {
		out = append(out, v, v)
	}
	return out
}

// otherConfUUID is the UUID of a dataset conference other than confUUID
// (the next one in dataset order), or a fixed well-formed one.
func (s *Server) otherConfUUID(confUUID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, id := range s.order {
		if strings.EqualFold(id, confUUID) {
			for j := 1; j < len(s.order); j++ {
				if o := s.order[(i+j)%len(s.order)]; !strings.EqualFold(o, confUUID) {
					return o
				}
			}
		}
	}
	if other := "0123456789abcdef0123456789abcdef"; !strings.EqualFold(other, confUUID) {
		return other
	}
	return "fedcba9876543210fedcba9876543210"
}
