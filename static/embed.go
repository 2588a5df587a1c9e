// Package static holds the files served under /static/: the vendored htmx
// (version in its name), the stylesheet and icons, embedded into the binary.
package static

import "embed"

// FS holds the static files at its root.
//
//go:embed *.js *.css *.svg
var FS embed.FS
