package bench

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Where the cores go during a throughput run: our child process, this
// process (the simulator serving media; the limit's own transfers when it
// is the limit that runs) and the S3 server, whose PID scripts/bench.sh
// passes in MEETARCHIVE_BENCH_S3_PID. Each is CPU time over the run's wall
// time, in cores; -1 where it cannot be read.
type cores struct{ child, self, server float64 }

func (c cores) String() string {
	return fmt.Sprintf("ours %s, simulator %s, S3 server %s", coresFig(c.child), coresFig(c.self), coresFig(c.server))
}

func coresFig(v float64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f", v)
}

// cpuClock reads this process's and the S3 server's CPU time.
type cpuClock struct {
	self, server time.Duration
	at           time.Time
}

func readCPU() cpuClock {
	return cpuClock{self: selfCPU(), server: serverCPU(), at: time.Now()}
}

// since is the cores used from c to now; child is the child's CPU time (-1:
// no child).
func (c cpuClock) since(child time.Duration) cores {
	now := readCPU()
	wall := now.at.Sub(c.at).Seconds()
	rate := func(a, b time.Duration) float64 {
		if a < 0 || b < 0 || wall <= 0 {
			return -1
		}
		return (b - a).Seconds() / wall
	}
	return cores{child: rate(0, child), self: rate(c.self, now.self), server: rate(c.server, now.server)}
}

// serverCPU is the S3 server's CPU time (utime+stime from /proc, Linux), or
// -1.
func serverCPU() time.Duration {
	pid, err := strconv.Atoi(os.Getenv("MEETARCHIVE_BENCH_S3_PID"))
	if err != nil || pid <= 0 {
		return -1
	}
	return procCPU(pid)
}

// medianCores is the median of each column.
func medianCores(cs []cores) cores {
	col := func(get func(cores) float64) float64 {
		xs := make([]float64, len(cs))
		for i, c := range cs {
			xs[i] = get(c)
		}
		return median(xs)
	}
	return cores{
		child:  col(func(c cores) float64 { return c.child }),
		self:   col(func(c cores) float64 { return c.self }),
		server: col(func(c cores) float64 { return c.server }),
	}
}
