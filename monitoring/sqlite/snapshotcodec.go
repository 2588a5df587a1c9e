package sqlite

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"math"
	"sync"
	"time"

	"cmdash/monitoring"
)

// How a snapshot travels from the upstream to the database without ever
// being held whole: the fetcher hands the servers over a page at a time
// (monitoring.PageSink); a snapshotBuilder hashes each page, gzips its JSON only when
// the hash differs from the stored page's, and keeps of every server only
// what the wall shows. An account of 5,000 servers is some 15 MB of
// reduced alarms and 15 MB of JSON; the builder holds one page of it.

// snapshotBuilder turns pages of servers into what a poll stores (see
// BeginPoll).
type snapshotBuilder struct {
	stored  []int64 // the hashes of the account's stored pages
	pages   []builtPage
	summary []monitoring.Server
	err     error
	hist    *differ // compares changed pages with their stored versions; nil: nothing to record
}

type builtPage struct {
	hash int64
	data []byte // gzipped JSON; nil when the stored page has the same content
}

// builtSnapshot is a poll's snapshot, ready to store.
type builtSnapshot struct {
	FetchedAt time.Time
	summary   *monitoring.Snapshot
	pages     []builtPage
	err       error
	// compared: the history compared the changed pages with those stored
	// with the hashes in base; events is what changed.
	compared   bool
	base       []int64
	events     []monitoring.Event
	historyErr error
}

// Page implements PageSink.
func (b *snapshotBuilder) Page(servers []monitoring.Server) {
	p := builtPage{hash: hashServers(servers)}
	if i := len(b.pages); i >= len(b.stored) || b.stored[i] != p.hash {
		data, err := encodePage(servers)
		if err != nil && b.err == nil {
			b.err = err
		}
		p.data = data
		if b.hist != nil {
			b.hist.page(len(b.pages), servers)
		}
	}
	b.pages = append(b.pages, p)
	for i := range servers {
		b.summary = append(b.summary, monitoring.SummaryOf(&servers[i]))
	}
}

// Finish returns the snapshot taken at fetchedAt. The builder is done.
func (b *snapshotBuilder) Finish(fetchedAt time.Time) *builtSnapshot {
	sum := &monitoring.Snapshot{FetchedAt: fetchedAt.UTC(), Servers: b.summary}
	if sum.Servers == nil {
		sum.Servers = []monitoring.Server{}
	}
	monitoring.SortServers(sum.Servers)
	bs := &builtSnapshot{FetchedAt: sum.FetchedAt, summary: sum, pages: b.pages, err: b.err}
	if b.hist != nil {
		bs.events, bs.historyErr = b.hist.finish(len(b.pages), sum.FetchedAt)
		bs.compared, bs.base = bs.historyErr == nil, b.stored
		b.hist = nil
	}
	return bs
}

// unchanged reports whether every page is as stored (and no page is gone).
func (bs *builtSnapshot) unchanged(stored []int64) bool {
	if len(bs.pages) != len(stored) {
		return false
	}
	for _, p := range bs.pages {
		if p.data != nil {
			return false
		}
	}
	return true
}

func (bs *builtSnapshot) hashes() []int64 {
	out := make([]int64, len(bs.pages))
	for i, p := range bs.pages {
		out[i] = p.hash
	}
	return out
}

// encodePage writes servers as a gzipped JSON array, a server at a time.
func encodePage(servers []monitoring.Server) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	_, _ = io.WriteString(zw, "[")
	enc := json.NewEncoder(zw)
	for i := range servers {
		if i > 0 {
			_, _ = io.WriteString(zw, ",")
		}
		if err := enc.Encode(&servers[i]); err != nil {
			return nil, fmt.Errorf("encode snapshot: %w", err)
		}
	}
	_, _ = io.WriteString(zw, "]")
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// decodePage reads a stored page, handing each server to keep.
func decodePage(data []byte, keep func(*monitoring.Server) bool, into []monitoring.Server) ([]monitoring.Server, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return into, err
	}
	defer zr.Close()
	dec := json.NewDecoder(zr)
	if err := expectDelim(dec, '['); err != nil {
		return into, err
	}
	for dec.More() {
		var srv monitoring.Server
		if err := dec.Decode(&srv); err != nil {
			return into, err
		}
		if keep(&srv) {
			into = append(into, srv)
		}
	}
	return into, expectDelim(dec, ']')
}

// decodeStoredPage reads a stored page as the history's comparison needs
// it, handing each server to fn.
func decodeStoredPage(data []byte, fn func(*storedServer)) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	defer zr.Close()
	dec := json.NewDecoder(zr)
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		var srv storedServer
		if err := dec.Decode(&srv); err != nil {
			return err
		}
		fn(&srv)
	}
	return expectDelim(dec, ']')
}

// decodeWhole reads a snapshot stored whole as plain JSON (rows written
// before pages), a server at a time.
func decodeWhole(data []byte, keep func(*monitoring.Server) bool) (*monitoring.Snapshot, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	snap := &monitoring.Snapshot{}
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if tok != "servers" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, err
		}
		if tok == nil {
			continue
		}
		if tok != json.Delim('[') {
			return nil, errors.New("servers is not a list")
		}
		for dec.More() {
			var srv monitoring.Server
			if err := dec.Decode(&srv); err != nil {
				return nil, err
			}
			if keep(&srv) {
				snap.Servers = append(snap.Servers, srv)
			}
		}
		if err := expectDelim(dec, ']'); err != nil {
			return nil, err
		}
	}
	return snap, expectDelim(dec, '}')
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("want %q, got %v", d, tok)
	}
	return nil
}

// hashServers sums everything a page of servers holds: two pages with equal
// sums hold the same data. It is stored with each page, so a change to it
// rewrites every page once; every field of Server, Alarm and Counts is part
// of it (TestContentHashCoversEveryField keeps it so, and pins its value).
func hashServers(servers []monitoring.Server) int64 {
	bp := hashBufs.Get().(*[]byte)
	w := contentWriter{b: (*bp)[:0], h: fnv.New64a()}
	w.num(int64(len(servers)))
	for i := range servers {
		w.server(&servers[i])
	}
	w.flush()
	*bp = w.b
	hashBufs.Put(bp)
	return int64(w.h.Sum64())
}

// hashBufs keeps the buffers content is summed through.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 0, hashChunk+512); return &b }}

// hashChunk is how much content is gathered before it is summed: FNV-1a
// over the bytes in turn, as writing each field to the hash summed them,
// without a call per field and without holding a page's worth.
const hashChunk = 32 << 10

// contentWriter writes what a page holds, each string after its length,
// into h.
type contentWriter struct {
	b []byte
	h hash.Hash64
}

func (w *contentWriter) flush() {
	_, _ = w.h.Write(w.b)
	w.b = w.b[:0]
}

func (w *contentWriter) num(n int64) { w.b = binary.LittleEndian.AppendUint64(w.b, uint64(n)) }

func (w *contentWriter) str(v string) {
	w.num(int64(len(v)))
	if len(w.b)+len(v) > hashChunk {
		w.flush()
		if len(v) > hashChunk {
			_, _ = io.WriteString(w.h, v)
			return
		}
	}
	w.b = append(w.b, v...)
}

func (w *contentWriter) flag(b bool) {
	if b {
		w.num(1)
	} else {
		w.num(0)
	}
}

func (w *contentWriter) server(s *monitoring.Server) {
	if len(w.b) > hashChunk {
		w.flush()
	}
	str, num, flag := w.str, w.num, w.flag
	str(s.ID)
	str(s.Label)
	str(s.AgentID)
	str(s.URI)
	str(s.Region)
	str(s.TenantID)
	str(s.ServerUUID)
	str(string(s.Worst))
	for _, n := range []int{s.Counts.OK, s.Counts.Warning, s.Counts.Critical, s.Counts.Unknown, s.Counts.Total, s.Counts.Excluded} {
		num(int64(n))
	}
	num(int64(len(s.Alarms)))
	for j := range s.Alarms {
		a := &s.Alarms[j]
		str(a.ID)
		str(a.Label)
		str(a.CheckID)
		str(a.CheckLabel)
		str(a.CheckType)
		str(string(a.State))
		str(a.Status)
		flag(a.Since.IsZero())
		num(a.Since.UnixNano())
		str(string(a.PreviousState))
		flag(a.Disabled)
		flag(a.Evaluated)
		flag(a.Orphan)
		// Fields added later are summed only when set, so that the sum of
		// pages stored before them stays what it was.
		if a.CheckDisabled || a.NotificationPlanID != "" || len(a.Suppressions) > 0 {
			flag(a.CheckDisabled)
			str(a.NotificationPlanID)
			num(int64(len(a.Suppressions)))
			for _, id := range a.Suppressions {
				str(id)
			}
		}
		if m := a.Metric; m != nil {
			num(-1) // nothing else writes a negative length here
			str(m.Name)
			num(int64(len(m.Thresholds)))
			for _, th := range m.Thresholds {
				str(string(th.State))
				str(th.Op)
				num(int64(math.Float64bits(th.Value)))
			}
		}
	}
}
