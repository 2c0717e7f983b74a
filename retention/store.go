package retention

import (
	"context"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Store is the storage the retention package needs. store/memstore and
// store/sqlstore implement it; store/storetest checks every implementation
// against this contract.
//
// Every method but ClaimDue takes the account it acts in and MUST NOT read or
// change the data of any other account. ClaimDue is the one global query:
// the sweeper's "which accounts are due". A method that returns an error
// MUST leave the store unchanged. Times are stored with microsecond
// precision and returned in UTC.
type Store interface {
	// CreateRecord stores a new lifecycle record and its first transition
	// in one atomic step. rec.Version MUST be 1. It MUST return an error
	// wrapping gdprkit.ErrConflict when the account already has a record.
	CreateRecord(ctx context.Context, account gdprkit.AccountID, rec Record, first TransitionRecord) error

	// Record returns the account's lifecycle record, or an error wrapping
	// gdprkit.ErrNotFound.
	Record(ctx context.Context, account gdprkit.AccountID) (Record, error)

	// SaveRecord replaces the account's record with rec and appends trs, in
	// one atomic step, only if the stored record's Version is expect
	// (compare-and-set). rec.Version MUST be expect+1. It returns an error
	// wrapping gdprkit.ErrConflict when the stored Version differs (another
	// process, or a ClaimDue, got there first) and gdprkit.ErrNotFound when
	// there is no record. Lease fields are stored as given: callers copy
	// them from the record they read, which is safe because every change of
	// the lease (ClaimDue included) changes Version.
	SaveRecord(ctx context.Context, account gdprkit.AccountID, expect int64, rec Record, trs []TransitionRecord) error

	// Transitions returns the account's transitions ordered by Seq.
	Transitions(ctx context.Context, account gdprkit.AccountID) ([]TransitionRecord, error)

	// ClaimDue leases up to limit accounts whose NextDue is at or before now
	// and whose lease is free (no LeaseOwner, or LeaseUntil at or before
	// now), earliest NextDue first: it sets their LeaseOwner to owner and
	// LeaseUntil to now+leaseFor, increments their Version by one (and
	// changes nothing else), and returns their IDs. The increment is what
	// protects the lease: a SaveRecord prepared from the record as read
	// before the claim (an event applied concurrently, a sweeper whose lease
	// expired) MUST then fail with ErrConflict rather than write the old
	// lease fields back. Two concurrent callers MUST NOT claim the same
	// account. Its cost MUST grow with the number of due accounts, not with
	// the number of accounts (an index on NextDue).
	ClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseFor time.Duration) ([]gdprkit.AccountID, error)

	// PutRule stores a retention rule, replacing the one with the same ID.
	PutRule(ctx context.Context, account gdprkit.AccountID, r Rule) error

	// Rule returns one rule, or an error wrapping gdprkit.ErrNotFound.
	Rule(ctx context.Context, account gdprkit.AccountID, id string) (Rule, error)

	// Rules returns the account's rules ordered by ID.
	Rules(ctx context.Context, account gdprkit.AccountID) ([]Rule, error)

	// DeleteRule removes a rule; it returns an error wrapping
	// gdprkit.ErrNotFound when there is none.
	DeleteRule(ctx context.Context, account gdprkit.AccountID, id string) error

	// RecordRuleRun stores the outcome of a run of the rule: LastRun = at,
	// LastRemoved = removed, TotalRemoved += removed, Backlog = backlog. It
	// returns an error wrapping gdprkit.ErrNotFound when there is no rule.
	RecordRuleRun(ctx context.Context, account gdprkit.AccountID, id string, at time.Time, removed int64, backlog bool) error
}

// Record is an account's lifecycle record: its state per the schedule, the
// steps still to run, and the sweeper's lease.
type Record struct {
	Account gdprkit.AccountID
	State   State
	// Since is when the account entered State: the scheduled time for a
	// timer transition, the event's time otherwise.
	Since time.Time
	// Version counts writes (saves and ClaimDue's leases); 1 after
	// CreateRecord. Transition Seqs are therefore increasing but not
	// consecutive.
	Version int64
	// NextDue is when the sweeper must next look at the account: the
	// earliest of the state's timer and the pending steps' time. Zero when
	// neither exists.
	NextDue time.Time
	// Pending are the steps still to run, oldest first.
	Pending []PendingStep
	// StepsAt is when the first pending step may run (later than the
	// transition after a failure). Zero when nothing is pending.
	StepsAt time.Time
	// Attempts counts failed attempts at the first pending step.
	Attempts int
	// LeaseOwner and LeaseUntil: the sweeper working on the account.
	LeaseOwner string
	LeaseUntil time.Time
	// NothingRemainsAt is when the last step of StatePurged completed:
	// from then on nothing of the account remains but this record.
	NothingRemainsAt time.Time
	Created          time.Time
	Updated          time.Time
}

// PendingStep is one step still to run and the transition that asked for it.
type PendingStep struct {
	Transition string
	Step       Step
}

// TransitionRecord is one stored transition.
type TransitionRecord struct {
	// ID is a UUIDv7.
	ID      string
	Account gdprkit.AccountID
	// Seq is the record Version the transition produced.
	Seq   int64
	From  State
	To    State
	Cause Cause
	Actor gdprkit.ActorID
	// At is when the transition took effect: the timer's due time (not when
	// a sweeper noticed), or the event's time.
	At time.Time
	// Recorded is when it was stored.
	Recorded time.Time
	// Policy is Policy.String() of the policy that applied.
	Policy string
	// Steps are the steps the transition queued.
	Steps []Step
}

// Rule is a data retention rule of one account: remove the records of a
// target kind that match a condition.
type Rule struct {
	// ID is a UUIDv7 set by AddRule.
	ID      string
	Account gdprkit.AccountID
	// Name is a short human label ("trash after 30 days").
	Name      string
	Target    TargetKind
	Condition Condition
	// Disabled rules are kept but not run.
	Disabled bool
	Created  time.Time
	// LastRun, LastRemoved, TotalRemoved and Backlog report the runs:
	// Backlog is true when the last run stopped at its limit with matching
	// records left.
	LastRun      time.Time
	LastRemoved  int64
	TotalRemoved int64
	Backlog      bool
}
