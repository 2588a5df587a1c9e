package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Live updates. GET /live (and a wall link's /w/{token}/live) is a stream
// of Server-Sent Events telling an open page that what it shows changed:
// each event's data is the wall model's version. The page then fetches its
// fragment at once instead of at its next refresh (static/app.js), and
// that fetch answers 304 when the change is not one the page shows. The
// periodic refresh stays, as the fallback and for proxies that break long
// answers. A stream costs a parked goroutine and its connection's buffers.

// liveHeader marks a page's request made because its stream told of a
// change: it waits for the new page rather than get the previous one while
// the new one renders (see pageCache.getFresh).
const liveHeader = "X-Dashboard-Live"

// DefaultLiveStreams bounds the streams open at once.
const DefaultLiveStreams = 10_000

// DefaultLiveHeartbeat is how often a quiet stream says it is alive, so
// that proxies keep it open and the page can tell a dead one.
const DefaultLiveHeartbeat = 15 * time.Second

// liveRetry is how long a browser waits before it connects a broken stream
// again (the "retry" field).
const liveRetry = 3 * time.Second

// liveWriteTimeout bounds each write to a stream: a client that stopped
// reading is let go.
const liveWriteTimeout = 10 * time.Second

// liveStreams counts the open streams and ends them at shutdown.
type liveStreams struct {
	max       int64
	heartbeat time.Duration
	open      atomic.Int64
	done      chan struct{}
	stopOnce  sync.Once
}

func newLiveStreams(max int, heartbeat time.Duration) *liveStreams {
	return &liveStreams{max: int64(max), heartbeat: heartbeat, done: make(chan struct{})}
}

// StopLive ends every open stream, now and later: http.Server.Shutdown
// waits for requests to finish, and a stream never does by itself.
// Register it with http.Server.RegisterOnShutdown.
func (h *Handler) StopLive() {
	h.live.stopOnce.Do(func() { close(h.live.done) })
}

// LiveStreams is the number of live-update streams open now.
func (h *Handler) LiveStreams() int { return int(h.live.open.Load()) }

// showLive serves a signed-in (or public) page's stream.
func (h *Handler) showLive(w http.ResponseWriter, r *http.Request) { h.serveLive(w, r) }

// showWallLinkLive serves the stream of a page opened with a wall link:
// the link's token is its access, as for the page.
func (h *Handler) showWallLinkLive(w http.ResponseWriter, r *http.Request) {
	link, err := h.store.WallLinkByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		// Revoked or never made: the page's next refresh says so.
		http.Error(w, "This wall link does not open the dashboard.", http.StatusNotFound)
		return
	}
	setWho(r, "wall link "+link.Name)
	h.serveLive(w, r)
}

func (h *Handler) serveLive(w http.ResponseWriter, r *http.Request) {
	ls := h.live
	if ls.max <= 0 {
		http.Error(w, "Live updates are off: the page refreshes itself.", http.StatusNotFound)
		return
	}
	if ls.open.Add(1) > ls.max {
		ls.open.Add(-1)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "Too many live streams are open: the page refreshes itself instead.", http.StatusServiceUnavailable)
		return
	}
	defer ls.open.Add(-1)

	ctx := r.Context()
	rc := http.NewResponseController(w)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx and others: pass each event on at once

	// Ask for the next change before reading the version, so that none
	// falls between the two.
	changed := h.wall.Changed()
	var version uint64
	if m, err := h.wall.Current(ctx); err == nil {
		version = m.Version
	}
	buf := make([]byte, 0, 64)
	buf = append(buf, "retry: "...)
	buf = strconv.AppendInt(buf, liveRetry.Milliseconds(), 10)
	buf = appendEvent(append(buf, '\n'), version)
	if !h.writeLive(w, rc, buf) {
		return
	}
	beat := time.NewTicker(ls.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ls.done:
			return
		case <-changed:
			changed = h.wall.Changed()
			m, err := h.wall.Current(ctx)
			if err != nil || m.Version == version {
				continue
			}
			version = m.Version
			if !h.writeLive(w, rc, appendEvent(buf[:0], version)) {
				return
			}
		case <-beat.C:
			if !h.writeLive(w, rc, append(buf[:0], ":\n\n"...)) {
				return
			}
		}
	}
}

// appendEvent appends an event whose data is version.
func appendEvent(b []byte, version uint64) []byte {
	b = append(b, "data: "...)
	b = strconv.AppendUint(b, version, 10)
	return append(b, '\n', '\n')
}

// writeLive writes b to the stream and sends it on at once; false when the
// stream cannot go on.
func (h *Handler) writeLive(w http.ResponseWriter, rc *http.ResponseController, b []byte) bool {
	// The server's write timeout is for pages; a stream lasts, but each
	// write has its own.
	if err := rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return false
	}
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}
