package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// Config is what NewApp needs. DB, Dialect, BlobDir and Secret are required.
type Config struct {
	// DB is the host's database; gdprkit's gdpr_ tables and the example's
	// hd_ tables live side by side in it.
	DB      *sql.DB
	Dialect sqldb.Dialect
	// BlobDir holds attachment files (one folder per account).
	BlobDir string
	// Secret (at least 32 bytes) is the root of every key the app derives:
	// pseudonyms, TOTP sealing, spam hashing, CSRF and portal links. Keep it
	// stable: a new secret cannot read TOTP secrets sealed with the old one.
	Secret []byte
	// Account is the helpdesk account the app serves. Default "demo".
	Account gdprkit.AccountID
	// Demo turns on the demo clock control (the clock is a fakeclock).
	Demo bool
	// Clock is the app's clock. Default: in demo mode a DemoClock that
	// follows real time (so authenticator apps' codes match) and jumps
	// forward when told; otherwise the system clock. A Clock with an
	// Advance method (fakeclock, DemoClock) drives the demo clock control.
	Clock gdprkit.Clock
	// TLS marks cookies Secure and sends HSTS.
	TLS bool
	// Argon2 parameters for passwords. Default authn.DefaultArgon2.
	Argon2 authn.Argon2Params
	// Logger gets operational messages. Default: discard.
	Logger *slog.Logger
	// Proxy, when it names trusted proxies, lets ipfilter read
	// X-Forwarded-For from them. Default: none; the TCP peer is the client.
	Proxy ipfilter.ProxyConfig
	// SendPortalLink e-mails a customer the link to their portal after they
	// write through the contact form (link is a path on this app). Only a
	// new customer in demo mode is shown the link on the page instead:
	// anyone may type an existing customer's address into the form, and
	// the link opens that customer's tickets and data. Without it, outside
	// that case, the link is not handed out at all.
	SendPortalLink func(ctx context.Context, email, link string) error
	// ContactRate limits contact-form submissions per client address:
	// at most Burst at once, refilled at PerMinute. Default 10 and 6.
	ContactRate Rate
	// RequestTimeout bounds how long a request may wait for the database
	// (a free connection included) before it is answered 503 with
	// Retry-After. Default 30 s; negative: no bound.
	RequestTimeout time.Duration
	// MaxActive caps the requests served at once; the others wait in
	// arrival order (admission.go) within RequestTimeout. Default: twice
	// the database pool's MaxOpenConns, or 32 when the pool has no cap;
	// negative: no cap.
	MaxActive int
}

// Rate is a token-bucket limit.
type Rate struct {
	Burst     int
	PerMinute float64
}

// App is the helpdesk's HTTP server: its own tables (hostdb), gdprkit
// (Kit, built in wiring.go) and the handlers. It needs no network to be
// tested.
type App struct {
	cfg   Config
	acct  gdprkit.AccountID
	host  *hostdb.DB
	kit   *Kit
	clock gdprkit.Clock
	fake  Advancer
	audit *auditLog
	log   *slog.Logger

	csrfKey   []byte
	portalKey []byte
	flashKey  []byte
	pages     map[string]*template.Template
	handler   http.Handler
	contact   *limiter
	admission *admission
	// consentQueue is the contact form's turn to append to the consent
	// chain (consentTurn): a few at once.
	consentQueue chan struct{}

	Breaches *breach.Service      // handlers_breach.go
	Support  *staffaccess.Service // handlers_staffaccess.go
	outbox   *noticeOutbox
}

// subkey derives a purpose-specific key from the root secret.
func subkey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("gdprkit-helpdesk/" + label))
	return m.Sum(nil)
}

// NewApp builds the app: it creates the hd_ tables, wires gdprkit to them
// (wiring.go) and builds the handlers.
func NewApp(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DB == nil || cfg.BlobDir == "" || len(cfg.Secret) < 32 {
		return nil, fmt.Errorf("%w: helpdesk: DB, BlobDir and a 32-byte Secret are required", gdprkit.ErrInvalid)
	}
	if cfg.Account == "" {
		cfg.Account = "demo"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.ContactRate.Burst <= 0 {
		cfg.ContactRate = Rate{Burst: 10, PerMinute: 6}
	}
	a := &App{cfg: cfg, acct: cfg.Account, log: cfg.Logger}
	a.clock = cfg.Clock
	if a.clock == nil {
		a.clock = gdprkit.SystemClock{}
		if cfg.Demo {
			a.clock = &DemoClock{}
		}
	}
	if adv, ok := a.clock.(Advancer); ok && cfg.Demo {
		a.fake = adv
	}
	var err error
	if a.host, err = hostdb.New(cfg.DB, cfg.Dialect, a.clock); err != nil {
		return nil, err
	}
	if err := a.host.Migrate(ctx); err != nil {
		return nil, err
	}
	a.audit = newAuditLog(a.host, cfg.Logger)
	if a.kit, err = NewKit(ctx, KitConfig{Host: a.host, BlobDir: cfg.BlobDir, Keys: func(l string) []byte { return subkey(cfg.Secret, l) },
		Clock: a.clock, Audit: a.audit, Logger: cfg.Logger, Proxy: cfg.Proxy, Argon2: cfg.Argon2}); err != nil {
		return nil, fmt.Errorf("wire gdprkit: %w", err)
	}
	if _, err := processing.New(a.processingConfig()); err != nil { // every bound kind declares its data categories
		return nil, fmt.Errorf("record of processing: %w", err)
	}
	if err := a.initAccountability(a.kit.Pseudonyms); err != nil {
		return nil, err
	}
	a.csrfKey, a.portalKey, a.flashKey = subkey(cfg.Secret, "csrf"), subkey(cfg.Secret, "portal"), subkey(cfg.Secret, "flash")
	a.contact = newLimiter(cfg.ContactRate, a.clock)
	if cfg.MaxActive == 0 {
		cfg.MaxActive = 32
		if n := cfg.DB.Stats().MaxOpenConnections; n > 0 {
			cfg.MaxActive = 2 * n
		}
		a.cfg.MaxActive = cfg.MaxActive
	}
	a.admission = newAdmission(cfg.MaxActive)
	a.consentQueue = make(chan struct{}, consentAppendsAtOnce)
	if err := a.parseTemplates(); err != nil {
		return nil, err
	}
	a.handler = a.routes()
	return a, nil
}

// The consent purposes of the contact form.
const (
	purposeSupport    = "support"
	purposeNewsletter = "newsletter"
)

// ServeHTTP serves the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// now is the app's time.
func (a *App) now() time.Time { return a.clock.Now().UTC() }

// Advancer is a clock the demo clock control can move forward.
type Advancer interface {
	gdprkit.Clock
	Advance(d time.Duration) time.Time
}

// DemoClock is real time plus an offset that only grows: the demo clock
// control jumps it forward by days while TOTP codes from a phone keep
// matching (a frozen fakeclock would reject them after 30 seconds).
type DemoClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the real time plus the offset, in UTC at microseconds.
func (c *DemoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Truncate(time.Microsecond).Add(c.offset)
}

// Advance moves the clock forward by d and returns the new time.
func (c *DemoClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	return c.Now()
}

// RunWorkers runs, until ctx ends, the erasure worker (polling every
// second), the retention sweeper and rules (every minute), the purge of
// login-throttle counters and expired sessions (every hour, PurgeLoginState),
// the refresh of the planner's statistics (every statsEvery,
// RefreshStatistics) and the audit log's writer.
func (a *App) RunWorkers(ctx context.Context) {
	go a.audit.run(ctx)
	go func() {
		t := time.NewTicker(statsEvery)
		defer t.Stop()
		for {
			if err := a.RefreshStatistics(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("refresh the planner's statistics", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	go func() {
		if err := a.kit.Erasure.Work(ctx, "helpdesk-worker", time.Second); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("erasure worker stopped", "err", err)
		}
	}()
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		var purged time.Time
		for {
			if now := time.Now(); now.Sub(purged) >= time.Hour {
				purged = now
				if err := a.PurgeLoginState(ctx); err != nil && ctx.Err() == nil {
					a.log.Error("login state purge", "err", err)
				}
			}
			if _, err := a.kit.Sweeper.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("retention sweep", "err", err)
			}
			if _, err := a.kit.Schedules.Run(ctx, a.acct); err != nil && ctx.Err() == nil && !errors.Is(err, gdprkit.ErrNotFound) &&
				!errors.Is(err, gdprkit.ErrLeaseLost) && !errors.Is(err, retention.ErrClockJump) {
				a.log.Error("retention rules", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// statsEvery is how often RunWorkers looks for tables whose statistics
// are missing or stale; when none are, a look is one catalog query.
const statsEvery = 5 * time.Second

// RefreshStatistics analyzes the hd_ and gdpr_ tables that never had
// statistics or changed by a tenth since (sqldb.RefreshStatistics; only
// PostgreSQL needs it). Without statistics, PostgreSQL looked a user up
// by ID, a session by its hash and a folder's tickets by status through
// an index on account_id alone, reading every row of the one account, so
// that the load test's pages got slower as tickets grew; the autovacuum
// daemon that would gather them may be off, or not yet round.
func (a *App) RefreshStatistics(ctx context.Context) error {
	hd, err1 := sqldb.RefreshStatistics(ctx, a.host.SQL(), a.host.Dialect(), "hd_")
	gd, err2 := a.kit.Store.RefreshStatistics(ctx)
	if len(hd)+len(gd) > 0 {
		a.log.Info("planner statistics gathered", "tables", strings.Join(append(hd, gd...), " "))
	}
	return errors.Join(err1, err2)
}

// PurgeLoginState deletes the login-throttle counters and the sessions
// that no longer protect or serve anyone (authn's PurgeThrottles and
// PurgeSessions); RunWorkers calls it every hour.
func (a *App) PurgeLoginState(ctx context.Context) error {
	_, err1 := a.kit.Auth.PurgeThrottles(ctx, a.acct)
	_, err2 := a.kit.Auth.PurgeSessions(ctx, a.acct)
	return errors.Join(err1, err2)
}

// RunErasureJobs runs queued erasure jobs until none is due (tests and
// the privacy page's "run now" call it synchronously), and returns the
// first error of a failed run.
func (a *App) RunErasureJobs(ctx context.Context) error {
	_, errs := a.kit.Erasure.RunUntilIdle(ctx, "helpdesk-inline")
	return errors.Join(errs...)
}
