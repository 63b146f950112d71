package pipeline

import (
	"runtime"
	"sync"
	"time"
)

// sampleHeap starts sampling the heap in use every 20 ms; the function it
// returns stops the sampling and gives the peak's growth over the heap in
// use when sampling began (after a GC), in bytes.
func sampleHeap() func() int64 {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}()
	return func() int64 {
		close(stop)
		wg.Wait()
		return int64(peak) - int64(base.HeapInuse)
	}
}
