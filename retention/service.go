package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// SystemActor is the actor of every timer-driven transition.
const SystemActor gdprkit.ActorID = "system:retention"

// Config configures a Service. Only Store is required.
type Config struct {
	// Store holds the lifecycle records. Required.
	Store Store
	// Policy gives the schedule's durations; zero fields take the defaults
	// of DefaultPolicy.
	Policy Policy
	// Clock is the source of time. Default: gdprkit.SystemClock.
	Clock gdprkit.Clock
	// Audit receives a "retention.transition" event per transition.
	// Default: discard.
	Audit gdprkit.AuditSink
	// Logger receives operational messages, never personal data.
	// Default: discard.
	Logger *slog.Logger
	// AllowUnknown makes the gate allow accounts that have no lifecycle
	// record (hosts adopting retention gradually). Default false: such
	// accounts are denied with an error wrapping gdprkit.ErrNotFound.
	AllowUnknown bool
}

// Service applies events to accounts' lifecycles and answers the access
// gate. It is safe for concurrent use, also by several processes sharing a
// Store: every change is a compare-and-set on the record's Version.
type Service struct {
	store        Store
	policy       Policy
	clock        gdprkit.Clock
	audit        gdprkit.AuditSink
	log          *slog.Logger
	allowUnknown bool
}

// New returns a Service. It returns an error wrapping gdprkit.ErrInvalid when
// Store is nil or the policy is invalid.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: retention: Config.Store is required", gdprkit.ErrInvalid)
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		store:        cfg.Store,
		policy:       cfg.Policy.WithDefaults(),
		clock:        gdprkit.ClockOrSystem(cfg.Clock),
		audit:        gdprkit.SinkOrDiscard(cfg.Audit),
		log:          cfg.Logger,
		allowUnknown: cfg.AllowUnknown,
	}, nil
}

// Policy returns the policy in force (defaults applied).
func (s *Service) Policy() Policy { return s.policy }

// Start opens the lifecycle of a new account with EventStartTrial or
// EventStartPaid at the clock's time. It returns an error wrapping
// gdprkit.ErrConflict when the account already has a lifecycle, and
// ErrInvalid for another event or a bad ID.
func (s *Service) Start(ctx context.Context, account gdprkit.AccountID, ev Event, actor gdprkit.ActorID) (Record, error) {
	if err := checkIDs(account, actor); err != nil {
		return Record{}, err
	}
	if ev != EventStartTrial && ev != EventStartPaid {
		return Record{}, fmt.Errorf("%w: retention: Start takes %s or %s, not %q", gdprkit.ErrInvalid, EventStartTrial, EventStartPaid, ev)
	}
	e, err := EventEdge(StateNone, ev)
	if err != nil {
		return Record{}, err
	}
	now := s.clock.Now()
	rec := Record{Account: account, Created: now}
	next, tr := s.take(rec, e, actor, now, now)
	next.Version = 1
	tr.Seq = 1
	if err := s.store.CreateRecord(ctx, account, next, tr); err != nil {
		return Record{}, fmt.Errorf("retention: start account: %w", err)
	}
	s.emit(ctx, tr)
	return next, nil
}

// Apply applies event ev to the account now. It first records any timer
// transitions the schedule has made due (so an upgrade on day 15 of a 14-day
// trial meets a suspended account), then the event. An event the state
// does not allow returns an error wrapping ErrNotAllowed and
// gdprkit.ErrConflict and changes nothing else. A concurrent change by
// another process is retried.
func (s *Service) Apply(ctx context.Context, account gdprkit.AccountID, ev Event, actor gdprkit.ActorID) (Record, error) {
	return s.ApplyAt(ctx, account, ev, actor, time.Time{})
}

// ApplyAt is Apply for an event that happened at at (a billing webhook
// delivered late): the transition is stamped at, and timers run from it.
// at must not be in the future nor before the account entered its current
// state; the zero time means now.
func (s *Service) ApplyAt(ctx context.Context, account gdprkit.AccountID, ev Event, actor gdprkit.ActorID, at time.Time) (Record, error) {
	if err := checkIDs(account, actor); err != nil {
		return Record{}, err
	}
	if ev == EventStartTrial || ev == EventStartPaid {
		return Record{}, fmt.Errorf("%w: retention: use Start for %s", gdprkit.ErrInvalid, ev)
	}
	if _, err := EventEdge(StateNone, ev); err != nil && !errors.Is(err, ErrNotAllowed) {
		return Record{}, err // unknown event
	}
	for attempt := 0; ; attempt++ {
		rec, err := s.store.Record(ctx, account)
		if err != nil {
			return Record{}, fmt.Errorf("retention: apply %s: %w", ev, err)
		}
		now := s.clock.Now()
		when := at
		if when.IsZero() {
			when = now
		}
		if when.After(now) {
			return Record{}, fmt.Errorf("%w: retention: event time is in the future", gdprkit.ErrInvalid)
		}
		// Catch up with the schedule, up to the event's time.
		if e, due, ok := s.dueTimer(rec, when); ok {
			next, tr := s.take(rec, e, SystemActor, due, now)
			if err := s.save(ctx, rec, next, tr); err != nil {
				if errors.Is(err, gdprkit.ErrConflict) && attempt < 8 {
					continue
				}
				return Record{}, err
			}
			continue
		}
		if when.Before(rec.Since) {
			return Record{}, fmt.Errorf("%w: retention: event time is before the account entered state %s", gdprkit.ErrInvalid, rec.State)
		}
		e, err := EventEdge(rec.State, ev)
		if err != nil {
			return Record{}, err
		}
		next, tr := s.take(rec, e, actor, when, now)
		if err := s.save(ctx, rec, next, tr); err != nil {
			if errors.Is(err, gdprkit.ErrConflict) && attempt < 8 {
				continue
			}
			return Record{}, err
		}
		return next, nil
	}
}

// Record returns the account's stored lifecycle record (which may lag the
// schedule until the sweeper runs; see State).
func (s *Service) Record(ctx context.Context, account gdprkit.AccountID) (Record, error) {
	if err := account.Validate(); err != nil {
		return Record{}, err
	}
	return s.store.Record(ctx, account)
}

// State returns the account's state now according to its schedule, and
// since when, whether or not a sweeper has recorded it yet.
func (s *Service) State(ctx context.Context, account gdprkit.AccountID) (State, time.Time, error) {
	rec, err := s.Record(ctx, account)
	if err != nil {
		return StateNone, time.Time{}, err
	}
	st, since := s.effective(rec, s.clock.Now())
	return st, since, nil
}

// History returns the account's stored transitions, oldest first.
func (s *Service) History(ctx context.Context, account gdprkit.AccountID) ([]TransitionRecord, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Transitions(ctx, account)
}

// Check is the access gate: it returns nil when the account allows access of
// kind a now, and otherwise a *DeniedError wrapping
// gdprkit.ErrAccountSuspended or gdprkit.ErrAccountTerminated. The state is
// the one the schedule gives now, so a trial is refused the moment it
// expires even if no sweeper has run. An account without a lifecycle
// record is refused with an error wrapping gdprkit.ErrNotFound unless
// Config.AllowUnknown is set.
func (s *Service) Check(ctx context.Context, account gdprkit.AccountID, a Access) error {
	if !a.Valid() {
		return fmt.Errorf("%w: retention: unknown access kind %q", gdprkit.ErrInvalid, a)
	}
	if err := account.Validate(); err != nil {
		return err
	}
	rec, err := s.store.Record(ctx, account)
	if err != nil {
		if errors.Is(err, gdprkit.ErrNotFound) && s.allowUnknown {
			return nil
		}
		return fmt.Errorf("retention: access check: %w", err)
	}
	st, since := s.effective(rec, s.clock.Now())
	if why := denial(st); why != nil {
		return &DeniedError{Account: account, Access: a, State: st, Since: since, err: why}
	}
	return nil
}

// AllowLogin is Check with AccessLogin; it satisfies authn's login gate.
func (s *Service) AllowLogin(ctx context.Context, account gdprkit.AccountID) error {
	return s.Check(ctx, account, AccessLogin)
}

// CheckSurface is Check for the Access a surface maps to
// (AccessForSurface).
func (s *Service) CheckSurface(ctx context.Context, account gdprkit.AccountID, surface gdprkit.Surface) error {
	return s.Check(ctx, account, AccessForSurface(surface))
}

// dueTimer returns the timer edge of rec's state if it is due at now, and
// when it was due. The edge to StatePurged waits while any step is still
// pending: an account whose data deletion keeps failing (data under legal
// hold, a host eraser that finds something left) is never called purged.
// It fires at the first sweep after the last step ran, stamped with the
// time it was due; NothingRemainsAt says when the data really went.
func (s *Service) dueTimer(rec Record, now time.Time) (Edge, time.Time, bool) {
	e, ok := TimerEdge(rec.State)
	if !ok {
		return Edge{}, time.Time{}, false
	}
	if e.To == StatePurged && len(rec.Pending) > 0 {
		return Edge{}, time.Time{}, false
	}
	due := s.policy.Due(e.Timer, rec.Since)
	if due.After(now) {
		return Edge{}, time.Time{}, false
	}
	return e, due, true
}

// effective walks the due timers from rec without storing anything: the
// state the schedule gives at now. The sweeper stores the same walk.
func (s *Service) effective(rec Record, now time.Time) (State, time.Time) {
	for {
		e, due, ok := s.dueTimer(rec, now)
		if !ok {
			return rec.State, rec.Since
		}
		rec.State, rec.Since = e.To, due
	}
}

// take applies edge e to rec at time at (recorded now) and returns the new
// record (Version+1, pending steps queued, NextDue recomputed) and the
// transition. It stores nothing.
func (s *Service) take(rec Record, e Edge, actor gdprkit.ActorID, at, now time.Time) (Record, TransitionRecord) {
	tr := TransitionRecord{
		ID: gdprkit.NewID(), Account: rec.Account, Seq: rec.Version + 1,
		From: rec.State, To: e.To, Cause: e.Cause(), Actor: actor,
		At: at, Recorded: now, Policy: s.policy.String(), Steps: e.Steps,
	}
	next := rec
	next.Pending = append([]PendingStep(nil), rec.Pending...)
	next.State, next.Since, next.Version, next.Updated = e.To, at, rec.Version+1, now
	for _, st := range e.Steps {
		if !hasStep(next.Pending, st) {
			next.Pending = append(next.Pending, PendingStep{Transition: tr.ID, Step: st})
		}
	}
	if len(next.Pending) > 0 && next.StepsAt.IsZero() {
		next.StepsAt = now
	}
	next.NextDue = s.nextDue(next)
	return next, tr
}

func hasStep(ps []PendingStep, st Step) bool {
	for _, p := range ps {
		if p.Step == st {
			return true
		}
	}
	return false
}

// nextDue is the earliest of the state's timer and the pending steps' time.
func (s *Service) nextDue(rec Record) time.Time {
	var due time.Time
	if e, ok := TimerEdge(rec.State); ok && (e.To != StatePurged || len(rec.Pending) == 0) {
		due = s.policy.Due(e.Timer, rec.Since) // (the purge waits for the steps: see dueTimer)
	}
	if len(rec.Pending) > 0 && (due.IsZero() || rec.StepsAt.Before(due)) {
		due = rec.StepsAt
	}
	return due
}

// save stores next over prev with tr, and sends tr to the audit sink.
func (s *Service) save(ctx context.Context, prev, next Record, tr TransitionRecord) error {
	if err := s.store.SaveRecord(ctx, prev.Account, prev.Version, next, []TransitionRecord{tr}); err != nil {
		return fmt.Errorf("retention: %s %s -> %s: %w", tr.Cause, tr.From, tr.To, err)
	}
	s.emit(ctx, tr)
	return nil
}

// emit sends a transition to the audit sink; a sink error is logged.
func (s *Service) emit(ctx context.Context, tr TransitionRecord) {
	attrs := map[string]string{
		"transition": tr.ID, "from": string(tr.From), "to": string(tr.To),
		"cause": tr.Cause.String(), "at": tr.At.UTC().Format(time.RFC3339Nano),
		"policy": tr.Policy, "seq": strconv.FormatInt(tr.Seq, 10),
	}
	s.record(ctx, gdprkit.Event{Account: tr.Account, Type: EventTypeTransition, Time: tr.Recorded, Actor: tr.Actor, Attrs: attrs})
	s.log.Debug("retention: transition", "account", string(tr.Account), "from", string(tr.From), "to", string(tr.To), "cause", tr.Cause.String())
}

func (s *Service) record(ctx context.Context, ev gdprkit.Event) {
	ev.ID = gdprkit.NewID()
	if err := s.audit.Record(ctx, ev); err != nil {
		s.log.Warn("retention: audit sink failed", "type", string(ev.Type), "err", err)
	}
}

// Audit event types.
const (
	// EventTypeTransition: one lifecycle transition.
	EventTypeTransition gdprkit.EventType = "retention.transition"
	// EventTypeStep: a step of a transition completed (attr "status" done)
	// or failed ("failed", with "attempts").
	EventTypeStep gdprkit.EventType = "retention.step"
	// EventTypeNothingRemains: the backups expired; nothing of the account
	// remains.
	EventTypeNothingRemains gdprkit.EventType = "retention.nothing_remains"
	// EventTypeRuleRun: a retention rule ran (attrs "rule", "removed",
	// "backlog").
	EventTypeRuleRun gdprkit.EventType = "retention.rule_run"
)

func checkIDs(account gdprkit.AccountID, actor gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	return actor.Validate()
}
