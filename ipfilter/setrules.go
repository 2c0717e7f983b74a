package ipfilter

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Change replaces both lists of one surface of an account.
type Change struct {
	Account gdprkit.AccountID
	Surface gdprkit.Surface
	// Allow and Deny are the complete new lists, as typed. An empty Allow
	// list turns the restriction off; the Deny list applies regardless.
	Allow []Input
	Deny  []Input
	// Actor is the admin making the change; it becomes AddedBy of new
	// entries (entries already in the same list keep theirs).
	Actor gdprkit.ActorID
	// ActorIP is the admin's client address (from Filter.ClientIP on the
	// admin's request). Required unless Force is set.
	ActorIP netip.Addr
	// ActorSurface is the surface the admin is using to make the change.
	// Default: Surface. The lockout guard only applies when they are the
	// same, since other surfaces are not changed. When set it must pass
	// ValidateSurface, so a misspelling cannot skip the guard.
	ActorSurface gdprkit.Surface
	// ExpectedVersion is the RuleSet.Version the admin's edit started from,
	// or AnyVersion. A different current version fails with
	// gdprkit.ErrConflict.
	ExpectedVersion int64
	// Force makes a change that denies ActorIP anyway.
	Force bool
	// ActorSession is the ID of the session the admin acts through
	// (authn.Principal.SessionID), which Config.StepUp checks.
	ActorSession string
}

// Result reports a successful change.
type Result struct {
	// Version is the account's new version.
	Version int64
	// Warnings lists duplicates (dropped) and covered prefixes (kept).
	Warnings []Warning
}

// SetRules validates and stores a change, and applies it to this Filter's
// cache at once (other processes pick it up within RefreshInterval).
//
// Nothing is stored when: an ID, Surface or ActorSurface is invalid, any entry fails
// ParsePrefix or has a bad note, or a list is longer than MaxEntries (all
// wrap gdprkit.ErrInvalid; every bad entry is reported as an *EntryError);
// the version moved (gdprkit.ErrConflict); the new rules would deny
// ActorIP on the surface the admin is using and Force is not set
// (ErrSelfLockout, which wraps gdprkit.ErrForbidden); or Config.StepUp
// refused the actor's session (its error, such as authn.ErrStepUpRequired).
func (f *Filter) SetRules(ctx context.Context, c Change) (Result, error) {
	if err := c.Account.Validate(); err != nil {
		return Result{}, err
	}
	if err := c.Actor.Validate(); err != nil {
		return Result{}, err
	}
	if err := ValidateSurface(c.Surface); err != nil {
		return Result{}, err
	}
	actorSurface := cmpOr(c.ActorSurface, c.Surface)
	if err := ValidateSurface(actorSurface); err != nil {
		return Result{}, fmt.Errorf("ActorSurface: %w", err)
	}
	if len(c.Allow) > f.maxEnt || len(c.Deny) > f.maxEnt {
		return Result{}, fmt.Errorf("%w: ipfilter: a list holds more than %d entries", gdprkit.ErrInvalid, f.maxEnt)
	}
	allow, w1, err1 := ParseList(ListAllow, c.Allow)
	deny, w2, err2 := ParseList(ListDeny, c.Deny)
	if err := errors.Join(err1, err2); err != nil {
		return Result{}, err
	}
	if !c.Force && actorSurface == c.Surface && !c.ActorIP.IsValid() {
		return Result{}, fmt.Errorf("%w: ipfilter: ActorIP is required for the self-lockout guard unless Force is set", gdprkit.ErrInvalid)
	}
	if f.stepUp != nil {
		if err := f.stepUp.CheckStepUp(ctx, c.Account, c.Actor, c.ActorSession); err != nil {
			return Result{}, fmt.Errorf("ipfilter: change refused: %w", err)
		}
	}

	cur, err := f.store.Rules(ctx, c.Account)
	if err != nil {
		return Result{}, err
	}
	if c.ExpectedVersion != AnyVersion && cur.Version != c.ExpectedVersion {
		return Result{}, fmt.Errorf("%w: ipfilter: rules changed since version %d (now %d)", gdprkit.ErrConflict, c.ExpectedVersion, cur.Version)
	}
	old := cur.Surface(c.Surface)
	now := f.clock.Now()
	next := SurfaceRules{
		Surface: c.Surface,
		Allow:   stamp(allow, old.Allow, c.Actor, now),
		Deny:    stamp(deny, old.Deny, c.Actor, now),
	}
	cs := compiledSurface{surface: c.Surface, allow: NewPrefixSet(prefixesOf(next.Allow)), deny: NewPrefixSet(prefixesOf(next.Deny))}
	forced := false
	if actorSurface == c.Surface {
		if d := cs.decide(c.ActorIP); !d.Allowed() {
			if !c.Force {
				return Result{}, fmt.Errorf("%w (%s)", ErrSelfLockout, lockoutReason(d))
			}
			forced = true
		}
	}

	version, err := f.store.ReplaceRules(ctx, c.Account, next, cur.Version)
	if err != nil {
		return Result{}, err
	}
	// Apply locally at once: the stored set is cur with this surface
	// replaced, at the new version.
	rs := RuleSet{Account: c.Account, Version: version}
	for _, r := range cur.Surfaces {
		if r.Surface != c.Surface {
			rs.Surfaces = append(rs.Surfaces, r)
		}
	}
	if !next.Empty() {
		rs.Surfaces = append(rs.Surfaces, next)
	}
	f.install(c.Account, compile(rs))

	f.record(ctx, gdprkit.Event{
		Account: c.Account, Type: EventRulesChanged, Actor: c.Actor,
		Attrs: map[string]string{
			"surface": string(c.Surface), "version": strconv.FormatInt(version, 10),
			"allow_entries": strconv.Itoa(len(next.Allow)), "deny_entries": strconv.Itoa(len(next.Deny)),
			"lockout_forced": strconv.FormatBool(forced),
		},
	})
	return Result{Version: version, Warnings: append(w1, w2...)}, nil
}

func lockoutReason(d Decision) string {
	switch d {
	case DeniedListed:
		return "your address would be in the deny list"
	case DeniedNotListed:
		return "your address would not be in the allow list"
	}
	return "your address is unknown"
}

// stamp sets AddedBy and AddedAt: kept from the old list for a prefix that
// was already there, the actor and now otherwise.
func stamp(next, old []Entry, actor gdprkit.ActorID, now time.Time) []Entry {
	prev := make(map[netip.Prefix]Entry, len(old))
	for _, e := range old {
		prev[e.Prefix] = e
	}
	out := slices.Clone(next)
	for i := range out {
		if e, ok := prev[out[i].Prefix]; ok {
			out[i].AddedBy, out[i].AddedAt = e.AddedBy, e.AddedAt
		} else {
			out[i].AddedBy, out[i].AddedAt = actor, now
		}
	}
	return out
}

func (f *Filter) install(account gdprkit.AccountID, next *snapshot) {
	st := f.state(account)
	st.mu.Lock()
	f.swapLocked(st, next)
	st.checked.Store(f.clock.Now().UnixNano())
	st.mu.Unlock()
}

// DeleteAccount removes every rule of the account, for example when it is
// terminated, and audits it with actor as the actor.
func (f *Filter) DeleteAccount(ctx context.Context, account gdprkit.AccountID, actor gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	if err := actor.Validate(); err != nil {
		return err
	}
	v, err := f.store.DeleteAccount(ctx, account)
	if err != nil {
		return err
	}
	f.install(account, &snapshot{version: v})
	f.record(ctx, gdprkit.Event{Account: account, Type: EventRulesDeleted, Actor: actor,
		Attrs: map[string]string{"version": strconv.FormatInt(v, 10)}})
	return nil
}
