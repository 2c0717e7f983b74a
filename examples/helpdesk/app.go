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
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store/sqlstore"
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
	// TrustedProxies, when set, lets ipfilter read X-Forwarded-For from
	// these peers. Default: none; the TCP peer is the client.
	Proxy ipfilter.ProxyConfig
	// SendPortalLink e-mails a customer the link to their portal after they
	// write through the contact form (link is a path on this app). Only a
	// new customer in demo mode is shown the link on the page instead:
	// anyone may type an existing customer's address into the form, and
	// the link opens that customer's tickets and data. Without it, outside
	// that case, the link is not handed out at all.
	SendPortalLink func(ctx context.Context, email, link string) error
}

// App is the helpdesk: the gdprkit services, the host's own tables and the
// HTTP handlers. It needs no network to be tested.
type App struct {
	cfg     Config
	acct    gdprkit.AccountID
	db      *sql.DB
	dialect sqldb.Dialect
	store   *sqlstore.Store
	clock   gdprkit.Clock
	fake    Advancer
	audit   *gdprkit.MemoryAudit
	log     *slog.Logger

	Auth      *authn.Service
	Consent   *consent.Service
	Erasure   *erasure.Service
	IPs       *ipfilter.Filter
	Life      *retention.Service
	Sweeper   *retention.Sweeper
	Schedules *retention.Schedules
	Spam      *spam.Filter
	Blobs     *fsblob.Store
	prechat   *consent.PreChat
	authnCfg  authn.Config         // what authn.New was given, for the record of processing
	Breaches  *breach.Service      // handlers_breach.go
	Support   *staffaccess.Service // handlers_staffaccess.go
	outbox    *noticeOutbox
	compact   erasure.PhysicalStep // after each erasure: SQLite checkpoint, VACUUM / OPTIMIZE (docs/physical-erasure.md)

	csrfKey   []byte
	portalKey []byte
	pages     map[string]*template.Template
	handler   http.Handler
	idMu      sync.Mutex
}

// subkey derives a purpose-specific key from the root secret.
func subkey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("gdprkit-helpdesk/" + label))
	return m.Sum(nil)
}

// NewApp builds the app: it migrates gdprkit's tables, creates the hd_
// tables, binds them to the erasure graph and wires every service to one
// clock and one audit log.
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
	a := &App{cfg: cfg, acct: cfg.Account, db: cfg.DB, dialect: cfg.Dialect, log: cfg.Logger, audit: &gdprkit.MemoryAudit{}}
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
	st, err := sqlstore.New(cfg.DB, cfg.Dialect, sqlstore.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate gdprkit: %w", err)
	}
	a.store = st
	if err := a.createHostTables(ctx); err != nil {
		return nil, fmt.Errorf("create hd_ tables: %w", err)
	}
	ps, err := gdprkit.NewPseudonymizer(subkey(cfg.Secret, "pseudonyms"))
	if err != nil {
		return nil, err
	}
	a.csrfKey = subkey(cfg.Secret, "csrf")
	a.portalKey = subkey(cfg.Secret, "portal")

	if a.Life, err = retention.New(retention.Config{Store: st.Retention(), Clock: a.clock, Audit: a.audit, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	if a.IPs, err = ipfilter.New(ipfilter.Config{Store: st.IPFilter(), Clock: a.clock, Audit: a.audit, Logger: cfg.Logger,
		Pseudonymizer: ps, Proxy: cfg.Proxy, StepUp: stepUpGate{a}}); err != nil {
		return nil, err
	}
	keys, err := authn.NewKeyRing("k1", map[string][]byte{"k1": subkey(cfg.Secret, "totp")})
	if err != nil {
		return nil, err
	}
	a.authnCfg = authn.Config{Store: st.Authn(), Keys: keys, Clock: a.clock, Audit: a.audit, Logger: cfg.Logger,
		Pseudonymizer: ps, AccountGate: a.Life, IPGate: a.IPs, Argon2: cfg.Argon2, Issuer: "gdprkit Helpdesk",
		ContextWords: []string{"helpdesk", "gdprkit"}}
	if a.Auth, err = authn.New(a.authnCfg); err != nil {
		return nil, err
	}
	if a.Consent, err = consent.New(st.Consent(), consent.Config{Pseudonymizer: ps, Clock: a.clock, Audit: a.audit, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	if a.Spam, err = spam.New(st.Spam(), spam.Config{Key: subkey(cfg.Secret, "spam"), Clock: a.clock, Audit: a.audit, Logger: cfg.Logger, Refresh: -1}); err != nil {
		return nil, err
	}
	if a.Blobs, err = fsblob.New(fsblob.Config{Dir: cfg.BlobDir}); err != nil {
		return nil, err
	}
	targets, err := a.erasureTargets(ctx)
	if err != nil {
		return nil, fmt.Errorf("erasure targets: %w", err)
	}
	graph, err := erasure.NewGraph(markProvided(targets)...) // handlers_rights.go
	if err != nil {
		return nil, err
	}
	if a.Erasure, err = erasure.New(erasure.Config{Store: st.Erasure(), Graph: graph, Directory: directory{a}, Pseudonymizer: ps,
		Clock: a.clock, Audit: a.audit, Logger: cfg.Logger, Rectifier: userRectifier{a}, Objector: kitdata.Objector(a.Consent), Physical: []erasure.PhysicalStep{a.compact}}); err != nil {
		return nil, err
	}
	if a.Sweeper, err = retention.NewSweeper(a.Life, retention.SweeperConfig{Owner: "helpdesk",
		ConfigRemover: retention.ConfigRemoverFunc(a.removeConfig),
		HostEraser: retention.DataEraserFunc(func(ctx context.Context, acct gdprkit.AccountID) error {
			_, err := a.Erasure.EraseAccount(ctx, acct)
			return err
		}),
		BackupExpirer: retention.BackupExpirerFunc(func(context.Context, gdprkit.AccountID) error { return nil }),
	}); err != nil {
		return nil, err
	}
	if a.Schedules, err = retention.NewSchedules(retention.ScheduleConfig{Store: st.Retention(), Clock: a.clock, Audit: a.audit, Logger: cfg.Logger,
		Targets: map[retention.TargetKind]retention.Target{
			retention.KindTicket:   ticketRetention{a: a, statuses: []string{"open", "closed", "spam"}},
			retention.KindHeldSpam: ticketRetention{a: a, statuses: []string{"spam"}},
		},
		// The demo clock jumps by days at a click; the schedules screen
		// shows the guard and its confirm button when it trips.
		MaxClockJump: 90 * 24 * time.Hour,
	}); err != nil {
		return nil, err
	}
	if _, err := processing.New(a.processingConfig()); err != nil { // every bound kind declares its data categories
		return nil, fmt.Errorf("record of processing: %w", err)
	}
	if err := a.initAccountability(ps); err != nil {
		return nil, err
	}
	a.prechat = &consent.PreChat{Consent: a.Consent, Purposes: []string{purposeSupport, purposeNewsletter}, Required: []string{purposeSupport}}
	if err := a.parseTemplates(); err != nil {
		return nil, err
	}
	a.handler = a.routes()
	return a, nil
}

// stepUpGate lets ipfilter ask authn, built after it, whether the admin
// changing IP rules stepped up recently.
type stepUpGate struct{ a *App }

func (g stepUpGate) CheckStepUp(ctx context.Context, account gdprkit.AccountID, actor gdprkit.ActorID, session string) error {
	return g.a.Auth.CheckStepUp(ctx, account, actor, session)
}

// systemActor is who retention rules act as.
const systemActor = retention.SystemActor

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

// RunWorkers runs the erasure worker and the retention sweeper until ctx
// ends: erasure jobs are polled every second, the sweeper runs every
// minute.
func (a *App) RunWorkers(ctx context.Context) {
	go func() {
		if err := a.Erasure.Work(ctx, "helpdesk-worker", time.Second); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("erasure worker stopped", "err", err)
		}
	}()
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			if _, err := a.Sweeper.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("retention sweep", "err", err)
			}
			if _, err := a.Schedules.Run(ctx, a.acct); err != nil && ctx.Err() == nil && !errors.Is(err, gdprkit.ErrNotFound) &&
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

// RunErasureJobs runs queued erasure jobs until none is due (tests and
// the privacy page's "run now" call it synchronously).
func (a *App) RunErasureJobs(ctx context.Context) error {
	for {
		did, err := a.Erasure.RunOnce(ctx, "helpdesk-inline")
		if err != nil || !did {
			return err
		}
	}
}

// removeConfig is retention's StepRemoveConfig: the account's configuration
// (IP rules, retention rules, API tokens and sessions) goes.
func (a *App) removeConfig(ctx context.Context, acct gdprkit.AccountID) error {
	if err := a.IPs.DeleteAccount(ctx, acct, retention.SystemActor); err != nil {
		return err
	}
	if _, err := a.Auth.RevokeAccount(ctx, acct); err != nil {
		return err
	}
	rules, err := a.Schedules.Rules(ctx, acct)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := a.Schedules.RemoveRule(ctx, acct, r.ID, retention.SystemActor); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			return err
		}
	}
	return nil
}

// erasureTargets binds the hd_ tables and the attachment folder to the
// standard helpdesk graph, checked against the live schema.
func (a *App) erasureTargets(ctx context.Context) ([]erasure.Target, error) {
	anon := erasure.Rule{Action: erasure.Anonymize}
	acct := "account_id"
	b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: a.db, Dialect: a.dialect,
		Specs: categorise([]sqltarget.Spec{
			{Kind: erasure.KindEndUser, Table: "hd_users", Key: "id", SubjectColumn: "id", AccountColumn: acct, Description: "user profile: name, e-mail",
				Identifiers: map[string]string{"email": "email", "name": "name"}},
			{Kind: erasure.KindPortalProfile, Parent: erasure.KindEndUser, Table: "hd_portal_profiles", Key: "user_id", ParentColumn: "user_id", AccountColumn: acct,
				Description: "customer-portal profile: language, portal access"},
			{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "hd_tickets", Key: "id", ParentColumn: "requester_id", AccountColumn: acct,
				Description: "tickets the user opened",
				Columns:     []sqltarget.Column{{Name: "requester_id", Action: sqltarget.Null}, {Name: "requester_name", Action: sqltarget.Fixed, Value: "Former user"}}},
			{Kind: erasure.KindMessage, Parent: erasure.KindTicket, Table: "hd_messages", Key: "id", ParentColumn: "ticket_id", AccountColumn: acct,
				Description: "messages of those tickets"},
			{Kind: erasure.KindAttachment, Parent: erasure.KindMessage, Table: "hd_attachments", Key: "id", ParentColumn: "message_id", AccountColumn: acct,
				Description: "attachment records"},
			{Kind: erasure.KindAgentProfile, Table: "hd_agent_profiles", Key: "user_id", SubjectColumn: "user_id", AccountColumn: acct,
				Description: "agent profile: signature"},
			{Kind: erasure.KindAssignedTicket, Table: "hd_tickets", Key: "id", SubjectColumn: "assignee_id", AccountColumn: acct, Default: anon, Actions: []erasure.Action{erasure.Anonymize},
				Description: "tickets assigned to the agent: reassigned (to the request's agent, or the unassigned queue)",
				Columns:     []sqltarget.Column{{Name: "assignee_id", Action: sqltarget.Reassign}}},
			{Kind: erasure.KindAuthoredMessage, Table: "hd_messages", Key: "id", SubjectColumn: "author_id", AccountColumn: acct, Default: anon,
				Description: "messages the user wrote in other people's tickets: authorship anonymised",
				Columns:     []sqltarget.Column{{Name: "author_id", Action: sqltarget.Null}, {Name: "author_name", Action: sqltarget.Label}}},
		}),
		Blobs: []sqltarget.BlobSpec{{Kind: erasure.KindBlob, Parent: erasure.KindAttachment, Table: "hd_attachments", KeyColumn: "blob_key",
			ParentColumn: "id", AccountColumn: acct, Store: a.Blobs}},
	})
	if err != nil {
		return nil, err
	}
	a.compact = b.Compact(sqltarget.CompactOptions{})
	return append(b.Targets(),
		kitdata.ConsentTarget(a.Consent),
		kitdata.CredentialsTarget(a.Auth.Credentials()),
		kitdata.ActorRefsTarget("ip_rule_author", "IP allow/deny entries the user added: kept, authorship anonymised", a.IPs),
		kitdata.SpamLessonTarget(a.Spam, erasure.KindMessage, a.spamTrained),
	), nil
}

// directory is erasure's view of hd_users.
type directory struct{ a *App }

func (d directory) Lookup(ctx context.Context, acct gdprkit.AccountID, u gdprkit.SubjectID) (erasure.Subject, error) {
	if u == gdprkit.SubjectID(systemActor) {
		return erasure.Subject{ID: u, Role: gdprkit.RoleAdmin, Key: u}, nil // the retention rules act as an admin
	}
	usr, err := d.a.user(ctx, acct, string(u))
	if err != nil {
		return erasure.Subject{}, err
	}
	return erasure.Subject{ID: u, Role: usr.GRole(), Key: u}, nil
}

func (d directory) Subjects(ctx context.Context, acct gdprkit.AccountID, cursor string, limit int) ([]gdprkit.SubjectID, string, error) {
	rows, err := d.a.db.QueryContext(ctx, d.a.q("SELECT id FROM hd_users WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?"), string(acct), cursor, limit)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []gdprkit.SubjectID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, "", err
		}
		out = append(out, gdprkit.SubjectID(id))
	}
	next := ""
	if len(out) == limit {
		next = string(out[len(out)-1])
	}
	return out, next, rows.Err()
}
