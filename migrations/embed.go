// Package migrations holds the SQLite schema as goose migrations, embedded
// into the binary.
package migrations

import "embed"

// FS holds the numbered .sql migrations at its root.
//
//go:embed *.sql
var FS embed.FS
