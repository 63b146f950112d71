package main

// End-to-end tests against the real S3 server (versitygw) that `make test`
// starts: streaming, integrity, retries, write-once, verify and interruption.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
)

func s3Env(sim *meetingtest.Server, b archivetest.Bucket) map[string]string {
	env := simEnv(sim)
	for _, kv := range b.Env.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env["AWS_CONFIG_FILE"] = "/nonexistent"
	env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
	env["MEETARCHIVE_S3_PATH_STYLE"] = "true"
	return env
}

func objectSHA256(t *testing.T, b archivetest.Bucket, key string) (string, bool) {
	t.Helper()
	out, err := b.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return "", false
	}
	defer out.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		t.Fatalf("read back %s: %v", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

func keyOf(b archivetest.Bucket, uri string) string {
	return strings.TrimPrefix(uri, "s3://"+b.Name+"/")
}

// TestS3RunIntegrityRetriesKeysAndVerify covers, in one run on the binary:
// a flipped byte fails with integrity and leaves no object; a truncated
// download is retried with fresh links and archived; a hostile subject gives
// a safe key; nothing is left half-uploaded; a rerun downloads nothing that
// was committed; verify catches an overwritten and a deleted object.
func TestS3RunIntegrityRetriesKeysAndVerify(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	ds := meetingtest.GenerateFiles(4, 2, 6<<20, 29) // 6 MiB files: multipart with 5 MiB parts
	flipped, truncated, hostile := ds.Conferences[0].ConfUUID, ds.Conferences[1].ConfUUID, ds.Conferences[2].ConfUUID
	ds.Conferences[2].Subject = "../../x/\x00\x01\x1b[31m/" + strings.Repeat("é", 1000) + "/../.."
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 29, RecordInfo: true, Faults: []meetingtest.Fault{
		{Endpoint: "media", Kind: "flip", ConfUUID: flipped},
		{Endpoint: "media", Kind: "truncate", ConfUUID: truncated, Times: 1},
	}})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	out := filepath.Join(dir, "report")
	env := s3Env(sim, b)
	args := []string{"run", "--input", in, "--dest", b.URI("arch"), "--out", out, "--links", "recordinfo",
		"--part-size", "5MiB", "--key-template", "{{.Subject}}/{{.ConfUUID}}/{{.FileType}}/{{.FileName}}"}
	res := runBin(t, env, args...)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (the flipped conference fails)\n%s", res.code, res.stderr)
	}
	served := map[string]string{}
	for _, s := range sim.Served() {
		if s.Offset == 0 { // whole files; a resumed stream's tail is served from an offset
			served[s.ConfUUID+"/"+s.FileType+"/"+s.Name] = s.SHA256
		}
	}
	for _, c := range ds.Conferences { // a resumed file was never served whole in one response
		for _, f := range c.Files {
			if _, ok := served[c.ConfUUID+"/"+f.FileType+"/"+f.Name]; !ok {
				served[c.ConfUUID+"/"+f.FileType+"/"+f.Name] = sim.FileSHA256(c.ConfUUID, f.FileType, f.Name)
			}
		}
	}
	resumed := sim.MediaBytesServed()
	for _, r := range readManifest(t, out) {
		u := r["confUUID"]
		switch {
		case u == flipped:
			if r["status"] != "failed" || r["errorCode"] != "integrity" {
				t.Errorf("flipped row: status %s errorCode %s, want failed/integrity", r["status"], r["errorCode"])
			}
		default:
			if r["status"] != "archived" {
				t.Errorf("row %v: want archived", r)
				continue
			}
			key := keyOf(b, r["objectURI"])
			got, ok := objectSHA256(t, b, key)
			if !ok || got != r["sha256"] {
				t.Errorf("%s: read back sha256 %s (exists %v), manifest %s", key, got, ok, r["sha256"])
			}
			// The simulator served these bytes (the record-type name is the file type here).
			found := false
			for k, v := range served {
				if strings.HasPrefix(k, u+"/") && strings.HasSuffix(k, "/"+r["fileName"]) && v == got {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: sha256 %s is not what the simulator served", key, got)
			}
			if u == hostile {
				if strings.Contains("/"+key+"/", "/../") || !utf8.ValidString(key) || len(key) > 1024 ||
					strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Errorf("unsafe key for a hostile subject: %q", key)
				}
			}
		}
	}
	// The truncated stream was resumed with a range request, not downloaded again.
	var total, twice int64 // every file once; the flipped conference's files a second time
	for _, c := range ds.Conferences {
		for _, f := range c.Files {
			total += f.Size
			if c.ConfUUID == flipped {
				twice += f.Size
			}
		}
	}
	if want := total + twice; resumed < want || resumed > want+5<<20 {
		t.Errorf("media host served %d bytes; want %d (every file once, the flipped ones twice) plus less than one part for the resumed break", resumed, want)
	}
	for _, k := range archivetest.Keys(t, b) {
		if strings.Contains(k, flipped) {
			t.Errorf("object %s exists for the conference that failed integrity", k)
		}
	}
	if c := sim.Counters(); c.TokenRefused != 0 {
		t.Errorf("the simulator refused %d reused or expired download tokens; retries must use fresh links", c.TokenRefused)
	}
	if up := archivetest.IncompleteUploads(t, b); len(up) > 0 {
		t.Errorf("incomplete multipart uploads left after a run with failures: %v", up)
	}

	// Rerun: only the failed conference is downloaded again.
	before := map[string]int{}
	for _, s := range sim.Served() {
		before[s.ConfUUID]++
	}
	mediaBefore := sim.Counters().Media
	rerun := append([]string(nil), args...)
	rerun[6] = filepath.Join(dir, "report2") // --out
	res = runBin(t, env, rerun...)
	if res.code != 1 {
		t.Fatalf("rerun exit %d, want 1\n%s", res.code, res.stderr)
	}
	if got := sim.Counters().Media - mediaBefore; got != 4 {
		t.Errorf("rerun made %d media requests, want 4 (the failed conference's two files, each tried twice for integrity)", got)
	}

	// verify: overwrite one object, delete another.
	rows := readManifest(t, out)
	var archived []string
	for _, r := range rows {
		if r["status"] == "archived" {
			archived = append(archived, keyOf(b, r["objectURI"]))
		}
	}
	if len(archived) < 2 {
		t.Fatalf("need two archived objects, have %d", len(archived))
	}
	ctx := context.Background()
	if _, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(archived[0]), Body: bytes.NewReader([]byte("tampered"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(archived[1])}); err != nil {
		t.Fatal(err)
	}
	res = runBin(t, env, "verify", "--manifest", filepath.Join(out, "manifest.csv"))
	if res.code != 1 {
		t.Fatalf("verify exit %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"mismatch\ts3://" + b.Name + "/" + archived[0], "missing\ts3://" + b.Name + "/" + archived[1]} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, res.stdout)
		}
	}
	if got := strings.Count(res.stdout, "\n"); got != 3 {
		t.Errorf("verify reported %d lines, want the 2 problems and a total:\n%s", got, res.stdout)
	}
	// With --dest the same, and from the fixity file.
	res = runBin(t, env, "verify", "--manifest", filepath.Join(out, "manifest.csv"), "--dest", b.URI("arch"))
	if res.code != 1 || !strings.Contains(res.stdout, "missing\t") {
		t.Errorf("verify --dest: exit %d\n%s", res.code, res.stdout)
	}
	res = runBin(t, env, "verify", "--sums", filepath.Join(out, "sha256sums.txt"), "--dest", b.URI("arch"))
	if res.code != 1 || !strings.Contains(res.stdout, "mismatch\ts3://"+b.Name+"/"+archived[0]) || !strings.Contains(res.stdout, "missing\ts3://"+b.Name+"/"+archived[1]) {
		t.Errorf("verify --sums: exit %d\n%s", res.code, res.stdout)
	}
}

// TestS3ComplianceLock: the manifest shows the lock as read back, and a
// locked version cannot be deleted. Lock options on a bucket without Object
// Lock are refused before any download with exit 2.
func TestS3ComplianceLock(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 1, 32<<10, 31)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 31})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)

	plain := archivetest.NewBucket(t, archivetest.BucketOptions{})
	res := runBin(t, s3Env(sim, plain), "run", "--input", in, "--dest", plain.URI(""), "--out", filepath.Join(dir, "r0"),
		"--object-lock-mode", "COMPLIANCE", "--retain-days", "1")
	if res.code != 2 {
		t.Fatalf("lock options on a bucket without Object Lock: exit %d, want 2\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, plain.Name) {
		t.Errorf("the refusal does not name the bucket:\n%s", res.stderr)
	}
	if sim.Counters().Media != 0 {
		t.Error("media downloaded although the destination was refused")
	}

	b := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
	out := filepath.Join(dir, "r1")
	res = runBin(t, s3Env(sim, b), "run", "--input", in, "--dest", b.URI("locked"), "--out", out,
		"--object-lock-mode", "COMPLIANCE", "--retain-days", "1")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	rows := readManifest(t, out)
	if len(rows) != 1 {
		t.Fatalf("want one row, got %v", rows)
	}
	r := rows[0]
	key := keyOf(b, r["objectURI"])
	ret, err := b.Client.GetObjectRetention(context.Background(), &s3.GetObjectRetentionInput{Bucket: aws.String(b.Name), Key: aws.String(key), VersionId: aws.String(r["versionId"])})
	if err != nil {
		t.Fatalf("get retention: %v", err)
	}
	if string(ret.Retention.Mode) != "COMPLIANCE" || r["lockMode"] != "COMPLIANCE" {
		t.Errorf("lock mode: server %s, manifest %s; want COMPLIANCE", ret.Retention.Mode, r["lockMode"])
	}
	got, err := time.Parse(time.RFC3339, r["retainUntil"])
	if err != nil || !got.Equal(aws.ToTime(ret.Retention.RetainUntilDate).Truncate(time.Second)) && !got.Equal(aws.ToTime(ret.Retention.RetainUntilDate)) {
		t.Errorf("manifest retainUntil %q (%v), server %v", r["retainUntil"], err, aws.ToTime(ret.Retention.RetainUntilDate))
	}
	_, err = b.Client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), VersionId: aws.String(r["versionId"])})
	if err == nil {
		t.Fatal("deleting a COMPLIANCE-locked version succeeded; want a refusal")
	}

	// A second run downloads nothing and reports what the sidecar recorded.
	media := sim.Counters().Media
	out2 := filepath.Join(dir, "r2")
	res = runBin(t, s3Env(sim, b), "run", "--input", in, "--dest", b.URI("locked"), "--out", out2,
		"--object-lock-mode", "COMPLIANCE", "--retain-days", "1")
	if res.code != 0 {
		t.Fatalf("second run: exit %d\n%s", res.code, res.stderr)
	}
	if d := sim.Counters().Media - media; d != 0 {
		t.Errorf("second run made %d media requests, want 0", d)
	}
	r2 := readManifest(t, out2)[0]
	if r2["status"] != "already-archived" || r2["sha256"] != r["sha256"] || r2["retainUntil"] != r["retainUntil"] {
		t.Errorf("second run row %v, want already-archived with the first run's sha256 and retention", r2)
	}
}

// TestS3SigtermAbortsUploads: SIGTERM during slow media exits 130 with the
// downloads in flight cut by the grace, reports every conference, and
// leaves no incomplete multipart upload.
func TestS3SigtermAbortsUploads(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	ds := meetingtest.GenerateFiles(4, 1, 24<<20, 41)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 41, MediaRate: 4 << 20}) // 6 s a file
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	cmd, _, stderr := binCommand(s3Env(sim, b), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", b.URI("p"), "--out", out,
		"--concurrency", "2", "--grace", "1s", "--part-size", "5MiB")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for sim.Counters().MediaBytes < 12<<20 && time.Now().Before(deadline) { // parts are in flight by now
		time.Sleep(50 * time.Millisecond)
	}
	if code := sigterm(t, cmd); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, stderr.String())
	}
	// Each file takes 6 s and half of it was left; the grace is 1 s.
	if n := sim.Counters().MediaComplete; n != 0 {
		t.Errorf("%d downloads finished after SIGTERM with a 1 s grace, want none: the grace did not end them", n)
	}
	st := statusesByConf(readManifest(t, out))
	for _, u := range ds.UUIDs() {
		if len(st[u]) != 1 || st[u][0] != "cancelled" && st[u][0] != "archived" {
			t.Errorf("conference %s: %v, want one archived or cancelled row", u, st[u])
		}
	}
	if up := archivetest.IncompleteUploads(t, b); len(up) > 0 {
		t.Errorf("incomplete multipart uploads after a cancelled run: %v", up)
	}
}
