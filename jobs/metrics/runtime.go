package metrics

import (
	"bytes"
	"os"
	"runtime"
	rmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// RegisterRuntime registers the Go runtime's and the process's families
// under the names Prometheus' client gives them, so that dashboards built
// for it keep working. The process ones read /proc and are left out where
// it cannot be read.
func (r *Registry) RegisterRuntime() {
	r.add("go_info", &funcFamily{name: "go_info", help: "Information about the Go environment.", kind: "gauge",
		read: func() (float64, bool) { return 1, true }, labels: []string{"version"}, values: []string{runtime.Version()}})
	r.GaugeFunc("go_goroutines", "Number of goroutines that currently exist.",
		func() float64 { return float64(runtime.NumGoroutine()) })
	r.GaugeFunc("go_threads", "Number of OS threads created.", func() float64 {
		n, _ := runtime.ThreadCreateProfile(nil)
		return float64(n)
	})
	for _, m := range []struct{ name, help, key string }{
		{"go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use.", "/memory/classes/heap/objects:bytes"},
		{"go_memstats_sys_bytes", "Number of bytes obtained from the system.", "/memory/classes/total:bytes"},
		{"go_memstats_next_gc_bytes", "Heap size at which the next garbage collection is due.", "/gc/heap/goal:bytes"},
		{"go_sched_gomaxprocs_threads", "GOMAXPROCS: threads that can run Go code at once.", "/sched/gomaxprocs:threads"},
	} {
		r.GaugeFunc(m.name, m.help, func() float64 { return runtimeValue(m.key) })
	}

	// Fields of /proc/self/stat after the command name, from 0 (state).
	const (
		utime, stime, starttime, vsize, rss = 11, 12, 19, 20, 21
		tick                                = 0.01 // clock ticks: USER_HZ is 100 on Linux
	)
	r.readAtScrape("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
		func() (float64, bool) {
			v, ok := procStat(utime, stime)
			return (v[0] + v[1]) * tick, ok
		})
	r.readAtScrape("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge",
		func() (float64, bool) {
			v, ok := procStat(vsize)
			return v[0], ok
		})
	r.readAtScrape("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
		func() (float64, bool) {
			v, ok := procStat(rss)
			return v[0] * float64(os.Getpagesize()), ok
		})
	// The start time does not change: read it at the first scrape only.
	started := sync.OnceValues(func() (float64, bool) {
		v, ok1 := procStat(starttime)
		boot, ok2 := bootTime()
		return boot + v[0]*tick, ok1 && ok2
	})
	r.readAtScrape("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge", started)
	r.readAtScrape("process_open_fds", "Number of open file descriptors.", "gauge", func() (float64, bool) {
		fds, err := os.ReadDir("/proc/self/fd")
		return float64(len(fds)), err == nil
	})
	r.readAtScrape("process_max_fds", "Maximum number of open file descriptors.", "gauge", func() (float64, bool) {
		var l syscall.Rlimit
		err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
		return float64(l.Cur), err == nil
	})
}

// runtimeValue reads one runtime/metrics value as a float.
func runtimeValue(key string) float64 {
	s := []rmetrics.Sample{{Name: key}}
	rmetrics.Read(s)
	switch s[0].Value.Kind() {
	case rmetrics.KindUint64:
		return float64(s[0].Value.Uint64())
	case rmetrics.KindFloat64:
		return s[0].Value.Float64()
	}
	return 0
}

// procStat reads /proc/self/stat once and returns the numbers at fields
// (counted after the command name, which may hold spaces and parentheses);
// false when it cannot be read or parsed.
func procStat(fields ...int) ([]float64, bool) {
	vs := make([]float64, len(fields))
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return vs, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return vs, false
	}
	f := strings.Fields(string(b[i+2:]))
	for j, field := range fields {
		if field >= len(f) {
			return vs, false
		}
		if vs[j], err = strconv.ParseFloat(f[field], 64); err != nil {
			return vs, false
		}
	}
	return vs, true
}

// bootTime is the btime line of /proc/stat: when the machine booted.
func bootTime() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}
