package breach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

// Criteria say which records a breach reached, for an AffectedFinder.
type Criteria struct {
	// Kinds are the erasure graph's kinds of data affected ("attachment").
	// Default: the breach's Report.Kinds.
	Kinds []string `json:"kinds,omitempty"`
	// From bounds when the records were created or held, from below;
	// zero: unbounded. Default (with Until zero too): the breach's
	// OccurredAt.
	From time.Time `json:"from,omitzero"`
	// Until bounds it from above (inclusive); zero: unbounded. Default
	// (with From zero too): the breach's OccurredUntil.
	Until time.Time `json:"until,omitzero"`
	// Where names the place the host means (a bucket, a server, a table),
	// in the host's own words; "" means anywhere.
	Where string `json:"where,omitempty"`
}

// AffectedFinder finds the subjects whose data a breach reached: "who had
// attachments in this bucket between these dates". The host implements it
// over its own tables (or over its erasure graph's targets). It returns
// subject IDs as the host's Directory knows them; the register keeps only
// their keyed pseudonyms.
type AffectedFinder interface {
	FindAffected(ctx context.Context, account gdprkit.AccountID, c Criteria) ([]gdprkit.SubjectID, error)
}

// FinderFunc adapts a function to AffectedFinder.
type FinderFunc func(ctx context.Context, account gdprkit.AccountID, c Criteria) ([]gdprkit.SubjectID, error)

// FindAffected calls f.
func (f FinderFunc) FindAffected(ctx context.Context, account gdprkit.AccountID, c Criteria) ([]gdprkit.SubjectID, error) {
	return f(ctx, account, c)
}

// FindSubjects asks the Finder for the subjects the breach affected and
// adds their pseudonyms to it; it can be called again with other criteria,
// and a subject found twice counts once. ApproxSubjects is raised to the
// number found when below it. It returns how many new subjects were added.
// Errors: gdprkit.ErrInvalid without a Finder or for an invalid subject ID
// returned by it, gdprkit.ErrNotFound, gdprkit.ErrConflict for a closed
// breach; nothing is stored then.
func (s *Service) FindSubjects(ctx context.Context, account gdprkit.AccountID, id string, c Criteria, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := by.Validate(); err != nil {
		return 0, err
	}
	if s.cfg.Finder == nil {
		return 0, fmt.Errorf("%w: breach: no Config.Finder", gdprkit.ErrInvalid)
	}
	if err := validList("kinds", c.Kinds); err != nil {
		return 0, err
	}
	if err := validText("where", c.Where, MaxItemLen, false); err != nil {
		return 0, err
	}
	b, err := s.store.Breach(ctx, account, id)
	if err != nil {
		return 0, fmt.Errorf("breach: find subjects: %w", err)
	}
	if len(c.Kinds) == 0 {
		c.Kinds = b.Kinds
	}
	if c.From.IsZero() && c.Until.IsZero() {
		c.From, c.Until = b.OccurredAt, b.OccurredUntil
	}
	ids, err := s.cfg.Finder.FindAffected(ctx, account, c)
	if err != nil {
		return 0, fmt.Errorf("breach: find subjects: %w", err)
	}
	ps := make([]gdprkit.Pseudonym, 0, len(ids))
	for _, sid := range ids {
		if err := sid.Validate(); err != nil {
			return 0, fmt.Errorf("breach: the finder returned a bad subject: %w", err)
		}
		ps = append(ps, s.ps.Subject(account, sid))
	}
	slices.Sort(ps)
	ps = slices.Compact(ps)
	var added int
	for attempt := 0; ; attempt++ {
		added, err = s.addSubjects(ctx, account, id, ps, c, by)
		if err == nil || !errors.Is(err, gdprkit.ErrConflict) || attempt == 3 {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("breach: find subjects: %w", err)
	}
	s.emit(ctx, account, EventSubjects, by, map[string]string{"breach": id, "found": strconv.Itoa(len(ps)), "added": strconv.Itoa(added)})
	return added, nil
}

// addSubjects stores the pseudonyms the breach does not have yet. A
// concurrent call that stored some of them first makes the store refuse
// the step with gdprkit.ErrConflict; the caller reads again.
func (s *Service) addSubjects(ctx context.Context, account gdprkit.AccountID, id string, ps []gdprkit.Pseudonym, c Criteria, by gdprkit.ActorID) (int, error) {
	known, err := s.knownSubjects(ctx, account, id)
	if err != nil {
		return 0, err
	}
	now := s.now()
	var added int
	_, err = s.mutate(ctx, account, id, func(cur Breach, found bool) (Write, error) {
		if err := live(cur, found, id); err != nil {
			return Write{}, err
		}
		fresh := ps[:0:0]
		for _, p := range ps {
			if !known[p] {
				fresh = append(fresh, p)
			}
		}
		added = len(fresh)
		b := cur
		b.SubjectsFound += int64(added)
		b.ApproxSubjects = max(b.ApproxSubjects, b.SubjectsFound)
		b.UpdatedAt, b.Version = now, cur.Version+1
		e, err := s.entry(id, EntrySubjects, by, now, entryData{Breach: &b, Search: &c,
			Summary: strconv.Itoa(added) + " new subjects of " + strconv.Itoa(len(ps)) + " found"})
		return Write{Breach: &b, Subjects: fresh, Entries: []Entry{e}}, err
	})
	return added, err
}

func (s *Service) knownSubjects(ctx context.Context, account gdprkit.AccountID, id string) (map[gdprkit.Pseudonym]bool, error) {
	known := map[gdprkit.Pseudonym]bool{}
	var after gdprkit.Pseudonym
	for {
		page, err := s.store.Subjects(ctx, account, id, after, s.cfg.BatchSize)
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			known[p] = true
		}
		if len(page) < s.cfg.BatchSize {
			return known, nil
		}
		after = page[len(page)-1]
	}
}

// NotifyRequest says whom to notify of a breach.
type NotifyRequest struct {
	// Authority queues the notification of the supervisory authority
	// (once: again only after an earlier one failed).
	Authority bool
	// DPO queues the notification of the account's DPO (once, likewise).
	DPO bool
	// Subjects queues one notice for each affected subject who has none
	// yet; subjects found later need another call.
	Subjects bool
	// DelayReason explains why the authority is notified after the
	// deadline; required then (Art. 33(1)), kept on the breach.
	DelayReason string
	// By is who asks. Required.
	By gdprkit.ActorID
}

// Queued counts the notices a Notify call put in the outbox.
type Queued struct {
	// Authority is 1 when the authority's notice was queued.
	Authority int `json:"authority"`
	// DPO is 1 when the DPO's notice was queued.
	DPO int `json:"dpo"`
	// Subjects counts the subjects' notices queued.
	Subjects int `json:"subjects"`
}

// Notify puts the requested notices in the durable outbox, in one atomic
// step with its history entry; workers (RunOnce, Work) send them. It
// returns what it queued. Two concurrent calls never queue two notices
// for one subject (the store refuses the second and the call reads again). Errors: gdprkit.ErrInvalid when notifying the
// authority after the deadline without a DelayReason, or when nothing is
// asked; gdprkit.ErrNotFound; gdprkit.ErrConflict for a closed breach or
// an authority or DPO notice that is already queued or sent. Nothing is
// queued on error.
func (s *Service) Notify(ctx context.Context, account gdprkit.AccountID, id string, req NotifyRequest) (Queued, error) {
	for attempt := 0; ; attempt++ {
		q, err := s.notify(ctx, account, id, req)
		if err == nil || !errors.Is(err, errSubjectRace) || attempt == 3 {
			return q, err
		}
	}
}

// errSubjectRace marks a conflict on a subject's notice: another Notify
// queued it between the read and the write.
var errSubjectRace = errors.New("breach: a subject notice was queued concurrently")

func (s *Service) notify(ctx context.Context, account gdprkit.AccountID, id string, req NotifyRequest) (Queued, error) {
	if err := account.Validate(); err != nil {
		return Queued{}, err
	}
	if err := req.By.Validate(); err != nil {
		return Queued{}, err
	}
	if !req.Authority && !req.DPO && !req.Subjects {
		return Queued{}, fmt.Errorf("%w: breach: notify nobody", gdprkit.ErrInvalid)
	}
	if err := validText("delay reason", req.DelayReason, MaxText, false); err != nil {
		return Queued{}, err
	}
	var subjects []gdprkit.Pseudonym
	var noticed map[gdprkit.Pseudonym]bool
	if req.Subjects {
		known, err := s.knownSubjects(ctx, account, id)
		if err != nil {
			return Queued{}, fmt.Errorf("breach: notify: %w", err)
		}
		ns, err := s.store.Notices(ctx, account, id)
		if err != nil {
			return Queued{}, fmt.Errorf("breach: notify: %w", err)
		}
		noticed = map[gdprkit.Pseudonym]bool{}
		for _, n := range ns {
			if n.To == ToSubject {
				noticed[n.Subject] = true
			}
		}
		for p := range known {
			subjects = append(subjects, p)
		}
		slices.Sort(subjects)
	}
	now := s.now()
	var q Queued
	_, err := s.mutate(ctx, account, id, func(cur Breach, found bool) (Write, error) {
		q = Queued{}
		if err := live(cur, found, id); err != nil {
			return Write{}, err
		}
		b := cur
		var w Write
		mk := func(to Audience, subject gdprkit.Pseudonym) Notice {
			n := Notice{ID: gdprkit.NewID(), Account: account, Breach: id, To: to, Subject: subject, State: NoticePending,
				RequestedAt: now, RequestedBy: req.By, NextAt: now}
			w.Notices = append(w.Notices, n)
			return n
		}
		if req.Authority {
			if cur.AuthorityNotice != "" {
				return Write{}, fmt.Errorf("breach %q: the authority's notice is already queued or sent: %w", id, gdprkit.ErrConflict)
			}
			if now.After(cur.Deadline) && req.DelayReason == "" && cur.DelayReason == "" {
				return Write{}, fmt.Errorf("%w: breach: the %s deadline has passed; notifying the authority now needs the reason for the delay (Art. 33(1))",
					gdprkit.ErrInvalid, s.cfg.Deadline)
			}
			if req.DelayReason != "" {
				b.DelayReason = req.DelayReason
			}
			b.AuthorityNotice = mk(ToAuthority, "").ID
			q.Authority = 1
		}
		if req.DPO {
			if cur.DPONotice != "" {
				return Write{}, fmt.Errorf("breach %q: the DPO's notice is already queued or sent: %w", id, gdprkit.ErrConflict)
			}
			b.DPONotice = mk(ToDPO, "").ID
			q.DPO = 1
		}
		for _, p := range subjects {
			if !noticed[p] {
				mk(ToSubject, p)
				q.Subjects++
			}
		}
		b.UpdatedAt, b.Version = now, cur.Version+1
		e, err := s.entry(id, EntryNotify, req.By, now, entryData{Breach: &b,
			Counts: map[Audience]int{ToAuthority: q.Authority, ToDPO: q.DPO, ToSubject: q.Subjects}})
		w.Breach, w.Entries = &b, []Entry{e}
		return w, err
	})
	if err != nil {
		if q.Subjects > 0 && errors.Is(err, gdprkit.ErrConflict) {
			return Queued{}, fmt.Errorf("breach: notify: %w: %w", errSubjectRace, err)
		}
		return Queued{}, fmt.Errorf("breach: notify: %w", err)
	}
	s.emit(ctx, account, EventNotify, req.By, map[string]string{"breach": id, "authority": strconv.Itoa(q.Authority),
		"dpo": strconv.Itoa(q.DPO), "subjects": strconv.Itoa(q.Subjects)})
	return q, nil
}
