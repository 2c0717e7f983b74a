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

	// CreateRule stores a new retention rule. It returns an error wrapping
	// gdprkit.ErrConflict when the account already has a rule with r.ID.
	CreateRule(ctx context.Context, account gdprkit.AccountID, r Rule) error

	// UpdateRule replaces the definition of a rule (Name, Target,
	// Condition, Action, Disabled, Updated, UpdatedBy, Version and Cursor)
	// only if the stored Version is expect (compare-and-set); the run
	// counters and history fields are left as stored. r.Version MUST be
	// expect+1. It returns gdprkit.ErrNotFound when there is no rule and
	// gdprkit.ErrConflict when the Version differs.
	UpdateRule(ctx context.Context, account gdprkit.AccountID, expect int64, r Rule) error

	// Rule returns one rule, or an error wrapping gdprkit.ErrNotFound.
	Rule(ctx context.Context, account gdprkit.AccountID, id string) (Rule, error)

	// Rules returns the account's rules ordered by ID.
	Rules(ctx context.Context, account gdprkit.AccountID) ([]Rule, error)

	// DeleteRule removes a rule; it returns an error wrapping
	// gdprkit.ErrNotFound when there is none. The rule's batches stay.
	DeleteRule(ctx context.Context, account gdprkit.AccountID, id string) error

	// FinishRuleRun stores the outcome of a run of the rule (LastRun,
	// LastRemoved, LastHeld, LastKept, Backlog, BacklogRuns, LastError),
	// and its Cursor when the stored Version is o.RuleVersion (an edited
	// rule starts its pass anew). TotalRemoved is not touched: CommitBatch
	// keeps it. It returns an error wrapping gdprkit.ErrNotFound when there
	// is no rule.
	FinishRuleRun(ctx context.Context, account gdprkit.AccountID, id string, o RuleRunOutcome) error

	// BeginBatch stores b (State BatchPending) before its records are
	// deleted: the journal a crashed run is resumed from. It returns
	// gdprkit.ErrConflict when the batch ID exists.
	BeginBatch(ctx context.Context, account gdprkit.AccountID, b Batch) error

	// CommitBatch marks a pending batch committed with its outcome and, in
	// the same atomic step, adds len(o.Removed) to the rule's TotalRemoved
	// (when the rule still exists) and moves the rule's Cursor to o.Cursor
	// when the rule's Version is still the batch's RuleVersion. It returns
	// an error wrapping gdprkit.ErrConflict when the batch is not pending
	// (another process committed it: its records are counted once) and
	// gdprkit.ErrNotFound when there is no such batch.
	CommitBatch(ctx context.Context, account gdprkit.AccountID, id string, o BatchOutcome) error

	// MarkBatchAudited records that the batch's audit event was delivered.
	MarkBatchAudited(ctx context.Context, account gdprkit.AccountID, id string) error

	// OpenBatches returns the account's batches that are pending, or
	// committed but not yet audited, oldest first.
	OpenBatches(ctx context.Context, account gdprkit.AccountID) ([]Batch, error)

	// Batches returns committed batches whose Committed time is in
	// [from, to) (a zero bound is open), oldest first, at most limit (0:
	// no limit): the proof of disposition.
	Batches(ctx context.Context, account gdprkit.AccountID, from, to time.Time, limit int) ([]Batch, error)

	// PruneBatches deletes the account's committed and audited batches
	// whose Expires is at or before now, and returns how many went.
	PruneBatches(ctx context.Context, account gdprkit.AccountID, now time.Time) (int64, error)

	// ScheduleState returns the account's schedule state, or an error
	// wrapping gdprkit.ErrNotFound.
	ScheduleState(ctx context.Context, account gdprkit.AccountID) (ScheduleState, error)

	// SaveScheduleState stores st only if the stored Version is expect
	// (compare-and-set; expect 0 creates it and returns ErrConflict when
	// one exists). st.Version MUST be expect+1.
	SaveScheduleState(ctx context.Context, account gdprkit.AccountID, expect int64, st ScheduleState) error

	// DeleteScheduleState removes the account's schedule state, when the
	// account's data is deleted (Sweeper, StepEraseStoreData). Deleting a
	// state that does not exist is not an error.
	DeleteScheduleState(ctx context.Context, account gdprkit.AccountID) error

	// ClaimSchedulesDue is the schedule driver's one global query: it
	// leases up to limit accounts whose NextRun is at or before now, that
	// are not Paused and whose lease is free (no LeaseOwner, or LeaseUntil
	// at or before now), earliest NextRun first. It sets LeaseOwner and
	// LeaseUntil, increments Fence and Version by one, and returns the IDs.
	// Two concurrent callers MUST NOT claim the same account.
	ClaimSchedulesDue(ctx context.Context, now time.Time, limit int, owner string, leaseFor time.Duration) ([]gdprkit.AccountID, error)

	// SchedulesPaused reports the global pause switch of the schedule
	// drivers; SetSchedulesPaused sets it.
	SchedulesPaused(ctx context.Context) (Pause, error)
	SetSchedulesPaused(ctx context.Context, p Pause) error
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

// Rule is a data retention rule of one account: remove (ActionDelete) or
// keep at least (ActionKeep) the records of a target kind that match a
// condition.
type Rule struct {
	// ID is a UUIDv7 set by AddRule.
	ID      string
	Account gdprkit.AccountID
	// Name is a short human label ("trash after 30 days").
	Name      string
	Target    TargetKind
	Condition Condition
	// Action is ActionDelete (the default when empty) or ActionKeep.
	Action RuleAction
	// Disabled rules are kept but not run; a disabled keep rule protects
	// nothing.
	Disabled bool
	// Created, CreatedBy, Updated and UpdatedBy: who added and last changed
	// the rule's definition, and when.
	Created   time.Time
	CreatedBy gdprkit.ActorID
	Updated   time.Time
	UpdatedBy gdprkit.ActorID
	// Version counts changes of the definition: 1 after AddRule.
	Version int64
	// LastRun, LastRemoved, LastHeld, LastKept, LastError, Backlog and
	// BacklogRuns report the last run: records removed, passed over because
	// held, passed over because a keep rule covers them, the error that
	// stopped the rule (empty when none), whether matching records were left
	// for the next run, and for how many runs in a row that has been so.
	LastRun     time.Time
	LastRemoved int64
	LastHeld    int64
	LastKept    int64
	LastError   string
	Backlog     bool
	BacklogRuns int64
	// TotalRemoved counts every record the rule removed, over its life;
	// editing the rule keeps it.
	TotalRemoved int64
	// Cursor is where the rule's current pass goes on: the key of the last
	// record it looked at. Zero: the next run starts from the oldest.
	Cursor Cursor
}

// RuleAction is what a rule does to the records it matches.
type RuleAction string

// The rule actions.
const (
	// ActionDelete removes matching records (for good).
	ActionDelete RuleAction = "delete"
	// ActionKeep keeps matching records at least until they are older than
	// the rule's age: no delete rule removes them before. Keep rules win
	// over delete rules, and of several keep rules the longest wins.
	ActionKeep RuleAction = "keep"
)

// Cursor is a position in a target's (Field, ID) order.
type Cursor struct {
	// At is the record's Field value, ID its key.
	At time.Time
	ID string
}

// IsZero reports whether c is the start of a pass.
func (c Cursor) IsZero() bool { return c.At.IsZero() && c.ID == "" }

// RuleRunOutcome is what Store.FinishRuleRun stores.
type RuleRunOutcome struct {
	// RuleVersion is the rule version the run used: the Cursor is stored
	// only while the rule is still at it.
	RuleVersion int64
	// At, Removed, Held, Kept, Backlog, BacklogRuns and Error become the
	// rule's LastRun, LastRemoved, LastHeld, LastKept, Backlog, BacklogRuns
	// and LastError.
	At          time.Time
	Removed     int64
	Held        int64
	Kept        int64
	Backlog     bool
	BacklogRuns int64
	Error       string
	// Cursor is where the rule's pass goes on (zero: the pass ended).
	Cursor Cursor
}

// BatchState is where a batch is in its journal.
type BatchState string

// The batch states.
const (
	// BatchPending: stored before the delete; a crash leaves it so and the
	// next run of the account finishes it.
	BatchPending BatchState = "pending"
	// BatchCommitted: its outcome is counted in the rule's totals.
	BatchCommitted BatchState = "committed"
)

// Batch is one round of deletions of one rule: journalled before the
// delete (IDs), committed after it (Removed), kept as the proof of
// disposition until Expires. It holds identifiers only, never personal
// data.
type Batch struct {
	// ID is a UUIDv7; the batch's audit event carries it as Event.ID.
	ID      string
	Account gdprkit.AccountID
	// Run, Rule, RuleVersion and Target: the run, the rule (at which
	// version) and the kind of records of the batch.
	Run         string
	Rule        string
	RuleVersion int64
	Target      TargetKind
	// Cutoff is the exact cutoff the batch's records were selected with.
	Cutoff time.Time
	// Started is when the batch was journalled.
	Started time.Time
	// IDs are the records the batch set out to delete.
	IDs []string
	// State is BatchPending until the outcome is stored.
	State BatchState
	// Removed are the records the batch removed; Held how many of IDs the
	// target declined.
	Removed []string
	Held    int64
	// Recovered: committed by a later run after the process running the
	// batch died; Removed are then the IDs found gone.
	Recovered bool
	// Committed is when the outcome was stored; Audited whether its audit
	// event was delivered; Expires when the batch (the proof) is pruned.
	Committed time.Time
	Audited   bool
	Expires   time.Time
}

// BatchOutcome is what Store.CommitBatch stores.
type BatchOutcome struct {
	// Removed, Held, Recovered, Committed and Expires become the batch's.
	Removed   []string
	Held      int64
	Recovered bool
	Committed time.Time
	Expires   time.Time
	// Cursor moves the rule's cursor (when the rule is still at the
	// batch's RuleVersion); zero leaves it.
	Cursor Cursor
}

// ScheduleState is an account's schedule settings and the run lease.
type ScheduleState struct {
	// Account the state is of.
	Account gdprkit.AccountID
	// TimeZone is the IANA name of the zone day and month boundaries are
	// taken in; empty means UTC.
	TimeZone string
	// NextRun is when the driver runs the account's rules next; zero when
	// the account has no rule.
	NextRun time.Time
	// LastRun is when a run last finished; LastClock the clock reading it
	// ran at (the clock-jump guard measures from it).
	LastRun   time.Time
	LastClock time.Time
	// Paused accounts are skipped by the driver and refuse Run.
	Paused bool
	// LeaseOwner, LeaseUntil and Fence: the process running the account's
	// rules. Fence grows at every new lease, so a stale owner's writes can
	// be told apart.
	LeaseOwner string
	LeaseUntil time.Time
	Fence      int64
	// Turn rotates which rule takes the first batch of a run.
	Turn int64
	// Version counts writes (compare-and-set).
	Version int64
}

// Pause is the global pause switch of the schedule drivers.
type Pause struct {
	// Paused: no driver claims an account and Run refuses.
	Paused bool
	// At and By: when and by whom the switch was last set.
	At time.Time
	By gdprkit.ActorID
}
