package retention

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

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

// Condition selects the records of a target a rule removes: those in Status
// whose time Field is older than the given age. The vocabulary of Status and
// Field belongs to the target ("trash"/"trashed_at", "closed"/"closed_at",
// ""/"last_active_at", "held"/"held_at").
type Condition struct {
	// Status the records must be in; "" means any.
	Status string
	// Field is the time the age is measured from. Required.
	Field string
	// OlderThanDays and OlderThanMonths: the age. Months are calendar
	// months: the cutoff is now moved back by the months, falling on the
	// last day of the target month when it is shorter (March 31 minus one
	// month is February 28, or 29 in a leap year, never March 3 as
	// time.AddDate would give), then back by the days. At least one must
	// be positive.
	OlderThanDays   int
	OlderThanMonths int
}

// Cutoff returns the time before which a record's Field makes it match:
// now minus OlderThanMonths calendar months (clamped to the end of a
// shorter month), minus OlderThanDays days, keeping the time of day.
func (c Condition) Cutoff(now time.Time) time.Time {
	return addMonths(now, -c.OlderThanMonths).AddDate(0, 0, -c.OlderThanDays)
}

// addMonths returns t moved by n calendar months, keeping the time of day;
// when the target month is shorter than t's day of month, the result falls
// on its last day. (The same rule as erasure.AddMonths, kept local so this
// package does not depend on erasure.)
func addMonths(t time.Time, n int) time.Time {
	if n == 0 {
		return t
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// Selector is what a Target is asked for: records in Status (any when
// empty) whose Field is strictly before Before.
type Selector struct {
	Status string
	Field  string
	Before time.Time
}

// Target is the host's (or erasure's) access to one kind of record. All
// methods act in one account only.
type Target interface {
	// Count returns how many records match.
	Count(ctx context.Context, account gdprkit.AccountID, sel Selector) (int64, error)
	// Find returns up to limit IDs of matching records, oldest Field first.
	Find(ctx context.Context, account gdprkit.AccountID, sel Selector, limit int) ([]string, error)
	// Delete removes the records for good and returns how many it removed.
	// It MUST be idempotent: IDs already gone are not an error.
	Delete(ctx context.Context, account gdprkit.AccountID, ids []string) (int, error)
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

// ScheduleConfig configures Schedules. Store and Targets are required.
type ScheduleConfig struct {
	Store Store
	// Targets maps each kind rules may name to its Target.
	Targets map[TargetKind]Target
	// Clock default gdprkit.SystemClock; Audit default discard; Logger
	// default discard.
	Clock  gdprkit.Clock
	Audit  gdprkit.AuditSink
	Logger *slog.Logger
	// MaxPerRun caps the records one Run removes across all of an
	// account's rules; the rest is left for the next run. Default 1000.
	MaxPerRun int
	// BatchSize is how many records one Find/Delete round handles.
	// Default 100.
	BatchSize int
	// SampleSize is how many record IDs DryRun lists. Default 20.
	SampleSize int
}

// Schedules manages and runs per-account data retention rules.
type Schedules struct {
	cfg   ScheduleConfig
	clock gdprkit.Clock
	audit gdprkit.AuditSink
	log   *slog.Logger
}

// NewSchedules returns Schedules, or an error wrapping gdprkit.ErrInvalid when
// Store or Targets is missing or a limit is negative.
func NewSchedules(cfg ScheduleConfig) (*Schedules, error) {
	if cfg.Store == nil || len(cfg.Targets) == 0 {
		return nil, fmt.Errorf("%w: retention: schedules need a Store and Targets", gdprkit.ErrInvalid)
	}
	for k, t := range cfg.Targets {
		if err := k.validate(); err != nil || t == nil {
			return nil, fmt.Errorf("%w: retention: bad target %q", gdprkit.ErrInvalid, k)
		}
	}
	if cfg.MaxPerRun < 0 || cfg.BatchSize < 0 || cfg.SampleSize < 0 {
		return nil, fmt.Errorf("%w: retention: negative schedule limit", gdprkit.ErrInvalid)
	}
	if cfg.MaxPerRun == 0 {
		cfg.MaxPerRun = 1000
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 100
	}
	if cfg.SampleSize == 0 {
		cfg.SampleSize = 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Schedules{cfg: cfg, clock: gdprkit.ClockOrSystem(cfg.Clock), audit: gdprkit.SinkOrDiscard(cfg.Audit), log: cfg.Logger}, nil
}

var tokenRe = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

func (k TargetKind) validate() error {
	if !tokenRe.MatchString(string(k)) {
		return fmt.Errorf("%w: target kind %q must be 1-64 bytes of [a-z0-9_.-]", gdprkit.ErrInvalid, k)
	}
	return nil
}

func (s *Schedules) validate(r Rule) error {
	if err := r.Target.validate(); err != nil {
		return err
	}
	if _, ok := s.cfg.Targets[r.Target]; !ok {
		return fmt.Errorf("%w: no target for kind %q", gdprkit.ErrInvalid, r.Target)
	}
	c := r.Condition
	if !tokenRe.MatchString(c.Field) || (c.Status != "" && !tokenRe.MatchString(c.Status)) {
		return fmt.Errorf("%w: rule status and field must be [a-z0-9_.-] tokens, field required", gdprkit.ErrInvalid)
	}
	if c.OlderThanDays < 0 || c.OlderThanMonths < 0 || c.OlderThanDays+c.OlderThanMonths == 0 ||
		c.OlderThanDays > 100*366 || c.OlderThanMonths > 1200 {
		return fmt.Errorf("%w: rule age must be positive and at most 100 years", gdprkit.ErrInvalid)
	}
	if r.Name == "" || len(r.Name) > 200 || !utf8.ValidString(r.Name) {
		return fmt.Errorf("%w: rule name must be 1-200 bytes of UTF-8", gdprkit.ErrInvalid)
	}
	return nil
}

// AddRule validates r, gives it an ID and creation time, stores it and
// returns it. Bad input returns an error wrapping gdprkit.ErrInvalid and
// stores nothing.
func (s *Schedules) AddRule(ctx context.Context, account gdprkit.AccountID, r Rule) (Rule, error) {
	if err := account.Validate(); err != nil {
		return Rule{}, err
	}
	if err := s.validate(r); err != nil {
		return Rule{}, err
	}
	r.ID, r.Account, r.Created = gdprkit.NewID(), account, s.clock.Now()
	r.LastRun, r.LastRemoved, r.TotalRemoved, r.Backlog = time.Time{}, 0, 0, false
	if err := s.cfg.Store.PutRule(ctx, account, r); err != nil {
		return Rule{}, fmt.Errorf("retention: add rule: %w", err)
	}
	return r, nil
}

// SetDisabled disables or re-enables a rule.
func (s *Schedules) SetDisabled(ctx context.Context, account gdprkit.AccountID, id string, disabled bool) error {
	r, err := s.Rule(ctx, account, id)
	if err != nil {
		return err
	}
	r.Disabled = disabled
	return s.cfg.Store.PutRule(ctx, account, r)
}

// Rule returns one rule (gdprkit.ErrNotFound when absent).
func (s *Schedules) Rule(ctx context.Context, account gdprkit.AccountID, id string) (Rule, error) {
	if err := account.Validate(); err != nil {
		return Rule{}, err
	}
	return s.cfg.Store.Rule(ctx, account, id)
}

// Rules returns the account's rules.
func (s *Schedules) Rules(ctx context.Context, account gdprkit.AccountID) ([]Rule, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.cfg.Store.Rules(ctx, account)
}

// RemoveRule deletes a rule (gdprkit.ErrNotFound when absent).
func (s *Schedules) RemoveRule(ctx context.Context, account gdprkit.AccountID, id string) error {
	if err := account.Validate(); err != nil {
		return err
	}
	return s.cfg.Store.DeleteRule(ctx, account, id)
}

// RuleReport is what DryRun or Run reports for one rule.
type RuleReport struct {
	Rule   Rule
	Cutoff time.Time
	// Matching is how many records match: now (DryRun), or still after the
	// run (Run).
	Matching int64
	// Sample lists up to SampleSize matching IDs, oldest first (DryRun).
	Sample []string
	// Removed is how many records Run removed.
	Removed int64
	// Backlog: matching records remain after the run (it hit MaxPerRun).
	Backlog bool
}

// DryRun reports what the rule would remove now, removing nothing.
func (s *Schedules) DryRun(ctx context.Context, account gdprkit.AccountID, id string) (RuleReport, error) {
	r, err := s.Rule(ctx, account, id)
	if err != nil {
		return RuleReport{}, err
	}
	t, sel, err := s.target(r)
	if err != nil {
		return RuleReport{}, err
	}
	rep := RuleReport{Rule: r, Cutoff: sel.Before}
	if rep.Matching, err = t.Count(ctx, account, sel); err != nil {
		return rep, fmt.Errorf("retention: dry run %s: %w", r.Target, err)
	}
	if rep.Sample, err = t.Find(ctx, account, sel, s.cfg.SampleSize); err != nil {
		return rep, fmt.Errorf("retention: dry run %s: %w", r.Target, err)
	}
	return rep, nil
}

func (s *Schedules) target(r Rule) (Target, Selector, error) {
	t, ok := s.cfg.Targets[r.Target]
	if !ok {
		return nil, Selector{}, fmt.Errorf("%w: retention: no target for kind %q", gdprkit.ErrInvalid, r.Target)
	}
	return t, Selector{Status: r.Condition.Status, Field: r.Condition.Field, Before: r.Condition.Cutoff(s.clock.Now())}, nil
}

// Run runs the account's enabled rules, removing at most MaxPerRun records
// in all; rules past the limit report Backlog and continue next run. Each
// rule's outcome is stored (Rule.LastRun, …) and audited. On a target error
// Run stops and returns the reports so far with the error; what was removed
// stays removed and is recorded.
func (s *Schedules) Run(ctx context.Context, account gdprkit.AccountID) ([]RuleReport, error) {
	rules, err := s.Rules(ctx, account)
	if err != nil {
		return nil, err
	}
	budget := s.cfg.MaxPerRun
	var out []RuleReport
	for _, r := range rules {
		if r.Disabled {
			continue
		}
		rep, err := s.runRule(ctx, account, r, &budget)
		out = append(out, rep)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (s *Schedules) runRule(ctx context.Context, account gdprkit.AccountID, r Rule, budget *int) (RuleReport, error) {
	t, sel, err := s.target(r)
	if err != nil {
		return RuleReport{Rule: r}, err
	}
	rep := RuleReport{Rule: r, Cutoff: sel.Before}
	var runErr error
	for *budget > 0 {
		ids, err := t.Find(ctx, account, sel, min(s.cfg.BatchSize, *budget))
		if err != nil {
			runErr = fmt.Errorf("retention: rule %s find: %w", r.ID, err)
			break
		}
		if len(ids) == 0 {
			break
		}
		n, err := t.Delete(ctx, account, ids)
		rep.Removed += int64(n)
		*budget -= len(ids)
		if err != nil {
			runErr = fmt.Errorf("retention: rule %s delete: %w", r.ID, err)
			break
		}
	}
	if runErr == nil {
		if rep.Matching, err = t.Count(ctx, account, sel); err != nil {
			runErr = fmt.Errorf("retention: rule %s count: %w", r.ID, err)
		}
		rep.Backlog = rep.Matching > 0
	}
	now := s.clock.Now()
	if err := s.cfg.Store.RecordRuleRun(ctx, account, r.ID, now, rep.Removed, rep.Backlog || runErr != nil); err != nil && runErr == nil {
		runErr = fmt.Errorf("retention: record rule run: %w", err)
	}
	s.log.Debug("retention: rule ran", "account", string(account), "rule", r.ID, "removed", rep.Removed, "backlog", rep.Backlog)
	ev := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: EventTypeRuleRun, Time: now, Actor: SystemActor,
		Attrs: map[string]string{"rule": r.ID, "target": string(r.Target), "removed": strconv.FormatInt(rep.Removed, 10),
			"backlog": strconv.FormatBool(rep.Backlog), "cutoff": rep.Cutoff.UTC().Format(time.RFC3339)}}
	if err := s.audit.Record(ctx, ev); err != nil {
		s.log.Warn("retention: audit sink failed", "err", err)
	}
	return rep, runErr
}
