package staffaccess

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Event types this package sends to the audit sink. Attributes hold grant
// IDs, statuses and reasons, never what was accessed.
const (
	// EventRequested: the vendor asked for a grant.
	EventRequested gdprkit.EventType = "staffaccess.requested"
	// EventApproved: a grant was approved.
	EventApproved gdprkit.EventType = "staffaccess.approved"
	// EventRefused: a grant was refused.
	EventRefused gdprkit.EventType = "staffaccess.refused"
	// EventRevoked: a grant was revoked.
	EventRevoked gdprkit.EventType = "staffaccess.revoked"
	// EventAccess: a staff member saw the account's data under a grant.
	EventAccess gdprkit.EventType = "staffaccess.access"
	// EventDenied: an access was refused for want of a live grant.
	EventDenied gdprkit.EventType = "staffaccess.denied"
)

// DefaultMaxDuration is the longest a grant may last when
// Config.MaxDuration is zero.
const DefaultMaxDuration = 30 * 24 * time.Hour

// ErrNoGrant is wrapped (with gdprkit.ErrForbidden) by Check, Access and
// the middleware when the staff member has no live grant for the account:
// never asked, not approved yet, refused, revoked or expired.
var ErrNoGrant = fmt.Errorf("%w: staffaccess: no live support access grant for this account", gdprkit.ErrForbidden)

// ErrTampered is wrapped by Verify when the trail or the grants it vouches
// for were edited, removed or reordered.
var ErrTampered = errors.New("staffaccess: trail does not verify")

// Config configures a Service. Store is required; every other zero value is
// a documented default.
type Config struct {
	// Store keeps the grants and the trail. Required.
	Store Store
	// Clock is the time source; grants expire by it. Default:
	// gdprkit.SystemClock.
	Clock gdprkit.Clock
	// Audit receives staffaccess.* events. Default: discard.
	Audit gdprkit.AuditSink
	// Logger receives operational messages, never what was accessed.
	// Default: discard.
	Logger *slog.Logger
	// MaxDuration is the longest a grant may run from its request.
	// Default: DefaultMaxDuration (30 days).
	MaxDuration time.Duration
}

// Service manages support access grants and records every access. It is
// safe for concurrent use.
type Service struct {
	store  Store
	clock  gdprkit.Clock
	audit  gdprkit.AuditSink
	log    *slog.Logger
	maxDur time.Duration
}

// New returns a Service. It fails with an error wrapping gdprkit.ErrInvalid
// when Store is nil or MaxDuration is negative.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: staffaccess: Config.Store is required", gdprkit.ErrInvalid)
	}
	if cfg.MaxDuration < 0 {
		return nil, fmt.Errorf("%w: staffaccess: negative MaxDuration", gdprkit.ErrInvalid)
	}
	s := &Service{store: cfg.Store, clock: gdprkit.ClockOrSystem(cfg.Clock), audit: gdprkit.SinkOrDiscard(cfg.Audit), log: cfg.Logger, maxDur: cfg.MaxDuration}
	if s.maxDur == 0 {
		s.maxDur = DefaultMaxDuration
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) emit(ctx context.Context, account gdprkit.AccountID, typ gdprkit.EventType, by gdprkit.ActorID, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: typ, Time: s.now(), Actor: by, Attrs: attrs}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.Warn("staffaccess: audit sink failed", "type", string(typ), "err", err)
	}
}

func (s *Service) mutate(ctx context.Context, account gdprkit.AccountID, id string, fn func(cur Grant, found bool) (Write, error)) ([]Entry, error) {
	return s.store.Mutate(ctx, account, id, fn, func(head Head, e *Entry) error { seal(account, head, e); return nil })
}

// change drafts the trail entry of a grant change.
func change(g Grant, typ EntryType, by gdprkit.ActorID, at time.Time) (Entry, error) {
	data, err := json.Marshal(g)
	return Entry{ID: gdprkit.NewID(), Grant: g.ID, Type: typ, At: at, Actor: by, Data: data}, err
}

// Request is what the vendor asks for.
type Request struct {
	// Staff is the staff member who would see the data. Required.
	Staff gdprkit.ActorID
	// Purpose says why. Required.
	Purpose string
	// Until is when access would end: after now, at most
	// Config.MaxDuration from now. Required.
	Until time.Time
	// By is who at the vendor asks. Default: Staff.
	By gdprkit.ActorID
}

// Request records the vendor's request for access to an account's data. It
// grants nothing until the account's owner or an admin approves it. Bad
// input is an error wrapping gdprkit.ErrInvalid.
func (s *Service) Request(ctx context.Context, account gdprkit.AccountID, r Request) (Grant, error) {
	if err := account.Validate(); err != nil {
		return Grant{}, err
	}
	if r.By == "" {
		r.By = r.Staff
	}
	if err := r.Staff.Validate(); err != nil {
		return Grant{}, fmt.Errorf("staffaccess: staff: %w", err)
	}
	if err := r.By.Validate(); err != nil {
		return Grant{}, fmt.Errorf("staffaccess: requested by: %w", err)
	}
	if err := validText("purpose", r.Purpose, MaxPurpose, true); err != nil {
		return Grant{}, err
	}
	now := s.now()
	until := r.Until.UTC().Truncate(time.Microsecond)
	if !until.After(now) || until.Sub(now) > s.maxDur {
		return Grant{}, fmt.Errorf("%w: staffaccess: a grant must end after now and within %s", gdprkit.ErrInvalid, s.maxDur)
	}
	g := Grant{ID: gdprkit.NewID(), Account: account, Staff: r.Staff, Purpose: r.Purpose, Until: until,
		RequestedBy: r.By, RequestedAt: now, Status: StatusRequested, Version: 1}
	_, err := s.mutate(ctx, account, g.ID, func(_ Grant, found bool) (Write, error) {
		if found {
			return Write{}, fmt.Errorf("grant %s exists: %w", g.ID, gdprkit.ErrConflict)
		}
		e, err := change(g, EntryRequested, r.By, now)
		return Write{Grant: &g, Entries: []Entry{e}}, err
	})
	if err != nil {
		return Grant{}, fmt.Errorf("staffaccess: request: %w", err)
	}
	s.emit(ctx, account, EventRequested, r.By, map[string]string{"grant": g.ID})
	return g, nil
}

// decide applies a decision of an owner or admin to a requested grant.
func (s *Service) decide(ctx context.Context, account gdprkit.AccountID, id string, by Actor, note string, to Status) (Grant, error) {
	if err := account.Validate(); err != nil {
		return Grant{}, err
	}
	if err := by.ID.Validate(); err != nil {
		return Grant{}, err
	}
	if !by.Role.AtLeast(gdprkit.RoleAdmin) {
		return Grant{}, fmt.Errorf("%w: staffaccess: only the account's owner or an admin decides on support access, not a %s", gdprkit.ErrForbidden, by.Role)
	}
	if err := validText("note", note, MaxNote, false); err != nil {
		return Grant{}, err
	}
	now := s.now()
	var out Grant
	typ, ev := EntryApproved, EventApproved
	if to == StatusRefused {
		typ, ev = EntryRefused, EventRefused
	}
	_, err := s.mutate(ctx, account, id, func(cur Grant, found bool) (Write, error) {
		if !found {
			return Write{}, fmt.Errorf("grant %q: %w", id, gdprkit.ErrNotFound)
		}
		if st := cur.StatusAt(now); st != StatusRequested {
			return Write{}, fmt.Errorf("grant %q is %s, not awaiting a decision: %w", id, st, gdprkit.ErrConflict)
		}
		if by.ID == cur.Staff || by.ID == cur.RequestedBy {
			return Write{}, fmt.Errorf("%w: staffaccess: the vendor cannot decide on its own request", gdprkit.ErrForbidden)
		}
		g := cur
		g.Status, g.DecidedBy, g.DecidedRole, g.DecidedAt, g.Note = to, by.ID, by.Role.String(), now, note
		g.Version++
		e, err := change(g, typ, by.ID, now)
		out = g
		return Write{Grant: &g, Entries: []Entry{e}}, err
	})
	if err != nil {
		return Grant{}, fmt.Errorf("staffaccess: %s: %w", typ, err)
	}
	s.emit(ctx, account, ev, by.ID, map[string]string{"grant": id, "role": by.Role.String()})
	return out, nil
}

// Approve approves a requested grant. Only the account's owner or an admin
// may (an agent gets an error wrapping gdprkit.ErrForbidden, and so does
// the vendor deciding its own request); a grant already decided, revoked
// or expired is a conflict (gdprkit.ErrConflict); an unknown one
// gdprkit.ErrNotFound.
func (s *Service) Approve(ctx context.Context, account gdprkit.AccountID, id string, by Actor, note string) (Grant, error) {
	return s.decide(ctx, account, id, by, note, StatusApproved)
}

// Refuse refuses a requested grant, with the same rules as Approve.
func (s *Service) Refuse(ctx context.Context, account gdprkit.AccountID, id string, by Actor, reason string) (Grant, error) {
	return s.decide(ctx, account, id, by, reason, StatusRefused)
}

// Revoke withdraws a requested or approved grant at once: once Revoke has
// returned, no Access under it succeeds. The account's owner or an admin
// may revoke any grant, the vendor (its staff member or requester) its
// own; anyone else gets an error wrapping gdprkit.ErrForbidden. Revoking a
// grant that is refused, revoked or expired is a conflict.
func (s *Service) Revoke(ctx context.Context, account gdprkit.AccountID, id string, by Actor) (Grant, error) {
	if err := account.Validate(); err != nil {
		return Grant{}, err
	}
	if err := by.ID.Validate(); err != nil {
		return Grant{}, err
	}
	now := s.now()
	var out Grant
	_, err := s.mutate(ctx, account, id, func(cur Grant, found bool) (Write, error) {
		if !found {
			return Write{}, fmt.Errorf("grant %q: %w", id, gdprkit.ErrNotFound)
		}
		if !by.Role.AtLeast(gdprkit.RoleAdmin) && by.ID != cur.Staff && by.ID != cur.RequestedBy {
			return Write{}, fmt.Errorf("%w: staffaccess: only the account's owner or an admin, or the vendor, revokes a grant", gdprkit.ErrForbidden)
		}
		if st := cur.StatusAt(now); st != StatusRequested && st != StatusApproved {
			return Write{}, fmt.Errorf("grant %q is %s: %w", id, st, gdprkit.ErrConflict)
		}
		g := cur
		g.Status, g.RevokedBy, g.RevokedAt = StatusRevoked, by.ID, now
		g.Version++
		e, err := change(g, EntryRevoked, by.ID, now)
		out = g
		return Write{Grant: &g, Entries: []Entry{e}}, err
	})
	if err != nil {
		return Grant{}, fmt.Errorf("staffaccess: revoke: %w", err)
	}
	s.emit(ctx, account, EventRevoked, by.ID, map[string]string{"grant": id})
	return out, nil
}

// Grant returns one grant.
func (s *Service) Grant(ctx context.Context, account gdprkit.AccountID, id string) (Grant, error) {
	if err := account.Validate(); err != nil {
		return Grant{}, err
	}
	return s.store.Grant(ctx, account, id)
}

// Grants lists the account's grants, newest request first.
func (s *Service) Grants(ctx context.Context, account gdprkit.AccountID) ([]Grant, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Grants(ctx, account, "")
}

// Check returns the staff member's live grant for the account (the one
// that lasts longest), recording nothing: for a tool that asks before it
// shows a button. It returns an error wrapping ErrNoGrant (and
// gdprkit.ErrForbidden) when there is none. Use Access to see data.
func (s *Service) Check(ctx context.Context, account gdprkit.AccountID, staff gdprkit.ActorID) (Grant, error) {
	if err := account.Validate(); err != nil {
		return Grant{}, err
	}
	if err := staff.Validate(); err != nil {
		return Grant{}, err
	}
	gs, err := s.live(ctx, account, staff)
	if err != nil {
		return Grant{}, err
	}
	if len(gs) == 0 {
		return Grant{}, ErrNoGrant
	}
	return gs[0], nil
}

// live returns the staff member's live grants, longest lasting first.
func (s *Service) live(ctx context.Context, account gdprkit.AccountID, staff gdprkit.ActorID) ([]Grant, error) {
	gs, err := s.store.Grants(ctx, account, staff)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := gs[:0]
	for _, g := range gs {
		if g.Staff == staff && g.LiveAt(now) {
			out = append(out, g)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Until.After(out[j-1].Until); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// Access lets staff see the account's data if, and only if, they hold a
// live grant, and records the access (who, what, when, under which grant)
// in the account's trail in the same atomic step that checks the grant, so
// no access is let through after a Revoke has returned, and none goes
// unrecorded. It returns the trail entry, or an error wrapping ErrNoGrant
// and gdprkit.ErrForbidden (audited as EventDenied), gdprkit.ErrInvalid
// for bad input, or the store's error (fail closed: the caller must not
// show the data).
func (s *Service) Access(ctx context.Context, account gdprkit.AccountID, staff gdprkit.ActorID, what string) (Entry, error) {
	if err := account.Validate(); err != nil {
		return Entry{}, err
	}
	if err := staff.Validate(); err != nil {
		return Entry{}, err
	}
	if err := validText("what", what, MaxWhat, true); err != nil {
		return Entry{}, err
	}
	gs, err := s.live(ctx, account, staff)
	if err != nil {
		return Entry{}, fmt.Errorf("staffaccess: access: %w", err)
	}
	for _, g := range gs {
		var now time.Time
		es, err := s.mutate(ctx, account, g.ID, func(cur Grant, found bool) (Write, error) {
			now = s.now()
			if !found || cur.Staff != staff || !cur.LiveAt(now) {
				return Write{}, ErrNoGrant
			}
			e := Entry{ID: gdprkit.NewID(), Grant: g.ID, Type: EntryAccess, At: now, Actor: staff, What: what}
			return Write{Entries: []Entry{e}}, nil
		})
		if errors.Is(err, ErrNoGrant) {
			continue // revoked or expired since it was listed; try the next
		}
		if err != nil {
			return Entry{}, fmt.Errorf("staffaccess: access: %w", err)
		}
		s.emit(ctx, account, EventAccess, staff, map[string]string{"grant": g.ID})
		return es[0], nil
	}
	s.emit(ctx, account, EventDenied, staff, nil)
	s.log.Info("staffaccess: access refused: no live grant", "account", string(account))
	return Entry{}, ErrNoGrant
}
