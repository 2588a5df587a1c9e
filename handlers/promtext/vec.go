package promtext

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// maxLabels bounds a vector's label names, so that its label values fit a
// fixed array: a map key that costs no allocation to build.
const maxLabels = 4

type labelKey [maxLabels]string

// vec is a family's series by label values. Finding a series that exists
// takes a read lock and a map lookup; updating it is atomic.
type vec[T any] struct {
	desc      *Desc
	newSeries func() *T
	mu        sync.RWMutex
	series    map[labelKey]*T
}

func newVec[T any](r *Registry, d *Desc, newSeries func() *T, collect func(*Batch, []string, *T)) *vec[T] {
	if len(d.labels) > maxLabels {
		panic(fmt.Sprintf("promtext: %s: more than %d labels", d.name, maxLabels))
	}
	v := &vec[T]{desc: d, newSeries: newSeries, series: map[labelKey]*T{}}
	r.Collect(func(b *Batch) {
		v.mu.RLock()
		defer v.mu.RUnlock()
		for k, s := range v.series {
			values := slices.Clone(k[:len(d.labels)])
			collect(b, values, s)
		}
	}, d)
	return v
}

func (v *vec[T]) with(values []string) *T {
	if len(values) != len(v.desc.labels) {
		panic(fmt.Sprintf("promtext: %s takes %d label values, got %d", v.desc.name, len(v.desc.labels), len(values)))
	}
	var k labelKey
	copy(k[:], values)
	v.mu.RLock()
	s, ok := v.series[k]
	v.mu.RUnlock()
	if ok {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.series[k]; ok {
		return s
	}
	s = v.newSeries()
	v.series[k] = s
	return s
}

// deleteMatching drops every series whose label is value.
func (v *vec[T]) deleteMatching(label, value string) int {
	i := slices.Index(v.desc.labels, label)
	if i < 0 {
		return 0
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for k := range v.series {
		if k[i] == value {
			delete(v.series, k)
			n++
		}
	}
	return n
}

// addFloat adds d to the float64 whose bits are in u.
func addFloat(u *atomic.Uint64, d float64) {
	for {
		old := u.Load()
		if u.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Counter is one counter series: it only goes up.
type Counter struct {
	n    atomic.Uint64 // whole increments
	bits atomic.Uint64 // the rest, a float64
}

// Inc adds 1.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds v, which must not be negative.
func (c *Counter) Add(v float64) {
	if v < 0 {
		panic("promtext: a counter cannot go down")
	}
	addFloat(&c.bits, v)
}

// Value is the counter's current value.
func (c *Counter) Value() float64 { return float64(c.n.Load()) + math.Float64frombits(c.bits.Load()) }

// CounterVec is a counter family by label values.
type CounterVec struct{ v *vec[Counter] }

// NewCounterVec registers a counter family with these label names.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	d := newDesc(name, help, CounterType, labels)
	return &CounterVec{newVec(r, d, func() *Counter { return new(Counter) }, func(b *Batch, values []string, c *Counter) {
		b.add(d, series{values: values, value: c.Value()})
	})}
}

// With returns the series of these label values (in the order of the
// family's label names), creating it at zero.
func (c *CounterVec) With(values ...string) *Counter { return c.v.with(values) }

// DeleteMatching drops the series whose label is value and says how many.
func (c *CounterVec) DeleteMatching(label, value string) int { return c.v.deleteMatching(label, value) }

// Gauge is one gauge series.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds v, which may be negative.
func (g *Gauge) Add(v float64) { addFloat(&g.bits, v) }

// Value is the gauge's current value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// GaugeVec is a gauge family by label values.
type GaugeVec struct{ v *vec[Gauge] }

// NewGaugeVec registers a gauge family with these label names.
func (r *Registry) NewGaugeVec(name, help string, labels ...string) *GaugeVec {
	d := newDesc(name, help, GaugeType, labels)
	return &GaugeVec{newVec(r, d, func() *Gauge { return new(Gauge) }, func(b *Batch, values []string, g *Gauge) {
		b.add(d, series{values: values, value: g.Value()})
	})}
}

// With returns the series of these label values, creating it at zero.
func (g *GaugeVec) With(values ...string) *Gauge { return g.v.with(values) }

// DeleteMatching drops the series whose label is value and says how many.
func (g *GaugeVec) DeleteMatching(label, value string) int { return g.v.deleteMatching(label, value) }

// Histogram is one histogram series: observations counted in buckets by
// upper bound (inclusive), and their sum.
type Histogram struct {
	bounds []float64       // upper bounds, +Inf left out
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf's
	sum    atomic.Uint64   // a float64
}

// Observe counts one observation.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.bounds) && !(v <= h.bounds[i]) { // NaN goes to +Inf
		i++
	}
	h.counts[i].Add(1)
	addFloat(&h.sum, v)
}

// snapshot returns the cumulative bucket counts (+Inf's left out), the
// count and the sum. The count is the +Inf bucket's, so the two always
// agree, even while observations land.
func (h *Histogram) snapshot() (cum []uint64, count uint64, sum float64) {
	cum = make([]uint64, len(h.bounds))
	for i := range h.bounds {
		count += h.counts[i].Load()
		cum[i] = count
	}
	count += h.counts[len(h.bounds)].Load()
	return cum, count, math.Float64frombits(h.sum.Load())
}

// HistogramVec is a histogram family by label values.
type HistogramVec struct{ v *vec[Histogram] }

// NewHistogramVec registers a histogram family with these bucket upper
// bounds (increasing; a +Inf bucket is always added) and label names.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	d := newDesc(name, help, HistogramType, labels)
	bounds := slices.Clone(buckets)
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], 1) {
		bounds = bounds[:n-1]
	}
	for i, b := range bounds {
		if math.IsNaN(b) || i > 0 && !(b > bounds[i-1]) {
			panic(fmt.Sprintf("promtext: %s: buckets must increase", name))
		}
	}
	d.buckets = bounds
	return &HistogramVec{newVec(r, d, func() *Histogram {
		return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
	}, func(b *Batch, values []string, h *Histogram) {
		cum, count, sum := h.snapshot()
		b.add(d, series{values: values, buckets: cum, count: count, sum: sum})
	})}
}

// With returns the series of these label values, creating it empty.
func (h *HistogramVec) With(values ...string) *Histogram { return h.v.with(values) }

// DeleteMatching drops the series whose label is value and says how many.
func (h *HistogramVec) DeleteMatching(label, value string) int {
	return h.v.deleteMatching(label, value)
}
