package archivetest

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
)

// PeakRSS is this process's peak resident set size in bytes (VmHWM, Linux):
// what a memory goal is measured by, in a process of its own.
func PeakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// Repeat yields n bytes of block repeated: a source that costs no CPU, for
// measuring what a store costs.
func Repeat(block []byte, n int64) io.Reader { return &blockReader{block: block, left: n} }

type blockReader struct {
	block []byte
	off   int
	left  int64
}

func (r *blockReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), r.left)], r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	r.left -= int64(n)
	return n, nil
}
