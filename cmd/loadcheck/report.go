package main

import (
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"
)

// Goals the refresh path is held to.
const (
	goalRatio      = 0.8 // dashboard req/s ÷ static req/s
	goalWireBytes  = 300 // an unchanged refresh, status line + headers + body
	goalP99        = 50 * time.Millisecond
	goalRateShare  = 0.98 // answered ÷ offered in the open loop
	goalOpenErrors = 0
)

// report is everything measured, printed as one table.
type report struct {
	target          string
	opts            options
	refBytes        int
	contentEncoding string
	etag            string

	full, notModified                  comparison
	wireFull, staticWireFull           wire
	wireUnchanged, staticWireUnchanged wire
	open                               openResult
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func (r *report) print(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "\nloadcheck: %s\n", r.target)
	etag := r.etag
	if etag == "" {
		etag = "none"
	}
	fmt.Fprintf(w, "grid refresh GET %s: %d bytes, Content-Encoding %q, ETag %s\n", o.path, r.refBytes, r.contentEncoding, etag)
	fmt.Fprintf(w, "closed loop: %d workers, %d interleaved rounds of %s per side; open loop: %d/s for %s\n\n",
		o.workers, o.rounds, (o.duration / time.Duration(o.rounds)).Round(time.Millisecond), o.rate, o.duration)

	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "measure\tdashboard\tstatic\tratio\tgoal\t")

	ratioRow := func(name string, c comparison) {
		ratio := c.dash / c.static
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f\t≥ %.1f\t%s\n", name, c.dash, c.static, ratio, goalRatio, verdict(ratio >= goalRatio))
	}
	ratioRow("refresh 200 (gzip), req/s", r.full)
	if r.notModified.ran {
		ratioRow("refresh 304, req/s", r.notModified)
	} else {
		fmt.Fprintf(tw, "refresh 304, req/s\tno ETag\t-\t-\t≥ %.1f\tskipped\n", goalRatio)
	}

	switch {
	case r.etag == "":
		fmt.Fprintf(tw, "unchanged refresh, wire bytes\tno ETag\t-\t\t≤ %d\tskipped\n", goalWireBytes)
	case r.wireUnchanged.status != http.StatusNotModified:
		fmt.Fprintf(tw, "unchanged refresh, wire bytes\t%d (got %d)\t%d\t\t≤ %d\t%s\n", r.wireUnchanged.read, r.wireUnchanged.status,
			r.staticWireUnchanged.read, goalWireBytes, verdict(false))
	default:
		fmt.Fprintf(tw, "unchanged refresh, wire bytes\t%d\t%d\t\t≤ %d\t%s\n", r.wireUnchanged.read,
			r.staticWireUnchanged.read, goalWireBytes, verdict(r.wireUnchanged.read <= goalWireBytes))
	}
	fmt.Fprintf(tw, "full refresh (gzip), wire bytes\t%d\t%d\t\t\t\n", r.wireFull.read, r.staticWireFull.read)

	op := r.open
	kind := fmt.Sprintf("%.0f%% conditional", 100*float64(op.conditional)/float64(max(op.sent, 1)))
	if r.etag == "" {
		kind = "unconditional: no ETag"
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(tw, "open loop %d/s: p50 p90 p99 max, ms\t%s %s %s %s\t\t\tp99 < %s\t%s\n", o.rate,
		ms(op.p50), ms(op.p90), ms(op.p99), ms(op.max), goalP99, verdict(op.p99 < goalP99))
	errs := op.codes.other(http.StatusOK, http.StatusNotModified)
	fmt.Fprintf(tw, "open loop %d/s: answered/s, errors\t%.0f/s, %d errors\t\t\t≥ %.0f/s, %d errors\t%s\n", o.rate,
		op.achieved, errs, goalRateShare*float64(o.rate), goalOpenErrors,
		verdict(op.achieved >= goalRateShare*float64(o.rate) && errs <= goalOpenErrors))
	tw.Flush()

	fmt.Fprintln(w)
	fmt.Fprintf(w, "refresh 200 answers: dashboard %s; static %s\n", r.full.dashCodes, r.full.staticCodes)
	if r.notModified.ran {
		fmt.Fprintf(w, "refresh 304 answers: dashboard %s; static %s\n", r.notModified.dashCodes, r.notModified.staticCodes)
	}
	fmt.Fprintf(w, "open loop answers (%s): %s; started at %.0f/s; %d ETag re-fetches failed\n",
		kind, op.codes, op.sendRate, op.etagRefreshFails)
}
