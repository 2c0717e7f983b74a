package main

// wiring.go is the part of this example a host copies: gdprkit's services
// over the host's own database. binding.go describes the host's tables to
// the erasure graph and callbacks.go holds the few calls gdprkit makes back
// into the host (a host writes its own from both); the rest is the
// helpdesk itself: hostdb/ holds its tables and queries, the other files
// here its HTTP server.

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Kit is gdprkit as the helpdesk uses it: one service per concern, on one
// clock, one audit sink and the host's database.
type Kit struct {
	Store     *sqlstore.Store
	Auth      *authn.Service
	OwnerAuth *authn.Service
	Consent   *consent.Service
	Erasure   *erasure.Service
	IPs       *ipfilter.Filter
	Life      *retention.Service
	Sweeper   *retention.Sweeper
	Schedules *retention.Schedules
	Spam      *spam.Filter
	Blobs     *fsblob.Store
	// AuthnConfig and Pseudonyms are what authn was given and the keyed
	// pseudonyms every service uses (the record of processing, the
	// breach register).
	AuthnConfig authn.Config
	Pseudonyms  *gdprkit.Pseudonymizer
	consent     consent.Config
}

// KitConfig is what the wiring needs from the host.
type KitConfig struct {
	Host    *hostdb.DB           // the host's tables; gdprkit's gdpr_ tables share its database
	BlobDir string               // attachment files, one folder per account
	Keys    func(string) []byte  // a stable 32-byte key per purpose, derived from the host's secret
	Clock   gdprkit.Clock        // time for every service
	Audit   gdprkit.AuditSink    // where every service's events go
	Logger  *slog.Logger         // operational messages, never personal data
	Proxy   ipfilter.ProxyConfig // which proxies may name the client's address
	Argon2  authn.Argon2Params   // password hashing cost (zero: authn's default)
}

// NewKit migrates gdprkit's tables and builds every service. The host's
// tables are bound to the erasure graph and checked against the live
// schema: sqltarget.Bind refuses a binding that a foreign key would break.
func NewKit(ctx context.Context, c KitConfig) (k *Kit, err error) {
	k = &Kit{}
	if k.Store, err = sqlstore.New(c.Host.SQL(), c.Host.Dialect(), sqlstore.Options{Logger: c.Logger}); err == nil {
		err = k.Store.Migrate(ctx)
	}
	ps, perr := gdprkit.NewPseudonymizer(c.Keys("pseudonyms"))
	keys, kerr := authn.NewKeyRing("k1", map[string][]byte{"k1": c.Keys("totp")})
	if err = errors.Join(err, perr, kerr); err != nil {
		return nil, err
	}
	if k.Life, err = retention.New(retention.Config{Store: k.Store.Retention(), Clock: c.Clock, Audit: c.Audit, Logger: c.Logger}); err != nil {
		return nil, err
	}
	if k.IPs, err = ipfilter.New(ipfilter.Config{Store: k.Store.IPFilter(), Clock: c.Clock, Audit: c.Audit, Logger: c.Logger, Pseudonymizer: ps,
		Proxy: c.Proxy, StepUp: stepUp{k}}); err != nil {
		return nil, err
	}
	k.Pseudonyms = ps
	ac := authn.Config{Store: k.Store.Authn(), Keys: keys, Clock: c.Clock, Audit: c.Audit, Logger: c.Logger, Pseudonymizer: ps,
		IPGate: k.IPs, Argon2: c.Argon2, Issuer: "gdprkit Helpdesk", ContextWords: []string{"helpdesk", "gdprkit"},
		MaxConcurrentHashes: hashSlots()}
	if k.OwnerAuth, err = authn.New(ac); err != nil { // without the lifecycle gate: only to reinstate a suspended account
		return nil, err
	}
	ac.AccountGate = k.Life
	k.AuthnConfig = ac
	if k.Auth, err = authn.New(ac); err != nil {
		return nil, err
	}
	k.consent = consent.Config{Store: k.Store.Consent(), Pseudonymizer: ps, Clock: c.Clock, Audit: c.Audit, Logger: c.Logger}
	if k.Consent, err = consent.New(k.consent); err != nil {
		return nil, err
	}
	if k.Spam, err = spam.New(spam.Config{Store: k.Store.Spam(), Key: c.Keys("spam"), Clock: c.Clock, Audit: c.Audit, Logger: c.Logger, Refresh: -1}); err != nil {
		return nil, err
	}
	if k.Blobs, err = fsblob.New(fsblob.Config{Dir: c.BlobDir}); err != nil {
		return nil, err
	}
	cfg := binding(c.Host, k.Blobs)
	cfg.Specs = categorise(cfg.Specs) // what categories of personal data each table holds, for the record of processing
	b, err := sqltarget.Bind(ctx, cfg)
	if err != nil {
		return nil, err
	}
	graph, err := erasure.NewGraph(markProvided(append(b.Targets(), kitdata.ConsentTarget(k.Consent), kitdata.CredentialsTarget(k.Auth.Credentials()),
		kitdata.ActorRefsTarget("ip_rule_author", "IP allow/deny entries the person added: kept, author removed", k.IPs),
		kitdata.SpamLessonTarget(k.Spam, erasure.KindMessage, c.Host.SpamTrained)))...)
	if err != nil {
		return nil, err
	}
	if k.Erasure, err = erasure.New(erasure.Config{Store: k.Store.Erasure(), Graph: graph, Directory: c.Host.Directory(), Pseudonymizer: ps,
		Clock: c.Clock, Audit: c.Audit, Logger: c.Logger, Rectifier: c.Host.Rectifier(), Objector: kitdata.Objector(k.Consent),
		// After each erasure: SQLite checkpoint, VACUUM / OPTIMIZE of the touched tables (docs/physical-erasure.md).
		Physical: []erasure.PhysicalStep{b.Compact(sqltarget.CompactOptions{})}}); err != nil {
		return nil, err
	}
	if k.Sweeper, err = retention.NewSweeper(retention.SweeperConfig{Service: k.Life, Owner: "helpdesk", ConfigRemover: retention.ConfigRemoverFunc(k.removeConfig),
		Eraser: retention.DataEraserFunc(func(ctx context.Context, a gdprkit.AccountID) error {
			_, err := k.Erasure.EraseAccount(ctx, a)
			return err
		}),
	}); err != nil {
		return nil, err
	}
	k.Schedules, err = retention.NewSchedules(retention.ScheduleConfig{Store: k.Store.Retention(), Clock: c.Clock, Audit: c.Audit, Logger: c.Logger,
		Targets: map[retention.TargetKind]retention.Target{
			retention.KindTicket:   c.Host.AgedTickets([]string{hostdb.StatusOpen, hostdb.StatusClosed, hostdb.StatusSpam}, k.deleteTickets),
			retention.KindHeldSpam: c.Host.AgedTickets([]string{hostdb.StatusSpam}, k.deleteTickets)},
		MaxClockJump: 90 * 24 * time.Hour}) // the demo clock jumps by days; the schedules screen shows the guard when it trips
	return k, err
}

// ConsentIn returns the consent service for the host's open transaction
// tx: it records inside tx (sqlstore's WithTx), so consent commits, or
// rolls back, with the host's rows. Its audit events wait in the returned
// HeldAudit: send them on with Release once the host has committed, and
// drop them when it rolls back, so the audit log names no record that was
// never stored.
func (k *Kit) ConsentIn(tx *sql.Tx) (*consent.Service, *HeldAudit, error) {
	held := &HeldAudit{to: k.consent.Audit}
	cfg := k.consent
	cfg.Audit = held
	cfg.Store = k.Store.WithTx(tx).Consent()
	svc, err := consent.New(cfg)
	return svc, held, err
}

// hashSlots is how many password hashes run at once: half the cores, at
// least one. A sign-in's argon2id hash takes a core for about 50 ms; the
// load test's 4% of sign-ins took more than half of the helpdesk's CPU,
// and two hashes at once took both cores of a 2-core machine from every
// page and from the contact form holding the consent chain's lock.
// Sign-ins past the slots wait their turn (authn.Config.MaxConcurrentHashes).
func hashSlots() int {
	return max(1, runtime.GOMAXPROCS(0)/2)
}
