package metrics

import (
	"bytes"
	"os"
	"runtime"
	rmetrics "runtime/metrics"
	"strconv"
	"strings"
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

	stat := func(field int, scale float64) func() (float64, bool) {
		return func() (float64, bool) {
			f := procStat()
			if field >= len(f) {
				return 0, false
			}
			v, err := strconv.ParseFloat(f[field], 64)
			return v * scale, err == nil
		}
	}
	// Fields of /proc/self/stat after the command name, from 0 (state):
	// 11 utime, 12 stime (clock ticks), 19 starttime (ticks since boot),
	// 20 vsize (bytes), 21 rss (pages).
	const tick = 0.01 // USER_HZ is 100 on Linux
	utime, stime := stat(11, tick), stat(12, tick)
	r.add("process_cpu_seconds_total", &funcFamily{name: "process_cpu_seconds_total",
		help: "Total user and system CPU time spent in seconds.", kind: "counter",
		read: func() (float64, bool) {
			u, ok1 := utime()
			s, ok2 := stime()
			return u + s, ok1 && ok2
		}})
	r.add("process_virtual_memory_bytes", &funcFamily{name: "process_virtual_memory_bytes",
		help: "Virtual memory size in bytes.", kind: "gauge", read: stat(20, 1)})
	r.add("process_resident_memory_bytes", &funcFamily{name: "process_resident_memory_bytes",
		help: "Resident memory size in bytes.", kind: "gauge", read: stat(21, float64(os.Getpagesize()))})
	started := stat(19, tick)
	r.add("process_start_time_seconds", &funcFamily{name: "process_start_time_seconds",
		help: "Start time of the process since unix epoch in seconds.", kind: "gauge",
		read: func() (float64, bool) {
			s, ok1 := started()
			boot, ok2 := bootTime()
			return boot + s, ok1 && ok2
		}})
	r.add("process_open_fds", &funcFamily{name: "process_open_fds", help: "Number of open file descriptors.",
		kind: "gauge", read: func() (float64, bool) {
			fds, err := os.ReadDir("/proc/self/fd")
			return float64(len(fds)), err == nil
		}})
	r.add("process_max_fds", &funcFamily{name: "process_max_fds", help: "Maximum number of open file descriptors.",
		kind: "gauge", read: func() (float64, bool) {
			var l syscall.Rlimit
			err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
			return float64(l.Cur), err == nil
		}})
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

// procStat is /proc/self/stat's fields after the command name (which may
// hold spaces and parentheses), or nil.
func procStat() []string {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return nil
	}
	return strings.Fields(string(b[i+2:]))
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
