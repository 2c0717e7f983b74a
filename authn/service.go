package authn

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/cases"

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
	// TrustedDeviceTTL is how long a device token (LoginResult.DeviceToken)
	// keeps a device trusted after the login that issued it; every login
	// from the device renews it. Default 90 days; negative turns trusted
	// devices off (every client is then an untrusted one).
	TrustedDeviceTTL time.Duration
	// LegacyBcryptCost is the bcrypt cost of the hashes you import with
	// ImportUser. While any user may still hold a bcrypt hash, every
	// password check (unknown users and argon2id users too) does one
	// bcrypt run at the highest cost seen, so that timing does not tell a
	// bcrypt user from an unknown one. Default (0): learnt from the bcrypt
	// hashes this Service imports or verifies, which leaves the first check
	// after a restart unpadded; set it to pad from the start. -1: never pad
	// (all bcrypt hashes are gone). At most Limits.MaxBcryptCost.
	LegacyBcryptCost int
	// StepUpWindow is how long after a login or a StepUp a session may make
	// security changes (replace its TOTP, create API tokens, regenerate
	// recovery codes, change IP rules through ipfilter). Default 10 min.
	StepUpWindow time.Duration

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

	budgets *budgets

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
	var err error
	if cfg.Throttle, err = cfg.Throttle.withDefaults(); err != nil {
		return nil, err
	}
	if cfg.TrustedDeviceTTL == 0 {
		cfg.TrustedDeviceTTL = 90 * 24 * time.Hour
	}
	if cfg.StepUpWindow <= 0 {
		cfg.StepUpWindow = 10 * time.Minute
	}
	if cfg.LegacyBcryptCost > l.MaxBcryptCost || (cfg.LegacyBcryptCost > 0 && cfg.LegacyBcryptCost < bcrypt.MinCost) || cfg.LegacyBcryptCost < -1 {
		return nil, fmt.Errorf("%w: LegacyBcryptCost must be -1, 0 or a bcrypt cost up to Limits.MaxBcryptCost", gdprkit.ErrInvalid)
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
		cfg:     cfg,
		fold:    cases.Fold(),
		usage:   map[gdprkit.AccountID]map[string]time.Time{},
		budgets: newBudgets(cfg.Throttle),
	}
	if cfg.LegacyBcryptCost != 0 {
		s.hasher.bcryptCost.Store(int32(cfg.LegacyBcryptCost))
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
