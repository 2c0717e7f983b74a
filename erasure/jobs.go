package erasure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Plan is the dry run of an erasure: what would happen, per kind.
type Plan struct {
	SubjectPS gdprkit.Pseudonym `json:"subject_ps"`
	Scope     Scope             `json:"scope"`
	// Targets has one line per kind, leaf first; Deleted, Anonymized and
	// Kept say what would be deleted, anonymised and kept.
	Targets []PlannedTarget `json:"targets"`
	Holds   []HoldApplied   `json:"holds,omitempty"`
}

// PlannedTarget is one kind's line in a Plan.
type PlannedTarget struct {
	TargetResult
	// Why explains the action: the rule's source and its ground.
	Why string `json:"why"`
}

// Plan counts, without changing anything, what an erasure of subject
// would delete, anonymise and keep, and why. rules override the defaults
// as in Submission.Rules.
func (s *Service) Plan(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, scope Scope, rules map[Kind]Rule) (Plan, error) {
	if err := account.Validate(); err != nil {
		return Plan{}, err
	}
	if err := subject.Validate(); err != nil {
		return Plan{}, err
	}
	if scope == "" {
		scope = ScopeFull
	}
	if scope != ScopeFull && scope != ScopePortal {
		return Plan{}, fmt.Errorf("%w: unknown scope %q", gdprkit.ErrInvalid, scope)
	}
	merged, err := s.rules(rules)
	if err != nil {
		return Plan{}, err
	}
	holds, err := s.ActiveHolds(ctx, account)
	if err != nil {
		return Plan{}, err
	}
	st := &jobState{Rules: merged, Scope: scope}
	w := s.newWalker(account, subject, st, holds)
	w.dry = true
	if err := w.run(ctx); err != nil {
		return Plan{}, err
	}
	p := Plan{SubjectPS: w.ps, Scope: scope, Holds: st.Holds}
	for _, r := range w.results() {
		rule := merged[r.Kind]
		why := "default rule of the target"
		if _, ok := rules[r.Kind]; ok {
			why = "rule of this request"
		} else if _, ok := s.cfg.Rules[r.Kind]; ok {
			why = "account policy"
		}
		why += ": " + string(rule.Action)
		if rule.Ground != "" {
			why += " (" + rule.Ground + ")"
		}
		if r.Kept > 0 && rule.Action != Keep {
			why += "; some records under legal hold"
		}
		p.Targets = append(p.Targets, PlannedTarget{TargetResult: r, Why: why})
	}
	return p, nil
}

// RunOnce claims the job due first, across all accounts, and runs it to
// completion or to its first failure. It reports whether it found a job.
// A failed run is given back with a backoff (and marked failed after
// Config.MaxAttempts); its error is returned too. A run whose lease was
// taken over stops without writing and returns an error wrapping
// gdprkit.ErrLeaseLost.
func (s *Service) RunOnce(ctx context.Context, owner string) (bool, error) {
	token := gdprkit.NewID()
	now := s.now()
	job, err := s.store.ClaimJob(ctx, now, owner, token, now.Add(s.cfg.Lease))
	if errors.Is(err, gdprkit.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("erasure: claim job: %w", err)
	}
	var st jobState
	// saved is the last checkpoint stored: a failed run gives back that,
	// never the half-advanced state in memory.
	saved := job.State
	runErr := json.Unmarshal(job.State, &st)
	if runErr == nil {
		runErr = s.runJob(ctx, job, token, &st, &saved)
	}
	if runErr == nil || errors.Is(runErr, gdprkit.ErrLeaseLost) {
		return true, runErr
	}
	attempts := job.Attempts + 1
	failed := attempts >= s.cfg.MaxAttempts
	body := saved
	backoff := time.Second << min(attempts-1, 12)
	backoff = min(backoff, time.Hour)
	now = s.now()
	msg := runErr.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if err := s.store.RetryJob(ctx, job.Account, job.ID, token, Retry{State: body, Attempts: attempts, LastError: msg,
		Next: now.Add(backoff), Failed: failed, At: now}); err != nil {
		s.log.Warn("erasure: cannot give the job back; its lease will expire", "job", job.ID, "err", err)
	}
	if failed {
		s.emit(ctx, job.Account, "erasure.failed", "", "", map[string]string{"request": job.RequestID, "job": job.ID, "attempts": strconv.Itoa(attempts)})
	}
	s.log.Info("erasure: job run failed; will retry", "job", job.ID, "attempt", attempts, "failed", failed)
	return true, runErr
}

// Work runs jobs until ctx ends, sleeping idle between empty polls.
func (s *Service) Work(ctx context.Context, owner string, idle time.Duration) error {
	if idle <= 0 {
		idle = time.Second
	}
	for {
		found, err := s.RunOnce(ctx, owner)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.log.Debug("erasure: job run ended with an error", "err", err)
		}
		if !found {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(idle):
			}
		}
	}
}

func (s *Service) runJob(ctx context.Context, job Job, token string, st *jobState, saved *[]byte) error {
	req, err := s.store.Request(ctx, job.Account, job.RequestID)
	if err != nil {
		return err
	}
	save := func(ctx context.Context) error {
		body, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := s.store.SaveJob(ctx, job.Account, job.ID, token, body, s.now().Add(s.cfg.Lease)); err != nil {
			return err
		}
		*saved = body
		return nil
	}
	if !st.Erased {
		hs, err := s.ActiveHolds(ctx, job.Account)
		if err != nil {
			return err
		}
		w := s.newWalker(job.Account, req.Subject, st, hs)
		w.save = save
		if err := w.run(ctx); err != nil {
			return err
		}
		if err := save(ctx); err != nil {
			return err
		}
	}
	for _, rc := range s.cfg.Recipients {
		done := false
		for _, n := range st.Notified {
			done = done || n.Recipient == rc.Name
		}
		if done {
			continue
		}
		if err := rc.Notifier.Notify(ctx, Notification{Account: job.Account, RequestID: req.ID, Subject: req.Subject,
			SubjectPS: req.SubjectPS, ErasedAt: s.now()}); err != nil {
			return fmt.Errorf("erasure: notify %s: %w", rc.Name, err)
		}
		st.Notified = append(st.Notified, Notice{Recipient: rc.Name, At: s.now()})
		if err := save(ctx); err != nil {
			return err
		}
		s.emit(ctx, job.Account, "erasure.recipient_notified", "", req.SubjectPS, map[string]string{"request": req.ID, "recipient": rc.Name})
	}
	now := s.now()
	w := s.newWalker(job.Account, req.Subject, st, nil)
	rcpt := Receipt{ID: gdprkit.NewID(), RequestID: req.ID, SubjectPS: req.SubjectPS, Scope: req.Scope,
		ReceivedAt: req.ReceivedAt, CompletedAt: now, Targets: w.results(), Holds: st.Holds, Recipients: st.Notified,
		BackupsExpireBy: now.Add(s.cfg.BackupRetention)}
	for _, t := range rcpt.Targets {
		rcpt.Partial = rcpt.Partial || t.Kept > 0
	}
	tombs := []Tombstone{{Kind: subjectTombstone(req.Scope), Pseudonym: req.SubjectPS, ErasedAt: now, RequestID: req.ID}}
	for _, t := range st.Tombstones {
		tombs = append(tombs, Tombstone{Kind: t.Kind, Pseudonym: t.Pseudonym, ErasedAt: now, RequestID: req.ID})
	}
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	out, err := s.store.FinishJob(ctx, job.Account, job.ID, token, Finish{Receipt: rcpt, Seal: sealReceipt(job.Account),
		Tombstones: tombs, State: body, At: now})
	if err != nil {
		return fmt.Errorf("erasure: finish job: %w", err)
	}
	attrs := map[string]string{"request": req.ID, "receipt_seq": strconv.FormatInt(out.Seq, 10), "partial": strconv.FormatBool(out.Partial)}
	var del, anon, kept int64
	for _, t := range out.Targets {
		del, anon, kept = del+t.Deleted, anon+t.Anonymized, kept+t.Kept
	}
	attrs["deleted"], attrs["anonymized"], attrs["kept"] = strconv.FormatInt(del, 10), strconv.FormatInt(anon, 10), strconv.FormatInt(kept, 10)
	s.emit(ctx, job.Account, "erasure.completed", actorOf(req.RequestedBy, req.Subject), req.SubjectPS, attrs)
	return nil
}

// subjectTombstone is the tombstone kind that records a completed erasure
// of scope: "subject" for a full one, "subject:portal" for a portal one,
// so that ReErase repeats what was done and no more.
func subjectTombstone(sc Scope) string {
	if sc == ScopePortal {
		return "subject:portal"
	}
	return "subject"
}

// ReErase files a verified erasure request, by the system actor
// "system:restore", for every user the directory lists whose pseudonym has
// a subject tombstone dated at or after since: after a backup taken at
// since is restored, one call erases again everyone erased since, in the
// scope they were erased in (a portal-only erasure is repeated portal-only;
// a full one, or both, fully). Role checks do not apply (those people were
// already erased once); the owner is skipped. It returns the requests filed; workers carry them out.
func (s *Service) ReErase(ctx context.Context, account gdprkit.AccountID, since time.Time) ([]Request, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	ts, err := s.store.Tombstones(ctx, account, since.UTC())
	if err != nil {
		return nil, err
	}
	dead := map[gdprkit.Pseudonym]Scope{}
	for _, t := range ts {
		switch t.Kind {
		case subjectTombstone(ScopeFull):
			dead[t.Pseudonym] = ScopeFull
		case subjectTombstone(ScopePortal):
			if dead[t.Pseudonym] == "" {
				dead[t.Pseudonym] = ScopePortal
			}
		}
	}
	var out []Request
	if len(dead) == 0 {
		return nil, nil
	}
	rules, err := s.rules(nil)
	if err != nil {
		return nil, err
	}
	var after gdprkit.SubjectID
	for {
		subs, err := s.cfg.Directory.Subjects(ctx, account, after, 500)
		if err != nil {
			return out, err
		}
		for _, sub := range subs {
			ps := s.cfg.Pseudonymizer.Subject(account, sub)
			scope := dead[ps]
			if scope == "" {
				continue
			}
			role, err := s.cfg.Directory.Role(ctx, account, sub)
			if err != nil || role == gdprkit.RoleOwner {
				continue
			}
			now := s.now()
			r := Request{ID: gdprkit.NewID(), Type: TypeErasure, Subject: sub, SubjectPS: ps, SubjectRole: role, Scope: scope,
				RequestedBy: "system:restore", ReceivedAt: now, Verified: true, VerifiedAt: now, DueAt: DueDate(now, 0), Status: StatusOpen}
			body, err := json.Marshal(&jobState{Rules: rules, ReassignTo: s.cfg.ReassignTo, Scope: scope})
			if err != nil {
				return out, err
			}
			job := &Job{ID: gdprkit.NewID(), Account: account, RequestID: r.ID, Status: JobQueued, NextRunAt: now, State: body, CreatedAt: now, UpdatedAt: now}
			r.JobID = job.ID
			if err := s.store.CreateRequest(ctx, account, r, job); err != nil {
				return out, err
			}
			out = append(out, r)
		}
		if len(subs) < 500 {
			break
		}
		after = subs[len(subs)-1]
	}
	s.emit(ctx, account, "erasure.re_erased", "system:restore", "", map[string]string{"requests": strconv.Itoa(len(out)), "since": since.UTC().Format(time.RFC3339)})
	return out, nil
}
