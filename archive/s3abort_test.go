package archive_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// latePartProxy stands in front of the S3 server and counts the parts a
// client abandons in flight: every UploadPart is read whole, reported on
// received, then held. A part whose client is still waiting goes on after
// hold; a part whose client went away (orphaned) goes on only when the test
// closes release, on a context of its own. Such a part is what AWS documents
// for an upload aborted with parts in flight ("might or might not succeed",
// so the upload may need aborting again): versitygw, which checks the upload
// when a part starts, brought an aborted upload back with a part it had
// started before the abort. Forwarded after the abort, as here, the part is
// refused, so the test counts the cause rather than waiting for that race.
type latePartProxy struct {
	*httptest.Server
	target   string
	hold     time.Duration
	received chan string // the upload ID of each part whose body arrived
	release  chan struct{}
	late     sync.WaitGroup // forwards of held parts still running
	mu       sync.Mutex
	orphaned int // parts forwarded after their client went away
}

func newLatePartProxy(t *testing.T, target string, hold time.Duration) *latePartProxy {
	p := &latePartProxy{target: target, hold: hold, received: make(chan string, 64), release: make(chan struct{})}
	p.Server = httptest.NewServer(p)
	t.Cleanup(func() {
		p.releaseParts()
		p.late.Wait()
		p.Close()
	})
	return p
}

func (p *latePartProxy) releaseParts() {
	select {
	case <-p.release:
	default:
		close(p.release)
	}
}

func (p *latePartProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away before its body arrived: nothing reached the server
	}
	q := r.URL.Query()
	if r.Method == http.MethodPut && q.Has("partNumber") && q.Has("uploadId") {
		p.late.Add(1)
		defer p.late.Done()
		p.received <- q.Get("uploadId")
		select {
		case <-time.After(p.hold):
		case <-r.Context().Done():
			<-p.release
			p.mu.Lock()
			p.orphaned++
			p.mu.Unlock()
		}
	}
	out, err := http.NewRequestWithContext(context.Background(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Expect")
	out.Host = r.Host // the signature covers the host the client signed for
	out.ContentLength = int64(len(body))
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// failAfterPart gives n bytes of r, then waits until the first part has
// reached the server (or a minute has passed) and fails: the source breaks
// while a part is in flight.
type failAfterPart struct {
	r        io.Reader
	n        int64
	received <-chan string
	uploadID string
}

func (f *failAfterPart) Read(p []byte) (int, error) {
	if f.n <= 0 {
		select {
		case f.uploadID = <-f.received:
		case <-time.After(time.Minute):
		}
		return 0, errors.New("source connection reset (test)")
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

// TestS3FailedUploadWaitsForPartsInFlight reproduces the incomplete
// multipart upload CI found after a run whose flipped download failed
// integrity: the stream failed while part 1 was in flight, the part's
// request was cancelled, the upload aborted, and the server then finished
// the part, which brought the upload back. A failed upload must wait for the
// parts it sent before it aborts, so nothing is left, on any server.
func TestS3FailedUploadWaitsForPartsInFlight(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	px := newLatePartProxy(t, b.Env.Endpoint, 300*time.Millisecond)
	opts := smallParts
	opts.ClientOptions = []func(*s3.Options){b.Env.ClientOption(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(px.URL)
		o.RetryMaxAttempts = 1
	}}
	st, err := archive.NewS3Store(context.Background(), b.Name, "late", opts)
	if err != nil {
		t.Fatalf("NewS3Store: %v", err)
	}
	t.Cleanup(func() { st.Close() })

	src := &failAfterPart{r: archivetest.NewStream(7, 6*mib), n: 5*mib + 1, received: px.received}
	_, err = st.Put(context.Background(), "k/0_0.mp4", src, archive.Expect{Size: -1, PlatformSize: -1})
	if err == nil || !strings.Contains(err.Error(), "source connection reset") {
		t.Fatalf("Put = %v, want the source's failure", err)
	}
	if src.uploadID == "" {
		t.Fatal("no part reached the server before the source failed")
	}
	px.releaseParts() // a part the client gave up on is finished now, after the abort
	px.late.Wait()
	if px.orphaned > 0 {
		t.Errorf("%d part requests were abandoned in flight; the server finished them after the abort", px.orphaned)
	}
	_, err = b.Client.ListParts(context.Background(), &s3.ListPartsInput{
		Bucket: aws.String(b.Name), Key: aws.String("late/k/0_0.mp4"), UploadId: aws.String(src.uploadID)})
	if err == nil {
		t.Errorf("upload %s still has parts after the failed Put returned", src.uploadID)
	}
	if up := archivetest.IncompleteUploads(t, b); len(up) > 0 {
		t.Errorf("incomplete multipart uploads left: %v", up)
	}
}
