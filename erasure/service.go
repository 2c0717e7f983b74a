package erasure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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

// Submission is a request as it arrives.
type Submission struct {
	Type    RequestType
	Subject gdprkit.SubjectID
	// Scope defaults to ScopeFull.
	Scope Scope
	// By is who files it: an agent, an admin, or the subject.
	By gdprkit.ActorID
	// Verified says the subject's identity was already verified; if not,
	// call VerifyIdentity before the erasure job runs.
	Verified bool
	// ReceivedAt defaults to now.
	ReceivedAt time.Time
	// Rules override Config.Rules and the targets' defaults for this
	// request only.
	Rules map[Kind]Rule
	// ReassignTo overrides Config.ReassignTo (the subject themselves means
	// the unassigned queue). It must name an existing agent or above:
	// Submit refuses anything else with gdprkit.ErrInvalid, so the job never
	// fails half-way on it.
	ReassignTo gdprkit.SubjectID
	// Corrections are what a rectification request asks to correct or
	// complete (1 to MaxCorrections); only TypeRectification takes them.
	Corrections []Correction
	// Purposes are the consent purposes an objection objects to (1 to
	// MaxPurposes purpose keys); only TypeObjection takes them.
	Purposes []string
	// Channel is how the request arrived (ChannelWeb, ChannelEmail, …);
	// "" leaves it unrecorded.
	Channel Channel
	// ChannelNote says more about the channel in a few words ("the DPO
	// mailbox"); required for ChannelOther. See CheckNote.
	ChannelNote string
	// Identity is how the identity was verified, for a submission with
	// Verified set (a logged-in subject filing for themself:
	// IdentitySession). Unverified submissions carry none: their evidence
	// comes with VerifyIdentityWith.
	Identity Evidence
}

// Submit records a request. For an erasure, rectification, restriction
// or objection it also creates its job in the same transaction; the job
// runs once the identity is verified. Who may file an erasure follows
// Authorize; any other request may be filed by the subject themself or by
// anyone Authorize allows. Bad input returns an error wrapping
// gdprkit.ErrInvalid and records nothing.
func (s *Service) Submit(ctx context.Context, account gdprkit.AccountID, sub Submission) (Request, error) {
	if err := account.Validate(); err != nil {
		return Request{}, err
	}
	if err := sub.Subject.Validate(); err != nil {
		return Request{}, err
	}
	if err := sub.By.Validate(); err != nil {
		return Request{}, err
	}
	if sub.Scope == "" {
		sub.Scope = ScopeFull
	}
	if sub.Scope != ScopeFull && sub.Scope != ScopePortal {
		return Request{}, fmt.Errorf("%w: unknown scope %q", gdprkit.ErrInvalid, sub.Scope)
	}
	if err := s.validRights(sub); err != nil {
		return Request{}, err
	}
	if err := validIntake(sub); err != nil {
		return Request{}, err
	}
	if sub.Scope == ScopePortal {
		if _, ok := s.cfg.Graph.infos[KindPortalProfile]; !ok {
			return Request{}, fmt.Errorf("%w: the graph has no %s target", gdprkit.ErrInvalid, KindPortalProfile)
		}
	}
	rules, err := s.rules(sub.Rules)
	if err != nil {
		return Request{}, err
	}
	var subject Subject
	if sub.Type != TypeErasure && gdprkit.SubjectID(sub.By) == sub.Subject {
		subject, _, err = s.lookup(ctx, account, sub.Subject)
	} else {
		subject, err = s.authorize(ctx, account, sub.By, sub.Subject, sub.Scope)
	}
	if err != nil {
		return Request{}, err
	}
	var job *Job
	var st jobState
	if sub.Type == TypeErasure {
		reassign := sub.ReassignTo
		if reassign == "" {
			reassign = s.cfg.ReassignTo
		}
		key, err := s.reassignee(ctx, account, reassign, sub.Subject)
		if err != nil {
			return Request{}, err
		}
		st = jobState{Rules: rules, ReassignTo: reassign, ReassignKey: key, Scope: sub.Scope, Class: subject.Class, Key: subject.Key, Keys: subject.Keys}
		if st.Key == sub.Subject {
			st.Key = ""
		}
		if err := s.check(ctx, "submit-"+gdprkit.NewID(), rules); err != nil {
			return Request{}, err
		}
	}
	now := s.now()
	if sub.ReceivedAt.IsZero() {
		sub.ReceivedAt = now
	}
	sub.ReceivedAt = sub.ReceivedAt.UTC().Truncate(time.Microsecond)
	r := Request{ID: gdprkit.NewID(), Type: sub.Type, Subject: sub.Subject, SubjectPS: s.cfg.Pseudonymizer.Subject(account, sub.Subject),
		SubjectRole: subject.Role, Scope: sub.Scope, RequestedBy: sub.By, ReceivedAt: sub.ReceivedAt, Verified: sub.Verified,
		DueAt: DueDate(sub.ReceivedAt, 0), Status: StatusOpen, Channel: sub.Channel, ChannelNote: sub.ChannelNote, Identity: sub.Identity}
	if sub.Verified {
		r.VerifiedAt = now
	}
	if sub.Type == TypeErasure {
		body, err := json.Marshal(&st)
		if err != nil {
			return Request{}, err
		}
		job = &Job{ID: gdprkit.NewID(), Account: account, RequestID: r.ID, Status: JobWaiting, NextRunAt: now, State: body, CreatedAt: now, UpdatedAt: now}
		if sub.Verified {
			job.Status = JobQueued
		}
		r.JobID = job.ID
	}
	if job == nil {
		if job, err = s.rightsJob(account, &r, sub, subject, now); err != nil {
			return Request{}, err
		}
	}
	if err := s.store.CreateRequest(ctx, account, r, job); err != nil {
		return Request{}, fmt.Errorf("erasure: submit: %w", err)
	}
	s.emit(ctx, account, "erasure.requested", actorOf(sub.By, sub.Subject), r.SubjectPS, map[string]string{"request": r.ID, "type": string(r.Type),
		"scope": string(r.Scope), "due": r.DueAt.Format(time.DateOnly), "verified": strconv.FormatBool(r.Verified)})
	return r, nil
}

// rules merges the targets' defaults, Config.Rules and overrides.
func (s *Service) rules(over map[Kind]Rule) (map[Kind]Rule, error) {
	out := make(map[Kind]Rule, len(s.cfg.Graph.infos))
	for k, info := range s.cfg.Graph.infos {
		out[k] = info.Default
		if r, ok := s.cfg.Rules[k]; ok {
			out[k] = r
		}
	}
	for k, r := range over {
		info, ok := s.cfg.Graph.infos[k]
		if !ok {
			return nil, fmt.Errorf("%w: rule for unknown kind %q", gdprkit.ErrInvalid, k)
		}
		if err := r.validate(k, info); err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, nil
}

// Request returns one request.
func (s *Service) Request(ctx context.Context, account gdprkit.AccountID, id string) (Request, error) {
	if err := account.Validate(); err != nil {
		return Request{}, err
	}
	return s.store.Request(ctx, account, id)
}

// VerifyIdentity records that the requester's identity was verified;
// the erasure job becomes runnable. It records no method: prefer
// VerifyIdentityWith, which keeps the evidence of the check.
func (s *Service) VerifyIdentity(ctx context.Context, account gdprkit.AccountID, id string, by gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	return s.verify(ctx, account, id, by, Evidence{})
}

// Extend extends an open request's due date once, by one or two months,
// with a reason (Art. 12(3)). A second extension returns an error wrapping
// gdprkit.ErrConflict.
func (s *Service) Extend(ctx context.Context, account gdprkit.AccountID, id string, months int, reason string, by gdprkit.ActorID) (Request, error) {
	if err := account.Validate(); err != nil {
		return Request{}, err
	}
	if months < 1 || months > 2 {
		return Request{}, fmt.Errorf("%w: a request may be extended by one or two months, not %d", gdprkit.ErrInvalid, months)
	}
	if strings.TrimSpace(reason) == "" || len(reason) > 1000 {
		return Request{}, fmt.Errorf("%w: an extension needs a reason of at most 1000 bytes", gdprkit.ErrInvalid)
	}
	r, err := s.store.Request(ctx, account, id)
	if err != nil {
		return Request{}, err
	}
	due := DueDate(r.ReceivedAt, months)
	if err := s.store.ExtendRequest(ctx, account, id, due, reason); err != nil {
		return Request{}, fmt.Errorf("erasure: extend: %w", err)
	}
	s.emit(ctx, account, "erasure.extended", by, r.SubjectPS, map[string]string{"request": id, "months": strconv.Itoa(months), "due": due.Format(time.DateOnly)})
	return s.store.Request(ctx, account, id)
}

// Reject closes an open request without acting (for example when the
// identity could not be verified); its job is cancelled.
func (s *Service) Reject(ctx context.Context, account gdprkit.AccountID, id string, by gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	if err := s.store.CloseRequest(ctx, account, id, StatusRejected, s.now()); err != nil {
		return fmt.Errorf("erasure: reject: %w", err)
	}
	s.emit(ctx, account, "erasure.rejected", by, "", map[string]string{"request": id})
	return nil
}

// Requests lists the account's requests matching f, ordered by due date.
func (s *Service) Requests(ctx context.Context, account gdprkit.AccountID, f RequestFilter) ([]Request, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Requests(ctx, account, f)
}

// Overdue lists open requests whose due date has passed, earliest first.
func (s *Service) Overdue(ctx context.Context, account gdprkit.AccountID) ([]Request, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Requests(ctx, account, RequestFilter{OpenOnly: true, DueBefore: s.now()})
}

// DueSoon lists open requests due within d that are not yet overdue,
// earliest first.
func (s *Service) DueSoon(ctx context.Context, account gdprkit.AccountID, d time.Duration) ([]Request, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	now := s.now()
	rs, err := s.store.Requests(ctx, account, RequestFilter{OpenOnly: true, DueBefore: now.Add(d)})
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if !r.DueAt.Before(now) {
			out = append(out, r)
		}
	}
	return out, nil
}

// HoldSpec describes a new legal hold: either Subject, or Kind and
// RecordID (a ticket).
type HoldSpec struct {
	Subject   gdprkit.SubjectID
	Kind      Kind
	RecordID  string
	Ground    string
	Reason    string
	By        gdprkit.ActorID
	ExpiresAt time.Time
}

// PlaceHold stores a legal hold. Held records are kept by every erasure
// until the hold expires or is released.
func (s *Service) PlaceHold(ctx context.Context, account gdprkit.AccountID, h HoldSpec) (Hold, error) {
	if err := account.Validate(); err != nil {
		return Hold{}, err
	}
	if err := h.By.Validate(); err != nil {
		return Hold{}, err
	}
	if strings.TrimSpace(h.Ground) == "" || len(h.Ground) > 500 || len(h.Reason) > 2000 {
		return Hold{}, fmt.Errorf("%w: a hold needs a ground (≤ 500 bytes) and a reason of at most 2000 bytes", gdprkit.ErrInvalid)
	}
	out := Hold{ID: gdprkit.NewID(), Ground: h.Ground, Reason: h.Reason, CreatedBy: h.By, CreatedAt: s.now(), ExpiresAt: h.ExpiresAt.UTC().Truncate(time.Microsecond)}
	switch {
	case h.Subject != "" && h.Kind == "" && h.RecordID == "":
		if err := h.Subject.Validate(); err != nil {
			return Hold{}, err
		}
		out.SubjectPS = s.cfg.Pseudonymizer.Subject(account, h.Subject)
	case h.Subject == "" && h.Kind != "" && h.RecordID != "" && len(h.RecordID) <= 256:
		if _, ok := s.cfg.Graph.infos[h.Kind]; !ok {
			return Hold{}, fmt.Errorf("%w: hold on unknown kind %q", gdprkit.ErrInvalid, h.Kind)
		}
		out.Kind, out.RecordID = h.Kind, h.RecordID
	default:
		return Hold{}, fmt.Errorf("%w: a hold is on a subject or on one record (kind and ID)", gdprkit.ErrInvalid)
	}
	if !out.ExpiresAt.IsZero() && !out.ExpiresAt.After(out.CreatedAt) {
		return Hold{}, fmt.Errorf("%w: hold expires in the past", gdprkit.ErrInvalid)
	}
	if err := s.store.PutHold(ctx, account, out); err != nil {
		return Hold{}, fmt.Errorf("erasure: place hold: %w", err)
	}
	s.emit(ctx, account, "erasure.hold_placed", h.By, out.SubjectPS, map[string]string{"hold": out.ID, "kind": string(out.Kind)})
	return out, nil
}

// ReleaseHold ends a hold, and makes due at once the follow-up erasures
// that were waiting for it: what the hold kept is erased now, with a
// receipt of its own.
func (s *Service) ReleaseHold(ctx context.Context, account gdprkit.AccountID, id string, by gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	if err := s.store.ReleaseHold(ctx, account, id, s.now()); err != nil {
		return fmt.Errorf("erasure: release hold: %w", err)
	}
	s.emit(ctx, account, "erasure.hold_released", by, "", map[string]string{"hold": id})
	return s.wakeFollowUps(ctx, account, id)
}

// wakeFollowUps makes the follow-ups waiting for hold due now: the erasure
// a hold kept back finishes once it is released.
func (s *Service) wakeFollowUps(ctx context.Context, account gdprkit.AccountID, hold string) error {
	rs, err := s.store.Requests(ctx, account, RequestFilter{OpenOnly: true})
	if err != nil {
		return fmt.Errorf("erasure: find follow-ups: %w", err)
	}
	for _, r := range rs {
		if r.RequestedBy != "system:hold" || r.JobID == "" {
			continue
		}
		j, err := s.store.Job(ctx, account, r.JobID)
		if err != nil {
			return err
		}
		var st jobState
		if j.Status != JobQueued || json.Unmarshal(j.State, &st) != nil {
			continue
		}
		for _, id := range st.WaitHolds {
			if id == hold {
				if err := s.store.WakeJob(ctx, account, j.ID, s.now()); err != nil && !errors.Is(err, gdprkit.ErrConflict) {
					return fmt.Errorf("erasure: wake a follow-up: %w", err)
				}
				break
			}
		}
	}
	return nil
}

// ActiveHolds returns the holds in force now.
func (s *Service) ActiveHolds(ctx context.Context, account gdprkit.AccountID) ([]Hold, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	hs, err := s.store.Holds(ctx, account)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := hs[:0]
	for _, h := range hs {
		if h.Active(now) {
			out = append(out, h)
		}
	}
	return out, nil
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
	if rules == nil {
		rules = s.accountRules()
	}
	for _, k := range s.cfg.Graph.order {
		if !s.cfg.Graph.infos[k].Caps.Check {
			continue
		}
		if err := s.cfg.Graph.byKind[k].Check(ctx, CheckRequest{Run: run, Rules: rules}); err != nil {
			return fmt.Errorf("erasure: target %s refuses the request: %w", k, err)
		}
	}
	return nil
}
