package main

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// counters is the shared state behind every progress display: the
// pipeline counts into it (cheap, safe for concurrent use), the display
// reads it.
type counters struct {
	total      atomic.Int64 // conferences to process
	done       atomic.Int64
	bytes      atomic.Int64
	estimated  atomic.Int64 // sum of the estimates known so far
	estimatedN atomic.Int64 // how many conferences they cover
}

// counters is a pipeline.Progress.
func (c *counters) ConferenceDone()  { c.done.Add(1) }
func (c *counters) AddBytes(n int64) { c.bytes.Add(n) }
func (c *counters) Estimate(n int64) { c.estimated.Add(n); c.estimatedN.Add(1) }

// snapshot is one reading of the counters with derived rate and ETA.
type snapshot struct {
	Done, Total    int64
	Bytes, EstByte int64
	Rate           float64 // bytes/s since start
	ETA            time.Duration
}

func (c *counters) read(started time.Time) snapshot {
	s := snapshot{Done: c.done.Load(), Total: c.total.Load(), Bytes: c.bytes.Load(), EstByte: c.estimated.Load()}
	// Conferences whose size is not known yet are assumed average.
	if n := c.estimatedN.Load(); n > 0 && s.Total > n {
		s.EstByte += s.EstByte / n * (s.Total - n)
	}
	if el := time.Since(started).Seconds(); el > 0 {
		s.Rate = float64(s.Bytes) / el
	}
	// ETA from conferences, refined by bytes when sizes are known.
	if s.Done > 0 && s.Total > s.Done {
		perConf := time.Since(started) / time.Duration(s.Done)
		s.ETA = perConf * time.Duration(s.Total-s.Done)
	}
	if s.Rate > 0 && s.EstByte > s.Bytes {
		if byBytes := time.Duration(float64(s.EstByte-s.Bytes) / s.Rate * float64(time.Second)); byBytes > s.ETA {
			s.ETA = byBytes
		}
	}
	return s
}

// progressDisplay renders the counters: a bar on a terminal, log lines otherwise,
// nothing with --quiet.
type progressDisplay struct {
	*counters
	started time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
	render  func(snapshot, bool)
	every   time.Duration
}

// newProgressDisplay picks the display. tty tells whether stderr is a terminal.
func newProgressDisplay(w io.Writer, log *slog.Logger, total int, quiet, tty bool, interval time.Duration) *progressDisplay {
	r := &progressDisplay{counters: &counters{}, started: time.Now(), stop: make(chan struct{})}
	r.total.Store(int64(total))
	switch {
	case quiet:
		return r
	case tty:
		bar := progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
		var lastMax int64 = -1
		r.every = 250 * time.Millisecond
		r.render = func(s snapshot, final bool) {
			if max := max(s.EstByte, s.Bytes); max > 0 && max != lastMax {
				bar.ChangeMax64(max)
				lastMax = max
			}
			// The bar is bytes (done of estimated, rate, ETA); the text says both.
			bar.Describe(fmt.Sprintf("conferences %d/%d, %s of ~%s", s.Done, s.Total, humanBytes(s.Bytes), humanBytes(max(s.EstByte, s.Bytes))))
			_ = bar.Set64(s.Bytes)
			if final {
				_ = bar.Finish()
				_ = bar.Clear()
			}
		}
	default:
		r.every = interval
		r.render = func(s snapshot, final bool) {
			msg := "progress"
			if final {
				msg = "progress: finished"
			}
			log.Info(msg, "conferences_done", s.Done, "conferences_total", s.Total,
				"bytes", s.Bytes, "bytes_estimated", max(s.EstByte, s.Bytes),
				"rate", humanBytes(int64(s.Rate))+"/s", "eta", s.ETA.Round(time.Second).String())
		}
	}
	if r.every <= 0 {
		r.every = 30 * time.Second
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.render(r.read(r.started), false)
			}
		}
	}()
	return r
}

// close stops the display and renders the final figures once.
func (r *progressDisplay) close() {
	if r.render == nil {
		return
	}
	close(r.stop)
	r.wg.Wait()
	r.render(r.read(r.started), true)
}
