package wall

import (
	"context"
	"time"

	"cmdash/monitoring"
)

// Source is where the read model's input comes from, all of it: the
// snapshots, what every overlay shows, and what the server and timeline
// pages read beside the model. Generation must advance with every change
// of what the model is built from (a stored poll, an account, a filter or
// an acknowledgement added, changed or removed).
type Source interface {
	Generation() uint64
	ListAccounts(ctx context.Context) ([]monitoring.Account, error)
	Summaries(ctx context.Context) (map[int64]*monitoring.Snapshot, error)
	ListFilters(ctx context.Context) ([]monitoring.Filter, error)
	// ActiveAcks: the acknowledgements in force (see Acks).
	ActiveAcks(ctx context.Context) ([]monitoring.Ack, error)
	// Suppressions: every account's maintenance windows as last read, by
	// account id (see Maintenance).
	Suppressions(ctx context.Context) (map[int64][]monitoring.Suppression, error)
	// Flapping: the alarms that changed state at least changes times
	// within the last within (see Flapping).
	Flapping(ctx context.Context, within time.Duration, changes int) ([]monitoring.Flap, error)
	// RecentEvents: the latest n recorded changes (see Latest).
	RecentEvents(ctx context.Context, n int) ([]monitoring.Event, error)

	// For the server and timeline pages (see Service.Server, Timeline).
	Account(ctx context.Context, id int64) (monitoring.Account, error)
	// SnapshotServer: the account's latest snapshot with serverID's server
	// alone, all its alarms; nil when never polled.
	SnapshotServer(ctx context.Context, id int64, serverID string) (*monitoring.Snapshot, error)
	Acks(ctx context.Context, q monitoring.AckQuery) ([]monitoring.Ack, error)
	// What Rackspace says of one account besides the overview, as last
	// read (see monitoring.ReadKind).
	AccountSuppressions(ctx context.Context, id int64) ([]monitoring.Suppression, error)
	Plans(ctx context.Context, id int64) ([]monitoring.NotificationPlan, error)
	Limits(ctx context.Context, id int64) (monitoring.Limits, error)
	ReadStatuses(ctx context.Context, id int64) (map[monitoring.ReadKind]monitoring.ReadStatus, error)
	// Snapshot: the account's latest snapshot with every alarm; nil when
	// never polled.
	Snapshot(ctx context.Context, id int64) (*monitoring.Snapshot, error)
	Events(ctx context.Context, q monitoring.EventQuery) ([]monitoring.Event, bool, error)
	// ProblemStarts: when the problem each recovery in evs ended began,
	// by event id.
	ProblemStarts(ctx context.Context, evs []monitoring.Event) (map[int64]time.Time, error)
	Retention() monitoring.Retention
}

// Overlay adds to the wall one kind of fact the snapshots alone do not
// know. Each is a small type in its own file, in the list newOverlays
// makes; adding one to the wall is that file, its line in the list, and
// what it reads in Source and Input.
type Overlay interface {
	// Load reads what the overlay shows into in, once per rebuild.
	Load(ctx context.Context, src Source, in *Input) error
	// Apply puts it on m, just built from in at now; prev is the model
	// before m (nil for the first). It may set tiles' facts and m's
	// validity (see Model.until), and must not read the servers counted
	// by state (Section.Servers, Summary): they are made after every
	// overlay. What it adds depends on in, prev, now and what the
	// overlay itself remembered from the builds before (Marks does).
	Apply(in *Input, prev, m *Model, now time.Time)
}

// newOverlays is the one list of overlays, in the order they apply. A
// Service keeps its list for its life (Marks remembers); Build makes a
// fresh one per model.
func newOverlays(opts Options) []Overlay {
	return []Overlay{
		Acks{},
		Maintenance{},
		Ageing{After: opts.OldAfter}, // after Acks and Maintenance: a problem in hand is not old
		&Marks{Window: opts.ChangeWindow},
		Flapping{},
		Latest{},
	}
}
