package erasure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Directory tells the engine who is who in an account. The host's user
// store implements it (memhelpdesk has one).
type Directory interface {
	// Lookup describes one user, or returns an error wrapping
	// gdprkit.ErrNotFound for an unknown one.
	Lookup(ctx context.Context, account gdprkit.AccountID, id gdprkit.SubjectID) (Subject, error)
	// Subjects returns up to limit users after the position cursor ("" for
	// the first page), in any order that is stable across calls, and the
	// cursor of the next page ("" when there is none).
	Subjects(ctx context.Context, account gdprkit.AccountID, cursor string, limit int) (ids []gdprkit.SubjectID, next string, err error)
}

// Subject is a user as the Directory knows them.
type Subject struct {
	// ID is the subject's ID in requests, holds and pseudonyms.
	ID gdprkit.SubjectID
	// Role places the subject in the role hierarchy.
	Role gdprkit.Role
	// Class names which kind of person this is, for hosts that keep
	// people in several tables with keys of their own ("customer" keyed
	// by a login string, "agent" by an integer): root targets whose
	// TargetInfo.Classes is not empty run only for subjects of those
	// classes. "" is the default class.
	Class string
	// Key is what root targets find the subject's records by (the
	// customer's login, the agent's integer ID). Default: ID.
	Key gdprkit.SubjectID
	// Keys are the subject's other keys by name, for tables that name
	// the same person another way ({"login": "nvogel"} for an agent keyed
	// by an integer whose sessions name their login): a root target asks
	// for one by name (sqltarget Spec.SubjectKey).
	Keys map[string]gdprkit.SubjectID
}

// Notifier is a recipient of personal data (a processor, an integration)
// that must hear of an erasure (Art. 19). Notify must be idempotent: after
// a crash it may be called again for the same request.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

// Recipient is a registered processor or integration.
type Recipient struct {
	// Name identifies the recipient in receipts ("mailchimp").
	Name     string
	Notifier Notifier
}

// Notification is what a recipient is told. It carries the subject's
// identifier, which the recipient needs to find the person; it is never
// stored.
type Notification struct {
	Account   gdprkit.AccountID
	RequestID string
	Subject   gdprkit.SubjectID
	SubjectPS gdprkit.Pseudonym
	ErasedAt  time.Time
}

// Config configures a Service. Store, Graph, Directory and Pseudonymizer
// are required; every other zero value is a documented default.
type Config struct {
	// Store keeps requests, jobs, receipts, tombstones and holds. Required.
	Store Store
	// Graph is the cascade. Required.
	Graph *Graph
	// Directory resolves roles and lists users. Required.
	Directory Directory
	// Pseudonymizer derives receipts' and tombstones' pseudonyms. Required;
	// keep its key stable.
	Pseudonymizer *gdprkit.Pseudonymizer
	// Rules override targets' default rules by kind.
	Rules map[Kind]Rule
	// ReassignTo is the agent who takes over an erased agent's open
	// tickets. Default: "" — the unassigned queue, which also takes the
	// tickets of the ReassignTo agent themselves when they are erased.
	ReassignTo gdprkit.SubjectID
	// Recipients are notified of every completed erasure.
	Recipients []Recipient
	// BackupRetention is how long backups are kept; receipts say erased
	// data is gone from backups this long after completion. Default: 30
	// days.
	BackupRetention time.Duration
	// BatchSize is how many records one step handles at a time.
	// Default: 500.
	BatchSize int
	// Lease is how long a claimed job stays with its worker without a
	// checkpoint. Default: 5 minutes.
	Lease time.Duration
	// VerifyBatch is how many erasure jobs Work (and RunBatch) carries
	// through their erase phase before verifying them together: one
	// residue search with every job's identifiers (one scan per bound
	// table, one walk of the blob store) stands for all of them when it
	// finds nothing; when it finds anything, each job is verified alone,
	// as RunOnce does. A batch stops claiming once it has run for a third
	// of the Lease, and renews the leases of the jobs waiting in it.
	// Default: 16; 1 verifies every job alone.
	VerifyBatch int
	// MaxAttempts is how many failed runs a job gets before it is marked
	// failed, for errors a retry may cure (the database unreachable, a
	// lost connection, records changing underneath). Default: 20.
	// Retries back off from 1 s, doubling, up to 1 h.
	MaxAttempts int
	// MaxPermanentAttempts is how many runs a job gets when its error is
	// one a retry cannot cure (a constraint violation, an invalid
	// binding, a refused action: see Permanent). Default: 2, the second
	// after a short backoff in case the cause was a transient schema
	// change. A failed job can be retried by hand with Service.Retry.
	MaxPermanentAttempts int
	// Clock supplies time. Default: gdprkit.SystemClock.
	Clock gdprkit.Clock
	// Audit receives erasure.* events. Default: discard.
	Audit gdprkit.AuditSink
	// Logger receives operational messages, never personal data.
	// Default: discard.
	Logger *slog.Logger

	// Rectifier applies the corrections of rectification requests
	// (Art. 16). Default: nil, and Submit refuses rectification requests.
	Rectifier Rectifier
	// Objector stops processing for the purposes objection requests name
	// (Art. 21); erasure/kitdata.Objector withdraws consent. Default:
	// nil, and Submit refuses objection requests.
	Objector Objector

	// Physical are the post-erasure physical steps (physical.go), run in
	// order after an erasure job's last batch and before its receipt,
	// which records them, then again after the receipt; and after
	// EraseAccount. erasure/sqltarget's Binding.Compact checkpoints
	// SQLite, VACUUMs on PostgreSQL and OPTIMIZEs on MySQL what an erasure
	// touched. Default: none.
	Physical []PhysicalStep
}

// Service plans and carries out erasure and access requests. It is safe
// for concurrent use; any number of processes may run workers on one
// store.
type Service struct {
	store Store
	cfg   Config
	clock gdprkit.Clock
	audit gdprkit.AuditSink
	log   *slog.Logger
}

// New returns a Service. It validates cfg.Rules against the graph and
// returns an error wrapping gdprkit.ErrInvalid for a bad config.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Graph == nil || cfg.Directory == nil || cfg.Pseudonymizer == nil {
		return nil, fmt.Errorf("%w: erasure: Config.Store, Graph, Directory and Pseudonymizer are required", gdprkit.ErrInvalid)
	}
	for k, r := range cfg.Rules {
		info, ok := cfg.Graph.infos[k]
		if !ok {
			return nil, fmt.Errorf("%w: rule for unknown kind %q", gdprkit.ErrInvalid, k)
		}
		if err := r.validate(k, info); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, r := range cfg.Recipients {
		if r.Name == "" || r.Notifier == nil || seen[r.Name] {
			return nil, fmt.Errorf("%w: recipients need a unique name and a notifier", gdprkit.ErrInvalid)
		}
		seen[r.Name] = true
	}
	if cfg.BackupRetention <= 0 {
		cfg.BackupRetention = 30 * 24 * time.Hour
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Minute
	}
	if cfg.VerifyBatch <= 0 {
		cfg.VerifyBatch = 16
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 20
	}
	if cfg.MaxPermanentAttempts <= 0 {
		cfg.MaxPermanentAttempts = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: cfg.Store, cfg: cfg, clock: gdprkit.ClockOrSystem(cfg.Clock),
		audit: gdprkit.SinkOrDiscard(cfg.Audit), log: cfg.Logger}, nil
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) emit(ctx context.Context, account gdprkit.AccountID, typ gdprkit.EventType, by gdprkit.ActorID, ps gdprkit.Pseudonym, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: typ, Time: s.now(), Actor: by, Subject: ps, Attrs: attrs}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.Warn("erasure: audit sink failed", "type", string(typ), "err", err)
	}
}

// lookup resolves a subject through the Directory; an unknown subject
// (an anonymous chat visitor named by e-mail) is an end user of the
// default class whose key is their ID.
func (s *Service) lookup(ctx context.Context, account gdprkit.AccountID, id gdprkit.SubjectID) (Subject, bool, error) {
	sub, err := s.cfg.Directory.Lookup(ctx, account, id)
	if errors.Is(err, gdprkit.ErrNotFound) {
		return Subject{ID: id, Role: gdprkit.RoleEndUser, Key: id}, false, nil
	}
	if err != nil {
		return Subject{}, false, fmt.Errorf("erasure: look up a subject: %w", err)
	}
	sub.ID = id
	if sub.Key == "" {
		sub.Key = id
	}
	return sub, true, nil
}

// Authorize reports whether by may erase subject within scope, following
// the role hierarchy: the owner and admins may erase any user they
// outrank (admins: agents and end users; the owner: admins too), agents
// may erase end users, and a customer may erase their own portal profile
// (ScopePortal). The account owner cannot be erased while the account
// lives. Anything else returns an error wrapping gdprkit.ErrForbidden.
// It returns the subject's role (RoleEndUser for a subject the directory
// does not know, such as an anonymous chat visitor).
func (s *Service) Authorize(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID, subject gdprkit.SubjectID, scope Scope) (gdprkit.Role, error) {
	sub, err := s.authorize(ctx, account, by, subject, scope)
	return sub.Role, err
}

func (s *Service) authorize(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID, subject gdprkit.SubjectID, scope Scope) (Subject, error) {
	sub, _, err := s.lookup(ctx, account, subject)
	if err != nil {
		return Subject{}, err
	}
	if sub.Role == gdprkit.RoleOwner {
		return Subject{}, fmt.Errorf("%w: the account owner cannot be erased while the account lives", gdprkit.ErrForbidden)
	}
	actor, known, err := s.lookup(ctx, account, gdprkit.SubjectID(by))
	if err != nil {
		return Subject{}, err
	}
	if !known {
		return Subject{}, fmt.Errorf("%w: unknown actor", gdprkit.ErrForbidden)
	}
	switch {
	case actor.Role.AtLeast(gdprkit.RoleAgent) && actor.Role.Outranks(sub.Role):
		return sub, nil
	case gdprkit.SubjectID(by) == subject && sub.Role == gdprkit.RoleEndUser && scope == ScopePortal:
		return sub, nil
	}
	return Subject{}, fmt.Errorf("%w: %s may not erase %s (scope %s)", gdprkit.ErrForbidden, article(actor.Role), article(sub.Role), scope)
}

// article returns "an admin", "a customer": the role with its article.
func article(r gdprkit.Role) string {
	n := r.String()
	switch n {
	case "end_user":
		n = "end user"
	}
	if n != "" && strings.ContainsRune("aeiou", rune(n[0])) {
		return "an " + n
	}
	return "a " + n
}

// reassignee checks the agent who is to take over the subject's work: they
// must exist, be an agent or above, and not be the subject (who means the
// unassigned queue). It returns their key ("" for the queue).
func (s *Service) reassignee(ctx context.Context, account gdprkit.AccountID, to, subject gdprkit.SubjectID) (gdprkit.SubjectID, error) {
	if to == "" || to == subject {
		return "", nil
	}
	if err := to.Validate(); err != nil {
		return "", err
	}
	a, known, err := s.lookup(ctx, account, to)
	if err != nil {
		return "", err
	}
	if !known {
		return "", fmt.Errorf("%w: the agent to reassign work to (%q) does not exist", gdprkit.ErrInvalid, truncate(string(to), 64))
	}
	if !a.Role.AtLeast(gdprkit.RoleAgent) {
		return "", fmt.Errorf("%w: work can be reassigned only to an agent, not to %s", gdprkit.ErrInvalid, article(a.Role))
	}
	return a.Key, nil
}

// Receipt returns the receipt of a completed erasure request.
func (s *Service) Receipt(ctx context.Context, account gdprkit.AccountID, requestID string) (Receipt, error) {
	if err := account.Validate(); err != nil {
		return Receipt{}, err
	}
	return s.store.ReceiptFor(ctx, account, requestID)
}

// SubjectPseudonym returns the keyed pseudonym receipts, tombstones and
// events use for subject.
func (s *Service) SubjectPseudonym(account gdprkit.AccountID, subject gdprkit.SubjectID) gdprkit.Pseudonym {
	return s.cfg.Pseudonymizer.Subject(account, subject)
}

// actorOf is the actor recorded in events: "subject" when the subject acts
// on their own request, so events never carry the subject's identifier.
func actorOf(by gdprkit.ActorID, subject gdprkit.SubjectID) gdprkit.ActorID {
	if gdprkit.SubjectID(by) == subject {
		return "subject"
	}
	return by
}

// check runs every target's Check (Caps.Check) once for run with the
// rules a request will apply: a binding that no longer matches its
// database, or rules it cannot apply safely, are refused before anything
// is written.
func (s *Service) check(ctx context.Context, run string, rules map[Kind]Rule) error {
	return s.checkWith(ctx, CheckRequest{Run: run, Rules: rules})
}

// checkWith is check with the whole request (CheckRequest.Cached).
func (s *Service) checkWith(ctx context.Context, c CheckRequest) error {
	rules := c.Rules
	if rules == nil {
		rules = s.accountRules()
	}
	for _, k := range s.cfg.Graph.order {
		if !s.cfg.Graph.infos[k].Caps.Check {
			continue
		}
		if err := s.cfg.Graph.byKind[k].Check(ctx, CheckRequest{Run: c.Run, Rules: rules, Cached: c.Cached}); err != nil {
			return fmt.Errorf("erasure: target %s refuses the request: %w", k, err)
		}
	}
	return nil
}
