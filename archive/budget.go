package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// partPool is the S3 store's memory budget: a bounded free list of part
// buffers of one size, shared by every upload of the store. A buffer is
// allocated the first time it is needed and then recycled, never freed, so
// the store's part buffers never exceed cap() x size bytes however many
// uploads are in flight. An upload takes a buffer to read a part into and
// returns it when the part has been sent (or has failed).
//
// It is a channel, not a sync.Pool: a sync.Pool is not bounded, and its
// buffers would be garbage the runtime frees and allocates again.
type partPool struct {
	size  int64
	slots chan []byte   // one entry per buffer; nil until first allocated
	multi chan struct{} // held while taking several buffers for one part

	out, peak atomic.Int64 // buffers handed out now / at most (tests, stats)
}

// newPartPool makes a pool of budget/size buffers of size bytes (at least one).
func newPartPool(budget, size int64) *partPool {
	n := max(budget/size, 1)
	p := &partPool{size: size, slots: make(chan []byte, n), multi: make(chan struct{}, 1)}
	for range n {
		p.slots <- nil
	}
	return p
}

// cap is the number of buffers the pool may hand out at once.
func (p *partPool) cap() int { return cap(p.slots) }

// errBudgetTooSmall: a part needs more buffers than the whole budget holds.
var errBudgetTooSmall = errors.New("memory budget too small")

// get takes k buffers, waiting until they are free or ctx is done. Several
// buffers for one part are taken under a lock, so that two uploads that each
// hold some cannot wait for each other's.
func (p *partPool) get(ctx context.Context, k int) ([][]byte, error) {
	if k < 1 || k > p.cap() {
		return nil, fmt.Errorf("%w: a part needs %d buffers of %d bytes, the budget holds %d", errBudgetTooSmall, k, p.size, p.cap())
	}
	if k > 1 {
		select {
		case p.multi <- struct{}{}:
			defer func() { <-p.multi }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	bufs := make([][]byte, 0, k)
	for len(bufs) < k {
		select {
		case b := <-p.slots:
			if b == nil {
				b = make([]byte, p.size)
			}
			bufs = append(bufs, b)
		case <-ctx.Done():
			for _, b := range bufs {
				p.slots <- b
			}
			return nil, ctx.Err()
		}
	}
	n := p.out.Add(int64(k))
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	return bufs, nil
}

// put returns buffers taken with get.
func (p *partPool) put(bufs [][]byte) {
	p.out.Add(-int64(len(bufs)))
	for _, b := range bufs {
		p.slots <- b
	}
}

// partBody is the body of one request sending a part: an io.ReadSeeker over
// the part's pool buffers (the SDK rewinds it to retry). Once detached it
// serves nothing more, so that an HTTP transport still reading a body after
// its request returned can never read a buffer that holds another part by then.
type partBody struct {
	mu       sync.Mutex
	bufs     [][]byte
	size     int64 // bytes of the part, across bufs
	off      int64
	detached bool
}

var errBodyDetached = errors.New("archive: part body read after its request ended")

func newPartBody(bufs [][]byte, size int64) *partBody {
	return &partBody{bufs: bufs, size: size}
}

func (b *partBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached {
		return 0, errBodyDetached
	}
	n := 0
	for n < len(p) && b.off < b.size {
		buf := b.bufs[0]
		i, at := b.off/int64(len(buf)), b.off%int64(len(buf))
		end := min(int64(len(buf)), b.size-i*int64(len(buf)))
		c := copy(p[n:], b.bufs[i][at:end])
		n += c
		b.off += int64(c)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (b *partBody) Seek(offset int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = b.off + offset
	case io.SeekEnd:
		abs = b.size + offset
	default:
		return 0, fmt.Errorf("archive: part body: bad whence %d", whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("archive: part body: seek to negative offset %d", abs)
	}
	b.off = abs
	return abs, nil
}

// detach stops the body from serving its buffers.
func (b *partBody) detach() {
	b.mu.Lock()
	b.detached = true
	b.mu.Unlock()
}
