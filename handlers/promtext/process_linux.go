package promtext

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
)

// The process's series, as the Prometheus Go client's process collector
// names and computes them on Linux, read from /proc.
var (
	procCPU       = NewDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", CounterType)
	procOpenFDs   = NewDesc("process_open_fds", "Number of open file descriptors.", GaugeType)
	procMaxFDs    = NewDesc("process_max_fds", "Maximum number of open file descriptors.", GaugeType)
	procVSize     = NewDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", GaugeType)
	procMaxVSize  = NewDesc("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", GaugeType)
	procRSS       = NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", GaugeType)
	procStartTime = NewDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", GaugeType)
	procNetIn     = NewDesc("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", CounterType)
	procNetOut    = NewDesc("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", CounterType)
)

// userHZ is the kernel's clock tick for /proc times: 100 on every Linux
// that matters (the Prometheus client assumes it too).
const userHZ = 100

// CollectProcess adds the process's series to every scrape: CPU time,
// memory, file descriptors, start time and network bytes. A file of /proc
// that cannot be read leaves its series out.
func (r *Registry) CollectProcess() {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return // no /proc: nothing to report
	}
	r.Collect(collectProcess, procCPU, procOpenFDs, procMaxFDs, procVSize, procMaxVSize, procRSS, procStartTime, procNetIn, procNetOut)
}

func collectProcess(b *Batch) {
	if st, ok := readProcStat(); ok {
		b.Add(procCPU, float64(st.utime+st.stime)/userHZ)
		b.Add(procVSize, float64(st.vsize))
		b.Add(procRSS, float64(st.rss*int64(os.Getpagesize())))
		if boot, ok := bootTime(); ok {
			b.Add(procStartTime, float64(boot)+float64(st.start)/userHZ)
		}
	}
	if n, ok := openFDs(); ok {
		b.Add(procOpenFDs, float64(n))
	}
	if files, space, ok := limits(); ok {
		b.Add(procMaxFDs, float64(files))
		b.Add(procMaxVSize, float64(space))
	}
	if in, out, ok := netOctets(); ok {
		b.Add(procNetIn, in)
		b.Add(procNetOut, out)
	}
}

type procStat struct {
	utime, stime, start, vsize uint64
	rss                        int64
}

// readProcStat reads /proc/self/stat: after the command in parentheses
// (which may hold spaces and parentheses itself) come the fields from the
// third on: utime is the 14th, stime the 15th, starttime the 22nd, vsize
// the 23rd, rss the 24th.
func readProcStat() (procStat, bool) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 22 {
		return procStat{}, false
	}
	var st procStat
	var errs [5]error
	st.utime, errs[0] = strconv.ParseUint(f[14-3], 10, 64)
	st.stime, errs[1] = strconv.ParseUint(f[15-3], 10, 64)
	st.start, errs[2] = strconv.ParseUint(f[22-3], 10, 64)
	st.vsize, errs[3] = strconv.ParseUint(f[23-3], 10, 64)
	st.rss, errs[4] = strconv.ParseInt(f[24-3], 10, 64)
	for _, err := range errs {
		if err != nil {
			return procStat{}, false
		}
	}
	return st, true
}

// bootTime is the btime line of /proc/stat, read once: it does not change.
var bootTime = sync.OnceValues(func() (uint64, bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "btime "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
})

// openFDs counts the entries of /proc/self/fd: the directory's size where
// the kernel reports it (Linux 6.2 and later), else by listing it.
func openFDs() (int, bool) {
	if fi, err := os.Stat("/proc/self/fd"); err == nil && fi.Size() > 0 {
		return int(fi.Size()), true
	}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return len(names), err == nil
}

// limits reads the soft limits on open files and address space from
// /proc/self/limits; "unlimited" is the largest uint64.
func limits() (files, space uint64, ok bool) {
	data, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return 0, 0, false
	}
	var gotFiles, gotSpace bool
	for line := range strings.Lines(string(data)) {
		if rest, found := strings.CutPrefix(line, "Max open files"); found {
			files, gotFiles = softLimit(rest)
		} else if rest, found := strings.CutPrefix(line, "Max address space"); found {
			space, gotSpace = softLimit(rest)
		}
	}
	return files, space, gotFiles && gotSpace
}

func softLimit(rest string) (uint64, bool) {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return 0, false
	}
	if f[0] == "unlimited" {
		return ^uint64(0), true
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	return n, err == nil
}

// netOctets reads InOctets and OutOctets of the IpExt lines of
// /proc/self/net/netstat: a line of names, then a line of values.
func netOctets() (in, out float64, ok bool) {
	data, err := os.ReadFile("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, false
	}
	var names []string
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "IpExt:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		if len(f) != len(names) {
			return 0, 0, false
		}
		for i := 1; i < len(f); i++ {
			switch names[i] {
			case "InOctets":
				in, _ = strconv.ParseFloat(f[i], 64)
			case "OutOctets":
				out, _ = strconv.ParseFloat(f[i], 64)
			}
		}
		return in, out, true
	}
	return 0, 0, false
}
