package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/sys/unix"

	"meetarchive/archive"
	"meetarchive/console"
	"meetarchive/export"
	"meetarchive/notify"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// logFlags are shared by every command that logs.
type logFlags struct {
	format choiceFlag
	level  choiceFlag
	held   *console.Held // --quiet: warnings held back until the end (see quiet)
}

func addLogFlags(c *command) *logFlags {
	l := &logFlags{
		format: choiceFlag{value: "text", choices: []string{"text", "json"}},
		level:  choiceFlag{value: "info", choices: []string{"debug", "info", "warn", "error"}},
	}
	c.fs.Var(&l.format, "log-format", "log format on stderr: text or json")
	c.fs.Var(&l.level, "log-level", "least severe log level shown: debug, info, warn, error")
	return l
}

// quiet is --quiet's effect on the log, unless --log-level (or its
// environment twin) was given: errors are written as they come, warnings
// are held back and written only if the command fails (endQuiet), and
// nothing less severe is logged.
func (l *logFlags) quiet() {
	if !l.level.set {
		l.level.value = "warn"
		l.held = &console.Held{}
	}
}

// endQuiet ends a --quiet command whose outcome is err: the warnings held
// back are written when it failed (a non-zero exit code), dropped when not.
func (l *logFlags) endQuiet(ctx context.Context, err error) {
	if l.held != nil && exitCode(err) != report.ExitOK {
		l.held.Flush(ctx)
	}
}

func (l *logFlags) logger(w io.Writer) *slog.Logger {
	return console.NewLogger(w, l.format.value, l.level.value, l.held)
}

// apiFlags are the Meeting API flags, shared by run and list.
type apiFlags struct {
	API              string
	Rate             rateFlag
	MaxAttempts      int
	MaxElapsed       time.Duration
	RequestTimeout   time.Duration
	StallTimeout     time.Duration
	CABundle         string
	InsecureMediaTLS bool
	AppKeyFile       string
	PasswordFile     string
	TokenFile        string
}

func defaultAPIFlags() apiFlags {
	return apiFlags{
		API:            export.DefaultBaseURL,
		Rate:           rateFlag{value: export.RateAuto},
		MaxAttempts:    export.DefaultMaxAttempts,
		MaxElapsed:     export.DefaultMaxElapsed,
		RequestTimeout: export.DefaultRequestTimeout,
		StallTimeout:   export.DefaultStallTimeout,
	}
}

// register binds the API flags; media adds the flags only downloads use.
func (a *apiFlags) register(c *command, media bool) {
	fs := c.fs
	fs.StringVar(&a.API, "api", a.API, "Meeting API base URL")
	fs.Var(&a.Rate, "rate", "requests a second sent to each API: auto (follow the gateway's advertised quota) or a number (a ceiling never exceeded, at least 0.0000115741: one a day)")
	fs.IntVar(&a.MaxAttempts, "max-attempts", a.MaxAttempts, "tries per API call and per file download, first included")
	fs.DurationVar(&a.MaxElapsed, "max-elapsed", a.MaxElapsed, "longest time spent retrying one API call or one file (Retry-After included)")
	fs.DurationVar(&a.RequestTimeout, "request-timeout", a.RequestTimeout, "timeout of one API request")
	fs.StringVar(&a.CABundle, "ca-bundle", "", "PEM file of extra CA certificates for the API and media hosts")
	if media {
		fs.DurationVar(&a.StallTimeout, "stall-timeout", a.StallTimeout, "a media body that brings no byte (or under 1 KiB a second) for this long while read is dropped and resumed, under --max-attempts and --max-elapsed")
		fs.BoolVar(&a.InsecureMediaTLS, "insecure-media-tls", false, "do not verify TLS certificates of MEDIA hosts (never the API); logged as a warning")
	}
	fs.StringVar(&a.AppKeyFile, "app-key-file", "", "read the app key from this file instead of $MEETARCHIVE_APP_KEY")
	fs.StringVar(&a.PasswordFile, "password-file", "", "read the account password from this file instead of $MEETARCHIVE_PASSWORD")
	fs.StringVar(&a.TokenFile, "token-file", "", "read a pre-issued access token from this file instead of $MEETARCHIVE_TOKEN")
}

// clientConfig validates the API flags and reads the credentials.
func (a *apiFlags) clientConfig(cmd string, getenv func(string) string) (export.Config, error) {
	switch {
	case a.MaxAttempts < 1:
		return export.Config{}, usagef("%s: invalid value %d for --max-attempts: want at least 1", cmd, a.MaxAttempts)
	case a.MaxElapsed <= 0:
		return export.Config{}, usagef("%s: invalid value %s for --max-elapsed: want more than 0", cmd, a.MaxElapsed)
	case a.RequestTimeout <= 0:
		return export.Config{}, usagef("%s: invalid value %s for --request-timeout: want more than 0", cmd, a.RequestTimeout)
	case a.StallTimeout <= 0:
		return export.Config{}, usagef("%s: invalid value %s for --stall-timeout: want more than 0", cmd, a.StallTimeout)
	}
	if a.CABundle != "" {
		if err := checkReadableFile(a.CABundle); err != nil {
			return export.Config{}, fileError(cmd, "ca-bundle", a.CABundle, err)
		}
	}
	creds, err := a.credentials(getenv)
	if err != nil {
		return export.Config{}, err
	}
	return export.Config{
		BaseURL: a.API, Credentials: creds, Rate: a.Rate.rate(),
		MaxAttempts: a.MaxAttempts, MaxElapsed: a.MaxElapsed, RequestTimeout: a.RequestTimeout, StallTimeout: a.StallTimeout,
		CABundle: a.CABundle, InsecureMediaTLS: a.InsecureMediaTLS,
	}, nil
}

// credentials reads secrets from the environment or from files named by flags.
func (a *apiFlags) credentials(getenv func(string) string) (export.Credentials, error) {
	cr := export.CredentialsFromEnv(getenv)
	var err error
	for _, s := range []struct {
		flag, path string
		dst        *string
	}{{"app-key-file", a.AppKeyFile, &cr.AppKey}, {"password-file", a.PasswordFile, &cr.Password}, {"token-file", a.TokenFile, &cr.Token}} {
		if s.path != "" {
			if *s.dst, err = readSecretFile(s.flag, s.path); err != nil {
				return cr, err
			}
		}
	}
	switch {
	case cr.AppID == "" && cr.Account == "" && cr.Token == "":
		return cr, usagef("no Meeting API credentials: set MEETARCHIVE_APP_ID and MEETARCHIVE_APP_KEY, or MEETARCHIVE_ACCOUNT and MEETARCHIVE_PASSWORD, or MEETARCHIVE_TOKEN")
	case cr.AppID != "" && cr.AppKey == "":
		return cr, usagef("MEETARCHIVE_APP_ID is set but the app key is missing: set MEETARCHIVE_APP_KEY or --app-key-file")
	case cr.Account != "" && cr.Password == "" && cr.AppID == "" && cr.Token == "":
		return cr, usagef("MEETARCHIVE_ACCOUNT is set but the password is missing: set MEETARCHIVE_PASSWORD or --password-file")
	}
	return cr, nil
}

// s3Flags are the destination flags; run has the write-side ones too.
type s3Flags struct {
	Endpoint, Region, Profile string
	PathStyle                 bool
	PartSize                  byteSize
	PartConcurrency           int
	MaxUploads                int
	Memory                    byteSize
	LockMode                  choiceFlag
	RetainDays                int
	RetainUntil               dateFlag
	LegalHold                 bool
	SSE                       choiceFlag
	SSEKMSKeyID               string
	StorageClass              string
}

func defaultS3Flags() s3Flags {
	return s3Flags{
		PartSize:        byteSize(archive.DefaultPartSize),
		PartConcurrency: archive.DefaultPartConcurrency,
		MaxUploads:      archive.DefaultMaxUploads,
		LockMode:        choiceFlag{choices: []string{"", "GOVERNANCE", "COMPLIANCE"}},
		SSE:             choiceFlag{choices: []string{"", "AES256", "aws:kms"}},
	}
}

// register binds the S3 connection flags, and with write the upload ones.
func (s *s3Flags) register(c *command, write bool) {
	fs := c.fs
	fs.StringVar(&s.Endpoint, "s3-endpoint", "", "S3 endpoint URL (default: the AWS configuration, AWS_ENDPOINT_URL_S3)")
	fs.StringVar(&s.Region, "s3-region", "", "S3 region (default: the AWS configuration)")
	fs.BoolVar(&s.PathStyle, "s3-path-style", false, "path-style S3 addressing (most self-hosted servers)")
	fs.StringVar(&s.Profile, "s3-profile", "", "AWS shared-config profile")
	if !write {
		return
	}
	fs.Var(&s.PartSize, "part-size", "multipart upload part size (e.g. 16MiB)")
	fs.IntVar(&s.PartConcurrency, "part-concurrency", s.PartConcurrency, "parts of one upload sent at once")
	fs.IntVar(&s.MaxUploads, "max-uploads", s.MaxUploads, "uploads in flight (they share the --memory budget; conferences beyond it open their media stream only when an upload slot is free)")
	fs.Var(&s.Memory, "memory", "memory budget: bytes of upload part buffers shared by all uploads (peak RSS is about this + 35 MiB); 0 = 2 x max-uploads x part-size (64MiB by default); at least 2 x part-size")
	fs.Var(&s.LockMode, "object-lock-mode", "S3 Object Lock mode: GOVERNANCE or COMPLIANCE (needs --retain-days or --retain-until)")
	fs.IntVar(&s.RetainDays, "retain-days", 0, "Object Lock retention in days from upload")
	fs.Var(&s.RetainUntil, "retain-until", "Object Lock retention until this date (YYYY-MM-DD or RFC 3339)")
	fs.BoolVar(&s.LegalHold, "legal-hold", false, "put an Object Lock legal hold on every object")
	fs.Var(&s.SSE, "sse", "server-side encryption: AES256 or aws:kms")
	fs.StringVar(&s.SSEKMSKeyID, "sse-kms-key-id", "", "KMS key id for --sse aws:kms")
	fs.StringVar(&s.StorageClass, "storage-class", "", "S3 storage class (e.g. STANDARD_IA, GLACIER_IR)")
}

// options validates the destination flags into archive.Options, naming the
// flag of a bad value.
func (s *s3Flags) options(cmd string) (archive.Options, error) {
	o := archive.Options{
		Endpoint: s.Endpoint, Region: s.Region, Profile: s.Profile, PathStyle: s.PathStyle,
		PartSize: int64(s.PartSize), PartConcurrency: s.PartConcurrency, MaxUploads: s.MaxUploads, Memory: int64(s.Memory),
		LockMode: s.LockMode.value, RetainDays: s.RetainDays, RetainUntil: s.RetainUntil.t, LegalHold: s.LegalHold,
		SSE: s.SSE.value, SSEKMSKeyID: s.SSEKMSKeyID, StorageClass: s.StorageClass,
	}
	if err := o.Validate(); err != nil {
		var fe *archive.FieldError
		if errors.As(err, &fe) {
			return o, usagef("%s: invalid value for --%s: %s", cmd, s3FlagOf[fe.Field], fe.Reason)
		}
		return o, usagef("%s: %v", cmd, err)
	}
	return o, nil
}

// s3FlagOf names the flag behind each archive.Options field.
var s3FlagOf = map[string]string{
	"Endpoint": "s3-endpoint", "Region": "s3-region", "Profile": "s3-profile", "PathStyle": "s3-path-style",
	"PartSize": "part-size", "PartConcurrency": "part-concurrency", "MaxUploads": "max-uploads", "Memory": "memory",
	"LockMode": "object-lock-mode", "RetainDays": "retain-days", "RetainUntil": "retain-until", "LegalHold": "legal-hold",
	"SSE": "sse", "SSEKMSKeyID": "sse-kms-key-id", "StorageClass": "storage-class",
}

// rateFlag is --rate: "auto" (export.RateAuto) or a positive, finite
// number of requests a second (a ceiling).
type rateFlag struct{ value float64 }

func (r *rateFlag) String() string { return export.FormatRate(r.value) }

func (r *rateFlag) Set(s string) error {
	v, err := export.ParseRate(s)
	if err != nil {
		return err
	}
	r.value = v
	return nil
}

// rate is the client's Rate.
func (r *rateFlag) rate() float64 { return r.value }

// checkReadableFile is nil when path is a file this process may read.
func checkReadableFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return errors.New("is a directory, not a file")
	}
	return unixAccessR(path)
}

// unixAccessR reports whether this process may read path.
func unixAccessR(path string) error { return unix.Access(path, unix.R_OK) }

// byteSize is a flag value like "16MiB", "64MB", "1048576".
type byteSize int64

func (b *byteSize) String() string { return formatBytes(int64(*b)) }

func (b *byteSize) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size: want a number of bytes like 16MiB")
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("too large: at most %d bytes", int64(math.MaxInt64))
	}
	return n * mult, nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.FormatInt(n, 10)
}

// dateFlag accepts 2024-01-31 or an RFC 3339 time.
type dateFlag struct{ t time.Time }

func (d *dateFlag) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.RFC3339)
}

func (d *dateFlag) Set(s string) error {
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			d.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("not a date: want YYYY-MM-DD or RFC 3339")
}

// choiceFlag is a string restricted to a fixed set of values.
type choiceFlag struct {
	value   string
	choices []string
	set     bool // given on the command line or in the environment
}

func (c *choiceFlag) String() string { return c.value }

func (c *choiceFlag) Set(s string) error {
	for _, ch := range c.choices {
		if strings.EqualFold(s, ch) {
			c.value, c.set = ch, true
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(c.choices, ", "))
}

// listFlag is a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = nil
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// readSecretFile reads a secret from a file named by a flag, trimming the
// final newline. The secret itself never appears in an error; the path does.
func readSecretFile(flagName, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("--%s %s: cannot read it: %s", flagName, path, pipeline.PathReason(err, path))
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// urlList is a repeatable flag of URLs: each use adds its URLs, and one
// value may hold several separated by commas or white space (the form of
// the environment twin). It shows only the hosts: a webhook URL is a secret.
type urlList []string

func (l *urlList) String() string {
	if l == nil {
		return ""
	}
	hosts := make([]string, len(*l))
	for i, u := range *l {
		hosts[i] = notify.Host(u)
	}
	return strings.Join(hosts, ",")
}

func (l *urlList) Set(s string) error {
	*l = append(*l, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })...)
	return nil
}
