package report

import (
	"errors"
	"sync/atomic"
)

// xlsxPipe hands the workbook's rows to a goroutine, so that the
// spreadsheet's cells are encoded on one core while the journal is read,
// the rows are cleaned and the CSV files written on another. Rows go in
// batches; the batches are recycled, so memory stays a few hundred KiB.
type xlsxPipe struct {
	book   *book
	batch  []pipeRow
	ch     chan []pipeRow
	free   chan []pipeRow
	done   chan struct{}
	err    error // the goroutine's first error: read it after done
	failed atomic.Bool
	closed bool
}

// pipeRow is a row for Recordings and whether it also goes to Failures.
type pipeRow struct {
	r       Row
	failure bool
}

const (
	pipeBatch   = 256
	pipeBatches = 4
)

var errPipeFailed = errors.New("workbook writer stopped")

func newXLSXPipe(b *book) *xlsxPipe {
	p := &xlsxPipe{book: b, ch: make(chan []pipeRow, pipeBatches-2), free: make(chan []pipeRow, pipeBatches), done: make(chan struct{})}
	for range pipeBatches - 1 {
		p.free <- make([]pipeRow, 0, pipeBatch)
	}
	p.batch = make([]pipeRow, 0, pipeBatch)
	go p.run()
	return p
}

func (p *xlsxPipe) run() {
	defer close(p.done)
	for batch := range p.ch {
		if p.err == nil {
			for i := range batch {
				if err := p.write(&batch[i]); err != nil {
					p.err = err
					p.failed.Store(true)
					break
				}
			}
		}
		clear(batch) // drop the rows' strings
		p.free <- batch[:0]
	}
}

func (p *xlsxPipe) write(pr *pipeRow) error {
	if err := p.book.addRecording(&pr.r); err != nil {
		return err
	}
	if pr.failure {
		return p.book.addFailure(&pr.r)
	}
	return nil
}

// add queues r for Recordings (and Failures when failure is true). After
// the goroutine failed, add returns an error; wait returns the cause.
func (p *xlsxPipe) add(r *Row, failure bool) error {
	if p.failed.Load() {
		return errPipeFailed
	}
	p.batch = append(p.batch, pipeRow{r: *r, failure: failure})
	if len(p.batch) == pipeBatch {
		p.ch <- p.batch
		p.batch = <-p.free
	}
	return nil
}

// wait sends the last rows, stops the goroutine and returns its error.
// It may be called more than once.
func (p *xlsxPipe) wait() error {
	if !p.closed {
		p.closed = true
		if len(p.batch) > 0 {
			p.ch <- p.batch
			p.batch = nil
		}
		close(p.ch)
		<-p.done
	}
	return p.err
}
