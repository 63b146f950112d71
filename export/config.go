package export

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Credentials say how the client authenticates. Exactly one way is used, in this
// order of preference: App ID (AppID + AppKey), account (Account + Password),
// pre-issued Token.
type Credentials struct {
	AppID, AppKey, UserID, CorpID string // App ID auth
	Account, Password             string // account auth (Basic)
	Token                         string // pre-issued access token
}

// Method names the authentication the credentials select: "appid", "account",
// "token", or "" when none is complete.
func (c Credentials) Method() string {
	switch {
	case c.AppID != "" && c.AppKey != "":
		return "appid"
	case c.Account != "" && c.Password != "":
		return "account"
	case c.Token != "":
		return "token"
	}
	return ""
}

// String describes the credentials without revealing any secret.
func (c Credentials) String() string {
	switch c.Method() {
	case "appid":
		s := fmt.Sprintf("app ID %q", c.AppID)
		if c.UserID != "" {
			s += fmt.Sprintf(" user %q", c.UserID)
		}
		if c.CorpID != "" {
			s += fmt.Sprintf(" corp %q", c.CorpID)
		}
		return s + " (app key set)"
	case "account":
		return fmt.Sprintf("account %q (password set)", c.Account)
	case "token":
		return "pre-issued token (set)"
	}
	return "no credentials"
}

// GoString is String, so that %#v reveals no secret either.
func (c Credentials) GoString() string { return "export.Credentials{" + c.String() + "}" }

// CredentialsFromEnv reads MEETARCHIVE_APP_ID, _APP_KEY, _USER_ID, _CORP_ID,
// _ACCOUNT, _PASSWORD and _TOKEN through getenv (os.Getenv in main). Values are
// trimmed of surrounding white space (a trailing newline from a file is common).
func CredentialsFromEnv(getenv func(string) string) Credentials {
	get := func(k string) string { return strings.TrimSpace(getenv("MEETARCHIVE_" + k)) }
	return Credentials{
		AppID:    get("APP_ID"),
		AppKey:   get("APP_KEY"),
		UserID:   get("USER_ID"),
		CorpID:   get("CORP_ID"),
		Account:  get("ACCOUNT"),
		Password: get("PASSWORD"),
		Token:    get("TOKEN"),
	}
}

// LinkSource chooses the API that gives download links. With LinksAuto the
// client tries record info first (it gives each file's size and SHA-256)
// and, the first time record info answers 403, 404, 405 or 501 (not
// enabled), falls back to downloadurls for the rest of the client's life.
// With LinksSpread each conference keeps the API it had for its fresh
// links (the two APIs name file types differently), so its files keep
// their identity.
type LinkSource string

// Link sources.
const (
	LinksAuto         LinkSource = "auto"         // record info, falling back to downloadurls for the run
	LinksDownloadURLs LinkSource = "downloadurls" // GET /v1/mmc/management/record/downloadurls
	LinksRecordInfo   LinkSource = "recordinfo"   // POST /v1/mmc/rlm/record/info
	// LinksSpread uses record info, falling back as LinksAuto does, except
	// that a conference whose record info call would wait on its quota
	// (more than spillWait) takes its links from downloadurls, when that
	// quota can take the call sooner: a run bound by the links quota gets
	// both APIs' quotas, and the conferences that spill have no platform
	// SHA-256 or size.
	LinksSpread LinkSource = "spread"
)

// DefaultBaseURL is the Meeting API's base URL (the Chinese mainland site;
// the international one is https://api-intl.meeting.huaweicloud.com).
const DefaultBaseURL = "https://api.meeting.huaweicloud.com"

// Config.Rate: RateAuto (the zero value) or a ceiling in requests/s per API.
const (
	// RateAuto has no ceiling: each API starts at DefaultRate and then
	// follows the quota the gateway advertises on every answer
	// (X-APIG-Ratelimit-Api), up and down.
	RateAuto = 0.0
	// DefaultRate is where RateAuto starts, per API, until the gateway's
	// first answer tells its quota: the documented quota is unknown, the
	// gateway's own header suggests 100 calls a minute.
	DefaultRate = 1.6
	// MinRate is the lowest ceiling (one call a day): below it the time
	// between two calls would be longer than anyone means, and beyond what
	// a time.Duration holds (1e-10 a second is 317 years).
	MinRate = 1.0 / 86400
)

// Defaults applied by NewClient to zero fields of Config.
const (
	DefaultMaxAttempts    = 5
	DefaultMaxElapsed     = 2 * time.Minute
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxBodyBytes   = 8 << 20
	DefaultRetryBase      = 500 * time.Millisecond
	DefaultRetryMax       = 30 * time.Second
	DefaultStallTimeout   = time.Minute
)

// Config configures a Client. Zero fields take the defaults above.
type Config struct {
	BaseURL          string        // required, e.g. https://api.meeting.huaweicloud.com
	Credentials      Credentials   // one complete way to authenticate is required
	Rate             float64       // RateAuto (0, default): follow the gateway's quota; > 0: also a ceiling, requests/s per API
	MaxAttempts      int           // default 5 (total tries incl. first)
	MaxElapsed       time.Duration // default 2 * time.Minute for one call's retries
	RequestTimeout   time.Duration // default 30 s per API request (media: header timeout only)
	StallTimeout     time.Duration // default 1 min: a media body that brings no bytes (or under StallMinRate) while read this long is abandoned with ErrStalled
	Links            LinkSource    // default "auto"
	FileTypes        []string      // filter (case-insensitive); empty = all
	CABundle         string        // PEM file added to system roots (API and media)
	InsecureMediaTLS bool          // media hosts only; warn once via Logger
	MaxBodyBytes     int64         // API body cap, default 8 MiB
	Logger           *slog.Logger  // nil = discard
	HTTPClient       *http.Client  // optional override (tests): used for API and media alike

	RetryBase time.Duration // first backoff step, default 500 ms
	RetryMax  time.Duration // largest backoff step, default 30 s

	// Language is the Accept-Language of the attendee and control records
	// requests: LanguageEnglish (the default) or LanguageChinese (the
	// platform's own default).
	Language string

	// Observer, when set, hears every API exchange (every try, the login
	// included; never a media download): what the custody ledger records.
	// It is called from the goroutine that made the call, so it must be
	// safe for concurrent use and quick.
	Observer func(Call)
}

// Call is one API exchange as Config.Observer hears it. It holds no
// secret: no token, no URL, no body.
type Call struct {
	API       string // "details", "downloadurls", "recordinfo", "list", "delete", "auth", "history", ...
	ConfUUID  string // the conference the call is about ("" for list and history pages, auth)
	Try       int    // 1 for the first try, 2 for the first retry, ...
	Status    int    // the HTTP status; 0 when no answer came
	RequestID string // the gateway's X-Request-Id ("" when none)
	Error     string // why the exchange failed ("" when it did not), redacted
}

// Languages of Config.Language.
const (
	LanguageEnglish = "en-US"
	LanguageChinese = "zh-CN"
)

// Validate reports the first bad field of c, by name.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return errors.New("export: config: BaseURL is required (MEETARCHIVE_API)")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("export: config: BaseURL %q: want an http(s) URL such as https://api.meeting.huaweicloud.com", c.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("export: config: BaseURL: no query, fragment or user info allowed")
	}
	cr := c.Credentials
	switch {
	case cr.AppID != "" && cr.AppKey == "":
		return errors.New("export: config: Credentials: MEETARCHIVE_APP_ID is set but MEETARCHIVE_APP_KEY is empty")
	case cr.AppKey != "" && cr.AppID == "":
		return errors.New("export: config: Credentials: MEETARCHIVE_APP_KEY is set but MEETARCHIVE_APP_ID is empty")
	case cr.Account != "" && cr.Password == "" && cr.Method() == "":
		return errors.New("export: config: Credentials: MEETARCHIVE_ACCOUNT is set but MEETARCHIVE_PASSWORD is empty")
	case cr.Method() == "":
		return errors.New("export: config: Credentials: set MEETARCHIVE_APP_ID and MEETARCHIVE_APP_KEY, or MEETARCHIVE_ACCOUNT and MEETARCHIVE_PASSWORD, or MEETARCHIVE_TOKEN")
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || (c.Rate != RateAuto && c.Rate < MinRate) {
		return fmt.Errorf("export: config: Rate %v: want RateAuto (0) or a number of requests a second from %g (one a day)", c.Rate, MinRate)
	}
	if c.MaxAttempts < 0 {
		return fmt.Errorf("export: config: MaxAttempts %d: must not be negative", c.MaxAttempts)
	}
	if c.MaxElapsed < 0 {
		return fmt.Errorf("export: config: MaxElapsed %v: must not be negative", c.MaxElapsed)
	}
	if c.RequestTimeout < 0 {
		return fmt.Errorf("export: config: RequestTimeout %v: must not be negative", c.RequestTimeout)
	}
	if c.StallTimeout < 0 {
		return fmt.Errorf("export: config: StallTimeout %v: must not be negative", c.StallTimeout)
	}
	if c.RetryBase < 0 || c.RetryMax < 0 {
		return fmt.Errorf("export: config: RetryBase/RetryMax: must not be negative")
	}
	switch c.Links {
	case "", LinksAuto, LinksDownloadURLs, LinksRecordInfo, LinksSpread:
	default:
		return fmt.Errorf("export: config: Links %q: want auto, downloadurls, recordinfo or spread", string(c.Links))
	}
	for _, t := range c.FileTypes {
		if strings.TrimSpace(t) == "" {
			return errors.New("export: config: FileTypes: empty file type")
		}
	}
	switch c.Language {
	case "", LanguageEnglish, LanguageChinese:
	default:
		return fmt.Errorf("export: config: Language %q: want %s or %s", c.Language, LanguageEnglish, LanguageChinese)
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("export: config: MaxBodyBytes %d: must not be negative", c.MaxBodyBytes)
	}
	if c.CABundle != "" {
		if _, err := os.Stat(c.CABundle); err != nil {
			return fmt.Errorf("export: config: CABundle: %w", err)
		}
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxElapsed == 0 {
		c.MaxElapsed = DefaultMaxElapsed
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	if c.Links == "" {
		c.Links = LinksAuto
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.RetryBase == 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryMax < c.RetryBase {
		c.RetryMax = c.RetryBase
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Language == "" {
		c.Language = LanguageEnglish
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

// ParseRate reads a --rate value: "auto" (or "") is RateAuto, anything else
// a number of requests a second per API, the ceiling: finite, and at least
// MinRate (one call a day).
func ParseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "auto") {
		return RateAuto, nil
	}
	r, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || !(r > 0) || math.IsInf(r, 0):
		return 0, fmt.Errorf("rate %q: want auto or a positive number of requests a second", s)
	case r < MinRate:
		return 0, fmt.Errorf("rate %q: below the floor of one request a day (%g a second)", s, MinRate)
	}
	return r, nil
}

// FormatRate renders a Config.Rate as ParseRate reads it.
func FormatRate(r float64) string {
	if r == RateAuto {
		return "auto"
	}
	return strconv.FormatFloat(r, 'g', -1, 64)
}
