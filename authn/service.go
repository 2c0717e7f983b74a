package authn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/gdprkit/gdprkit"
)

// AccountGate decides whether an account may log in now. It returns nil, or
// an error wrapping gdprkit.ErrAccountSuspended or ErrAccountTerminated.
// The retention package implements it.
type AccountGate interface {
	AllowLogin(ctx context.Context, account gdprkit.AccountID) error
}

// IPGate decides whether a client IP may reach a surface of an account. It
// returns nil, or an error wrapping gdprkit.ErrForbidden. The ipfilter
// package implements it.
type IPGate interface {
	AllowIP(ctx context.Context, account gdprkit.AccountID, surface gdprkit.Surface, ip netip.Addr) error
}

// ThrottlePolicy slows down and finally stops guessing. Consecutive failures
// are counted per user and factor (password, TOTP, recovery code); an
// attempt is counted when it starts and forgiven when it succeeds, so
// concurrent guesses cannot slip past the counter. After Free failures each
// further attempt must wait Base × 2^(failures−Free), at most MaxDelay; after
// LockAfter failures the factor is locked until Service.Unlock (or, for the
// password, Service.SetPassword). Re-enrolling TOTP never resets a counter.
type ThrottlePolicy struct {
	// Free failures before any delay. Default 3.
	Free int
	// Base delay after the first non-free failure. Default 1 s.
	Base time.Duration
	// MaxDelay caps the delay. Default 15 min.
	MaxDelay time.Duration
	// LockAfter failures lock the factor. Default 10 (NIST SP 800-63B
	// allows at most 100).
	LockAfter int
}

// ThrottledError is returned when an attempt comes too soon after earlier
// failures, or the factor is locked. It wraps gdprkit.ErrLocked.
type ThrottledError struct {
	// Factor that is throttled.
	Factor Factor
	// Until is when the next attempt is allowed; zero when Locked.
	Until time.Time
	// Locked is true for a hard lock that only Unlock lifts.
	Locked bool
}

// Error says which factor is throttled and until when.
func (e *ThrottledError) Error() string {
	if e.Locked {
		return fmt.Sprintf("authn: %s locked after too many failures", e.Factor)
	}
	return fmt.Sprintf("authn: too many %s failures; retry after %s", e.Factor, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns gdprkit.ErrLocked.
func (e *ThrottledError) Unwrap() error { return gdprkit.ErrLocked }

// check returns a *ThrottledError when t forbids an attempt at now.
func (p ThrottlePolicy) check(f Factor, t Throttle, now time.Time) error {
	if t.Failures >= p.LockAfter {
		return &ThrottledError{Factor: f, Locked: true}
	}
	if t.Failures < p.Free {
		return nil
	}
	d := p.MaxDelay
	if n := t.Failures - p.Free; n < 40 {
		if e := p.Base << n; e > 0 && e < d {
			d = e
		}
	}
	if until := t.Last.Add(d); now.Before(until) {
		return &ThrottledError{Factor: f, Until: until}
	}
	return nil
}

// Config configures a Service. Store and Keys are required; every other
// zero value is a documented default.
type Config struct {
	// Store holds credentials, TOTP records, recovery codes, tokens,
	// sessions and throttle counters. Required.
	Store Store
	// Keys seal TOTP secrets and login challenges. Required.
	Keys *KeyRing
	// Clock is the only source of time. Default: gdprkit.SystemClock.
	Clock gdprkit.Clock
	// Logger gets operational messages, never personal data or secrets.
	// Default: discard.
	Logger *slog.Logger
	// Audit receives every success, failure, lock and token event.
	// Default: discard.
	Audit gdprkit.AuditSink
	// Pseudonymizer names the user in audit events. Default: none, and
	// events carry no subject.
	Pseudonymizer *gdprkit.Pseudonymizer
	// AccountGate is asked before every login and authentication. Default:
	// every account may log in.
	AccountGate AccountGate
	// IPGate is asked before every login and authentication. Default: every
	// IP may reach every surface.
	IPGate IPGate

	// Argon2 parameters for new hashes. Default DefaultArgon2
	// (m=19456 KiB, t=2, p=1).
	Argon2 Argon2Params
	// Limits cap what a stored hash may ask for. Defaults: see Limits.
	Limits Limits
	// MaxConcurrentHashes bounds concurrent KDF runs (argon2id or bcrypt);
	// further logins wait for a slot (or their context). Peak KDF memory is
	// at most MaxConcurrentHashes × Limits.MaxMemory, and in steady state
	// MaxConcurrentHashes × Argon2.Memory. Default: GOMAXPROCS.
	MaxConcurrentHashes int

	// RequireTwoFactor makes TOTP mandatory: a password login of a user
	// without TOTP yields a session with EnrolmentRequired set, which the
	// host should confine to enrolment. It also lowers the default minimum
	// password length from 15 to 8, as NIST SP 800-63B allows when a
	// password is not the only factor.
	RequireTwoFactor bool
	// MinPasswordLength in characters. Default: 8 with RequireTwoFactor,
	// 15 without. Values below 8 are raised to 8.
	MinPasswordLength int
	// MaxPasswordLength in characters. Default 256; values below 64 are
	// raised to 64 and values above 1024 lowered to 1024 (a login hashes at
	// most 4 KiB of input).
	MaxPasswordLength int
	// ContextWords are refused inside passwords (case-insensitive), such as
	// the product's or the company's name. Words shorter than 4 characters
	// are ignored.
	ContextWords []string

	// Issuer is the otpauth issuer shown in authenticator apps. Default
	// "gdprkit".
	Issuer string
	// TOTP parameters of new enrolments. Default: SHA-1, 6 digits, 30 s.
	TOTP TOTPParams
	// Skew is the number of time steps of clock drift accepted either way.
	// Default (0) is 1; a negative value accepts none.
	Skew int
	// Throttle policy. Defaults: see ThrottlePolicy.
	Throttle ThrottlePolicy

	// SessionIdle is the idle timeout. Default 1 h.
	SessionIdle time.Duration
	// SessionLifetime is the absolute timeout. Default 24 h.
	SessionLifetime time.Duration
	// SessionTouch is how stale a session's LastSeenAt may get before an
	// authentication writes it again. Default 1 min (capped at
	// SessionIdle/4).
	SessionTouch time.Duration
	// ChallengeTTL is how long a second-factor challenge is valid. Default
	// 5 min.
	ChallengeTTL time.Duration

	// TokenPrefix starts every API token: 2 to 16 lower-case letters or
	// digits and '_'. Default DefaultTokenPrefix ("gdk_").
	TokenPrefix string
	// MaxTokenLifetime caps API token expiry; zero allows tokens that never
	// expire.
	MaxTokenLifetime time.Duration
	// TokenUsageFlush is how often LastUsedAt of API tokens is written, in
	// one batch per account. Default 1 min. Call FlushTokenUsage on
	// shutdown.
	TokenUsageFlush time.Duration
}

// Service is the authn API a host calls. It is safe for concurrent use.
type Service struct {
	st       Store
	keys     *KeyRing
	clock    gdprkit.Clock
	log      *slog.Logger
	audit    gdprkit.AuditSink
	pseudo   *gdprkit.Pseudonymizer
	accounts AccountGate
	ips      IPGate
	hasher   *hasher
	policy   PasswordPolicy
	cfg      Config
	fold     cases.Caser
	foldMu   sync.Mutex

	dummyOnce sync.Once
	dummy     string

	usageMu   sync.Mutex
	usage     map[gdprkit.AccountID]map[string]time.Time
	lastFlush time.Time
}

// New returns a Service, or an error wrapping gdprkit.ErrInvalid for an
// unusable Config.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: authn.Config.Store is required", gdprkit.ErrInvalid)
	}
	if cfg.Keys == nil {
		return nil, fmt.Errorf("%w: authn.Config.Keys is required", gdprkit.ErrInvalid)
	}
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = DefaultArgon2
	}
	if cfg.Argon2.Memory < 8 || cfg.Argon2.Time < 1 || cfg.Argon2.Threads < 1 || cfg.Argon2.Memory < 8*uint32(cfg.Argon2.Threads) {
		return nil, fmt.Errorf("%w: argon2 parameters out of range", gdprkit.ErrInvalid)
	}
	l := &cfg.Limits
	if l.MaxMemory == 0 {
		l.MaxMemory = max(4*cfg.Argon2.Memory, 64*1024)
	}
	if l.MaxTime == 0 {
		l.MaxTime = 10
	}
	if l.MaxThreads == 0 {
		l.MaxThreads = 8
	}
	if l.MaxBcryptCost == 0 {
		l.MaxBcryptCost = 14
	}
	if cfg.Argon2.Memory > l.MaxMemory || cfg.Argon2.Time > l.MaxTime || cfg.Argon2.Threads > l.MaxThreads {
		return nil, fmt.Errorf("%w: argon2 parameters exceed the configured limits", gdprkit.ErrInvalid)
	}
	if cfg.MaxConcurrentHashes <= 0 {
		cfg.MaxConcurrentHashes = runtime.GOMAXPROCS(0)
	}
	if cfg.MinPasswordLength == 0 {
		cfg.MinPasswordLength = 15
		if cfg.RequireTwoFactor {
			cfg.MinPasswordLength = 8
		}
	}
	cfg.MinPasswordLength = max(cfg.MinPasswordLength, 8)
	if cfg.MaxPasswordLength == 0 {
		cfg.MaxPasswordLength = 256
	}
	cfg.MaxPasswordLength = min(max(cfg.MaxPasswordLength, 64, cfg.MinPasswordLength), maxPasswordBytes/4)
	if cfg.Issuer == "" {
		cfg.Issuer = "gdprkit"
	}
	if err := checkLabelPart("issuer", cfg.Issuer, true); err != nil {
		return nil, err
	}
	cfg.TOTP = cfg.TOTP.withDefaults()
	if err := cfg.TOTP.validate(); err != nil {
		return nil, err
	}
	switch {
	case cfg.Skew == 0:
		cfg.Skew = 1
	case cfg.Skew < 0:
		cfg.Skew = 0
	case cfg.Skew > 10:
		return nil, fmt.Errorf("%w: Skew above 10 steps", gdprkit.ErrInvalid)
	}
	t := &cfg.Throttle
	if t.Free == 0 {
		t.Free = 3
	}
	if t.Base == 0 {
		t.Base = time.Second
	}
	if t.MaxDelay == 0 {
		t.MaxDelay = 15 * time.Minute
	}
	if t.LockAfter == 0 {
		t.LockAfter = 10
	}
	if t.Free < 0 || t.Base < 0 || t.MaxDelay < 0 || t.LockAfter < 1 {
		return nil, fmt.Errorf("%w: throttle policy out of range", gdprkit.ErrInvalid)
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = time.Hour
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 24 * time.Hour
	}
	if cfg.SessionTouch <= 0 {
		cfg.SessionTouch = time.Minute
	}
	cfg.SessionTouch = min(cfg.SessionTouch, cfg.SessionIdle/4)
	if cfg.ChallengeTTL <= 0 {
		cfg.ChallengeTTL = 5 * time.Minute
	}
	if cfg.TokenPrefix == "" {
		cfg.TokenPrefix = DefaultTokenPrefix
	}
	if !validTokenPrefix(cfg.TokenPrefix) {
		return nil, fmt.Errorf("%w: token prefix must be 2 to 16 lower-case letters or digits followed by '_'", gdprkit.ErrInvalid)
	}
	if cfg.TokenUsageFlush <= 0 {
		cfg.TokenUsageFlush = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var words []string
	for _, w := range cfg.ContextWords {
		if w = foldUsername(w); utf8.RuneCountInString(w) >= 4 {
			words = append(words, w)
		}
	}
	s := &Service{
		st:       cfg.Store,
		keys:     cfg.Keys,
		clock:    gdprkit.ClockOrSystem(cfg.Clock),
		log:      cfg.Logger,
		audit:    gdprkit.SinkOrDiscard(cfg.Audit),
		pseudo:   cfg.Pseudonymizer,
		accounts: cfg.AccountGate,
		ips:      cfg.IPGate,
		hasher:   newHasher(cfg.Argon2, cfg.Limits, cfg.MaxConcurrentHashes),
		policy: PasswordPolicy{
			MinLength: cfg.MinPasswordLength,
			MaxLength: cfg.MaxPasswordLength,
			blocked:   loadBlocklist(),
			context:   words,
		},
		cfg:   cfg,
		fold:  cases.Fold(),
		usage: map[gdprkit.AccountID]map[string]time.Time{},
	}
	s.lastFlush = s.clock.Now()
	return s, nil
}

// Policy returns (a copy of) the password policy in force.
func (s *Service) Policy() PasswordPolicy { return s.policy }

// CheckPassword reports whether password is acceptable as a new password
// for username: nil, or a *PolicyError (wrapping gdprkit.ErrInvalid) that
// says why not.
func (s *Service) CheckPassword(password, username string) error {
	return s.policy.Check(password, username)
}

// foldUsername is the canonical form of a username: NFKC, then Unicode
// case folding.
func foldUsername(u string) string {
	return cases.Fold().String(norm.NFKC.String(u))
}

// canonicalUsername validates and folds a username.
func (s *Service) canonicalUsername(u string) (string, error) {
	if !utf8.ValidString(u) {
		return "", fmt.Errorf("%w: username is not valid UTF-8", gdprkit.ErrInvalid)
	}
	s.foldMu.Lock()
	c := s.fold.String(norm.NFKC.String(u))
	s.foldMu.Unlock()
	switch {
	case c == "":
		return "", fmt.Errorf("%w: empty username", gdprkit.ErrInvalid)
	case len(c) > 256:
		return "", fmt.Errorf("%w: username longer than 256 bytes", gdprkit.ErrInvalid)
	case strings.TrimSpace(c) != c:
		return "", fmt.Errorf("%w: username has leading or trailing space", gdprkit.ErrInvalid)
	}
	for _, r := range c {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: username contains a control character", gdprkit.ErrInvalid)
		}
	}
	return c, nil
}

func checkUserID(id string) error {
	if err := gdprkit.SubjectID(id).Validate(); err != nil {
		return fmt.Errorf("user ID: %w", err)
	}
	return nil
}

func checkAccountUser(account gdprkit.AccountID, user string) error {
	if err := account.Validate(); err != nil {
		return err
	}
	return checkUserID(user)
}

// event records an audit event; a sink failure is logged, not returned.
func (s *Service) event(ctx context.Context, account gdprkit.AccountID, typ gdprkit.EventType, user string, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: typ, Time: s.clock.Now(), Attrs: attrs}
	if user != "" && s.pseudo != nil {
		e.Subject = s.pseudo.Subject(account, gdprkit.SubjectID(user))
	}
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.Warn("authn: audit sink failed", "event", string(typ), "err", err)
	}
}

// Audit event types.
const (
	EventLoginSucceeded     gdprkit.EventType = "authn.login_succeeded"
	EventLoginFailed        gdprkit.EventType = "authn.login_failed"
	EventSecondFactor       gdprkit.EventType = "authn.second_factor_required"
	EventLocked             gdprkit.EventType = "authn.locked"
	EventAccountDenied      gdprkit.EventType = "authn.account_denied"
	EventIPDenied           gdprkit.EventType = "authn.ip_denied"
	EventUserCreated        gdprkit.EventType = "authn.user_created"
	EventPasswordChanged    gdprkit.EventType = "authn.password_changed"
	EventPasswordRehashed   gdprkit.EventType = "authn.password_rehashed"
	EventUserDisabled       gdprkit.EventType = "authn.user_disabled"
	EventUserEnabled        gdprkit.EventType = "authn.user_enabled"
	EventUserErased         gdprkit.EventType = "authn.user_erased"
	EventUnlocked           gdprkit.EventType = "authn.unlocked"
	EventTOTPEnrolStarted   gdprkit.EventType = "authn.totp_enrolment_started"
	EventTOTPEnrolled       gdprkit.EventType = "authn.totp_enrolled"
	EventTOTPRemoved        gdprkit.EventType = "authn.totp_removed"
	EventTOTPFailed         gdprkit.EventType = "authn.totp_failed"
	EventTOTPVerified       gdprkit.EventType = "authn.totp_verified"
	EventRecoveryGenerated  gdprkit.EventType = "authn.recovery_codes_generated"
	EventRecoveryUsed       gdprkit.EventType = "authn.recovery_code_used"
	EventRecoveryFailed     gdprkit.EventType = "authn.recovery_code_failed"
	EventTokenCreated       gdprkit.EventType = "authn.token_created"
	EventTokenRevoked       gdprkit.EventType = "authn.token_revoked"
	EventTokenUsed          gdprkit.EventType = "authn.token_authenticated"
	EventTokenFailed        gdprkit.EventType = "authn.token_failed"
	EventSessionsRevoked    gdprkit.EventType = "authn.sessions_revoked"
	EventAccountRevoked     gdprkit.EventType = "authn.account_revoked"
	EventAccountDeleted     gdprkit.EventType = "authn.account_deleted"
	EventLogout             gdprkit.EventType = "authn.logout"
	EventSessionRejected    gdprkit.EventType = "authn.session_rejected"
	EventAPIPasswordRefused gdprkit.EventType = "authn.api_password_refused"
)

// gates asks the account gate and the IP gate.
func (s *Service) gates(ctx context.Context, account gdprkit.AccountID, surface gdprkit.Surface, ip netip.Addr) error {
	if s.accounts != nil {
		if err := s.accounts.AllowLogin(ctx, account); err != nil {
			s.event(ctx, account, EventAccountDenied, "", map[string]string{"surface": string(surface), "reason": reason(err)})
			return fmt.Errorf("authn: account may not log in: %w", err)
		}
	}
	if s.ips != nil {
		if err := s.ips.AllowIP(ctx, account, surface, ip); err != nil {
			s.event(ctx, account, EventIPDenied, "", map[string]string{"surface": string(surface)})
			return fmt.Errorf("authn: address may not reach %s: %w", surface, err)
		}
	}
	return nil
}

func reason(err error) string {
	switch {
	case errors.Is(err, gdprkit.ErrAccountSuspended):
		return "suspended"
	case errors.Is(err, gdprkit.ErrAccountTerminated):
		return "terminated"
	case errors.Is(err, gdprkit.ErrForbidden):
		return "forbidden"
	}
	return "error"
}

// beginAttempt counts an attempt of factor f before it is checked, or
// refuses it with a *ThrottledError.
func (s *Service) beginAttempt(ctx context.Context, account gdprkit.AccountID, user string, f Factor) error {
	for range 16 {
		t, err := s.st.Throttle(ctx, account, user, f)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if err := s.cfg.Throttle.check(f, t, now); err != nil {
			s.event(ctx, account, EventLocked, user, map[string]string{"factor": string(f), "failures": strconv.Itoa(t.Failures)})
			return err
		}
		ok, err := s.st.SwapThrottle(ctx, account, user, f, t.Failures, Throttle{Failures: t.Failures + 1, Last: now})
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return &ThrottledError{Factor: f, Until: s.clock.Now().Add(s.cfg.Throttle.Base)}
}

// forgive resets the counter after a success; a failure is only logged.
func (s *Service) forgive(ctx context.Context, account gdprkit.AccountID, user string, f Factor) {
	if err := s.st.ResetThrottle(ctx, account, user, f); err != nil {
		s.log.Warn("authn: cannot reset throttle", "factor", string(f), "err", err)
	}
}

// dummyHash returns a hash at current parameters of a random password,
// verified for unknown users so they cost what a wrong password costs.
func (s *Service) dummyHash(ctx context.Context) string {
	s.dummyOnce.Do(func() {
		var b [16]byte
		_, _ = rand.Read(b[:])
		h, err := s.hasher.hash(context.WithoutCancel(ctx), string(b[:]))
		if err != nil {
			panic("authn: cannot compute the dummy hash: " + err.Error())
		}
		s.dummy = h
	})
	return s.dummy
}

// CreateUser stores the credentials of a new user: userID is the host's
// key, username the login name (compared case-insensitively after NFKC),
// password checked against the policy. Errors: gdprkit.ErrInvalid (with a
// *PolicyError for a weak password), ErrConflict for a taken ID or username.
func (s *Service) CreateUser(ctx context.Context, account gdprkit.AccountID, userID, username, password string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	name, err := s.canonicalUsername(username)
	if err != nil {
		return err
	}
	if err := s.policy.Check(password, name); err != nil {
		return err
	}
	h, err := s.hasher.hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	if err := s.st.CreateUser(ctx, account, User{ID: userID, Username: name, PasswordHash: h, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		return fmt.Errorf("authn: create user: %w", err)
	}
	s.event(ctx, account, EventUserCreated, userID, nil)
	return nil
}

// HashPassword returns the argon2id PHC string of password (NFKC-normalised)
// at the configured parameters, waiting for a KDF slot. It does not apply
// the password policy. Hosts use it to provision users in bulk through
// ImportUser.
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	return s.hasher.hash(ctx, password)
}

// ImportUser stores a user with an existing password hash (argon2id PHC or
// bcrypt $2a$/$2b$/$2y$), as when migrating from another system. The hash
// is upgraded to the current argon2id policy at the user's next successful
// login. A hash that cannot be parsed or exceeds Limits is refused with
// ErrInvalid.
func (s *Service) ImportUser(ctx context.Context, account gdprkit.AccountID, userID, username, hash string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	name, err := s.canonicalUsername(username)
	if err != nil {
		return err
	}
	if err := s.hasher.checkHash(hash); err != nil {
		return err
	}
	now := s.clock.Now()
	if err := s.st.CreateUser(ctx, account, User{ID: userID, Username: name, PasswordHash: hash, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		return fmt.Errorf("authn: import user: %w", err)
	}
	s.event(ctx, account, EventUserCreated, userID, map[string]string{"imported": "true"})
	return nil
}

// SetPassword replaces a user's password (an administrator's reset or the
// end of a reset flow). It checks the policy, clears the password lock, and
// revokes all the user's sessions and API tokens.
func (s *Service) SetPassword(ctx context.Context, account gdprkit.AccountID, userID, password string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	u, err := s.st.User(ctx, account, userID)
	if err != nil {
		return fmt.Errorf("authn: set password: %w", err)
	}
	return s.setPassword(ctx, account, u, password)
}

func (s *Service) setPassword(ctx context.Context, account gdprkit.AccountID, u User, password string) error {
	if err := s.policy.Check(password, u.Username); err != nil {
		return err
	}
	h, err := s.hasher.hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	if err := s.st.SetPassword(ctx, account, u.ID, h, now); err != nil {
		return fmt.Errorf("authn: set password: %w", err)
	}
	s.forgive(ctx, account, u.ID, FactorPassword)
	s.event(ctx, account, EventPasswordChanged, u.ID, nil)
	_, err = s.revokeUser(ctx, account, u.ID, "password_changed")
	return err
}

// ChangePassword replaces the password after checking the current one
// (throttled like a login). All sessions and tokens of the user are revoked;
// the host logs the user in again. A wrong current password wraps
// gdprkit.ErrUnauthenticated.
func (s *Service) ChangePassword(ctx context.Context, account gdprkit.AccountID, userID, current, password string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	u, err := s.st.User(ctx, account, userID)
	if err != nil {
		return fmt.Errorf("authn: change password: %w", err)
	}
	if err := s.policy.Check(password, u.Username); err != nil {
		return err
	}
	if _, err := s.checkPassword(ctx, account, u, current); err != nil {
		return err
	}
	return s.setPassword(ctx, account, u, password)
}

// checkPassword verifies password for a known user with throttling, and
// upgrades a weak hash on success. It returns u with PasswordHash set to
// the hash now stored: the upgraded one when the rehash took effect, so
// that a login challenge sealed next is bound to what openChallenge will
// read.
func (s *Service) checkPassword(ctx context.Context, account gdprkit.AccountID, u User, password string) (User, error) {
	if err := s.beginAttempt(ctx, account, u.ID, FactorPassword); err != nil {
		return User{}, err
	}
	ok, rehash, err := s.hasher.verify(ctx, u.PasswordHash, password)
	if err != nil {
		if errors.Is(err, ErrHashFormat) {
			s.log.Error("authn: stored password hash unusable", "err", err)
		}
		s.event(ctx, account, EventLoginFailed, u.ID, map[string]string{"reason": "verify_error"})
		return User{}, fmt.Errorf("%w: %w", gdprkit.ErrUnauthenticated, err)
	}
	if !ok || u.Disabled {
		r := "bad_password"
		if ok {
			r = "disabled"
		}
		s.event(ctx, account, EventLoginFailed, u.ID, map[string]string{"reason": r, "factor": string(FactorPassword)})
		return User{}, fmt.Errorf("%w: wrong username or password", gdprkit.ErrUnauthenticated)
	}
	s.forgive(ctx, account, u.ID, FactorPassword)
	if rehash {
		if h, ok := s.rehash(ctx, account, u, password); ok {
			u.PasswordHash = h
		}
	}
	return u, nil
}

// rehash upgrades a weak hash and returns the new hash when the
// compare-and-set stored it; failure never fails the login.
func (s *Service) rehash(ctx context.Context, account gdprkit.AccountID, u User, password string) (string, bool) {
	h, err := s.hasher.hash(ctx, password)
	if err == nil {
		var ok bool
		ok, err = s.st.RehashPassword(ctx, account, u.ID, u.PasswordHash, h)
		if err == nil && ok {
			s.event(ctx, account, EventPasswordRehashed, u.ID, nil)
			return h, true
		}
	}
	if err != nil {
		s.log.Warn("authn: password rehash failed; login continues", "err", err)
	}
	return "", false
}

// DisableUser stops the user from authenticating and revokes all their
// sessions and tokens. EnableUser undoes the first part only.
func (s *Service) DisableUser(ctx context.Context, account gdprkit.AccountID, userID string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.st.SetUserDisabled(ctx, account, userID, true); err != nil {
		return fmt.Errorf("authn: disable user: %w", err)
	}
	s.event(ctx, account, EventUserDisabled, userID, nil)
	_, err := s.revokeUser(ctx, account, userID, "disabled")
	return err
}

// EnableUser lets a disabled user authenticate again.
func (s *Service) EnableUser(ctx context.Context, account gdprkit.AccountID, userID string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.st.SetUserDisabled(ctx, account, userID, false); err != nil {
		return fmt.Errorf("authn: enable user: %w", err)
	}
	s.event(ctx, account, EventUserEnabled, userID, nil)
	return nil
}

// Unlock clears every throttle counter of the user (an administrator's
// action after a lock).
func (s *Service) Unlock(ctx context.Context, account gdprkit.AccountID, userID string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.st.ResetThrottle(ctx, account, userID, ""); err != nil {
		return fmt.Errorf("authn: unlock: %w", err)
	}
	s.event(ctx, account, EventUnlocked, userID, nil)
	return nil
}

// RevokeUser ends all sessions and revokes all API tokens of the user.
func (s *Service) RevokeUser(ctx context.Context, account gdprkit.AccountID, userID string) (Counts, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return Counts{}, err
	}
	return s.revokeUser(ctx, account, userID, "requested")
}

func (s *Service) revokeUser(ctx context.Context, account gdprkit.AccountID, userID, why string) (Counts, error) {
	c, err := s.st.RevokeUser(ctx, account, userID, s.clock.Now())
	if err != nil {
		return c, fmt.Errorf("authn: revoke sessions and tokens: %w", err)
	}
	s.event(ctx, account, EventSessionsRevoked, userID, map[string]string{
		"reason": why, "sessions": strconv.Itoa(c.Sessions), "tokens": strconv.Itoa(c.Tokens)})
	return c, nil
}

// EraseUser deletes every credential, TOTP record, recovery code, API token,
// session and throttle counter of the user and returns the counts. Erasing
// an unknown user is not an error (the counts are zero), so erasure can be
// retried.
func (s *Service) EraseUser(ctx context.Context, account gdprkit.AccountID, userID string) (Counts, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return Counts{}, err
	}
	c, err := s.st.DeleteUser(ctx, account, userID)
	if err != nil {
		return c, fmt.Errorf("authn: erase user: %w", err)
	}
	s.event(ctx, account, EventUserErased, userID, countAttrs(c))
	return c, nil
}

// CountUser counts the user's stored credentials, TOTP records, recovery
// codes, API tokens, sessions and throttle counters, as EraseUser would
// delete them (for an erasure plan or a subject access report).
func (s *Service) CountUser(ctx context.Context, account gdprkit.AccountID, userID string) (Counts, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return Counts{}, err
	}
	return s.st.CountUser(ctx, account, userID)
}

// Credentials returns the Service seen as the erasure package's
// credentials target interface: CountUser and EraseUser by subject,
// returning a total count.
func (s *Service) Credentials() Credentials { return Credentials{s} }

// Credentials adapts a Service to package erasure (CredentialsTarget): a
// subject's credentials are counted and erased as one total.
type Credentials struct{ s *Service }

// CountUser returns the number of authn records of the user.
func (c Credentials) CountUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error) {
	n, err := c.s.CountUser(ctx, account, string(user))
	return n.Total(), err
}

// EraseUser deletes every authn record of the user and returns how many
// there were; erasing again finds 0.
func (c Credentials) EraseUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error) {
	n, err := c.s.EraseUser(ctx, account, string(user))
	return n.Total(), err
}

// EraseAccount deletes every authn record of the account and returns how
// many there were, for account deletion through the erasure graph.
func (c Credentials) EraseAccount(ctx context.Context, account gdprkit.AccountID) (int, error) {
	n, err := c.s.DeleteAccount(ctx, account)
	return n.Total(), err
}

// RevokeAccount ends every session and revokes every API token of the
// account, as when it is suspended. Credentials and TOTP stay, so the
// account's users can log in again once the AccountGate allows it.
func (s *Service) RevokeAccount(ctx context.Context, account gdprkit.AccountID) (Counts, error) {
	if err := account.Validate(); err != nil {
		return Counts{}, err
	}
	c, err := s.st.RevokeAccount(ctx, account, s.clock.Now())
	if err != nil {
		return c, fmt.Errorf("authn: revoke account: %w", err)
	}
	s.event(ctx, account, EventAccountRevoked, "", countAttrs(c))
	return c, nil
}

// DeleteAccount removes all authn data of the account.
func (s *Service) DeleteAccount(ctx context.Context, account gdprkit.AccountID) (Counts, error) {
	if err := account.Validate(); err != nil {
		return Counts{}, err
	}
	c, err := s.st.DeleteAccount(ctx, account)
	if err != nil {
		return c, fmt.Errorf("authn: delete account: %w", err)
	}
	s.usageMu.Lock()
	delete(s.usage, account)
	s.usageMu.Unlock()
	s.event(ctx, account, EventAccountDeleted, "", countAttrs(c))
	return c, nil
}

func countAttrs(c Counts) map[string]string {
	return map[string]string{
		"users": strconv.Itoa(c.Users), "totp": strconv.Itoa(c.TOTP),
		"recovery_codes": strconv.Itoa(c.RecoveryCodes), "tokens": strconv.Itoa(c.Tokens),
		"sessions": strconv.Itoa(c.Sessions), "throttles": strconv.Itoa(c.Throttles),
	}
}
