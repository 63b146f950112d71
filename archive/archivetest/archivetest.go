// Package archivetest tests archive.Store implementations.
//
// Run is the store suite: one named subtest per part of the Store contract
// (put, a failed put commits nothing, another conference's key, hostile
// keys, preflight, missing keys, list, delete, the reserved area's
// documents and their conditions, the lock, the declared capabilities) and
// of the commit layer over it (sidecars, Archived, Verify), run on a
// Fixture that each store's own tests build. A new store is "implement
// archive.Store, pass Run"; its own tests add only what is particular to it.
//
// The rest connects tests to the real S3-compatible server (versitygw) that
// scripts/s3.sh starts on 127.0.0.1: it finds the server, creates uniquely
// named buckets (optionally with versioning or Object Lock) that are emptied
// and removed after the test, and builds S3 clients for assertions.
//
// The server is found from MEETARCHIVE_TEST_S3_ENDPOINT,
// MEETARCHIVE_TEST_S3_ACCESS_KEY, MEETARCHIVE_TEST_S3_SECRET_KEY (and optional
// MEETARCHIVE_TEST_S3_REGION), or else from the state scripts/s3.sh up leaves
// in <repo>/.s3/env. When it cannot be reached, a test is skipped with a
// hint to run `make s3-up`, except when CI=true, where it fails.
//
// archivetest imports package archive, so archive's external tests (package
// archive_test) can use it and its internal tests cannot. S3Env.ClientOption
// and S3Env.Environ connect an archive.Options or a child process to the server.
package archivetest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Environment variables naming the test server.
const (
	EnvEndpoint  = "MEETARCHIVE_TEST_S3_ENDPOINT"
	EnvRegion    = "MEETARCHIVE_TEST_S3_REGION"
	EnvAccessKey = "MEETARCHIVE_TEST_S3_ACCESS_KEY"
	EnvSecretKey = "MEETARCHIVE_TEST_S3_SECRET_KEY"
)

// S3Env locates the test server. String never shows the secret key.
type S3Env struct {
	Endpoint, Region, AccessKey, SecretKey string
}

// String describes the server without its secret.
func (e S3Env) String() string {
	return fmt.Sprintf("S3 test server %s (region %s, access key %s)", e.Endpoint, e.Region, e.AccessKey)
}

// GoString keeps %#v from printing the secret too.
func (e S3Env) GoString() string { return e.String() }

// Credentials are static credentials for the server.
func (e S3Env) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(e.AccessKey, e.SecretKey, "")
}

// ClientOption points an S3 client at the server: endpoint, region, path-style
// addressing and credentials. Append it to archive.Options.ClientOptions.
func (e S3Env) ClientOption() func(*s3.Options) {
	return func(o *s3.Options) {
		o.BaseEndpoint = aws.String(e.Endpoint)
		o.Region = e.Region
		o.UsePathStyle = true
		o.Credentials = e.Credentials()
	}
}

// Environ is the AWS environment for a child process (e.g. the meetarchive
// binary) to reach the server through the standard configuration chain.
func (e S3Env) Environ() []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + e.Endpoint,
		"AWS_REGION=" + e.Region,
		"AWS_ACCESS_KEY_ID=" + e.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + e.SecretKey,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

var (
	probeMu    sync.Mutex
	probeCache = map[S3Env]error{}
)

// Server returns the test server, or skips the test (fails it when CI=true)
// when none is configured or it does not answer its health check.
func Server(t testing.TB) S3Env {
	t.Helper()
	env, err := lookup()
	if err == nil {
		err = reachable(env)
	}
	if err != nil {
		msg := fmt.Sprintf("no S3 test server: %v; start one with `make s3-up` (scripts/s3.sh up)", err)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s [CI=true: S3 tests must not skip]", msg)
		}
		t.Skip(msg)
	}
	return env
}

// lookup finds the server's coordinates: environment first, then .s3/env.
func lookup() (S3Env, error) {
	env := S3Env{
		Endpoint: os.Getenv(EnvEndpoint), Region: os.Getenv(EnvRegion),
		AccessKey: os.Getenv(EnvAccessKey), SecretKey: os.Getenv(EnvSecretKey),
	}
	src := "environment"
	if env.Endpoint == "" {
		path, err := stateFile()
		if err != nil {
			return env, err
		}
		vals, err := readExports(path)
		if err != nil {
			return env, fmt.Errorf("%s not set and %s unreadable: %w", EnvEndpoint, path, err)
		}
		env = S3Env{Endpoint: vals[EnvEndpoint], Region: vals[EnvRegion], AccessKey: vals[EnvAccessKey], SecretKey: vals[EnvSecretKey]}
		src = path
	}
	if env.Region == "" {
		env.Region = "us-east-1"
	}
	if env.Endpoint == "" || env.AccessKey == "" || env.SecretKey == "" {
		return env, fmt.Errorf("incomplete S3 test configuration in %s (need %s, %s, %s)", src, EnvEndpoint, EnvAccessKey, EnvSecretKey)
	}
	return env, nil
}

// stateFile is <repo>/.s3/env, the repo being the nearest directory above the
// working directory that holds go.mod.
func stateFile() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".s3", "env")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s not set and no %s", EnvEndpoint, p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not set and no go.mod above the working directory", EnvEndpoint)
		}
		dir = parent
	}
}

// readExports reads `export NAME=value` lines.
func readExports(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "))
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return vals, sc.Err()
}

// reachable checks the server's health endpoint (cached per process).
func reachable(env S3Env) error {
	probeMu.Lock()
	defer probeMu.Unlock()
	if err, ok := probeCache[env]; ok {
		return err
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(strings.TrimRight(env.Endpoint, "/") + "/health")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s/health answered %s", env.Endpoint, resp.Status)
		}
	} else {
		err = fmt.Errorf("%s unreachable: %w", env.Endpoint, err)
	}
	probeCache[env] = err
	return err
}

// Client is an S3 client for the server (path-style, static credentials).
func Client(t testing.TB, env S3Env) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{}, env.ClientOption())
}

// BucketOptions choose the features of a test bucket.
type BucketOptions struct {
	ObjectLock bool // created with Object Lock enabled (implies versioning)
	Versioning bool // versioning enabled
}

// Bucket is a test bucket.
type Bucket struct {
	Name   string
	Env    S3Env
	Client *s3.Client
}

// URI is "s3://name/prefix" (prefix may be "").
func (b Bucket) URI(prefix string) string {
	return "s3://" + b.Name + "/" + strings.TrimPrefix(prefix, "/")
}

// NewBucket creates a bucket with a unique name for this test on the server
// (skipping or failing like Server when there is none) and, after the test,
// removes every object version (bypassing GOVERNANCE retention), every
// incomplete multipart upload and the bucket, best effort: COMPLIANCE-locked
// versions stay until scripts/s3.sh down removes the server's data.
func NewBucket(t testing.TB, opts BucketOptions) Bucket {
	t.Helper()
	env := Server(t)
	c := Client(t, env)
	name := bucketName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if opts.ObjectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		t.Fatalf("archivetest: create bucket %s on %s: %v", name, env.Endpoint, err)
	}
	t.Cleanup(func() { removeBucket(c, name) })
	if opts.Versioning && !opts.ObjectLock {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		}); err != nil {
			t.Fatalf("archivetest: enable versioning on %s: %v", name, err)
		}
	}
	return Bucket{Name: name, Env: env, Client: c}
}

// bucketName is a valid, unique bucket name derived from the test name.
func bucketName(testName string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			if s := sb.String(); s != "" && !strings.HasSuffix(s, "-") {
				sb.WriteByte('-')
			}
		}
	}
	base := strings.Trim(sb.String(), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return "mat-" + base + "-" + hex.EncodeToString(rnd[:])
}

// EmptyAndRemove deletes every version, delete marker and incomplete multipart
// upload in bucket, then the bucket; it reports the first failure.
func EmptyAndRemove(ctx context.Context, c *s3.Client, bucket string) error {
	var errs []error
	up := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	for up.HasMorePages() {
		page, err := up.NextPage(ctx)
		if err != nil {
			errs = append(errs, err)
			break
		}
		for _, u := range page.Uploads {
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	vp := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	for vp.HasMorePages() {
		page, err := vp.NextPage(ctx)
		if err != nil {
			errs = append(errs, err)
			break
		}
		del := func(key, vid *string) {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: key, VersionId: vid, BypassGovernanceRetention: aws.Bool(true)})
			if err != nil {
				errs = append(errs, err)
			}
		}
		for _, v := range page.Versions {
			del(v.Key, v.VersionId)
		}
		for _, m := range page.DeleteMarkers {
			del(m.Key, m.VersionId)
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func removeBucket(c *s3.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = EmptyAndRemove(ctx, c, bucket) // best effort: locked versions stay
}

// IncompleteUploads lists the keys of the bucket's incomplete multipart uploads.
func IncompleteUploads(t testing.TB, b Bucket) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	p := s3.NewListMultipartUploadsPaginator(b.Client, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("archivetest: list multipart uploads in %s: %v", b.Name, err)
		}
		for _, u := range page.Uploads {
			keys = append(keys, aws.ToString(u.Key))
		}
	}
	return keys
}

// Keys lists the bucket's current object keys (sorted by the server).
func Keys(t testing.TB, b Bucket) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	p := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("archivetest: list objects in %s: %v", b.Name, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
