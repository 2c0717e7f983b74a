package ipfilter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Event types this package sends to the audit sink.
const (
	// EventDenied: a request or login was refused by the IP rules. Rate
	// limited per account and surface (Config.AuditInterval); attr
	// "suppressed" counts the denials not reported since the previous event.
	EventDenied gdprkit.EventType = "ipfilter.denied"
	// EventRulesChanged: an admin replaced a surface's lists.
	EventRulesChanged gdprkit.EventType = "ipfilter.rules_changed"
	// EventRulesDeleted: every rule of the account was removed.
	EventRulesDeleted gdprkit.EventType = "ipfilter.rules_deleted"
)

// ErrSelfLockout is returned (wrapping gdprkit.ErrForbidden) when a change
// would deny the address of the admin making it. Set Change.Force to make the
// change anyway.
var ErrSelfLockout = fmt.Errorf("%w: the change would lock out the admin making it", gdprkit.ErrForbidden)

// AnyVersion is the Change.ExpectedVersion that applies a change on top of
// whatever version is current (still atomically: a concurrent change in
// between is a conflict).
const AnyVersion int64 = -1

// Config configures a Filter. Only Store is required.
type Config struct {
	// Store keeps the rules. Required.
	Store Store
	// Clock is the time source. Default: gdprkit.SystemClock.
	Clock gdprkit.Clock
	// Logger receives operational messages, never addresses or notes.
	// Default: discard.
	Logger *slog.Logger
	// Audit receives EventDenied and EventRulesChanged. Default: discard.
	Audit gdprkit.AuditSink
	// Pseudonymizer, when set, gives denial events a keyed pseudonym of the
	// client address as Subject (kind "ip"), so repeated denials of one
	// address can be told apart without storing it. Default: no subject.
	Pseudonymizer *gdprkit.Pseudonymizer
	// RefreshInterval bounds how long a change made by another process goes
	// unnoticed: a cached account checks its version in the store at most
	// this often, on the first decision after the interval. Changes made
	// through this Filter apply at once. Default: 10 s.
	RefreshInterval time.Duration
	// AuditInterval is the least time between two EventDenied for one
	// account and surface. Default: 1 minute.
	AuditInterval time.Duration
	// MaxEntries caps each list. Default: 10,000.
	MaxEntries int
	// Proxy says which peers are trusted proxies and which forwarding header
	// they set; it is used by Middleware and ClientIP. Default: no proxy is
	// trusted, the client address is the connection's.
	Proxy ProxyConfig
	// StepUp, when set, is asked before every SetRules whether the admin
	// making the change proved who they are recently (authn.Service
	// implements it): changing IP rules is a security change, which a
	// stolen session alone must not make. Set it wherever rules are changed
	// from an interactive session. Default: none (changes made by trusted
	// code, such as provisioning, need no session).
	StepUp StepUpGate
}

// StepUpGate confirms that the actor of a change, acting through the given
// session, proved their identity recently. It returns nil, or an error
// (authn wraps gdprkit.ErrForbidden, with authn.ErrStepUpRequired, or
// gdprkit.ErrUnauthenticated) that SetRules returns unchanged.
type StepUpGate interface {
	CheckStepUp(ctx context.Context, account gdprkit.AccountID, actor gdprkit.ActorID, sessionID string) error
}

// Defaults applied by New to zero Config fields.
const (
	DefaultRefreshInterval = 10 * time.Second
	DefaultAuditInterval   = time.Minute
	DefaultMaxEntries      = 10_000
)

// Filter decides whether an address may use a surface of an account, and
// manages the rules. It is safe for concurrent use; make one per process.
//
// Each account's rules are compiled into an immutable snapshot (one
// PrefixSet per list and surface) that is swapped atomically when the rules
// change; a decision reads the current snapshot without locking and
// without allocating.
type Filter struct {
	store     Store
	clock     gdprkit.Clock
	log       *slog.Logger
	audit     gdprkit.AuditSink
	pseudo    *gdprkit.Pseudonymizer
	refresh   int64 // nanoseconds
	auditGap  int64 // nanoseconds
	maxEnt    int
	extractor *Extractor
	stepUp    StepUpGate

	accounts sync.Map // gdprkit.AccountID -> *accountState
	limits   sync.Map // limitKey -> *limiter
}

type accountState struct {
	snap    atomic.Pointer[snapshot]
	checked atomic.Int64 // clock time of the last version check, Unix ns
	mu      sync.Mutex   // serialises loads and swaps
}

type snapshot struct {
	version  int64
	surfaces []compiledSurface
}

type compiledSurface struct {
	surface gdprkit.Surface
	allow   *PrefixSet
	deny    *PrefixSet
}

// New returns a Filter. It fails with gdprkit.ErrInvalid when Store is nil,
// a duration or MaxEntries is negative, or Proxy is invalid.
func New(cfg Config) (*Filter, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: ipfilter: Config.Store is required", gdprkit.ErrInvalid)
	}
	if cfg.RefreshInterval < 0 || cfg.AuditInterval < 0 || cfg.MaxEntries < 0 {
		return nil, fmt.Errorf("%w: ipfilter: negative RefreshInterval, AuditInterval or MaxEntries", gdprkit.ErrInvalid)
	}
	ex, err := NewExtractor(cfg.Proxy)
	if err != nil {
		return nil, err
	}
	f := &Filter{
		store:     cfg.Store,
		clock:     gdprkit.ClockOrSystem(cfg.Clock),
		log:       cfg.Logger,
		audit:     gdprkit.SinkOrDiscard(cfg.Audit),
		pseudo:    cfg.Pseudonymizer,
		refresh:   int64(cmpOr(cfg.RefreshInterval, DefaultRefreshInterval)),
		auditGap:  int64(cmpOr(cfg.AuditInterval, DefaultAuditInterval)),
		maxEnt:    cmpOr(cfg.MaxEntries, DefaultMaxEntries),
		extractor: ex,
		stepUp:    cfg.StepUp,
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Decision is the outcome of a check. Only Allowed lets the caller in; the
// zero value is not Allowed.
type Decision uint8

// The decisions.
const (
	_ Decision = iota
	// Allowed: no rule stops the address.
	Allowed
	// DeniedListed: the address is in the deny list.
	DeniedListed
	// DeniedNotListed: the allow list is on and the address is not in it.
	DeniedNotListed
	// DeniedNoAddress: the surface has rules and the client address is
	// unknown (for example a trusted proxy sent a forwarding header that
	// does not parse).
	DeniedNoAddress
)

// Allowed reports whether d lets the caller in.
func (d Decision) Allowed() bool { return d == Allowed }

// String returns the decision's audit reason: "allowed", "deny_list",
// "not_in_allow_list" or "no_client_address".
func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case DeniedListed:
		return "deny_list"
	case DeniedNotListed:
		return "not_in_allow_list"
	case DeniedNoAddress:
		return "no_client_address"
	}
	return "invalid"
}

func (c *compiledSurface) decide(ip netip.Addr) Decision {
	if c.deny.Contains(ip) {
		return DeniedListed
	}
	if !ip.IsValid() {
		return DeniedNoAddress
	}
	if c.allow.Empty() || c.allow.Contains(ip) {
		return Allowed
	}
	return DeniedNotListed
}

func (s *snapshot) decide(surface gdprkit.Surface, ip netip.Addr) Decision {
	for i := range s.surfaces {
		if s.surfaces[i].surface == surface {
			return s.surfaces[i].decide(ip)
		}
	}
	return Allowed
}

func compile(rs RuleSet) *snapshot {
	s := &snapshot{version: rs.Version}
	for _, r := range rs.Surfaces {
		if r.Empty() {
			continue
		}
		s.surfaces = append(s.surfaces, compiledSurface{
			surface: r.Surface,
			allow:   NewPrefixSet(prefixesOf(r.Allow)),
			deny:    NewPrefixSet(prefixesOf(r.Deny)),
		})
	}
	return s
}

func prefixesOf(es []Entry) []netip.Prefix {
	out := make([]netip.Prefix, len(es))
	for i, e := range es {
		out[i] = e.Prefix
	}
	return out
}

// ValidateSurface reports whether s is usable: 1 to 64 bytes of lower-case
// ASCII letters, digits, '_', '-' and '.'.
func ValidateSurface(s gdprkit.Surface) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%w: ipfilter: surface must be 1 to 64 bytes", gdprkit.ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("%w: ipfilter: surface %q is not a lower-case token", gdprkit.ErrInvalid, shorten(string(s)))
		}
	}
	return nil
}

// Decide returns whether ip may use surface of account. It reads the
// account's cached snapshot without locking or allocating; the store is
// consulted only on the account's first decision and once per
// RefreshInterval after (one cheap Version read; the rules are reloaded only
// when the version moved).
//
// When the store fails, the last snapshot keeps being used (and the store
// is tried again after RefreshInterval); if there is none yet, Decide
// returns the store's error (wrapping gdprkit.ErrUnavailable for a transient
// failure) and a Decision that is not Allowed: callers must fail closed.
// An invalid account ID or a surface that fails ValidateSurface (such as
// "API" for gdprkit.SurfaceAPI) is an error wrapping gdprkit.ErrInvalid,
// with a Decision that is not Allowed: a misspelt surface never bypasses
// the rules.
func (f *Filter) Decide(ctx context.Context, account gdprkit.AccountID, surface gdprkit.Surface, ip netip.Addr) (Decision, error) {
	if err := ValidateSurface(surface); err != nil {
		return DeniedNoAddress, err
	}
	snap, err := f.snapshot(ctx, account)
	if err != nil {
		return DeniedNoAddress, err
	}
	return snap.decide(surface, ip), nil
}

// AllowIP returns nil when ip may use surface of account, an error wrapping
// gdprkit.ErrForbidden when the rules deny it, and another error (see
// Decide) when the rules cannot be read; callers treat any error as "no".
// authn calls it at login. A denial is audited like the middleware's.
func (f *Filter) AllowIP(ctx context.Context, account gdprkit.AccountID, surface gdprkit.Surface, ip netip.Addr) error {
	d, err := f.Decide(ctx, account, surface, ip)
	if err != nil {
		return err
	}
	if d.Allowed() {
		return nil
	}
	f.reportDenial(ctx, account, surface, d, ip)
	return fmt.Errorf("%w: ipfilter: address not allowed on %s", gdprkit.ErrForbidden, surface)
}

func (f *Filter) state(account gdprkit.AccountID) *accountState {
	if v, ok := f.accounts.Load(account); ok {
		return v.(*accountState)
	}
	v, _ := f.accounts.LoadOrStore(account, &accountState{})
	return v.(*accountState)
}

// snapshot returns the account's current snapshot, refreshing it first when
// it is missing or older than the refresh interval.
func (f *Filter) snapshot(ctx context.Context, account gdprkit.AccountID) (*snapshot, error) {
	st := f.state(account)
	snap := st.snap.Load()
	if snap != nil && f.clock.Now().UnixNano()-st.checked.Load() < f.refresh {
		return snap, nil
	}
	if snap != nil {
		// Stale: one goroutine refreshes, the others keep deciding on the
		// current snapshot rather than wait.
		if !st.mu.TryLock() {
			return snap, nil
		}
	} else {
		st.mu.Lock()
	}
	defer st.mu.Unlock()
	snap, err := f.refreshLocked(ctx, account, st)
	if err != nil && snap == nil {
		// Do not keep an entry for an account that could not be loaded
		// (an invalid ID, a store outage); the next call tries again.
		f.accounts.CompareAndDelete(account, st)
	}
	return snap, err
}

func (f *Filter) refreshLocked(ctx context.Context, account gdprkit.AccountID, st *accountState) (*snapshot, error) {
	now := f.clock.Now().UnixNano()
	snap := st.snap.Load()
	if snap != nil && now-st.checked.Load() < f.refresh {
		return snap, nil // refreshed while we waited
	}
	if snap != nil {
		v, err := f.store.Version(ctx, account)
		if err != nil {
			f.log.Warn("ipfilter: version check failed; keeping the cached rules", "err", err)
			st.checked.Store(now)
			return snap, nil
		}
		if v == snap.version {
			st.checked.Store(now)
			return snap, nil
		}
	}
	rs, err := f.store.Rules(ctx, account)
	if err != nil {
		if snap != nil {
			f.log.Warn("ipfilter: reloading rules failed; keeping the cached rules", "err", err)
			st.checked.Store(now)
			return snap, nil
		}
		return nil, fmt.Errorf("ipfilter: loading rules: %w", err)
	}
	snap = f.swapLocked(st, compile(rs))
	st.checked.Store(now)
	return snap, nil
}

// swapLocked installs next unless the state already holds a newer version
// (versions only grow), and returns what is installed.
func (f *Filter) swapLocked(st *accountState, next *snapshot) *snapshot {
	if cur := st.snap.Load(); cur != nil && cur.version > next.version {
		return cur
	}
	st.snap.Store(next)
	return next
}

// Forget drops the account's cached snapshot; the next decision reloads
// it. Hosts may call it when an account is deleted to free its memory.
func (f *Filter) Forget(account gdprkit.AccountID) { f.accounts.Delete(account) }

// Rules returns the account's stored rules and version, for an admin
// screen. Errors wrap gdprkit.ErrInvalid or the store's error.
func (f *Filter) Rules(ctx context.Context, account gdprkit.AccountID) (RuleSet, error) {
	if err := account.Validate(); err != nil {
		return RuleSet{}, err
	}
	return f.store.Rules(ctx, account)
}

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

func (f *Filter) record(ctx context.Context, e gdprkit.Event) {
	e.ID = gdprkit.NewID()
	e.Time = f.clock.Now()
	if err := f.audit.Record(ctx, e); err != nil {
		f.log.Warn("ipfilter: audit sink failed", "type", string(e.Type), "err", err)
	}
}

// ---- rate-limited denial events ----

type limitKey struct {
	account gdprkit.AccountID
	surface gdprkit.Surface
}

type limiter struct {
	mu         sync.Mutex
	next       int64 // Unix ns before which events are suppressed
	suppressed int64
}

// reportDenial sends EventDenied unless one was sent for the same account
// and surface less than AuditInterval ago, in which case it is counted.
func (f *Filter) reportDenial(ctx context.Context, account gdprkit.AccountID, surface gdprkit.Surface, d Decision, ip netip.Addr) {
	k := limitKey{account, surface}
	v, ok := f.limits.Load(k)
	if !ok {
		v, _ = f.limits.LoadOrStore(k, &limiter{})
	}
	l := v.(*limiter)
	now := f.clock.Now()
	l.mu.Lock()
	if now.UnixNano() < l.next {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.suppressed = 0
	l.next = now.UnixNano() + f.auditGap
	l.mu.Unlock()

	e := gdprkit.Event{Account: account, Type: EventDenied, Attrs: map[string]string{
		"surface":    string(surface),
		"reason":     d.String(),
		"suppressed": strconv.FormatInt(suppressed, 10),
	}}
	if ip.IsValid() {
		ip = ip.Unmap().WithZone("")
		if ip.Is4() {
			e.Attrs["family"] = "ipv4"
		} else {
			e.Attrs["family"] = "ipv6"
		}
		if f.pseudo != nil {
			e.Subject = f.pseudo.Pseudonym(account, "ip", ip.String())
		}
	}
	f.record(ctx, e)
}
