package handlers

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// pageKey is everything a cached wall page depends on. The model version
// stands for all the data; the view comes from the request.
type pageKey struct {
	version uint64
	viewKey
}

// viewKey is a page without the data it shows.
type viewKey struct {
	path     string // "/", "/accounts/{id}", "/wall" or a wall link
	query    string
	plain    bool // plain order rather than problems first
	quiet    bool // without the latest changes
	fragment bool // the grid alone (htmx refresh) or the whole page
	signedIn bool // signed-in pages offer to sign out
	operate  bool // an operator's pages carry controls that change state
}

// page is a rendered page: the same bytes for every request with its key,
// with a strong validator. A page worth compressing is kept gzipped only
// (wall screens all ask for gzip, and the grid of 5,000 servers is 2 MB
// plain, 130 KB gzipped); a client that does not take gzip gets it
// inflated as it is sent.
type page struct {
	etag     string
	gzip     []byte // nil for a page too small to compress
	gzipETag string
	plain    []byte        // small pages only
	size     int           // bytes kept
	ready    chan struct{} // closed once the page is made (or err)
	err      error
	elem     *list.Element
}

// minGzip is the smallest page worth compressing.
const minGzip = 1400

// make sets the page from its rendered bytes.
func (p *page) make(plain []byte) {
	sum := sha256.Sum256(plain)
	p.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	if len(plain) < minGzip {
		p.plain, p.size = plain, len(plain)
		return
	}
	var buf bytes.Buffer
	buf.Grow(len(plain) / 8)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	p.gzip = bytes.Clone(buf.Bytes()) // not the grown buffer's spare room
	p.gzipETag = p.etag[:len(p.etag)-1] + `-gz"`
	p.size = len(p.gzip)
}

// pageCache keeps rendered wall pages of the current model version, bounded
// by count and bytes, least recently used out first. A page is rendered
// once per key even when many requests ask for it at the same moment; while
// it renders, those others get the same view of the previous version at
// once instead of queueing behind the render (the one that asked first
// waits, and sees the new data) — unless they ask for the new data (see
// getFresh).
type pageCache struct {
	maxPages int
	maxBytes int

	mu      sync.Mutex
	version uint64
	pages   map[pageKey]*page
	prev    map[viewKey]*page // rendered pages of the previous version
	lru     *list.List        // of pageKey, most recent first
	bytes   int
}

func newPageCache(maxPages, maxBytes int) *pageCache {
	return &pageCache{maxPages: maxPages, maxBytes: maxBytes, pages: map[pageKey]*page{}, prev: map[viewKey]*page{}, lru: list.New()}
}

func (p *page) isReady() bool {
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

// get returns the page for key, rendering it with render on a miss.
// Every version, zero included, is a version of the data: no value of the
// key means "do not keep" (see renderOnce).
func (c *pageCache) get(key pageKey, render func() ([]byte, error)) (*page, error) {
	return c.page(key, render, true)
}

// getFresh is get for a request that came because the data changed (a
// live update): it waits for the page of key's version rather than take
// the previous one, which it has.
func (c *pageCache) getFresh(key pageKey, render func() ([]byte, error)) (*page, error) {
	return c.page(key, render, false)
}

func (c *pageCache) page(key pageKey, render func() ([]byte, error), standIn bool) (*page, error) {
	c.mu.Lock()
	if key.version > c.version {
		// A newer model: every page of older ones is out of date, and
		// stands in only while its successor renders.
		c.version = key.version
		c.prev = make(map[viewKey]*page, len(c.pages))
		for k, p := range c.pages {
			if p.isReady() && p.err == nil {
				c.prev[k.viewKey] = p
			}
		}
		clear(c.pages)
		c.lru.Init()
		c.bytes = 0
	}
	if p, ok := c.pages[key]; ok {
		if p.elem != nil {
			c.lru.MoveToFront(p.elem)
		}
		old := c.prev[key.viewKey]
		c.mu.Unlock()
		if standIn && old != nil && !p.isReady() {
			return old, nil
		}
		<-p.ready
		return p, p.err
	}
	p := &page{ready: make(chan struct{})}
	cacheable := key.version == c.version
	if cacheable {
		c.pages[key] = p
		p.elem = c.lru.PushFront(key)
	}
	c.mu.Unlock()

	p.render(key.path, render)

	c.mu.Lock()
	defer c.mu.Unlock()
	if !cacheable || c.pages[key] != p {
		return p, p.err // an older version's page, or dropped meanwhile
	}
	if p.err != nil {
		c.remove(key, p)
		return p, p.err
	}
	c.bytes += p.size
	for (c.lru.Len() > c.maxPages || c.bytes > c.maxBytes) && c.lru.Len() > 1 {
		oldest := c.lru.Back().Value.(pageKey)
		c.remove(oldest, c.pages[oldest])
	}
	return p, nil
}

// renderOnce renders a page that is not kept: the cache never sees it, so
// it cannot stand in for another request's page of any version.
func renderOnce(path string, render func() ([]byte, error)) (*page, error) {
	p := &page{ready: make(chan struct{})}
	p.render(path, render)
	return p, p.err
}

// render makes the page with fn and marks it ready, even if fn panics:
// nobody waits for it forever.
func (p *page) render(path string, fn func() ([]byte, error)) {
	defer close(p.ready)
	defer func() {
		if v := recover(); v != nil {
			p.err = fmt.Errorf("rendering %s: %v", logPath(path), v)
		}
	}()
	plain, err := fn()
	if p.err = err; err == nil {
		p.make(plain)
	}
}

func (c *pageCache) remove(key pageKey, p *page) {
	if p == nil {
		return
	}
	if p.elem != nil {
		c.lru.Remove(p.elem)
		p.elem = nil
	}
	c.bytes -= p.size
	delete(c.pages, key)
}

// writePage answers with a cached page: 304 when the client has it, else
// the bytes, gzipped when accepted. A 304 carries only the headers a cache
// needs to reuse what it has.
func writePage(w http.ResponseWriter, r *http.Request, p *page, cacheControl string) {
	gz := p.gzip != nil && acceptsGzip(r)
	etag := p.etag
	if gz {
		etag = p.gzipETag
	}
	h := w.Header()
	h.Set("Vary", "HX-Request, Cookie, Accept-Encoding")
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	switch {
	case gz:
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(p.gzip)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(p.gzip)
		}
	case p.gzip == nil:
		h.Set("Content-Length", strconv.Itoa(len(p.plain)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(p.plain)
		}
	default: // a big page for a client without gzip: inflated as it goes
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			if zr, err := gzip.NewReader(bytes.NewReader(p.gzip)); err == nil {
				_, _ = io.Copy(w, zr)
			}
		}
	}
}

// etagMatch implements If-None-Match's weak comparison against one strong
// tag: "*", or any listed tag with or without W/.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
