package ipfilter

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
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
