package handlers

import (
	"net/http"
	"strconv"
	"sync"

	"cmdash/monitoring"
	"cmdash/views"
)

// showCharts answers the charts of a server's alarms, which its page loads
// after itself: the metric of each alarm that is not OK, or of the one
// asked for with ?alarm=, over ?range= (6h, 24h or 7d). Charts cost
// requests to Rackspace, so they are read only here, kept a while and
// capped per account (package charts).
func (h *Handler) showCharts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rng, err := monitoring.ParseChartRange(q.Get("range"))
	if err != nil {
		h.render(w, r, http.StatusBadRequest, views.ErrorPage(h.layout(r, "Bad request", ""), http.StatusBadRequest,
			"The chart range "+strconv.Quote(q.Get("range"))+" is none of 6h, 24h and 7d."))
		return
	}
	sp, _, ok := h.serverPage(w, r, func(what string) { h.notFound(w, r, what) })
	if !ok {
		return
	}
	self := sp.Self + "/charts"
	c := views.Charts{Range: rng, Server: sp.Self, Self: self}
	if h.opts.Charts == nil {
		c.Empty = "Charts are turned off (-chart-calls-per-hour 0)."
		h.render(w, r, http.StatusOK, views.ChartsView(c))
		return
	}
	c.PerHr = h.opts.Charts.CallsPerHour()
	var alarms []monitoring.Alarm
	if id := q.Get("alarm"); id != "" {
		for _, a := range sp.Server.Alarms {
			if a.ID == id {
				alarms = append(alarms, a)
			}
		}
		if len(alarms) == 0 {
			h.notFound(w, r, "This server has no such alarm.")
			return
		}
		c.Asked, c.Self = true, self+"?alarm="+id
	} else {
		for _, a := range sp.Server.Alarms {
			if a.Counted() && a.State != monitoring.StateOK {
				alarms = append(alarms, a)
			}
		}
		if len(alarms) == 0 {
			c.Empty = "Every alarm is OK. Each alarm's chart is a click away in the table above."
		}
	}
	c.Items = make([]views.ChartItem, len(alarms))
	var wg sync.WaitGroup
	for i, a := range alarms {
		c.Items[i].Alarm = a
		wg.Go(func() { c.Items[i].Chart = h.opts.Charts.Chart(r.Context(), sp.AccountID, sp.Server.ID, a, rng) })
	}
	wg.Wait()
	w.Header().Set("Cache-Control", "private, no-cache")
	h.render(w, r, http.StatusOK, views.ChartsView(c))
}
