package rackspace

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"

	"cmdash/monitoring"
)

// Plot reads a check's metric: GET …/metrics/{metric}/plot, once for an
// agent check's metric and once per monitoring zone for a remote check's,
// whose zones it first reads from GET …/checks/{c}/metrics. It logs in
// again with cr once on a 401 (or first, without a cached token), as
// ReadExtras does; the result says how many requests it made, with which
// token and what budget Rackspace stated. A zone with no data has a series
// without points.
func (c *Client) Plot(ctx context.Context, cr monitoring.Credentials, cached *monitoring.Token, q monitoring.PlotQuery) (monitoring.PlotResult, error) {
	s := &session{c: c, cr: cr}
	if cached != nil && fresh(cached, c.Now()) {
		s.meta.Token = *cached
	}
	series, err := s.plot(ctx, q)
	return monitoring.PlotResult{Series: series, Requests: s.meta.Requests, Token: s.meta.Token,
		LoggedIn: s.meta.LoggedIn > 0, RateLimit: s.meta.RateLimit}, err
}

func (s *session) plot(ctx context.Context, q monitoring.PlotQuery) ([]monitoring.Series, error) {
	base := "/entities/" + url.PathEscape(q.EntityID) + "/checks/" + url.PathEscape(q.CheckID) + "/metrics"
	names := []string{q.Metric}
	zones := []string{""}
	if q.Remote {
		type wireMetric struct {
			Name string `json:"name"`
		}
		all, err := listAll(ctx, s, base, nil, func(w *wireMetric) (string, bool) { return w.Name, true })
		if err != nil {
			return nil, err
		}
		names, zones = nil, nil
		for _, n := range all {
			if zone, metric, ok := strings.Cut(n, "."); ok && metric == q.Metric {
				names, zones = append(names, n), append(zones, zone)
			}
		}
	}
	params := url.Values{
		"from":       {strconv.FormatInt(q.From.UnixMilli(), 10)},
		"to":         {strconv.FormatInt(q.To.UnixMilli(), 10)},
		"resolution": {q.Resolution},
	}
	out := make([]monitoring.Series, 0, len(names))
	for i, name := range names {
		sr := monitoring.Series{Zone: zones[i]}
		err := s.get(ctx, base+"/"+url.PathEscape(name)+"/plot", params, func(r io.Reader) error {
			var page struct {
				Values *[]struct {
					Average   json.Number `json:"average"`
					Timestamp EpochMillis `json:"timestamp"`
				} `json:"values"`
			}
			if err := decodeObject(r, &page); err != nil {
				return err
			}
			if page.Values == nil {
				return &BadResponseError{Reason: "no values"}
			}
			sr.Points = make([]monitoring.Point, 0, len(*page.Values))
			for _, v := range *page.Values {
				f, err := v.Average.Float64()
				if err != nil || v.Timestamp.IsZero() {
					continue // a point without a number or a time draws nothing
				}
				sr.Points = append(sr.Points, monitoring.Point{At: v.Timestamp.Time.UTC(), Value: f})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, sr)
	}
	return out, nil
}
