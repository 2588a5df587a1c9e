// Package promtext keeps metrics and writes them in the Prometheus text
// exposition format, version 0.0.4: counters, gauges and histograms kept by
// label values, samples gathered at scrape time (see Registry.Collect), and
// the Go runtime's and the process's own series.
//
// A scrape is deterministic: families sorted by name, series by their label
// values taken in the order of the label names, labels written sorted by
// name (a histogram's le last), values formatted as the Prometheus Go client
// formats them. A family without series is left out.
package promtext

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// ContentType is the Content-Type of what AppendText writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Type is a metric family's type, as its # TYPE line says it.
type Type uint8

const (
	CounterType Type = iota + 1
	GaugeType
	HistogramType
	SummaryType
)

func (t Type) String() string {
	switch t {
	case CounterType:
		return "counter"
	case GaugeType:
		return "gauge"
	case HistogramType:
		return "histogram"
	case SummaryType:
		return "summary"
	}
	return "untyped"
}

// Desc describes a metric family: its name, help text, type and label
// names. Label values are always given in the order of the names here.
type Desc struct {
	name, help string
	typ        Type
	labels     []string
	order      []int     // indexes into labels, sorted by label name
	buckets    []float64 // a histogram's upper bounds, +Inf left out
}

// NewDesc describes a family whose samples are added at scrape time with
// Batch.Add (a counter or gauge) or Batch.AddSummary. It panics on a name
// Prometheus would refuse.
func NewDesc(name, help string, typ Type, labels ...string) *Desc {
	if typ == HistogramType {
		panic("promtext: a histogram is kept by a HistogramVec")
	}
	return newDesc(name, help, typ, labels)
}

func newDesc(name, help string, typ Type, labels []string) *Desc {
	if !validMetricName(name) {
		panic(fmt.Sprintf("promtext: invalid metric name %q", name))
	}
	if typ < CounterType || typ > SummaryType {
		panic(fmt.Sprintf("promtext: %s: unknown type %d", name, typ))
	}
	if !utf8.ValidString(help) {
		panic(fmt.Sprintf("promtext: %s: help is not UTF-8", name))
	}
	d := &Desc{name: name, help: help, typ: typ, labels: slices.Clone(labels)}
	for i, l := range labels {
		if !validLabelName(l) || strings.HasPrefix(l, "__") {
			panic(fmt.Sprintf("promtext: %s: invalid label name %q", name, l))
		}
		if (typ == HistogramType && l == "le") || (typ == SummaryType && l == "quantile") {
			panic(fmt.Sprintf("promtext: %s: label %q is reserved", name, l))
		}
		if slices.Contains(labels[:i], l) {
			panic(fmt.Sprintf("promtext: %s: label %q twice", name, l))
		}
		d.order = append(d.order, i)
	}
	slices.SortFunc(d.order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return d
}

// Name is the family's name.
func (d *Desc) Name() string { return d.name }

func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Registry is the set of families one scrape writes.
type Registry struct {
	mu         sync.Mutex
	names      map[string]bool
	collectors []func(*Batch)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{names: map[string]bool{}}
}

// Collect adds f to what every scrape gathers: f adds the samples of the
// families descs describe. It may be called by concurrent scrapes. Collect
// panics when a family of that name is registered already.
func (r *Registry) Collect(f func(*Batch), descs ...*Desc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range descs {
		if r.names[d.name] {
			panic("promtext: " + d.name + " registered twice")
		}
		r.names[d.name] = true
	}
	r.collectors = append(r.collectors, f)
}

// Gather runs every collector once and returns what they added.
func (r *Registry) Gather() *Batch {
	r.mu.Lock()
	fs := slices.Clone(r.collectors)
	r.mu.Unlock()
	b := &Batch{fams: map[string]*family{}}
	for _, f := range fs {
		f(b)
	}
	return b
}

// AppendText appends a whole scrape to dst.
func (r *Registry) AppendText(dst []byte) []byte { return r.Gather().AppendText(dst) }

// Batch is what one scrape gathers.
type Batch struct {
	fams map[string]*family
}

type family struct {
	desc   *Desc
	series []series
}

type series struct {
	values    []string // in the Desc's label order
	value     float64  // a counter's or a gauge's
	sum       float64  // a histogram's or a summary's
	count     uint64
	buckets   []uint64 // cumulative, one per Desc bucket
	quantiles []Quantile
}

// Quantile is one of a summary's quantiles: Q in [0, 1] and its value.
type Quantile struct{ Q, V float64 }

// Add adds a counter's or a gauge's sample.
func (b *Batch) Add(d *Desc, v float64, values ...string) {
	if d.typ != CounterType && d.typ != GaugeType {
		panic("promtext: " + d.name + " is a " + d.typ.String() + ", not a counter or gauge")
	}
	b.add(d, series{values: slices.Clone(values), value: v})
}

// AddSummary adds a summary's sample: its count, sum and quantiles.
func (b *Batch) AddSummary(d *Desc, count uint64, sum float64, qs []Quantile, values ...string) {
	if d.typ != SummaryType {
		panic("promtext: " + d.name + " is a " + d.typ.String() + ", not a summary")
	}
	qs = slices.Clone(qs)
	slices.SortFunc(qs, func(a, b Quantile) int { return cmpFloat(a.Q, b.Q) })
	b.add(d, series{values: slices.Clone(values), count: count, sum: sum, quantiles: qs})
}

func (b *Batch) add(d *Desc, s series) {
	if len(s.values) != len(d.labels) {
		panic(fmt.Sprintf("promtext: %s takes %d label values, got %d", d.name, len(d.labels), len(s.values)))
	}
	f := b.fams[d.name]
	if f == nil {
		f = &family{desc: d}
		b.fams[d.name] = f
	} else if f.desc != d {
		panic("promtext: two families named " + d.name)
	}
	f.series = append(f.series, s)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AppendText appends the batch in the text format to dst.
func (b *Batch) AppendText(dst []byte) []byte {
	names := make([]string, 0, len(b.fams))
	for n, f := range b.fams {
		if len(f.series) > 0 {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		dst = b.fams[n].appendText(dst)
	}
	return dst
}

func (f *family) appendText(dst []byte) []byte {
	d := f.desc
	slices.SortStableFunc(f.series, func(a, b series) int {
		for _, i := range d.order {
			if c := strings.Compare(a.values[i], b.values[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	dst = append(dst, "# HELP "...)
	dst = append(dst, d.name...)
	dst = append(dst, ' ')
	dst = appendEscaped(dst, d.help, false)
	dst = append(dst, "\n# TYPE "...)
	dst = append(dst, d.name...)
	dst = append(dst, ' ')
	dst = append(dst, d.typ.String()...)
	dst = append(dst, '\n')
	for i, s := range f.series {
		if i > 0 && slices.Equal(s.values, f.series[i-1].values) {
			continue // a series is written once
		}
		switch d.typ {
		case CounterType, GaugeType:
			dst = d.appendSample(dst, "", s.values, "", 0, s.value)
		case HistogramType:
			for j, ub := range d.buckets {
				dst = d.appendSample(dst, "_bucket", s.values, "le", ub, float64(s.buckets[j]))
			}
			dst = d.appendSample(dst, "_bucket", s.values, "le", math.Inf(1), float64(s.count))
			dst = d.appendSample(dst, "_sum", s.values, "", 0, s.sum)
			dst = d.appendSample(dst, "_count", s.values, "", 0, float64(s.count))
		case SummaryType:
			for _, q := range s.quantiles {
				dst = d.appendSample(dst, "", s.values, "quantile", q.Q, q.V)
			}
			dst = d.appendSample(dst, "_sum", s.values, "", 0, s.sum)
			dst = d.appendSample(dst, "_count", s.values, "", 0, float64(s.count))
		}
	}
	return dst
}

// appendSample appends one line: name and suffix, the labels sorted by
// name, then extra (le or quantile) if any, and the value.
func (d *Desc) appendSample(dst []byte, suffix string, values []string, extra string, extraValue, v float64) []byte {
	dst = append(dst, d.name...)
	dst = append(dst, suffix...)
	if len(d.order) > 0 || extra != "" {
		sep := byte('{')
		for _, i := range d.order {
			dst = append(dst, sep)
			dst = append(dst, d.labels[i]...)
			dst = append(dst, `="`...)
			dst = appendEscaped(dst, values[i], true)
			dst = append(dst, '"')
			sep = ','
		}
		if extra != "" {
			dst = append(dst, sep)
			dst = append(dst, extra...)
			dst = append(dst, `="`...)
			dst = AppendFloat(dst, extraValue)
			dst = append(dst, '"')
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ' ')
	dst = AppendFloat(dst, v)
	return append(dst, '\n')
}

// appendEscaped appends s with backslash and newline escaped, and the
// double quote too in a label value. Bytes that are not UTF-8 become U+FFFD.
func appendEscaped(dst []byte, s string, quoted bool) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			dst = append(dst, `\\`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '"' && quoted:
			dst = append(dst, `\"`...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendFloat appends v as Prometheus writes a sample value: the shortest
// form that reads back as v ('g', -1), and +Inf, -Inf and NaN.
func AppendFloat(dst []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(dst, '1')
	case v == 0:
		return append(dst, '0')
	case v == -1:
		return append(dst, "-1"...)
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}
