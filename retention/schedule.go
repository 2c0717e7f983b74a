package retention

import (
	"context"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// TargetKind names a kind of record a rule removes: "ticket", "end_user",
// "held_spam", or one the host defines (lower-case [a-z0-9_.-], at most 64
// bytes).
type TargetKind string

// The standard target kinds.
const (
	KindTicket   TargetKind = "ticket"
	KindEndUser  TargetKind = "end_user"
	KindHeldSpam TargetKind = "held_spam"
)

// Condition selects the records of a target a rule removes (or keeps):
// those in Status whose time Field is older than the given age. The
// vocabulary of Status and Field belongs to the target, which lists it in
// its TargetSchema ("trash"/"trashed_at", "closed"/"closed_at",
// ""/"last_active_at", "held"/"held_at").
type Condition struct {
	// Status the records must be in; "" means any.
	Status string
	// Field is the time the age is measured from. Required.
	Field string
	// OlderThanDays and OlderThanMonths: the age, in calendar days and
	// months of the account's time zone (see Cutoff). At least one must be
	// positive.
	OlderThanDays   int
	OlderThanMonths int
}

// Cutoff returns the time before which a record's Field makes it match,
// in now's location (Schedules passes now in the account's time zone):
// the calendar date OlderThanMonths months and then OlderThanDays days
// before now's date, at the same time since local midnight as now (at
// most the end of that day, on a day shortened by a clock change).
//
// When the day of month does not exist in the target month (March 30
// minus one month), the cutoff is the first instant of the month after it
// (March 1, 00:00), moved back by the days: every record of February is a
// month old by then, and none of March is. So the cutoff never moves back
// while the clock moves forward, across month ends and clock changes
// alike, and a record goes when it is exactly as old as the rule says
// (February 28, 13:00 goes at March 28, 13:00), never hours or days late.
func (c Condition) Cutoff(now time.Time) time.Time {
	loc := now.Location()
	y, m, d := now.Date()
	elapsed := now.Sub(time.Date(y, m, d, 0, 0, 0, 0, loc))
	if c.OlderThanMonths != 0 {
		first := time.Date(y, m-time.Month(c.OlderThanMonths), 1, 0, 0, 0, 0, loc)
		if last := first.AddDate(0, 1, -1).Day(); d > last {
			next := first.AddDate(0, 1, 0)
			return time.Date(next.Year(), next.Month(), next.Day()-c.OlderThanDays, 0, 0, 0, 0, loc)
		}
		y, m = first.Year(), first.Month()
	}
	start := time.Date(y, m, d-c.OlderThanDays, 0, 0, 0, 0, loc)
	end := time.Date(y, m, d-c.OlderThanDays+1, 0, 0, 0, 0, loc)
	if cut := start.Add(elapsed); cut.Before(end) {
		return cut
	}
	return end
}

// Selector is what a Target is asked for: records in Status (any when
// empty) whose Field is strictly before Before and whose (Field, ID) key
// is strictly after After (the start when After is zero), in (Field, ID)
// order. Keep lists the keep rules covering the kind: a record matching
// one of them is reported with Candidate.Kept.
type Selector struct {
	// Status the records must be in ("" any), Field the time they are aged
	// by, Before the cutoff (exclusive).
	Status string
	Field  string
	Before time.Time
	// After is the cursor to go on from (zero: the oldest record).
	After Cursor
	// Keep are the keep rules of the kind; Find reports Kept by them.
	Keep []KeepClause
}

// KeepClause is one keep rule as a Target sees it: records in Status (any
// when empty) whose Field is at or after Since are kept.
type KeepClause struct {
	// Status ("" any) and Field of the keep rule, and Since its cutoff:
	// records whose Field is at or after it are kept.
	Status string
	Field  string
	Since  time.Time
}

// Keeps reports whether a record in status whose clause field holds at
// (ok false when the record has no such time) is kept by k. Targets that
// evaluate keep clauses in Go use it.
func (k KeepClause) Keeps(status string, at time.Time, ok bool) bool {
	return ok && (k.Status == "" || k.Status == status) && !at.Before(k.Since)
}

// Candidate is one record a Target's Find returns.
type Candidate struct {
	// ID is the record's key, At its Field value: together the cursor.
	ID string
	At time.Time
	// Held: the record is under a legal hold (or otherwise may not be
	// deleted now). Held records are passed over, counted apart and never
	// spend the run's budget.
	Held bool
	// Kept: a KeepClause of the selector covers the record.
	Kept bool
}

// TargetSchema is the vocabulary a target accepts in rules: AddRule
// refuses any other status or field, so a typo fails when the rule is
// written, not when it runs.
type TargetSchema struct {
	// Statuses a rule may name; nil accepts any [a-z0-9_.-] token.
	Statuses []string
	// Fields are the time fields a rule may measure its age from.
	Fields []string
}

// DeleteResult is what a Target's Delete reports.
type DeleteResult struct {
	// Removed are the IDs this call removed: rows it deleted itself
	// (rows affected), not IDs that were already gone or that another
	// process removed at the same time. Only they are counted.
	Removed []string
	// Held are the IDs the target declined (a legal hold). Every ID in
	// neither list is gone after the call.
	Held []string
}

// Target is the host's (or erasure's) access to one kind of record. All
// methods act in one account only.
type Target interface {
	// Schema names the statuses and fields rules may use.
	Schema() TargetSchema
	// Find returns up to limit records matching sel in (Field, ID) order,
	// starting strictly after sel.After, with Held and Kept set. A target
	// whose holds are known only at delete time leaves Held false and
	// declines in Delete instead.
	Find(ctx context.Context, account gdprkit.AccountID, sel Selector, limit int) ([]Candidate, error)
	// Delete removes the records for good. It MUST be idempotent: IDs
	// already gone are not an error (and not Removed).
	Delete(ctx context.Context, account gdprkit.AccountID, ids []string) (DeleteResult, error)
}

// TrashedTickets is the rule "tickets in trash for days days are deleted for
// good".
func TrashedTickets(days int) Rule {
	return Rule{Name: "trashed tickets after " + strconv.Itoa(days) + " days", Target: KindTicket,
		Condition: Condition{Status: "trash", Field: "trashed_at", OlderThanDays: days}}
}

// ClosedTickets is the rule "closed tickets older than months months are
// deleted".
func ClosedTickets(months int) Rule {
	return Rule{Name: "closed tickets after " + strconv.Itoa(months) + " months", Target: KindTicket,
		Condition: Condition{Status: "closed", Field: "closed_at", OlderThanMonths: months}}
}

// InactiveEndUsers is the rule "end users inactive for months months are
// removed".
func InactiveEndUsers(months int) Rule {
	return Rule{Name: "end users inactive for " + strconv.Itoa(months) + " months", Target: KindEndUser,
		Condition: Condition{Field: "last_active_at", OlderThanMonths: months}}
}

// HeldSpam is the rule "held spam older than days days is deleted".
func HeldSpam(days int) Rule {
	return Rule{Name: "held spam after " + strconv.Itoa(days) + " days", Target: KindHeldSpam,
		Condition: Condition{Status: "held", Field: "held_at", OlderThanDays: days}}
}

// KeepAtLeast is the keep rule "records of kind in status (any when
// empty) are kept at least months months after field": no delete rule
// removes them before.
func KeepAtLeast(kind TargetKind, status, field string, months int) Rule {
	return Rule{Name: "keep " + string(kind) + " " + strconv.Itoa(months) + " months", Target: kind, Action: ActionKeep,
		Condition: Condition{Status: status, Field: field, OlderThanMonths: months}}
}
