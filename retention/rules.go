package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
)

// ScheduleConfig configures Schedules. Store and Targets are required;
// every other field has the documented default.
type ScheduleConfig struct {
	Store Store
	// Targets maps each kind rules may name to its Target.
	Targets map[TargetKind]Target
	// Clock default gdprkit.SystemClock; Audit default discard; Logger
	// default discard.
	Clock  gdprkit.Clock
	Audit  gdprkit.AuditSink
	Logger *slog.Logger
	// MaxPerRun caps the records one run removes across all of an
	// account's rules; the rest is left for the next run. Held and kept
	// records do not count. Default 1000.
	MaxPerRun int
	// MaxScanPerRun caps the records one run looks at (removed, held and
	// kept together), so a long stretch of held records costs a bounded
	// amount per run; the pass goes on from its cursor next run. Default
	// 10 × MaxPerRun.
	MaxScanPerRun int
	// BatchSize is the most records one Find/Delete round handles.
	// Default 100.
	BatchSize int
	// SampleSize is how many record IDs a preview lists per rule.
	// Default 20.
	SampleSize int
	// Owner names this process in run leases. Default: a fresh UUIDv7.
	Owner string
	// LeaseFor is how long a run lease lasts without a heartbeat; a run
	// renews it every Heartbeat while it works. Defaults 2 minutes and
	// LeaseFor/3.
	LeaseFor  time.Duration
	Heartbeat time.Duration
	// Interval is how often the Driver runs an account's rules. Default
	// 24 hours.
	Interval time.Duration
	// DispositionTTL is how long the proof of disposition (the IDs each
	// batch removed) is kept. Default 400 days.
	DispositionTTL time.Duration
	// MaxClockJump: a run refuses (ErrClockJump) when the clock moved
	// further than this, forward or back, since the account's last run,
	// until an operator calls ConfirmClock. Default 7 days; negative
	// turns the guard off.
	MaxClockJump time.Duration
	// BacklogAlertRuns: a rule whose backlog has not cleared for this many
	// runs in a row raises EventTypeRuleBacklog (again every as many runs).
	// Default 3.
	BacklogAlertRuns int
}

// Schedules manages and runs per-account data retention rules.
type Schedules struct {
	cfg   ScheduleConfig
	store Store
	clock gdprkit.Clock
	audit gdprkit.AuditSink
	log   *slog.Logger
}

// Errors of the schedules.
var (
	// ErrClockJump wraps gdprkit.ErrConflict: the clock moved further than
	// MaxClockJump since the account's last run; ConfirmClock lets runs go
	// on.
	ErrClockJump = fmt.Errorf("retention: clock jumped since the last run; confirm the clock: %w", gdprkit.ErrConflict)
	// ErrPaused wraps gdprkit.ErrConflict: the account's schedules, or all
	// schedules, are paused.
	ErrPaused = fmt.Errorf("retention: schedules paused: %w", gdprkit.ErrConflict)
)

// NewSchedules returns Schedules, or an error wrapping gdprkit.ErrInvalid when
// Store or Targets is missing or a limit is negative.
func NewSchedules(cfg ScheduleConfig) (*Schedules, error) {
	if cfg.Store == nil || len(cfg.Targets) == 0 {
		return nil, fmt.Errorf("%w: retention: ScheduleConfig.Store and ScheduleConfig.Targets are required", gdprkit.ErrInvalid)
	}
	for k, t := range cfg.Targets {
		if err := k.validate(); err != nil || t == nil {
			return nil, fmt.Errorf("%w: retention: bad target %q", gdprkit.ErrInvalid, k)
		}
		for _, f := range t.Schema().Fields {
			if !tokenRe.MatchString(f) {
				return nil, fmt.Errorf("%w: retention: target %q names a bad field %q", gdprkit.ErrInvalid, k, f)
			}
		}
	}
	if cfg.MaxPerRun < 0 || cfg.MaxScanPerRun < 0 || cfg.BatchSize < 0 || cfg.SampleSize < 0 || cfg.LeaseFor < 0 ||
		cfg.Heartbeat < 0 || cfg.Interval < 0 || cfg.DispositionTTL < 0 || cfg.BacklogAlertRuns < 0 {
		return nil, fmt.Errorf("%w: retention: negative schedule setting", gdprkit.ErrInvalid)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxPerRun, 1000)
	def(&cfg.MaxScanPerRun, 10*cfg.MaxPerRun)
	def(&cfg.BatchSize, 100)
	def(&cfg.SampleSize, 20)
	def(&cfg.BacklogAlertRuns, 3)
	defd(&cfg.LeaseFor, 2*time.Minute)
	defd(&cfg.Heartbeat, cfg.LeaseFor/3)
	defd(&cfg.Interval, 24*time.Hour)
	defd(&cfg.DispositionTTL, 400*24*time.Hour)
	defd(&cfg.MaxClockJump, 7*24*time.Hour)
	if cfg.Owner == "" {
		cfg.Owner = "schedules-" + gdprkit.NewID()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Schedules{cfg: cfg, store: cfg.Store, clock: gdprkit.ClockOrSystem(cfg.Clock), audit: gdprkit.SinkOrDiscard(cfg.Audit), log: cfg.Logger}, nil
}

var tokenRe = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

func (k TargetKind) validate() error {
	if !tokenRe.MatchString(string(k)) {
		return fmt.Errorf("%w: target kind %q must be 1-64 bytes of [a-z0-9_.-]", gdprkit.ErrInvalid, k)
	}
	return nil
}

// validate checks r against the targets' schemas and fills its Action.
func (s *Schedules) validate(r *Rule) error {
	if err := r.Target.validate(); err != nil {
		return err
	}
	t, ok := s.cfg.Targets[r.Target]
	if !ok {
		return fmt.Errorf("%w: no target for kind %q", gdprkit.ErrInvalid, r.Target)
	}
	if r.Action == "" {
		r.Action = ActionDelete
	}
	if r.Action != ActionDelete && r.Action != ActionKeep {
		return fmt.Errorf("%w: rule action must be %q or %q", gdprkit.ErrInvalid, ActionDelete, ActionKeep)
	}
	c := r.Condition
	if !tokenRe.MatchString(c.Field) || (c.Status != "" && !tokenRe.MatchString(c.Status)) {
		return fmt.Errorf("%w: rule status and field must be [a-z0-9_.-] tokens, field required", gdprkit.ErrInvalid)
	}
	sc := t.Schema()
	if !slices.Contains(sc.Fields, c.Field) {
		return fmt.Errorf("%w: target %q has no time field %q (it has %v)", gdprkit.ErrInvalid, r.Target, c.Field, sc.Fields)
	}
	if c.Status != "" && sc.Statuses != nil && !slices.Contains(sc.Statuses, c.Status) {
		return fmt.Errorf("%w: target %q has no status %q (it has %v)", gdprkit.ErrInvalid, r.Target, c.Status, sc.Statuses)
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

func checkActor(account gdprkit.AccountID, actor gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	return actor.Validate()
}

// AddRule validates r (its field and status against the target's
// schema), gives it an ID, version 1 and creation time, stores it, audits
// EventTypeRuleAdded with actor and returns it. The account's schedule is
// due at once. Bad input returns an error wrapping gdprkit.ErrInvalid and
// stores nothing.
func (s *Schedules) AddRule(ctx context.Context, account gdprkit.AccountID, r Rule, actor gdprkit.ActorID) (Rule, error) {
	if err := checkActor(account, actor); err != nil {
		return Rule{}, err
	}
	if err := s.validate(&r); err != nil {
		return Rule{}, err
	}
	now := s.clock.Now()
	def := Rule{ID: gdprkit.NewID(), Account: account, Name: r.Name, Target: r.Target, Condition: r.Condition, Action: r.Action,
		Disabled: r.Disabled, Created: now, CreatedBy: actor, Updated: now, UpdatedBy: actor, Version: 1}
	if err := s.store.CreateRule(ctx, account, def); err != nil {
		return Rule{}, fmt.Errorf("retention: add rule: %w", err)
	}
	if err := s.touchState(ctx, account, func(st *ScheduleState) bool {
		if st.NextRun.IsZero() {
			st.NextRun = now
			return true
		}
		return false
	}); err != nil {
		s.log.Warn("retention: schedule state not updated", "err", err)
	}
	s.ruleEvent(ctx, EventTypeRuleAdded, def, actor, nil)
	return def, nil
}

// EditRule replaces the definition of rule r.ID (Name, Target, Condition,
// Action, Disabled) with r's, keeping its counters and history, and
// audits EventTypeRuleEdited with actor and the old definition. A changed
// condition starts the rule's pass from the oldest record. A run already
// going picks the new definition up at its next batch. Bad input returns
// ErrInvalid and changes nothing; ErrNotFound when there is no such rule.
func (s *Schedules) EditRule(ctx context.Context, account gdprkit.AccountID, r Rule, actor gdprkit.ActorID) (Rule, error) {
	if err := checkActor(account, actor); err != nil {
		return Rule{}, err
	}
	if err := s.validate(&r); err != nil {
		return Rule{}, err
	}
	var old, next Rule
	err := s.updateRule(ctx, account, r.ID, func(cur Rule) (Rule, bool) {
		old = cur
		next = cur
		next.Name, next.Target, next.Condition, next.Action, next.Disabled = r.Name, r.Target, r.Condition, r.Action, r.Disabled
		if next.Target != cur.Target || next.Condition != cur.Condition {
			next.Cursor = Cursor{}
		}
		return next, true
	}, actor)
	if err != nil {
		return Rule{}, err
	}
	s.ruleEvent(ctx, EventTypeRuleEdited, next, actor, map[string]string{"old": describe(old)})
	return next, nil
}

// SetDisabled disables or re-enables a rule, keeping its counters, and
// audits EventTypeRuleDisabled or EventTypeRuleEnabled with actor. A run
// already going stops the rule before its next batch.
func (s *Schedules) SetDisabled(ctx context.Context, account gdprkit.AccountID, id string, disabled bool, actor gdprkit.ActorID) error {
	if err := checkActor(account, actor); err != nil {
		return err
	}
	var next Rule
	err := s.updateRule(ctx, account, id, func(cur Rule) (Rule, bool) {
		next = cur
		next.Disabled = disabled
		return next, cur.Disabled != disabled
	}, actor)
	if err != nil {
		return err
	}
	typ := EventTypeRuleEnabled
	if disabled {
		typ = EventTypeRuleDisabled
	}
	s.ruleEvent(ctx, typ, next, actor, nil)
	return nil
}

// updateRule applies change to the stored rule with a compare-and-set,
// retrying on a concurrent change.
func (s *Schedules) updateRule(ctx context.Context, account gdprkit.AccountID, id string, change func(Rule) (Rule, bool), actor gdprkit.ActorID) error {
	for attempt := 0; ; attempt++ {
		cur, err := s.store.Rule(ctx, account, id)
		if err != nil {
			return fmt.Errorf("retention: rule %s: %w", id, err)
		}
		next, ok := change(cur)
		if !ok {
			return nil
		}
		next.Version, next.Updated, next.UpdatedBy = cur.Version+1, s.clock.Now(), actor
		err = s.store.UpdateRule(ctx, account, cur.Version, next)
		if err == nil {
			return nil
		}
		if !errors.Is(err, gdprkit.ErrConflict) || attempt >= 8 {
			return fmt.Errorf("retention: update rule %s: %w", id, err)
		}
	}
}

// Rule returns one rule (gdprkit.ErrNotFound when absent).
func (s *Schedules) Rule(ctx context.Context, account gdprkit.AccountID, id string) (Rule, error) {
	if err := account.Validate(); err != nil {
		return Rule{}, err
	}
	return s.store.Rule(ctx, account, id)
}

// Rules returns the account's rules.
func (s *Schedules) Rules(ctx context.Context, account gdprkit.AccountID) ([]Rule, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Rules(ctx, account)
}

// RemoveRule deletes a rule (gdprkit.ErrNotFound when absent) and audits
// EventTypeRuleRemoved with actor and the rule's totals. Its batches (the
// proof of what it removed) are kept until they expire. A run already
// going stops the rule before its next batch.
func (s *Schedules) RemoveRule(ctx context.Context, account gdprkit.AccountID, id string, actor gdprkit.ActorID) error {
	if err := checkActor(account, actor); err != nil {
		return err
	}
	r, err := s.store.Rule(ctx, account, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteRule(ctx, account, id); err != nil {
		return err
	}
	s.ruleEvent(ctx, EventTypeRuleRemoved, r, actor, map[string]string{"total_removed": strconv.FormatInt(r.TotalRemoved, 10)})
	return nil
}

// describe is a rule's definition as audit text (no personal data: the
// name is an operator's label).
func describe(r Rule) string {
	return fmt.Sprintf("%s %s status=%q field=%s months=%d days=%d disabled=%t", r.Action, r.Target, r.Condition.Status,
		r.Condition.Field, r.Condition.OlderThanMonths, r.Condition.OlderThanDays, r.Disabled)
}

func (s *Schedules) ruleEvent(ctx context.Context, typ gdprkit.EventType, r Rule, actor gdprkit.ActorID, extra map[string]string) {
	attrs := map[string]string{"rule": r.ID, "name": r.Name, "definition": describe(r), "version": strconv.FormatInt(r.Version, 10)}
	for k, v := range extra {
		attrs[k] = v
	}
	s.emit(ctx, gdprkit.Event{ID: gdprkit.NewID(), Account: r.Account, Type: typ, Time: s.clock.Now(), Actor: actor, Attrs: attrs})
}

// emit delivers ev with a context that is not cancelled (bookkeeping
// outlives the caller's cancel); a sink error is logged.
func (s *Schedules) emit(ctx context.Context, ev gdprkit.Event) {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := s.audit.Record(bctx, ev); err != nil {
		s.log.Warn("retention: audit sink failed", "type", string(ev.Type), "err", err)
	}
}

// bookkeeping returns a context for the writes that record what already
// happened: not cancelled with ctx, bounded in time.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// state returns the account's schedule state, a fresh one when it has
// none stored.
func (s *Schedules) state(ctx context.Context, account gdprkit.AccountID) (ScheduleState, error) {
	st, err := s.store.ScheduleState(ctx, account)
	if errors.Is(err, gdprkit.ErrNotFound) {
		return ScheduleState{Account: account}, nil
	}
	return st, err
}

// touchState applies change to the account's schedule state with a
// compare-and-set (creating it), retrying on a concurrent change.
func (s *Schedules) touchState(ctx context.Context, account gdprkit.AccountID, change func(*ScheduleState) bool) error {
	for attempt := 0; ; attempt++ {
		cur, err := s.state(ctx, account)
		if err != nil {
			return err
		}
		next := cur
		if !change(&next) {
			return nil
		}
		next.Version = cur.Version + 1
		err = s.store.SaveScheduleState(ctx, account, cur.Version, next)
		if err == nil {
			return nil
		}
		if !errors.Is(err, gdprkit.ErrConflict) || attempt >= 8 {
			return err
		}
	}
}

// Settings returns the account's schedule state (a fresh one when none is
// stored): time zone, next run, pause and lease.
func (s *Schedules) Settings(ctx context.Context, account gdprkit.AccountID) (ScheduleState, error) {
	if err := account.Validate(); err != nil {
		return ScheduleState{}, err
	}
	return s.state(ctx, account)
}

// SetTimeZone sets the IANA time zone ("Europe/Berlin") the account's day
// and month boundaries are taken in; "" is UTC. An unknown zone returns
// ErrInvalid and changes nothing. Audited (EventTypeScheduleSettings).
func (s *Schedules) SetTimeZone(ctx context.Context, account gdprkit.AccountID, tz string, actor gdprkit.ActorID) error {
	if err := checkActor(account, actor); err != nil {
		return err
	}
	if _, err := loadZone(tz); err != nil {
		return err
	}
	if err := s.touchState(ctx, account, func(st *ScheduleState) bool { st.TimeZone = tz; return true }); err != nil {
		return fmt.Errorf("retention: set time zone: %w", err)
	}
	s.emit(ctx, gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: EventTypeScheduleSettings, Time: s.clock.Now(), Actor: actor,
		Attrs: map[string]string{"time_zone": tz}})
	return nil
}

func loadZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	if len(tz) > 64 {
		return nil, fmt.Errorf("%w: retention: time zone name too long", gdprkit.ErrInvalid)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("%w: retention: unknown time zone %q", gdprkit.ErrInvalid, tz)
	}
	return loc, nil
}

// SetAccountPaused pauses or resumes the account's runs: a paused account
// is skipped by the Driver and its Run returns ErrPaused. Audited.
func (s *Schedules) SetAccountPaused(ctx context.Context, account gdprkit.AccountID, paused bool, actor gdprkit.ActorID) error {
	if err := checkActor(account, actor); err != nil {
		return err
	}
	if err := s.touchState(ctx, account, func(st *ScheduleState) bool { st.Paused = paused; return true }); err != nil {
		return fmt.Errorf("retention: pause account: %w", err)
	}
	s.emit(ctx, gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: EventTypeScheduleSettings, Time: s.clock.Now(), Actor: actor,
		Attrs: map[string]string{"paused": strconv.FormatBool(paused)}})
	return nil
}

// SetPaused pauses or resumes every Driver sharing the store (all
// processes): a paused driver claims no account. Runs already going finish
// their batch and stop at the next. Audited with no account.
func (s *Schedules) SetPaused(ctx context.Context, paused bool, actor gdprkit.ActorID) error {
	if err := actor.Validate(); err != nil {
		return err
	}
	now := s.clock.Now()
	if err := s.store.SetSchedulesPaused(ctx, Pause{Paused: paused, At: now, By: actor}); err != nil {
		return fmt.Errorf("retention: pause schedules: %w", err)
	}
	s.emit(ctx, gdprkit.Event{ID: gdprkit.NewID(), Type: EventTypeScheduleSettings, Time: now, Actor: actor,
		Attrs: map[string]string{"paused_all": strconv.FormatBool(paused)}})
	return nil
}

// Paused returns the global pause switch.
func (s *Schedules) Paused(ctx context.Context) (Pause, error) { return s.store.SchedulesPaused(ctx) }

// ConfirmClock tells the account's clock-jump guard that the clock is
// right: the next run measures from now. Audited (EventTypeClockConfirmed)
// with the jump it confirmed.
func (s *Schedules) ConfirmClock(ctx context.Context, account gdprkit.AccountID, actor gdprkit.ActorID) error {
	if err := checkActor(account, actor); err != nil {
		return err
	}
	now := s.clock.Now()
	var jump time.Duration
	if err := s.touchState(ctx, account, func(st *ScheduleState) bool {
		if !st.LastClock.IsZero() {
			jump = now.Sub(st.LastClock)
		}
		st.LastClock = now
		return true
	}); err != nil {
		return fmt.Errorf("retention: confirm clock: %w", err)
	}
	s.emit(ctx, gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: EventTypeClockConfirmed, Time: now, Actor: actor,
		Attrs: map[string]string{"jump": jump.String(), "clock": now.UTC().Format(time.RFC3339Nano)}})
	return nil
}

// Audit event types of the schedules.
const (
	// EventTypeRuleAdded, …Edited, …Disabled, …Enabled, …Removed: a rule's
	// lifecycle, with the actor and the definition ("old" on edits).
	EventTypeRuleAdded    gdprkit.EventType = "retention.rule_added"
	EventTypeRuleEdited   gdprkit.EventType = "retention.rule_edited"
	EventTypeRuleDisabled gdprkit.EventType = "retention.rule_disabled"
	EventTypeRuleEnabled  gdprkit.EventType = "retention.rule_enabled"
	EventTypeRuleRemoved  gdprkit.EventType = "retention.rule_removed"
	// EventTypeBatch: one batch of a rule removed records (attrs "rule",
	// "run", "removed", "held", "cutoff" exact to the nanosecond,
	// "recovered"). Its ID is the batch's: after a crash the event may be
	// delivered twice with the same ID, never lost; dedupe on Event.ID.
	EventTypeBatch gdprkit.EventType = "retention.batch"
	// EventTypeRuleBacklog: a rule's backlog has not cleared for
	// BacklogAlertRuns runs in a row (attr "runs").
	EventTypeRuleBacklog gdprkit.EventType = "retention.rule_backlog"
	// EventTypeRuleFailed: a rule failed in a run (attr "error"); the
	// other rules ran.
	EventTypeRuleFailed gdprkit.EventType = "retention.rule_failed"
	// EventTypeClockJump: a run refused because the clock jumped (attrs
	// "jump", "last_clock", "clock").
	EventTypeClockJump gdprkit.EventType = "retention.clock_jump"
	// EventTypeClockConfirmed: an operator confirmed the clock.
	EventTypeClockConfirmed gdprkit.EventType = "retention.clock_confirmed"
	// EventTypeScheduleSettings: time zone or pause changed.
	EventTypeScheduleSettings gdprkit.EventType = "retention.schedule_settings"
)
