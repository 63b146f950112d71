package meetingtest

// # Media
//
// A downloadurls token is accepted only as the bare "Authorization: <token>"
// header, a record info token only as ?token=. A token is consumed by its
// first presentation, whatever happens next; a missing token answers 401,
// a used, unknown, expired (Config.LinkLifetime on the Config.Now clock) or
// other file's token 403, both with error code MMC.111070004, and both count
// in Counters.TokenRefused; a Range request needs a fresh token like any
// other. The body is the file's deterministic pseudo-random content (see
// Content) with Content-Length and "Accept-Ranges: bytes". One range
// ("bytes=N-", "bytes=N-M", "bytes=-S") is served as object storage serves
// it: 206 with "Content-Range: bytes N-M/T"; a range starting at or beyond
// the end answers 416 with "Content-Range: bytes */T"; several ranges, or a
// header that does not parse, get the whole file. Config.IgnoreRange makes
// the host ignore Range (200, whole file). Config.MediaRate throttles each
// response (real time), and cancellation of the request or Close stops it.
// Served records the SHA-256 of the bytes actually sent (computed when Served
// is called, from the same deterministic content, not while serving), for
// complete responses only (Served.Offset is where a range started); an
// entry is added just before the last bytes are written (and withdrawn if
// that write fails), so a client that has read a whole file finds it there.
// MediaBytesServed counts every body byte written, complete or not.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// link is one single-use download token.
type link struct {
	confUUID, fileType, name string
	expires                  time.Time
	query                    bool // travels as ?token= (record info), else as Authorization
}

// issueLinkLocked issues a download token for one file.
func (s *Server) issueLinkLocked(confUUID, fileType, name string, query bool, now time.Time) string {
	if len(s.links) >= s.linkSweep {
		for k, l := range s.links {
			if !now.Before(l.expires) {
				delete(s.links, k)
			}
		}
		s.linkSweep = max(1024, 2*len(s.links))
	}
	tok := randomHex(24)
	s.links[tok] = &link{confUUID: confUUID, fileType: fileType, name: name, expires: now.Add(s.cfg.LinkLifetime), query: query}
	s.ctr.LinksIssued++
	return tok
}

// useLink consumes the download token of a media request. Tokens from
// downloadurls are accepted only as the bare Authorization header; tokens
// from record info only as ?token=. A token is gone after its first
// presentation, whatever the outcome.
func (s *Server) useLink(r *http.Request, confUUID, fileType, name string, now time.Time) (status int, msg string) {
	hdr := strings.TrimSpace(r.Header.Get("Authorization"))
	qt := r.URL.Query().Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	var l *link
	if c := s.links[hdr]; hdr != "" && c != nil && !c.query {
		l = c
		delete(s.links, hdr)
	} else if c := s.links[qt]; qt != "" && c != nil && c.query {
		l = c
		delete(s.links, qt)
	}
	switch {
	case l == nil && hdr == "" && qt == "":
		status, msg = http.StatusUnauthorized, "download token missing"
	case l == nil:
		status, msg = http.StatusForbidden, "download token invalid or already used"
	case !now.Before(l.expires):
		status, msg = http.StatusForbidden, "download token expired"
	case l.confUUID != confUUID || l.fileType != fileType || l.name != name:
		status, msg = http.StatusForbidden, "download token is for another file"
	default:
		return http.StatusOK, ""
	}
	s.ctr.TokenRefused++
	return status, msg
}

// mediaDownloadPath is the path of media links in the query styles
// (MediaURLsQuery, MediaURLsOpaque): the file is named by the query.
const mediaDownloadPath = "/media/download"

// mediaTarget names the file a media request asks for, in any MediaURLs
// style: /media/<conf>/<type>/<name>, /media/download?conf=&type=&file=
// or /media/download?id=<opaque>.
func mediaTarget(r *http.Request) (confUUID, fileType, name string, ok bool) {
	if r.URL.Path == mediaDownloadPath {
		q := r.URL.Query()
		if id := q.Get("id"); id != "" {
			b, err := base64.RawURLEncoding.DecodeString(id)
			if err != nil {
				return "", "", "", false
			}
			parts := strings.SplitN(string(b), "/", 3)
			if len(parts) != 3 {
				return "", "", "", false
			}
			return parts[0], parts[1], parts[2], true
		}
		confUUID, fileType, name = q.Get("conf"), q.Get("type"), q.Get("file")
		return confUUID, fileType, name, confUUID != "" && fileType != "" && name != ""
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/media/"), "/")
	if len(parts) != 3 {
		return "", "", "", false
	}
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return "", "", "", false
		}
		parts[i] = u
	}
	return parts[0], parts[1], parts[2], true
}

// Content returns the true content of a media file: deterministic
// pseudo-random bytes, size bytes long: the AES-128-CTR key stream under a
// key derived from seed, confUUID, fileType and name (a hash of them). A
// counter-mode stream can start at any byte at once, so a Range response
// costs no more than its own bytes, and it is cheap to generate (several
// GB/s with AES instructions): the simulator runs on the same cores as the
// client it serves, and a real media host costs that client nothing.
func Content(seed int64, confUUID, fileType, name string, size int64) io.Reader {
	return io.LimitReader(contentAt(seed, confUUID, fileType, name, 0), size)
}

// contentAt is a file's content from byte off on (without end).
func contentAt(seed int64, confUUID, fileType, name string, off int64) *contentStream {
	h := sha256.New()
	h.Write([]byte("meetingtest-media-v2\x00"))
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(seed)))
	for _, p := range []string{confUUID, fileType, name} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	key := h.Sum(nil)[:16]
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	var iv [aes.BlockSize]byte // the big-endian number of off's block
	binary.BigEndian.PutUint64(iv[8:], uint64(off)/aes.BlockSize)
	c := &contentStream{s: cipher.NewCTR(block, iv[:])}
	if skip := off % aes.BlockSize; skip > 0 {
		var b [aes.BlockSize]byte
		c.s.XORKeyStream(b[:skip], b[:skip])
	}
	return c
}

// contentStream reads a file's content: the key stream itself.
type contentStream struct{ s cipher.Stream }

func (c *contentStream) Read(p []byte) (int, error) {
	clear(p)
	c.s.XORKeyStream(p, p)
	return len(p), nil
}

// sentSHA256 is the SHA-256 of the bytes e's response sent.
func (s *Server) sentSHA256(e servedEntry) string {
	h := sha256.New()
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	gen := contentAt(s.cfg.Seed, e.ConfUUID, e.FileType, e.Name, e.Offset)
	for off := e.Offset; off < e.Offset+e.Bytes; {
		p := (*buf)[:min(int64(len(*buf)), e.Offset+e.Bytes-off)]
		_, _ = gen.Read(p)
		if at := e.flipAt - off; e.flipAt >= 0 && at >= 0 && at < int64(len(p)) {
			p[at] ^= 0xff
		}
		h.Write(p)
		off += int64(len(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

type shaEntry struct {
	once sync.Once
	sum  string
}

// FileSHA256 is the lower-case hex SHA-256 of a file's true content (what a
// complete, unfaulted media response carries); "" if the file is unknown.
func (s *Server) FileSHA256(confUUID, fileType, name string) string {
	s.mu.Lock()
	c := s.confs[confUUID]
	size := int64(-1)
	if c != nil {
		for _, f := range c.Files {
			if f.FileType == fileType && f.Name == name {
				size = f.Size
			}
		}
	}
	if size < 0 {
		s.mu.Unlock()
		return ""
	}
	key := confUUID + "\x00" + fileType + "\x00" + name + "\x00" + strconv.FormatInt(size, 10)
	e := s.shaCache[key]
	if e == nil {
		e = &shaEntry{}
		s.shaCache[key] = e
	}
	s.mu.Unlock()
	e.once.Do(func() {
		h := sha256.New()
		buf := bufPool.Get().(*[]byte)
		defer bufPool.Put(buf)
		_, _ = io.CopyBuffer(h, Content(s.cfg.Seed, confUUID, fileType, name, size), *buf)
		e.sum = hex.EncodeToString(h.Sum(nil))
	})
	return e.sum
}

const mediaChunk = 256 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, mediaChunk); return &b }}

func mediaContentType(name string) string {
	switch strings.ToLower(pathExt(name)) {
	case ".mp4":
		return "video/mp4"
	case ".m4a", ".aac":
		return "audio/mp4"
	}
	return "application/octet-stream"
}

// mediaAnswer is one media response being served: the file, the bytes of it
// the body carries and what a fault makes of the body.
type mediaAnswer struct {
	confUUID, fileType, name string
	size                     int64 // the file's size
	start, end               int64 // the body is bytes [start, end] of the file
	partial                  bool  // a 206 answer to a Range request

	// send is how many body bytes go out before the fault's ending (all of
	// them without one). truncate, reset: the connection is cut after
	// them; flip: one byte in the middle of the file is changed.
	send                  int64
	truncate, reset, flip bool
	// framing is how the body's end is marked: "" by Content-Length,
	// FaultChunked or FaultClose. cut: a chunked or close-delimited body
	// ends after send bytes, short of the file. stall: after send bytes
	// the body falls silent, or trickles one byte every trickle.
	framing    string
	cut, stall bool
	trickle    time.Duration
}

func (a *mediaAnswer) length() int64 { return a.end - a.start + 1 }

// midBody reports whether a reset fault cuts the body (it has an offset)
// rather than the request.
func midBody(f *Fault) bool { return f.Offset != 0 || f.RandomOffset }

// serveMedia: GET /media/<confUUID>/<fileType>/<name>.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	reqID := s.requestID()
	w.Header().Set("X-Request-Id", reqID)
	s.count(EndpointMedia)
	a, ok := s.mediaFile(w, r, reqID)
	if !ok || !s.mediaRange(w, r, a, reqID) || !s.mediaFault(w, r, a, reqID) {
		return
	}
	defer s.mediaRunningUntilDone()()
	s.writeMediaHeader(w, a)
	s.writeMediaBody(w, r, a)
}

// mediaFile checks a media request (method, path, download token) and finds
// the file it asks for; false when it has answered already.
func (s *Server) mediaFile(w http.ResponseWriter, r *http.Request, reqID string) (*mediaAnswer, bool) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, CodeRequestError, "media supports GET only", reqID)
		return nil, false
	}
	confUUID, fileType, name, ok := mediaTarget(r)
	if !ok {
		writeError(w, http.StatusNotFound, CodeRequestError, "no such media", reqID)
		return nil, false
	}
	// A reset happens before the token is looked at: such a request never
	// reached the media server, so its token stays valid. A reset with an
	// offset cuts the body instead: it is one of mediaFault's faults.
	if s.pickFaultWhere(EndpointMedia, []string{confUUID}, func(f *Fault) bool { return f.Kind == FaultReset && !midBody(f) }) != nil {
		resetConn(w)
		return nil, false
	}
	if status, msg := s.useLink(r, confUUID, fileType, name, s.now()); status != http.StatusOK {
		writeError(w, status, CodeVerifyFailed, msg, reqID)
		return nil, false
	}
	s.mu.Lock()
	size := int64(-1)
	c := s.lookupLocked(confUUID)
	if c != nil {
		for _, f := range c.Files {
			if f.FileType == fileType && f.Name == name {
				size = f.Size
			}
		}
	}
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusNotFound, CodeMeetingNotExist, "the meeting does not exist", reqID)
		return nil, false
	}
	if size < 0 {
		writeError(w, http.StatusNotFound, CodeRequestError, "no such media", reqID)
		return nil, false
	}
	return &mediaAnswer{confUUID: confUUID, fileType: fileType, name: name, size: size, end: size - 1}, true
}

// mediaRange narrows the body to the Range asked for (unless the host
// ignores ranges); false when it has answered 416.
func (s *Server) mediaRange(w http.ResponseWriter, r *http.Request, a *mediaAnswer, reqID string) bool {
	rh := r.Header.Get("Range")
	if rh == "" || s.cfg.IgnoreRange {
		return true
	}
	st, en, ok, satisfiable := parseRange(rh, a.size)
	if ok && !satisfiable {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(a.size, 10))
		writeError(w, http.StatusRequestedRangeNotSatisfiable, CodeRequestError, "the range is not satisfiable", reqID)
		return false
	}
	if ok {
		a.start, a.end, a.partial = st, en, true
	}
	return true
}

// mediaFault applies the media fault picked for this request, if any: it
// answers in place of the file (status, throttle, HTML, echo; false), waits
// (latency; false if the request ended meanwhile) or shapes the body.
func (s *Server) mediaFault(w http.ResponseWriter, r *http.Request, a *mediaAnswer, reqID string) bool {
	a.send = a.length()
	f := s.pickFaultWhere(EndpointMedia, []string{a.confUUID}, func(f *Fault) bool { return f.Kind != FaultReset || midBody(f) })
	if f == nil {
		return true
	}
	switch f.Kind {
	case FaultStatus:
		status, code, msg := faultStatus(f, EndpointMedia)
		writeError(w, status, code, msg, reqID)
		return false
	case FaultThrottle:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		}
		writeError(w, http.StatusTooManyRequests, CodeThrottled, "the throttling threshold has been reached", reqID)
		return false
	case FaultLatency:
		return s.sleep(r.Context(), f.Latency)
	case FaultHTML:
		writeHTML(w)
		return false
	case FaultEcho:
		s.writeEcho(w, r, nil, EndpointMedia, reqID, f)
		return false
	case FaultTruncate:
		a.truncate, a.send = true, s.truncateAt(f, a.length())
	case FaultReset:
		a.reset, a.send = true, s.truncateAt(f, a.length())
	case FaultFlip:
		a.flip = true
	case FaultStall:
		a.stall, a.trickle, a.send = true, f.Latency, s.truncateAt(f, a.length())
	case FaultChunked, FaultClose:
		a.framing = f.Kind
		if midBody(f) {
			a.cut, a.send = true, s.truncateAt(f, a.length())
		}
	}
	return true
}

// mediaRunningUntilDone counts a media response in flight (and the peak);
// the function it returns ends the count.
func (s *Server) mediaRunningUntilDone() func() {
	s.mu.Lock()
	s.mediaRunning++
	s.ctr.MediaPeak = max(s.ctr.MediaPeak, s.mediaRunning)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.mediaRunning--
		s.mu.Unlock()
	}
}

// writeMediaHeader sends the status line and headers of a media answer.
func (s *Server) writeMediaHeader(w http.ResponseWriter, a *mediaAnswer) {
	w.Header().Set("Content-Type", mediaContentType(a.name))
	if !s.cfg.IgnoreRange {
		w.Header().Set("Accept-Ranges", "bytes")
	}
	switch a.framing {
	case FaultChunked:
		w.Header().Set("Transfer-Encoding", "chunked")
	case FaultClose:
		// net/http's way to a body that ends with the connection: no
		// Content-Length, no chunks, the connection closed after it.
		w.Header().Set("Transfer-Encoding", "identity")
	default:
		w.Header().Set("Content-Length", strconv.FormatInt(a.length(), 10))
	}
	if a.partial {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a.start, a.end, a.size))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
}

// writeMediaBody sends a media answer's body at the configured media rate,
// then ends it as its fault says.
func (s *Server) writeMediaBody(w http.ResponseWriter, r *http.Request, a *mediaAnswer) {
	flipAt := int64(-1) // the file's byte a flip fault changes
	if a.flip && a.size > 0 {
		flipAt = a.size / 2
	}
	record := s.mediaRecorder(a, flipAt)
	if a.send == 0 && !a.truncate && !a.reset && !a.cut && !a.stall {
		record()
		return
	}
	chunk := int64(mediaChunk)
	rate := s.cfg.MediaRate
	if rate > 0 {
		chunk = max(1, min(chunk, rate/10)) // about ten writes a second
	}
	gen := contentAt(s.cfg.Seed, a.confUUID, a.fileType, a.name, a.start)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	ctx := r.Context()
	t0 := time.Now()
	var sent int64
	for sent < a.send {
		if rate > 0 {
			due := t0.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
			if !s.sleep(ctx, time.Until(due)) {
				return
			}
		} else {
			select {
			case <-ctx.Done():
				return
			case <-s.stop:
				return
			default:
			}
		}
		n := min(chunk, a.send-sent)
		p := buf[:n]
		_, _ = gen.Read(p)
		if at := flipAt - a.start - sent; at >= 0 && at < n {
			p[at] ^= 0xff
		}
		m, err := s.writeMediaChunk(w, p, sent+n == a.length(), record)
		sent += int64(m)
		if err != nil {
			return
		}
	}
	s.endMediaBody(w, r, a, gen, sent, record)
}

// mediaRecorder returns the function that records a's response, complete,
// in Served. It is called just BEFORE the last bytes are handed to the
// connection (and the entry withdrawn if that write fails), so a client
// that has read everything always finds it there.
func (s *Server) mediaRecorder(a *mediaAnswer, flipAt int64) func() uint64 {
	return func() uint64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.servedSeq++
		s.ctr.MediaComplete++
		s.served = append(s.served, servedEntry{id: s.servedSeq, flipAt: flipAt,
			Served: Served{ConfUUID: a.confUUID, FileType: a.fileType, Name: a.name, Bytes: a.length(), Offset: a.start}})
		s.addLateFilesLocked(a.confUUID)
		return s.servedSeq
	}
}

// writeMediaChunk writes p, the body's last bytes when last (recorded in
// Served first). The bytes are counted before the write (and the count
// corrected after a short one), so a client that has read them finds them
// counted.
func (s *Server) writeMediaChunk(w http.ResponseWriter, p []byte, last bool, record func() uint64) (int, error) {
	var id uint64
	if last {
		id = record()
	}
	n := int64(len(p))
	s.mu.Lock()
	s.ctr.MediaBytes += n
	s.mu.Unlock()
	m, err := w.Write(p)
	s.mu.Lock()
	s.ctr.MediaBytes -= n - int64(m)
	if err != nil && id != 0 {
		s.unrecordLocked(id)
	}
	s.mu.Unlock()
	return m, err
}

// endMediaBody ends a body after its send bytes as its fault says: a stall
// holds the connection, a cut one ends it short (closed cleanly, reset, or
// aborted short of Content-Length).
func (s *Server) endMediaBody(w http.ResponseWriter, r *http.Request, a *mediaAnswer, gen io.Reader, sent int64, record func() uint64) {
	if a.stall {
		s.stallBody(w, r, gen, sent, a.length(), a.trickle, record)
		return
	}
	if !a.truncate && !a.reset && !a.cut {
		return
	}
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	if a.framing == FaultClose {
		return // the connection closes after the reply: the client sees a clean end
	}
	if a.reset {
		resetConn(w) // RST: bytes the client has not read yet may be lost
		return
	}
	panic(http.ErrAbortHandler) // close the connection short of Content-Length
}

// stallBody is the rest of a body under a stall fault, sent bytes of
// length already written: it flushes them and then holds the connection
// open without a byte until the client leaves or the server closes; with a
// trickle interval, it sends the rest one byte every interval instead.
func (s *Server) stallBody(w http.ResponseWriter, r *http.Request, gen io.Reader, sent, length int64, trickle time.Duration, record func() uint64) {
	fl, _ := w.(http.Flusher)
	flush := func() {
		if fl != nil {
			fl.Flush()
		}
	}
	flush()
	ctx := r.Context()
	if trickle <= 0 {
		select {
		case <-ctx.Done():
		case <-s.stop:
		}
		return
	}
	var b [1]byte
	for ; sent < length; sent++ {
		if !s.sleep(ctx, trickle) {
			return
		}
		_, _ = gen.Read(b[:])
		var id uint64
		if sent+1 == length {
			id = record()
		}
		s.mu.Lock()
		s.ctr.MediaBytes++
		s.mu.Unlock()
		if _, err := w.Write(b[:]); err != nil {
			s.mu.Lock()
			s.ctr.MediaBytes--
			if id != 0 {
				s.unrecordLocked(id)
			}
			s.mu.Unlock()
			return
		}
		flush()
	}
}

// unrecordLocked withdraws the Served entry id: its last write failed.
func (s *Server) unrecordLocked(id uint64) {
	s.ctr.MediaComplete--
	if i := slices.IndexFunc(s.served, func(e servedEntry) bool { return e.id == id }); i >= 0 {
		s.served = slices.Delete(s.served, i, i+1)
	}
}

// truncateAt is how many body bytes a truncate (or reset) fault lets through
// of a body of length bytes: its Offset (or a random one), at most length-1;
// half the body by default.
func (s *Server) truncateAt(f *Fault, length int64) int64 {
	if length <= 1 {
		return 0
	}
	switch {
	case f.RandomOffset:
		s.mu.Lock()
		defer s.mu.Unlock()
		return 1 + s.faultRNG.Int64N(length-1)
	case f.Offset > 0:
		return min(f.Offset, length-1)
	}
	return length / 2
}

// parseRange reads a Range header against a file of size bytes: one range
// of bytes, "N-", "N-M" or "-S" (the last S bytes), as object storage
// serves them. ok is false when the header is to be ignored (another unit,
// several ranges, bad syntax: the whole file is sent); satisfiable is false
// when the range starts at or beyond the end (416).
func parseRange(h string, size int64) (start, end int64, ok, satisfiable bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, false
	}
	num := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	if first == "" { // suffix: the last S bytes
		n, valid := num(last)
		if !valid {
			return 0, 0, false, false
		}
		if n == 0 || size == 0 {
			return 0, 0, true, false
		}
		return max(0, size-n), size - 1, true, true
	}
	a, valid := num(first)
	if !valid {
		return 0, 0, false, false
	}
	b := size - 1
	if last != "" {
		if b, valid = num(last); !valid || b < a {
			return 0, 0, false, false
		}
		b = min(b, size-1)
	}
	if a >= size {
		return 0, 0, true, false
	}
	return a, b, true, true
}

// MediaBytesServed is how many media body bytes the server has written
// (whole files, ranges and cut-short responses alike).
func (s *Server) MediaBytesServed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctr.MediaBytes
}
