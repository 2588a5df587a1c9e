package monitoring

import "time"

// WallLink is a read-only address for a wall screen: whoever has its token
// sees the wall (with its filter, in wall mode or not) and nothing else.
// Only a hash of the token is stored.
type WallLink struct {
	ID     int64
	Name   string
	Prefix string // the token's first characters, to recognise it
	// Query is the filter the link shows, "" for everything. It is the
	// filter's text when the link was made: editing or deleting a saved
	// filter later does not change what a screen shows.
	Query string
	// WallMode opens the link as the wall for a screen (see /wall) rather
	// than the dashboard page.
	WallMode   bool
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt time.Time
}
