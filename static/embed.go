// Package static holds the files served under /static/: the vendored htmx
// (version in its name), the stylesheets, the script and icons, embedded
// into the binary.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sort"
	"sync"
)

// FS holds the static files at its root.
//
//go:embed *.js *.css *.svg
var FS embed.FS

// sums are the content hashes of the files and of them all, computed once
// when first asked for (not at start: start-up stays cheap).
var sums = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	all := sha256.New()
	names, _ := fs.Glob(FS, "*")
	sort.Strings(names)
	for _, name := range names {
		data, err := FS.ReadFile(name)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		out[name] = hex.EncodeToString(sum[:6])
		all.Write([]byte(name))
		all.Write(sum[:])
	}
	out[""] = hex.EncodeToString(all.Sum(nil)[:6])
	return out
})

// URL is the address of a static file with its content hash, so a browser
// never pairs new markup with a stylesheet or script it cached before.
func URL(name string) string {
	if v := sums()[name]; v != "" {
		return "/static/" + name + "?v=" + v
	}
	return "/static/" + name
}

// Hash is a hash of every static file.
func Hash() string { return sums()[""] }
