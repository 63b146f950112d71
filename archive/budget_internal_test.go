package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"
	"time"
)

func TestPartPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPartPool(10<<20+1, 4<<20) // 2 buffers: the budget is cut to whole buffers
	if got := p.cap(); got != 2 {
		t.Fatalf("cap = %d, want 2", got)
	}
	a, err := p.get(ctx, 1)
	if err != nil || len(a) != 1 || len(a[0]) != 4<<20 {
		t.Fatalf("get(1) = %d buffers, %v; want one of %d bytes", len(a), err, 4<<20)
	}
	bb, err := p.get(ctx, 1)
	if err != nil {
		t.Fatalf("second get: %v", err)
	}
	t.Run("waits when empty until ctx ends", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if got, err := p.get(wctx, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("get on an empty pool = %d buffers, %v; want DeadlineExceeded", len(got), err)
		}
	})
	t.Run("more than the budget", func(t *testing.T) {
		if _, err := p.get(ctx, 3); !errors.Is(err, errBudgetTooSmall) {
			t.Errorf("get(3) of 2 = %v, want errBudgetTooSmall", err)
		}
	})
	t.Run("a returned buffer is reused, not reallocated", func(t *testing.T) {
		done := make(chan [][]byte)
		go func() {
			got, _ := p.get(ctx, 1)
			done <- got
		}()
		p.put(a)
		got := <-done
		if &got[0][0] != &a[0][0] {
			t.Errorf("get after put returned a new buffer, want the one put back")
		}
		p.put(got)
	})
	t.Run("several buffers at once", func(t *testing.T) {
		p.put(bb)
		two, err := p.get(ctx, 2)
		if err != nil || len(two) != 2 {
			t.Fatalf("get(2) = %d, %v", len(two), err)
		}
		if out, peak := p.out.Load(), p.peak.Load(); out != 2 || peak != 2 {
			t.Errorf("out, peak = %d, %d; want 2, 2", out, peak)
		}
		p.put(two)
		if out := p.out.Load(); out != 0 {
			t.Errorf("out after put = %d, want 0", out)
		}
	})
}

func TestPartBody(t *testing.T) {
	t.Parallel()
	data := []byte("0123456789abcdefghij") // 20 bytes over buffers of 8
	bufs := [][]byte{make([]byte, 8), make([]byte, 8), make([]byte, 8)}
	for i, c := range data {
		bufs[i/8][i%8] = c
	}
	body := newPartBody(bufs, int64(len(data)))
	t.Run("reads the part across buffers", func(t *testing.T) {
		if err := iotest.TestReader(body, data); err != nil {
			t.Error(err)
		}
	})
	t.Run("rewinds for a retry", func(t *testing.T) {
		if _, err := body.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("after rewind read %q, %v; want %q", got, err, data)
		}
	})
	t.Run("serves nothing once detached", func(t *testing.T) {
		if _, err := body.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		body.detach()
		if n, err := body.Read(make([]byte, 4)); n != 0 || !errors.Is(err, errBodyDetached) {
			t.Errorf("Read after detach = %d, %v; want 0, errBodyDetached", n, err)
		}
	})
}

// chunky returns its data a few bytes per Read, then (when err is set) fails.
type chunky struct {
	data []byte
	err  error
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 3)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func TestPartSourceFill(t *testing.T) {
	t.Parallel()
	const part = 8
	errBroken := errors.New("broken")
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + i%26)
		}
		return b
	}
	tests := []struct {
		name      string
		size      int
		k         int   // buffers per part, of part/k bytes
		srcErr    error // after the data
		wantParts []int // sizes, the last one flagged last
		wantErr   error
	}{
		{"empty stream", 0, 1, nil, []int{0}, nil},
		{"less than a part", 5, 1, nil, []int{5}, nil},
		{"exactly one part", 8, 1, nil, []int{8}, nil},
		{"one byte more than a part", 9, 1, nil, []int{8, 1}, nil},
		{"exactly three parts", 24, 1, nil, []int{8, 8, 8}, nil},
		{"parts of two buffers", 21, 2, nil, []int{8, 8, 5}, nil},
		{"source fails in the second part", 11, 1, errBroken, []int{8}, errBroken},
		{"source fails right after a full part", 8, 1, errBroken, nil, errBroken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := seq(tc.size)
			ps := &partSource{r: &chunky{data: bytes.Clone(data), err: tc.srcErr}}
			var got []byte
			var sizes []int
			for range 10 {
				bufs := make([][]byte, tc.k)
				for i := range bufs {
					bufs[i] = make([]byte, part/tc.k)
				}
				n, last, err := ps.fill(bufs, part)
				if err != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("fill error = %v, want %v", err, tc.wantErr)
					}
					if !slices.Equal(sizes, tc.wantParts) {
						t.Errorf("parts before the error = %v, want %v", sizes, tc.wantParts)
					}
					return
				}
				sizes = append(sizes, int(n))
				for _, b := range bufs {
					c := min(int64(len(b)), n)
					got = append(got, b[:c]...)
					n -= c
				}
				if last {
					break
				}
			}
			if tc.wantErr != nil {
				t.Fatalf("no error, want %v", tc.wantErr)
			}
			if !slices.Equal(sizes, tc.wantParts) {
				t.Errorf("part sizes = %v, want %v", sizes, tc.wantParts)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("parts hold %q, want %q", got, data)
			}
		})
	}
}

func TestPartLayout(t *testing.T) {
	t.Parallel()
	const ps = 8 << 20
	tests := []struct {
		name         string
		size, budget int64
		wantPart     int64
		wantK        int
		wantErr      error
	}{
		{"unknown size", -1, 8 * ps, ps, 1, nil},
		{"10,000 parts fit", 10000 * ps, 8 * ps, ps, 1, nil},
		{"one byte more: parts of two buffers", 10000*ps + 1, 8 * ps, 2 * ps, 2, nil},
		{"parts larger than the budget", 10000*ps*3 + 1, 3 * ps, 0, 0, errBudgetTooSmall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &S3Store{opts: Options{PartSize: ps}, pool: newPartPool(tc.budget, ps)}
			part, k, err := s.partLayout(tc.size)
			if !errors.Is(err, tc.wantErr) || part != tc.wantPart || k != tc.wantK {
				t.Errorf("partLayout(%d) = %d, %d, %v; want %d, %d, %v", tc.size, part, k, err, tc.wantPart, tc.wantK, tc.wantErr)
			}
		})
	}
}
