package breach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Event types this package sends to the audit sink. Attributes carry the
// breach and notice IDs, audiences and counts, never a subject or the
// report's text.
const (
	// EventRecorded: a breach was recorded.
	EventRecorded gdprkit.EventType = "breach.recorded"
	// EventUpdated: its report was updated.
	EventUpdated gdprkit.EventType = "breach.updated"
	// EventSubjects: FindSubjects added affected subjects.
	EventSubjects gdprkit.EventType = "breach.subjects_found"
	// EventNotify: notices were queued.
	EventNotify gdprkit.EventType = "breach.notify_requested"
	// EventNoticeSent: a notice was sent.
	EventNoticeSent gdprkit.EventType = "breach.notice_sent"
	// EventNoticeRetry: a send failed and will be retried.
	EventNoticeRetry gdprkit.EventType = "breach.notice_retry"
	// EventNoticeFailed: a notice was given up on.
	EventNoticeFailed gdprkit.EventType = "breach.notice_failed"
	// EventClosed: a breach was closed.
	EventClosed gdprkit.EventType = "breach.closed"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultDeadline is the Art. 33(1) window: 72 hours from awareness.
	DefaultDeadline = 72 * time.Hour
	// DefaultLease is how long a worker holds a notice.
	DefaultLease = 5 * time.Minute
	// DefaultMaxAttempts is how many sends of a notice are tried.
	DefaultMaxAttempts = 10
	// DefaultBatchSize is the page size for reading subjects.
	DefaultBatchSize = 1000
)

// ErrTampered is wrapped by Verify when the history or the stored state it
// vouches for was edited, removed or reordered.
var ErrTampered = errors.New("breach: history does not verify")

// Config configures a Service. Store and Pseudonymizer are required; every
// other zero value is a documented default.
type Config struct {
	// Store keeps the registers. Required.
	Store Store
	// Pseudonymizer turns the subject IDs a Finder returns into the keyed
	// pseudonyms the register stores. Required; keep its key stable.
	Pseudonymizer *gdprkit.Pseudonymizer
	// Finder finds the subjects a breach affected (FindSubjects). Default:
	// none, and FindSubjects fails with gdprkit.ErrInvalid.
	Finder AffectedFinder
	// Notifier sends the notices (RunOnce). Default: none, and RunOnce
	// fails with gdprkit.ErrInvalid; notices still queue.
	Notifier Notifier
	// Clock is the time source. Default: gdprkit.SystemClock.
	Clock gdprkit.Clock
	// Audit receives breach.* events. Default: discard.
	Audit gdprkit.AuditSink
	// Logger receives operational messages, never personal data.
	// Default: discard.
	Logger *slog.Logger
	// Authority is the supervisory authority a report names when it names
	// none. Default: none.
	Authority string
	// Deadline is the notification window from awareness. Default: 72 h.
	Deadline time.Duration
	// Lease is how long a worker holds a notice while sending it; a
	// Notifier call must end within it, or another worker may send the
	// notice again (with the same idempotency key). Default: 5 minutes.
	Lease time.Duration
	// MaxAttempts is how many sends of one notice are tried before it is
	// marked failed. Default: 10.
	MaxAttempts int
	// BatchSize is the page size for reading subjects. Default: 1000.
	BatchSize int
}

// Service keeps breach registers and sends their notifications. It is safe
// for concurrent use.
type Service struct {
	cfg   Config
	store Store
	ps    *gdprkit.Pseudonymizer
	clock gdprkit.Clock
	audit gdprkit.AuditSink
	log   *slog.Logger
}

// New returns a Service. It fails with an error wrapping gdprkit.ErrInvalid
// when Store or Pseudonymizer is missing or a number is negative.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Pseudonymizer == nil {
		return nil, fmt.Errorf("%w: breach: Config.Store and Config.Pseudonymizer are required", gdprkit.ErrInvalid)
	}
	if cfg.Deadline < 0 || cfg.Lease < 0 || cfg.MaxAttempts < 0 || cfg.BatchSize < 0 {
		return nil, fmt.Errorf("%w: breach: negative Deadline, Lease, MaxAttempts or BatchSize", gdprkit.ErrInvalid)
	}
	if err := validText("authority", cfg.Authority, MaxText, false); err != nil {
		return nil, err
	}
	cfg.Deadline = cmpOr(cfg.Deadline, DefaultDeadline)
	cfg.Lease = cmpOr(cfg.Lease, DefaultLease)
	cfg.MaxAttempts = cmpOr(cfg.MaxAttempts, DefaultMaxAttempts)
	cfg.BatchSize = cmpOr(cfg.BatchSize, DefaultBatchSize)
	s := &Service{cfg: cfg, store: cfg.Store, ps: cfg.Pseudonymizer, clock: gdprkit.ClockOrSystem(cfg.Clock),
		audit: gdprkit.SinkOrDiscard(cfg.Audit), log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) emit(ctx context.Context, account gdprkit.AccountID, typ gdprkit.EventType, by gdprkit.ActorID, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: typ, Time: s.now(), Actor: by, Attrs: attrs}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.Warn("breach: audit sink failed", "type", string(typ), "err", err)
	}
}

// entry drafts a history entry about breach id.
func (s *Service) entry(id string, typ EntryType, by gdprkit.ActorID, at time.Time, d entryData) (Entry, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return Entry{}, err
	}
	return Entry{ID: gdprkit.NewID(), Breach: id, Type: typ, At: at, Actor: by, Data: data}, nil
}

// mutate runs fn under the account's lock and seals its entries.
func (s *Service) mutate(ctx context.Context, account gdprkit.AccountID, id string, fn func(cur Breach, found bool) (Write, error)) ([]Entry, error) {
	return s.store.Mutate(ctx, account, id, fn, func(head Head, e *Entry) error { seal(account, head, e); return nil })
}

func (s *Service) fill(account gdprkit.AccountID, r *Report) {
	if r.Authority == "" {
		r.Authority = s.cfg.Authority
	}
	r.normalise()
}

// Record adds a breach to the account's register, open, with its 72-hour
// deadline counted from r.AwareAt. It returns an error wrapping
// gdprkit.ErrInvalid for a bad report, and gdprkit.ErrConflict when the
// account already has a breach with r.Incident.
func (s *Service) Record(ctx context.Context, account gdprkit.AccountID, r Report) (Breach, error) {
	if err := account.Validate(); err != nil {
		return Breach{}, err
	}
	now := s.now()
	if err := r.validate(now); err != nil {
		return Breach{}, err
	}
	s.fill(account, &r)
	b := Breach{ID: gdprkit.NewID(), Account: account, Report: r, State: StateOpen, RecordedAt: now, RecordedBy: r.By,
		Deadline: r.AwareAt.Add(s.cfg.Deadline), UpdatedAt: now, Version: 1}
	_, err := s.mutate(ctx, account, b.ID, func(_ Breach, found bool) (Write, error) {
		if found {
			return Write{}, fmt.Errorf("breach %s exists: %w", b.ID, gdprkit.ErrConflict)
		}
		e, err := s.entry(b.ID, EntryRecorded, r.By, now, entryData{Breach: &b})
		return Write{Breach: &b, Entries: []Entry{e}}, err
	})
	if err != nil {
		return Breach{}, fmt.Errorf("breach: record: %w", err)
	}
	s.emit(ctx, account, EventRecorded, r.By, map[string]string{"breach": b.ID, "high_risk": strconv.FormatBool(r.HighRisk)})
	s.log.Info("breach: recorded", "account", string(account), "breach", b.ID)
	return b, nil
}

// RecordIncident records one incident that affected several accounts: each
// account gets its own breach carrying r.Incident (required). It can be
// called again after a failure: accounts that already have the incident
// keep their breach, which is returned as it is. It stops at the first
// other error, returning the breaches recorded so far.
func (s *Service) RecordIncident(ctx context.Context, accounts []gdprkit.AccountID, r Report) ([]Breach, error) {
	if r.Incident == "" {
		return nil, fmt.Errorf("%w: breach: an incident across accounts needs Report.Incident", gdprkit.ErrInvalid)
	}
	for _, a := range accounts {
		if err := a.Validate(); err != nil {
			return nil, err
		}
	}
	if err := r.validate(s.now()); err != nil {
		return nil, err
	}
	out := make([]Breach, 0, len(accounts))
	for _, a := range accounts {
		b, err := s.Record(ctx, a, r)
		if errors.Is(err, gdprkit.ErrConflict) {
			b, err = s.byIncident(ctx, a, r.Incident)
		}
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (s *Service) byIncident(ctx context.Context, account gdprkit.AccountID, incident string) (Breach, error) {
	bs, err := s.store.Breaches(ctx, account)
	if err != nil {
		return Breach{}, err
	}
	for _, b := range bs {
		if b.Incident == incident {
			return b, nil
		}
	}
	return Breach{}, fmt.Errorf("breach: incident %q: %w", incident, gdprkit.ErrNotFound)
}

// Update replaces what is stated about an open or notified breach with r
// (Incident excepted: it stays). The deadline follows r.AwareAt. It returns
// an error wrapping gdprkit.ErrNotFound for an unknown breach,
// gdprkit.ErrConflict for a closed one and gdprkit.ErrInvalid for a bad
// report; the history keeps every earlier version.
func (s *Service) Update(ctx context.Context, account gdprkit.AccountID, id string, r Report) (Breach, error) {
	if err := account.Validate(); err != nil {
		return Breach{}, err
	}
	now := s.now()
	if err := r.validate(now); err != nil {
		return Breach{}, err
	}
	s.fill(account, &r)
	var out Breach
	_, err := s.mutate(ctx, account, id, func(cur Breach, found bool) (Write, error) {
		if err := live(cur, found, id); err != nil {
			return Write{}, err
		}
		b := cur
		r.Incident = cur.Incident
		b.Report = r
		b.Deadline = r.AwareAt.Add(s.cfg.Deadline)
		b.UpdatedAt, b.Version = now, cur.Version+1
		e, err := s.entry(id, EntryUpdated, r.By, now, entryData{Breach: &b})
		out = b
		return Write{Breach: &b, Entries: []Entry{e}}, err
	})
	if err != nil {
		return Breach{}, fmt.Errorf("breach: update: %w", err)
	}
	s.emit(ctx, account, EventUpdated, r.By, map[string]string{"breach": id})
	return out, nil
}

// live checks that a breach read under the lock exists and is not closed.
func live(cur Breach, found bool, id string) error {
	if !found {
		return fmt.Errorf("breach %q: %w", id, gdprkit.ErrNotFound)
	}
	if cur.State == StateClosed {
		return fmt.Errorf("breach %q is closed: %w", id, gdprkit.ErrConflict)
	}
	return nil
}

// Breach returns one breach.
func (s *Service) Breach(ctx context.Context, account gdprkit.AccountID, id string) (Breach, error) {
	if err := account.Validate(); err != nil {
		return Breach{}, err
	}
	return s.store.Breach(ctx, account, id)
}

// Breaches lists the account's breaches, most recent awareness first.
func (s *Service) Breaches(ctx context.Context, account gdprkit.AccountID) ([]Breach, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Breaches(ctx, account)
}

// Notices lists a breach's notices in the order they were requested.
func (s *Service) Notices(ctx context.Context, account gdprkit.AccountID, id string) ([]Notice, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Notices(ctx, account, id)
}

// Subjects pages through the pseudonyms of a breach's affected subjects
// (limit ≤ 0: Config.BatchSize).
func (s *Service) Subjects(ctx context.Context, account gdprkit.AccountID, id string, after gdprkit.Pseudonym, limit int) ([]gdprkit.Pseudonym, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = s.cfg.BatchSize
	}
	return s.store.Subjects(ctx, account, id, after, limit)
}

// Close closes a breach. Closing one whose authority was never notified
// needs a reason (why notification was not required, Art. 33(1): the
// breach is unlikely to result in a risk); the reason is kept either way.
// It returns an error wrapping gdprkit.ErrConflict when the breach is
// already closed, gdprkit.ErrNotFound when it does not exist and
// gdprkit.ErrInvalid for a missing reason. Notices already requested are
// still sent.
func (s *Service) Close(ctx context.Context, account gdprkit.AccountID, id, reason string, by gdprkit.ActorID) (Breach, error) {
	if err := account.Validate(); err != nil {
		return Breach{}, err
	}
	if err := by.Validate(); err != nil {
		return Breach{}, err
	}
	if err := validText("close reason", reason, MaxText, false); err != nil {
		return Breach{}, err
	}
	now := s.now()
	var out Breach
	_, err := s.mutate(ctx, account, id, func(cur Breach, found bool) (Write, error) {
		if err := live(cur, found, id); err != nil {
			return Write{}, err
		}
		if cur.AuthorityNotifiedAt.IsZero() && reason == "" {
			return Write{}, fmt.Errorf("%w: breach: closing without notifying the authority needs the reason", gdprkit.ErrInvalid)
		}
		b := cur
		b.State, b.ClosedAt, b.ClosedBy, b.CloseReason = StateClosed, now, by, reason
		b.UpdatedAt, b.Version = now, cur.Version+1
		e, err := s.entry(id, EntryClosed, by, now, entryData{Breach: &b})
		out = b
		return Write{Breach: &b, Entries: []Entry{e}}, err
	})
	if err != nil {
		return Breach{}, fmt.Errorf("breach: close: %w", err)
	}
	s.emit(ctx, account, EventClosed, by, map[string]string{"breach": id})
	return out, nil
}
