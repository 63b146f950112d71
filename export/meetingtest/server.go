package meetingtest

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultAppID         = "meetarchive-demo"
	DefaultAppKey        = "demo-app-key"
	DefaultAccount       = "demo@meetarchive.example"
	DefaultPassword      = "demo-password"
	DefaultTokenLifetime = 12 * time.Hour
	DefaultLinkLifetime  = time.Hour
	DefaultMaxTokens     = 64  // live access tokens per user
	DefaultListMaxLimit  = 100 // list API page size cap
	DefaultAllEnvRate    = 200 // X-APIG-Ratelimit-Api-Allenv when not enforced, per second
	// advertisedRate is what X-APIG-Ratelimit-Api advertises (per second,
	// not enforced) when RatePerAPI is 0.
	advertisedRate = 1000
)

// Endpoint names: Fault.Endpoint values and Counters.Requests keys.
const (
	EndpointAuth         = "auth"     // both login APIs (App ID and account)
	EndpointValidate     = "validate" // POST /v1/usg/acs/token/validate
	EndpointRefresh      = "refresh"  // PUT /v1/usg/acs/token
	EndpointLogout       = "logout"   // DELETE /v1/usg/acs/token
	EndpointDetails      = "details"
	EndpointList         = "list"
	EndpointDownloadURLs = "downloadurls"
	EndpointRecordInfo   = "recordinfo"
	EndpointDelete       = "delete"
	EndpointMedia        = "media"
	EndpointPlay         = "play" // playback pages (the detail's url[])

	EndpointHistory       = "history"       // GET /v1/mmc/management/conferences/history
	EndpointHistoryDetail = "historydetail" // GET .../conferences/history/confDetail
	EndpointAttendees     = "attendees"     // GET .../conferences/history/confAttendeeRecord
	EndpointCtlRecords    = "ctlrecords"    // GET .../conferences/history/confCtlRecord
)

// Fault kinds.
const (
	FaultStatus   = "status"   // answer Fault.Status (default 500) with an error body
	FaultThrottle = "throttle" // 429 APIG.0308, Retry-After when Fault.RetryAfter > 0
	FaultLatency  = "latency"  // sleep Fault.Latency (honours cancellation), then answer normally
	FaultTruncate = "truncate" // API: half the JSON body (Content-Length of the half); media: full Content-Length, half the body (or Fault.Offset bytes), connection closed
	FaultHTML     = "html"     // 200 text/html page
	FaultBadJSON  = "badjson"  // 200 JSON with wrong types (numbers and booleans become "abc"); API only
	FaultReset    = "reset"    // connection closed (RST) without an answer; media with Fault.Offset: mid-body
	FaultFlip     = "flip"     // media only: one byte in the middle flipped, Content-Length unchanged
	FaultStall    = "stall"    // media only: the headers and Fault.Offset body bytes (default half), then silence on an open connection; with Fault.Latency, one more byte every Latency (a trickle)
	FaultChunked  = "chunked"  // media only: no Content-Length, a chunked body; with Fault.Offset: the connection closes after that many bytes, without the terminating chunk
	FaultClose    = "close"    // media only: no Content-Length and not chunked, the body ends when the connection closes; with Fault.Offset: it closes after that many bytes (a client cannot tell)
	FaultOmit     = "omit"     // list, history: Fault.ConfUUID (required) is left out of the answer and of its count
)

// Error codes the simulator answers with. Codes marked (sim) are not in the
// vendor's documentation; they are the simulator's own choice.
const (
	CodeTokenInvalid    = "USG.000000004" // 401: access token unknown, expired or evicted
	CodeAuthFailed      = "USG.000000005" // 401 (sim): signature, app ID, account or password wrong; signed request expired
	CodeAuthBadRequest  = "USG.000000001" // 400 (sim): malformed login request (body, clientType, nonce)
	CodeRequestError    = "MMC.111070001" // 400: bad parameters
	CodeNoPermission    = "MMC.111070002" // 403
	CodeVerifyFailed    = "MMC.111070004" // 401/403: download token missing, used, expired or for another file
	CodeMeetingNotExist = "MMC.111070005" // 400: unknown or deleted meeting
	CodeThrottled       = "APIG.0308"     // 429
	CodeNoAPI           = "APIG.0101"     // 404: unknown API, or record info not enabled
	CodeServerError     = "MMC.111070000" // 500 (sim): injected server error
)

// Config configures a simulator. Zero values take the defaults noted.
type Config struct {
	Dataset           Dataset
	AppID, AppKey     string        // defaults DefaultAppID / DefaultAppKey
	Account, Password string        // defaults DefaultAccount / DefaultPassword
	TokenLifetime     time.Duration // access token lifetime; default 12h
	LinkLifetime      time.Duration // download token lifetime; default 1h
	RatePerAPI        float64       // enforced requests/s per API (0 = not enforced); 429 + APIG.0308 when exceeded
	RecordInfo        bool          // record info API enabled (else 404 APIG.0101)
	MediaRate         int64         // bytes/s per media response (0 = unlimited)
	Faults            []Fault
	Seed              int64
	Now               func() time.Time // clock for tokens, links and rate buckets; default time.Now

	// LateFiles are files the platform lists only later (see LateFile).
	LateFiles []LateFile

	// RateBurst is the token bucket's size for RatePerAPI; 0 = one header
	// window's worth (the limit the X-APIG-Ratelimit-Api header shows).
	RateBurst int
	// RateAllEnv enforces a limit over all APIs together (requests/s),
	// shown in every API's X-APIG-Ratelimit-Api-Allenv; 0 = none: that
	// header then shows the API's own per-second limit (the QuotaBucket
	// model's bucket, else 200 per second, not enforced).
	RateAllEnv float64
	// QuotaPerAPI enforces a quota: QuotaPerAPI calls of each API per
	// QuotaWindow (default one minute; whole seconds), shared by every
	// client of the app ID, advertised in X-APIG-Ratelimit-Api; 0 = none.
	// Not together with RatePerAPI. How it comes back once spent is the
	// API's quota model: QuotaFixed (fixed windows) or QuotaBucket (a token
	// bucket refilled continuously, holding QuotaBurst calls).
	QuotaPerAPI int
	QuotaWindow time.Duration
	// QuotaModel is every API's quota model: QuotaFixed (the default) or
	// QuotaBucket. QuotaModels sets it per endpoint (EndpointDetails,
	// EndpointDownloadURLs, ...), over QuotaModel.
	QuotaModel  string
	QuotaModels map[string]string
	// QuotaBurst is the QuotaBucket model's bucket: the most calls of one
	// API at once; 0 = one second's refill (QuotaPerAPI per QuotaWindow,
	// per second, at least 1). The bucket is the API's per-second limit,
	// shown in X-APIG-Ratelimit-Api-Allenv.
	QuotaBurst int
	// MaxTokensPerUser is how many live access tokens one user may hold; the
	// next login invalidates the oldest. Default 64.
	MaxTokensPerUser int
	// ListMaxLimit caps the list API's limit parameter (silently; the
	// response's "limit" shows the effective value). Default 100.
	ListMaxLimit int
	// LinksMaxLimit caps the downloadurls API's limit parameter (silently,
	// as the list API's cap is): the documented cap is
	// DownloadURLsMaxLimit (500, the default); a gateway that serves fewer
	// links a page than it is asked for looks like a short last page.
	LinksMaxLimit int
	// ListOffsetIsPage makes the list API read offset as a page index
	// (rows skipped = offset*limit) instead of a row offset.
	ListOffsetIsPage bool
	// MediaBaseURL is the scheme://host of media and playback links; "" =
	// the host the API request came to.
	MediaBaseURL string
	// IgnoreRange makes the media host ignore Range headers and answer 200
	// with the whole file (a host without range support). By default it
	// serves `bytes=N-`, `bytes=N-M` and `bytes=-S` with 206 and
	// Content-Range, as the platform's object storage does.
	IgnoreRange bool
	// MediaURLs is the shape of media links: MediaURLsPath ("" too:
	// /media/<conf>/<type>/<name>, the file named by the path's last
	// segment), MediaURLsQuery (/media/download?conf=&type=&file=<name>:
	// links that differ only in the query) or MediaURLsOpaque
	// (/media/download?id=<opaque>: nothing in the link names the file).
	MediaURLs string

	// HistoryRetention is how long the meeting history keeps a meeting
	// (from its start, on the Config.Now clock): older ones vanish from
	// the history list and the other history APIs answer 400
	// MMC.111070005 for them. 0 = six calendar months (the platform's
	// default; at most twelve can be configured there); negative = kept
	// for ever.
	HistoryRetention time.Duration
	// HistoryMaxLimit caps the limit of the four history APIs (silently;
	// the answer's "limit" is the effective one). Default 500, the
	// documented maximum.
	HistoryMaxLimit int
	// ListCountDelta and HistoryCountDelta are added to the "count" the
	// recording list and the history list declare (never below 0), while
	// their pages serve the true rows: a count larger or smaller than the
	// rows the pages add up to.
	ListCountDelta, HistoryCountDelta int
	// NotDeployed names API endpoints (EndpointHistory, EndpointAttendees,
	// ...) this deployment does not have: they answer 404 APIG.0101, as
	// any unknown API does.
	NotDeployed []string
}

// DefaultHistoryMaxLimit is Config.HistoryMaxLimit's default: the
// documented maximum of the history APIs' limit.
const DefaultHistoryMaxLimit = 500

// The shapes of media links (Config.MediaURLs).
const (
	MediaURLsPath   = "path"
	MediaURLsQuery  = "query"
	MediaURLsOpaque = "opaque"
)

// Fault injects a failure into one endpoint's answers.
type Fault struct {
	Endpoint   string // "auth","details","downloadurls","recordinfo","list","media","delete","history","historydetail","attendees","ctlrecords" (and "validate","refresh","logout")
	Kind       string // "status","throttle","latency","truncate","html","badjson","reset","flip","echo","omit", and the answer faults
	Status     int    // for "status"; default 500
	RetryAfter time.Duration
	Latency    time.Duration
	ConfUUID   string // "" = any
	Times      int    // how many requests it hits (0 = all)

	Code        string  // error_code for "status"; default chosen from Status
	Message     string  // error_msg for "status"
	Probability float64 // 0 or 1 = every matching request; else hit with this probability (seeded, deterministic in request order)

	// Offset is where a media "truncate" breaks the response: after Offset
	// bytes of its body (at most the body's length minus one); 0 = half the
	// body. RandomOffset draws it per hit, uniformly in [1, body length),
	// from the seeded fault generator. A media "reset" with either sends
	// the headers and that many bytes (the token is used), then resets the
	// connection (RST) instead of answering nothing. A "stall" falls silent
	// after that many bytes (default half); a "chunked" or "close" body is
	// whole without either, and with either cut after that many bytes.
	Offset       int64
	RandomOffset bool
}

// Counters is a snapshot of what the simulator has seen. Per-endpoint
// counters (Auth, Details, ...) count every request that reached the
// endpoint, whatever its outcome.
type Counters struct {
	Requests map[string]int64 // per endpoint name, every request

	Auth          int64 // login requests (App ID and account)
	AuthFailed    int64 // login requests refused (bad signature, password, body...)
	TokensIssued  int64 // access tokens issued (logins, refresh, validate with needGenNewToken)
	TokensEvicted int64 // live tokens invalidated by the per-user cap
	Unauthorized  int64 // API calls refused with 401 USG.000000004

	Details, DownloadURLs, RecordInfo, List, Delete, Media int64

	Deleted       int64 // conferences deleted
	LinksIssued   int64 // download tokens issued
	MediaBytes    int64 // media bytes written (complete or not)
	MediaComplete int64 // media responses sent in full
	MediaInFlight int64 // media responses being written now
	MediaPeak     int64 // most media responses in flight at once
	Throttled     int64 // 429s from rate enforcement (throttle faults count in Faults)
	TokenRefused  int64 // media requests refused for their download token

	Faults    int64            // fault injections
	FaultHits map[string]int64 // per "endpoint/kind"
}

// Served is one media response sent in full: a whole file (Offset 0, Bytes
// the file's size) or a range of it (206).
type Served struct {
	ConfUUID, FileType, Name string
	Bytes                    int64
	SHA256                   string // of the bytes actually sent (differs from FileSHA256 under a "flip" fault)
	Offset                   int64  // the file's byte the response started at (a Range request)
}

// Server is a running (or unstarted) simulator.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", once started.
	URL string

	cfg    Config
	ts     *httptest.Server
	stop   chan struct{}
	closed sync.Once
	key    uint64 // seed-derived, for request ids

	mu           sync.Mutex
	confs        map[string]*Conference
	order        []string            // confUUIDs in dataset order
	meetings     map[string]*Meeting // meetings without a recording (history only)
	meetingOrder []string
	derived      map[string]bool // confUUIDs whose History was derived
	deleted      map[string]bool
	tokens       map[string]*accessToken
	refresh      map[string]*accessToken
	userTokens   map[string][]*accessToken
	links        map[string]*link
	linkSweep    int
	gates        map[string]*gate
	allEnv       *bucket // Config.RateAllEnv: one limit over all APIs (nil: none)
	faults       []*faultState
	faultRNG     *rand.Rand
	reqSeq       uint64
	ctr          Counters
	served       []servedEntry
	servedSeq    uint64
	shaCache     map[string]*shaEntry
	mediaRunning int64
	late         map[string][]File // Config.LateFiles not added yet, by confUUID
}

// Validate checks the configuration (fault endpoints and kinds, the dataset).
func (c Config) Validate() error {
	if err := c.Dataset.Validate(); err != nil {
		return fmt.Errorf("meetingtest: config: dataset: %w", err)
	}
	if c.RatePerAPI < 0 || c.RateAllEnv < 0 || c.MediaRate < 0 || c.RateBurst < 0 {
		return errors.New("meetingtest: config: negative rate")
	}
	if err := c.validateQuota(); err != nil {
		return err
	}
	if c.HistoryMaxLimit < 0 {
		return fmt.Errorf("meetingtest: config: HistoryMaxLimit %d: must not be negative", c.HistoryMaxLimit)
	}
	for _, e := range c.NotDeployed {
		if !slices.Contains(apiEndpoints, e) {
			return fmt.Errorf("meetingtest: config: NotDeployed %q: want one of %v", e, apiEndpoints)
		}
	}
	switch c.MediaURLs {
	case "", MediaURLsPath, MediaURLsQuery, MediaURLsOpaque:
	default:
		return fmt.Errorf("meetingtest: config: media URLs %q: want %s, %s or %s", c.MediaURLs, MediaURLsPath, MediaURLsQuery, MediaURLsOpaque)
	}
	if err := c.validateLateFiles(); err != nil {
		return err
	}
	for i, f := range c.Faults {
		if !slices.Contains(faultEndpoints, f.Endpoint) {
			return fmt.Errorf("meetingtest: config: fault %d: endpoint %q: want one of %v", i, f.Endpoint, faultEndpoints)
		}
		if !slices.Contains(faultKinds, f.Kind) {
			return fmt.Errorf("meetingtest: config: fault %d: kind %q: want one of %v", i, f.Kind, faultKinds)
		}
		if slices.Contains(mediaOnlyKinds, f.Kind) && f.Endpoint != EndpointMedia {
			return fmt.Errorf("meetingtest: config: fault %d: kind %s applies to media only", i, f.Kind)
		}
		if err := checkAnswerFault(f); err != nil {
			return fmt.Errorf("meetingtest: config: fault %d: %w", i, err)
		}
		if f.Kind == FaultBadJSON && f.Endpoint == EndpointMedia {
			return fmt.Errorf("meetingtest: config: fault %d: kind badjson applies to API endpoints only", i)
		}
		if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
			return fmt.Errorf("meetingtest: config: fault %d: status %d", i, f.Status)
		}
		if f.Times < 0 || f.Probability < 0 || f.Probability > 1 {
			return fmt.Errorf("meetingtest: config: fault %d: times or probability out of range", i)
		}
		if f.Offset < 0 || ((f.Offset != 0 || f.RandomOffset) && (!slices.Contains(offsetKinds, f.Kind) || f.Endpoint != EndpointMedia)) {
			return fmt.Errorf("meetingtest: config: fault %d: an offset applies to media %s only, and is not negative", i, strings.Join(offsetKinds, ", "))
		}
		if f.Kind == FaultOmit && ((f.Endpoint != EndpointList && f.Endpoint != EndpointHistory) || f.ConfUUID == "") {
			return fmt.Errorf("meetingtest: config: fault %d: kind omit applies to list and history only, and needs a conference (conf=UUID)", i)
		}
	}
	return nil
}

var (
	faultEndpoints = []string{EndpointAuth, EndpointValidate, EndpointRefresh, EndpointLogout, EndpointDetails, EndpointList,
		EndpointDownloadURLs, EndpointRecordInfo, EndpointDelete, EndpointMedia,
		EndpointHistory, EndpointHistoryDetail, EndpointAttendees, EndpointCtlRecords}
	faultKinds = append([]string{FaultStatus, FaultThrottle, FaultLatency, FaultTruncate, FaultHTML, FaultBadJSON, FaultReset, FaultFlip, FaultEcho,
		FaultStall, FaultChunked, FaultClose, FaultOmit}, answerFaultKinds...)
	// mediaOnlyKinds apply to the media endpoint only.
	mediaOnlyKinds = []string{FaultFlip, FaultStall, FaultChunked, FaultClose}
	// offsetKinds take an Offset (or RandomOffset), on media.
	offsetKinds = []string{FaultTruncate, FaultReset, FaultStall, FaultChunked, FaultClose}
	// apiEndpoints are the endpoints Config.NotDeployed may name.
	apiEndpoints = []string{EndpointDetails, EndpointList, EndpointDownloadURLs, EndpointRecordInfo, EndpointDelete,
		EndpointHistory, EndpointHistoryDetail, EndpointAttendees, EndpointCtlRecords}
)

func (c *Config) setDefaults() {
	if c.AppID == "" {
		c.AppID = DefaultAppID
	}
	if c.AppKey == "" {
		c.AppKey = DefaultAppKey
	}
	if c.Account == "" {
		c.Account = DefaultAccount
	}
	if c.Password == "" {
		c.Password = DefaultPassword
	}
	if c.TokenLifetime <= 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	if c.LinkLifetime <= 0 {
		c.LinkLifetime = DefaultLinkLifetime
	}
	if c.MaxTokensPerUser <= 0 {
		c.MaxTokensPerUser = DefaultMaxTokens
	}
	if c.ListMaxLimit <= 0 {
		c.ListMaxLimit = DefaultListMaxLimit
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.QuotaWindow <= 0 {
		c.QuotaWindow = DefaultQuotaWindow
	}
	if c.HistoryMaxLimit <= 0 {
		c.HistoryMaxLimit = DefaultHistoryMaxLimit
	}
}

// NewUnstarted builds a simulator without a listener: use Handler with a
// server of your own, or Start / StartTLS. It panics on an invalid Config
// (see Config.Validate), as httptest constructors panic on setup failures.
func NewUnstarted(cfg Config) *Server {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg.setDefaults()
	cfg.QuotaModels = maps.Clone(cfg.QuotaModels)
	h := sha256.Sum256(binary.LittleEndian.AppendUint64([]byte("meetingtest-req"), uint64(cfg.Seed)))
	s := &Server{
		cfg:        cfg,
		stop:       make(chan struct{}),
		key:        binary.LittleEndian.Uint64(h[:8]),
		confs:      make(map[string]*Conference, len(cfg.Dataset.Conferences)),
		meetings:   make(map[string]*Meeting, len(cfg.Dataset.Meetings)),
		derived:    make(map[string]bool),
		deleted:    make(map[string]bool),
		tokens:     make(map[string]*accessToken),
		refresh:    make(map[string]*accessToken),
		userTokens: make(map[string][]*accessToken),
		links:      make(map[string]*link),
		gates:      make(map[string]*gate),
		shaCache:   make(map[string]*shaEntry),
		faultRNG:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6661756c7473)), // "faults"
	}
	for _, c := range cfg.Dataset.Conferences {
		c := c.clone()
		s.confs[c.ConfUUID] = &c
		s.order = append(s.order, c.ConfUUID)
	}
	for _, m := range cfg.Dataset.Meetings {
		m := m.clone()
		s.meetings[m.ConfUUID] = &m
		s.meetingOrder = append(s.meetingOrder, m.ConfUUID)
	}
	s.completeHistoriesLocked()
	s.setFaultsLocked(cfg.Faults)
	s.late = lateByConf(cfg.LateFiles)
	s.ctr.Requests = make(map[string]int64)
	s.ctr.FaultHits = make(map[string]int64)
	s.ts = httptest.NewUnstartedServer(s)
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	return s
}

// NewServer starts a simulator on a loopback port, like httptest.NewServer.
func NewServer(cfg Config) *Server {
	s := NewUnstarted(cfg)
	s.Start()
	return s
}

// NewTLSServer starts a simulator serving HTTPS with a self-signed
// certificate (see Certificate and Client).
func NewTLSServer(cfg Config) *Server {
	s := NewUnstarted(cfg)
	s.StartTLS()
	return s
}

// Start starts serving HTTP on a loopback port.
func (s *Server) Start() { s.ts.Start(); s.URL = s.ts.URL }

// StartTLS starts serving HTTPS on a loopback port.
func (s *Server) StartTLS() { s.ts.StartTLS(); s.URL = s.ts.URL }

// Certificate is the TLS certificate of a StartTLS server (nil otherwise).
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// Client returns an HTTP client that trusts the server (TLS or not).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Handler returns the simulator's HTTP handler.
func (s *Server) Handler() http.Handler { return s }

// Close stops the server: media streams and latency sleeps in flight are
// cut short, then it waits for handlers to return.
func (s *Server) Close() {
	s.closed.Do(func() { close(s.stop) })
	if s.URL != "" {
		s.ts.Close()
	}
}

// Config returns the effective configuration (defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// Counters returns a snapshot of the counters.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ctr
	c.Requests = maps.Clone(s.ctr.Requests)
	c.FaultHits = maps.Clone(s.ctr.FaultHits)
	c.MediaInFlight = s.mediaRunning
	return c
}

// servedEntry is a Served with what it takes to compute its SHA256 when it
// is first asked for: the response is a range of the file's deterministic
// content, with the byte at flipAt (the file's, -1: none) inverted.
type servedEntry struct {
	Served
	id     uint64
	flipAt int64
}

// Served lists every complete media response, in completion order. The
// SHA-256 of a response is computed here, when first asked for, not while
// it is served: the simulator shares the cores of the client it serves.
func (s *Server) Served() []Served {
	s.mu.Lock()
	var todo []servedEntry
	for _, e := range s.served {
		if e.SHA256 == "" {
			todo = append(todo, e)
		}
	}
	s.mu.Unlock()
	sums := make(map[uint64]string, len(todo))
	for _, e := range todo {
		sums[e.id] = s.sentSHA256(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Served, len(s.served))
	for i := range s.served {
		if sum, ok := sums[s.served[i].id]; ok {
			s.served[i].SHA256 = sum
		}
		out[i] = s.served[i].Served
	}
	return out
}

// Deleted reports whether the conference's recording was deleted, through
// the API or by DeleteConference.
func (s *Server) Deleted(confUUID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleted[confUUID]
}

// Conference returns the simulator's current view of a conference
// (including deleted ones), its History filled in.
func (s *Server) Conference(confUUID string) (Conference, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.confs[confUUID]
	if !ok {
		return Conference{}, false
	}
	return c.clone(), true
}

// Meeting returns the simulator's view of a meeting without a recording
// (Dataset.Meetings), its History filled in.
func (s *Server) Meeting(confUUID string) (Meeting, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.meetings[confUUID]
	if !ok {
		return Meeting{}, false
	}
	return m.clone(), true
}

// Update changes a conference in place (for example to finish its
// transcoding between two runs); false if the UUID is unknown.
func (s *Server) Update(confUUID string, fn func(*Conference)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.confs[confUUID]
	if !ok {
		return false
	}
	fn(c)
	c.ConfUUID = confUUID
	return true
}

// SetFaults replaces the fault table (Times counts start afresh).
func (s *Server) SetFaults(faults []Fault) error {
	cfg := Config{Faults: faults}
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaultsLocked(faults)
	return nil
}

// Serve serves the simulator on addr until ctx is done, then shuts down
// (for `meetarchive simulate`).
func Serve(ctx context.Context, addr string, cfg Config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("meetingtest: serve: %w", err)
	}
	return ServeListener(ctx, ln, cfg)
}

// ServeListener is Serve on a listener the caller opened (so it can learn
// the port of ":0" first). It closes ln.
func ServeListener(ctx context.Context, ln net.Listener, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		ln.Close()
		return err
	}
	return NewUnstarted(cfg).ServeListener(ctx, ln)
}

// ServeListener serves this simulator on ln until ctx is done (URL is set
// from the listener's address). It closes ln.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	s.URL = "http://" + ln.Addr().String()
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("meetingtest: serve: %w", err)
	case <-ctx.Done():
	}
	s.closed.Do(func() { close(s.stop) })
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("meetingtest: serve: %w", err)
	}
	return nil
}

// sleep waits d, or until the request or the server ends; false if cut short.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.stop:
		return false
	}
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// requestID returns a fresh 32-hex request id.
func (s *Server) requestID() string {
	s.mu.Lock()
	s.reqSeq++
	n := s.reqSeq
	s.mu.Unlock()
	return fmt.Sprintf("%016x%016x", s.key, n)
}
