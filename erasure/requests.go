package erasure

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

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
		// The rules are judged on the schema the binding read last: the
		// job reads it again before its first write.
		if err := s.checkWith(ctx, CheckRequest{Run: "submit-" + gdprkit.NewID(), Rules: rules, Cached: true}); err != nil {
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
