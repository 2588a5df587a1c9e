package promtext

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The Go runtime's series, named, described and computed as the Prometheus
// Go client's default Go collector does, so that dashboards built on it
// keep working. Memory figures come from runtime/metrics, which does not
// stop the world as runtime.ReadMemStats does; GC pauses from
// debug.ReadGCStats, which takes the heap lock only.
var (
	goGoroutines = NewDesc("go_goroutines", "Number of goroutines that currently exist.", GaugeType)
	goThreads    = NewDesc("go_threads", "Number of OS threads created.", GaugeType)
	goGCDuration = NewDesc("go_gc_duration_seconds",
		"A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", SummaryType)
	goLastGC = NewDesc("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", GaugeType)
	goInfo   = NewDesc("go_info", "Information about the Go environment.", GaugeType, "version")
)

// goSeries are the series read from runtime/metrics: each the sum of the
// samples named.
var goSeries = []struct {
	desc    *Desc
	samples []string
}{
	{NewDesc("go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", GaugeType),
		[]string{"/memory/classes/heap/objects:bytes"}},
	{NewDesc("go_memstats_alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", CounterType),
		[]string{"/gc/heap/allocs:bytes"}},
	{NewDesc("go_memstats_sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", GaugeType),
		[]string{"/memory/classes/total:bytes"}},
	{NewDesc("go_memstats_mallocs_total", "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.", CounterType),
		[]string{"/gc/heap/allocs:objects", "/gc/heap/tiny/allocs:objects"}},
	{NewDesc("go_memstats_frees_total", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.", CounterType),
		[]string{"/gc/heap/frees:objects", "/gc/heap/tiny/allocs:objects"}},
	{NewDesc("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", GaugeType),
		[]string{"/memory/classes/heap/objects:bytes"}},
	{NewDesc("go_memstats_heap_sys_bytes", "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", GaugeType),
		[]string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes", "/memory/classes/heap/released:bytes", "/memory/classes/heap/free:bytes"}},
	{NewDesc("go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", GaugeType),
		[]string{"/memory/classes/heap/released:bytes", "/memory/classes/heap/free:bytes"}},
	{NewDesc("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", GaugeType),
		[]string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes"}},
	{NewDesc("go_memstats_heap_released_bytes", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.", GaugeType),
		[]string{"/memory/classes/heap/released:bytes"}},
	{NewDesc("go_memstats_heap_objects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", GaugeType),
		[]string{"/gc/heap/objects:objects"}},
	{NewDesc("go_memstats_stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", GaugeType),
		[]string{"/memory/classes/heap/stacks:bytes"}},
	{NewDesc("go_memstats_stack_sys_bytes", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.", GaugeType),
		[]string{"/memory/classes/heap/stacks:bytes", "/memory/classes/os-stacks:bytes"}},
	{NewDesc("go_memstats_mspan_inuse_bytes", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.", GaugeType),
		[]string{"/memory/classes/metadata/mspan/inuse:bytes"}},
	{NewDesc("go_memstats_mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.", GaugeType),
		[]string{"/memory/classes/metadata/mspan/inuse:bytes", "/memory/classes/metadata/mspan/free:bytes"}},
	{NewDesc("go_memstats_mcache_inuse_bytes", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.", GaugeType),
		[]string{"/memory/classes/metadata/mcache/inuse:bytes"}},
	{NewDesc("go_memstats_mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.", GaugeType),
		[]string{"/memory/classes/metadata/mcache/inuse:bytes", "/memory/classes/metadata/mcache/free:bytes"}},
	{NewDesc("go_memstats_buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.", GaugeType),
		[]string{"/memory/classes/profiling/buckets:bytes"}},
	{NewDesc("go_memstats_gc_sys_bytes", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.", GaugeType),
		[]string{"/memory/classes/metadata/other:bytes"}},
	{NewDesc("go_memstats_other_sys_bytes", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", GaugeType),
		[]string{"/memory/classes/other:bytes"}},
	{NewDesc("go_memstats_next_gc_bytes", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", GaugeType),
		[]string{"/gc/heap/goal:bytes"}},
	{NewDesc("go_gc_gogc_percent", "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent.", GaugeType),
		[]string{"/gc/gogc:percent"}},
	{NewDesc("go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes.", GaugeType),
		[]string{"/gc/gomemlimit:bytes"}},
	{NewDesc("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads.", GaugeType),
		[]string{"/sched/gomaxprocs:threads"}},
}

// CollectGo adds the Go runtime's series to every scrape: goroutines,
// threads, GC pauses, memory, GOGC, GOMEMLIMIT, GOMAXPROCS and the Go
// version.
func (r *Registry) CollectGo() {
	descs := []*Desc{goGoroutines, goThreads, goGCDuration, goLastGC, goInfo}
	index := map[string]int{}
	var names []string
	for _, s := range goSeries {
		descs = append(descs, s.desc)
		for _, n := range s.samples {
			if _, ok := index[n]; !ok {
				index[n] = len(names)
				names = append(names, n)
			}
		}
	}
	r.Collect(func(b *Batch) { collectGo(b, names, index) }, descs...)
}

func collectGo(b *Batch, names []string, index map[string]int) {
	b.Add(goGoroutines, float64(runtime.NumGoroutine()))
	threads, _ := runtime.ThreadCreateProfile(nil)
	b.Add(goThreads, float64(threads))

	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	qs := make([]Quantile, len(gc.PauseQuantiles))
	for i, p := range gc.PauseQuantiles {
		qs[i] = Quantile{Q: float64(i) / float64(len(qs)-1), V: p.Seconds()}
	}
	b.AddSummary(goGCDuration, uint64(gc.NumGC), gc.PauseTotal.Seconds(), qs)
	b.Add(goLastGC, float64(gc.LastGC.UnixNano())/1e9)
	b.Add(goInfo, 1, runtime.Version())

	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	for _, s := range goSeries {
		var v uint64
		for _, n := range s.samples {
			if x := samples[index[n]].Value; x.Kind() == metrics.KindUint64 {
				v += x.Uint64()
			}
		}
		b.Add(s.desc, float64(v))
	}
}
