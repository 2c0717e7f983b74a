package erasure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Plan is the dry run of an erasure: what would happen, per kind.
type Plan struct {
	// SubjectPS is the subject's keyed pseudonym.
	SubjectPS gdprkit.Pseudonym `json:"subject_ps"`
	// Scope is the scope planned.
	Scope Scope `json:"scope"`
	// Targets has one line per kind, in the order the kinds will act;
	// Deleted, Anonymized and Kept say what would be deleted, anonymised
	// and kept, and Cascaded what the database would change by itself.
	Targets []PlannedTarget `json:"targets"`
	// Holds lists the legal holds that would keep records.
	Holds []HoldApplied `json:"holds,omitempty"`
	// Estimate is set on a Preview counted with aggregate queries rather
	// than walked (see Service.Preview for how it can differ from Plan).
	Estimate bool `json:"estimate,omitempty"`
}

// PlannedTarget is one kind's line in a Plan.
type PlannedTarget struct {
	TargetResult
	// Why explains the action: the rule's source and its ground.
	Why string `json:"why"`
}

// Permanent reports whether err is one a retry cannot cure: the input or
// binding is invalid, a constraint or trigger refused the write, the action
// is forbidden, a deviation was found. Errors that errors.Is
// gdprkit.ErrUnavailable (the database unreachable, a lost connection, a
// context that ended) are never permanent, nor are errors the engine
// cannot classify.
func Permanent(err error) bool {
	if err == nil || errors.Is(err, gdprkit.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, gdprkit.ErrInvalid) || errors.Is(err, gdprkit.ErrConflict) || errors.Is(err, gdprkit.ErrForbidden) ||
		errors.Is(err, ErrDeviation) || errors.Is(err, gdprkit.ErrNotFound)
}

// RunOnce claims the job due first, across all accounts, and runs it to
// completion or to its first failure. It reports whether it found a job.
// A failed run is given back with a backoff and its error is returned too;
// it is marked failed after Config.MaxAttempts runs, or
// Config.MaxPermanentAttempts when the error is Permanent. Every failed
// run is an audit event (erasure.run_failed), and so is the job's failure
// (erasure.failed). A run whose lease was taken over stops without
// writing and returns an error wrapping gdprkit.ErrLeaseLost.
func (s *Service) RunOnce(ctx context.Context, owner string) (bool, error) {
	runs, err := s.RunBatch(ctx, owner, 1)
	if err != nil || len(runs) == 0 {
		return false, err
	}
	return true, runs[0].Err
}

// waiting is the run result of a follow-up whose holds are still active.
type waiting struct{ until time.Time }

func (w waiting) Error() string { return "erasure: waiting for legal holds to end" }

// holdWait is how long a follow-up waits before it looks at its holds
// again when they have no expiry (ReleaseHold wakes it at once).
const holdWait = 24 * time.Hour

// holdsUntil returns when a follow-up waiting for ids should look again,
// and whether any of them is still active.
func (s *Service) holdsUntil(ctx context.Context, account gdprkit.AccountID, ids []string) (time.Time, bool, error) {
	hs, err := s.ActiveHolds(ctx, account)
	if err != nil {
		return time.Time{}, false, err
	}
	now := s.now()
	next := now.Add(holdWait)
	active := false
	for _, h := range hs {
		for _, id := range ids {
			if h.ID != id {
				continue
			}
			active = true
			if !h.ExpiresAt.IsZero() && h.ExpiresAt.Before(next) {
				next = h.ExpiresAt
			}
		}
	}
	return next, active, nil
}

// farFuture is the due date of a follow-up request: it is due once the
// holds that keep its data end, which nobody knows in advance.
var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// followUp builds the request and job that finish, once the holds it
// applied end, the erasure a partial receipt could not complete.
func (s *Service) followUp(req Request, job Job, st *jobState, now time.Time) (*Request, *Job, error) {
	if len(st.Holds) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(st.Holds))
	for i, h := range st.Holds {
		ids[i] = h.ID
	}
	next := &jobState{Rules: st.Rules, ReassignTo: st.ReassignTo, ReassignKey: st.ReassignKey, Scope: st.Scope, Class: st.Class, Key: st.Key, Keys: st.Keys,
		Identified: st.Identified, Idents: st.Idents, Remember: st.Remember, WaitHolds: ids}
	body, err := json.Marshal(next)
	if err != nil {
		return nil, nil, err
	}
	r := &Request{ID: gdprkit.NewID(), Type: TypeErasure, Subject: req.Subject, SubjectPS: req.SubjectPS, SubjectRole: req.SubjectRole,
		Scope: req.Scope, RequestedBy: "system:hold", ReceivedAt: now, Verified: true, VerifiedAt: now, DueAt: farFuture, Status: StatusOpen}
	j := &Job{ID: gdprkit.NewID(), Account: job.Account, RequestID: r.ID, Status: JobQueued, NextRunAt: now.Add(holdWait), State: body, CreatedAt: now, UpdatedAt: now}
	r.JobID = j.ID
	return r, j, nil
}

// giveBack stores a failed run's last checkpoint, its error and when to
// try again; a deviation is stored as part of the state. When the store
// itself is unavailable it keeps trying for a while (with the context of
// the run if it still lives, else a short one of its own), so a job
// interrupted by a database restart is free again within seconds of the
// database's return instead of waiting out its lease.
func (s *Service) giveBack(ctx context.Context, job Job, token string, saved []byte, runErr error) {
	attempts := job.Attempts + 1
	permanent := Permanent(runErr)
	limit := s.cfg.MaxAttempts
	if permanent {
		limit = min(limit, s.cfg.MaxPermanentAttempts)
	}
	failed := attempts >= limit
	backoff := min(time.Second<<min(attempts-1, 12), time.Hour)
	if permanent {
		backoff = min(backoff, time.Minute)
	}
	msg := runErr.Error()
	if len(msg) > 1000 {
		msg = strings.ToValidUTF8(msg[:1000], "")
	}
	body := saved
	if errors.Is(runErr, ErrDeviation) {
		failed = true // the deviation and its counts are in the saved state
	}
	gctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		gctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
	}
	for try := 0; ; try++ {
		now := s.now()
		err := s.store.RetryJob(gctx, job.Account, job.ID, token, Retry{State: body, Attempts: attempts, LastError: msg,
			Next: now.Add(backoff), Failed: failed, At: now})
		if err == nil {
			break
		}
		if !errors.Is(err, gdprkit.ErrUnavailable) || try >= 30 || gctx.Err() != nil {
			s.log.Warn("erasure: cannot give the job back; its lease will expire", "job", job.ID, "err", err)
			break
		}
		select {
		case <-gctx.Done():
		case <-time.After(time.Duration(min(try+1, 5)) * 200 * time.Millisecond):
		}
	}
	attrs := map[string]string{"request": job.RequestID, "job": job.ID, "attempts": strconv.Itoa(attempts),
		"permanent": strconv.FormatBool(permanent), "error": msg}
	s.emit(gctx, job.Account, "erasure.run_failed", "", "", attrs)
	if failed {
		s.emit(gctx, job.Account, "erasure.failed", "", "", attrs)
	}
	s.log.Info("erasure: job run failed", "job", job.ID, "attempt", attempts, "failed", failed, "permanent", permanent)
}

// Work runs jobs until ctx ends, sleeping idle between empty polls. It
// takes them in batches (RunBatch with Config.VerifyBatch), so a burst of
// erasures shares its verify passes.
func (s *Service) Work(ctx context.Context, owner string, idle time.Duration) error {
	if idle <= 0 {
		idle = time.Second
	}
	for {
		runs, err := s.RunBatch(ctx, owner, s.cfg.VerifyBatch)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.log.Debug("erasure: cannot claim a job", "err", err)
		}
		for _, r := range runs {
			if r.Err != nil {
				s.log.Debug("erasure: job run ended with an error", "job", r.Job, "err", r.Err)
			}
		}
		if len(runs) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(idle):
			}
		}
	}
}

// RunUntilIdle runs due jobs until none is due, and returns how many runs
// it made and the errors of the runs that failed (the jobs themselves are
// given back or failed as RunOnce says). For tests, tools and a "run now"
// button; a server runs Work.
func (s *Service) RunUntilIdle(ctx context.Context, owner string) (int, []error) {
	var errs []error
	runs := 0
	for ctx.Err() == nil {
		found, err := s.RunOnce(ctx, owner)
		if err != nil {
			errs = append(errs, err)
		}
		if !found {
			break
		}
		runs++
	}
	return runs, errs
}

// erasePhase loads a claimed job's request and runs it up to its verify
// pass: a rights request (access, portability, …) runs to its end there,
// an erasure walks its graph. It reports whether the job still has its
// verify pass and its end (complete) ahead.
func (s *Service) erasePhase(ctx context.Context, c *claimed) (bool, error) {
	job, st := c.job, &c.st
	req, err := s.store.Request(ctx, job.Account, job.RequestID)
	if err != nil {
		return false, err
	}
	c.req = req
	if req.Type != TypeErasure {
		return false, s.runRights(ctx, job, c.token, req, &c.saved) // rights.go
	}
	save := func(ctx context.Context) error { return s.checkpoint(ctx, c) }
	if len(st.WaitHolds) > 0 {
		until, active, err := s.holdsUntil(ctx, job.Account, st.WaitHolds)
		if err != nil {
			return false, err
		}
		if active {
			return false, waiting{until}
		}
		st.WaitHolds = nil
	}
	if !st.Erased {
		if err := s.check(ctx, c.checkRun(), st.Rules); err != nil {
			return false, err
		}
		hs, err := s.ActiveHolds(ctx, job.Account)
		if err != nil {
			return false, err
		}
		if st.Planned == nil {
			if err := s.planJob(ctx, job.Account, req.Subject, st, hs); err != nil {
				return false, err
			}
			if err := save(ctx); err != nil {
				return false, err
			}
		}
		st.RunFrom, st.RunFromDone = s.now(), st.done()
		w := s.newWalker(job.Account, req.Subject, st, hs)
		w.save = save
		if err := w.run(ctx); err != nil {
			return false, err
		}
		if err := save(ctx); err != nil {
			return false, err
		}
	}
	if len(st.Deviations) > 0 {
		return false, fmt.Errorf("%w: %s", ErrDeviation, strings.Join(st.Deviations, "; "))
	}
	return true, nil
}

// checkpoint stores a claimed job's state and renews its lease.
func (s *Service) checkpoint(ctx context.Context, c *claimed) error {
	now := s.now()
	c.st.SavedAt = now
	body, err := json.Marshal(&c.st)
	if err != nil {
		return err
	}
	if err := s.store.SaveJob(ctx, c.job.Account, c.job.ID, c.token, body, now.Add(s.cfg.Lease)); err != nil {
		return err
	}
	c.saved, c.renewed = body, now
	return nil
}

// complete runs an erasure's verify pass — skipped when clean says a
// search made after this job's erase phase, for all of its identifiers
// over all of its kinds, found nothing at all — then notifies the
// recipients, takes the physical steps and finishes the job with its
// receipt.
func (s *Service) complete(ctx context.Context, c *claimed, clean bool) error {
	job, st, req := c.job, &c.st, c.req
	save := func(ctx context.Context) error { return s.checkpoint(ctx, c) }
	if !st.Verified && clean {
		st.Residue, st.Verified = nil, true
		if err := save(ctx); err != nil {
			return err
		}
	}
	if !st.Verified {
		// The verify pass: nothing of the subject may remain that no keep
		// rule or hold explains.
		hs, err := s.ActiveHolds(ctx, job.Account)
		if err != nil {
			return err
		}
		w := s.newWalker(job.Account, req.Subject, st, hs)
		fs, err := s.findResidue(ctx, job.Account, w.kinds, st.Rules, w.key, w.ps, residueNeedles(st.Idents, w.key), hs, st.Pinned)
		if err != nil {
			return err
		}
		if len(fs) > 0 {
			// A retry (after the binding learned to reach what was left)
			// walks the graph again before it verifies again.
			st.Residue, st.Erased, st.Pass, st.Root, st.PassWork, st.Stack = fs, false, 0, 0, 0, nil
			if serr := save(ctx); serr != nil {
				return serr
			}
			return residueError(fs)
		}
		st.Residue, st.Verified = nil, true
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
	// Post-erasure physical steps (physical.go), recorded in the receipt.
	phys, err := s.physicalJob(ctx, job, st, false, save)
	if err != nil {
		return err
	}
	now := s.now()
	w := s.newWalker(job.Account, req.Subject, st, nil)
	rcpt := Receipt{ID: gdprkit.NewID(), RequestID: req.ID, SubjectPS: req.SubjectPS, Scope: req.Scope,
		ReceivedAt: req.ReceivedAt, CompletedAt: now, Targets: w.results(), Holds: st.Holds, Recipients: st.Notified,
		BackupsExpireBy: now.Add(s.cfg.BackupRetention), Physical: phys, Intake: intakeOf(req)}
	for _, t := range rcpt.Targets {
		rcpt.Partial = rcpt.Partial || t.Kept > 0
	}
	tombs := []Tombstone{{Kind: subjectTombstone(req.Scope), Pseudonym: req.SubjectPS, ErasedAt: now, RequestID: req.ID}}
	seen := map[string]bool{}
	for _, id := range st.Idents {
		if id.Kind == "name" {
			continue // names are not unique enough to re-erase by
		}
		ps := s.cfg.Pseudonymizer.Pseudonym(job.Account, id.Kind, id.Value)
		if !seen[id.Kind+"/"+string(ps)] {
			seen[id.Kind+"/"+string(ps)] = true
			tombs = append(tombs, Tombstone{Kind: id.Kind, Pseudonym: ps, ErasedAt: now, RequestID: req.ID})
		}
	}
	fr, fj, err := s.followUp(req, job, st, now)
	if err != nil {
		return err
	}
	st.scrub()
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	out, err := s.store.FinishJob(ctx, job.Account, job.ID, c.token, Finish{Receipt: rcpt, Seal: sealReceipt(job.Account),
		Tombstones: tombs, State: body, At: now, FollowUp: fr, FollowUpJob: fj})
	if err != nil {
		return fmt.Errorf("erasure: finish job: %w", err)
	}
	s.physicalAfterReceipt(ctx, job, st) // physical.go: again, now that the receipt cleared the subject's identifiers
	attrs := map[string]string{"request": req.ID, "receipt_seq": strconv.FormatInt(out.Seq, 10), "partial": strconv.FormatBool(out.Partial)}
	var del, anon, kept int64
	for _, t := range out.Targets {
		del, anon, kept = del+t.Deleted, anon+t.Anonymized, kept+t.Kept
	}
	attrs["deleted"], attrs["anonymized"], attrs["kept"] = strconv.FormatInt(del, 10), strconv.FormatInt(anon, 10), strconv.FormatInt(kept, 10)
	s.emit(ctx, job.Account, "erasure.completed", actorOf(req.RequestedBy, req.Subject), req.SubjectPS, attrs)
	return nil
}

// planJob counts, before a job's first write, what it will change per
// kind: the measure of its progress.
//
// Where Preview would count (no active holds, the full scope, every kind
// able to count), it counts with aggregate queries: a subject with tens of
// thousands of tickets starts erasing in a fraction of a second instead of
// being walked twice. The count is the measure of progress only; the
// receipt counts what the run changed.
func (s *Service) planJob(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, st *jobState, holds []Hold) error {
	if len(holds) == 0 && (st.Scope == "" || st.Scope == ScopeFull) {
		w := s.newWalker(account, subject, st, nil)
		counts, err := s.count(ctx, w, st.Keys)
		if err == nil {
			st.Planned = map[Kind]int64{}
			for k, n := range counts {
				if a := w.rule(k).Action; n > 0 && (a == Delete || a == Anonymize) {
					st.Planned[k] = n
				}
			}
			return nil
		}
		if !errors.Is(err, ErrUnsupported) {
			return err
		}
	}
	dry := &jobState{Rules: st.Rules, ReassignTo: st.ReassignTo, ReassignKey: st.ReassignKey, Scope: st.Scope, Class: st.Class, Key: st.Key, Keys: st.Keys}
	w := s.newWalker(account, subject, dry, holds)
	w.dry = true
	if err := w.run(ctx); err != nil {
		return err
	}
	st.Planned = map[Kind]int64{}
	for k, c := range dry.Counts {
		if n := c.Deleted + c.Anonymized; n > 0 {
			st.Planned[k] = n
		}
	}
	st.Identified, st.Idents = true, dry.Idents
	return nil
}

// Progress is one kind's progress in a job.
type Progress struct {
	// Kind is the target.
	Kind Kind `json:"kind"`
	// Planned is how many records the dry run before the first write
	// counted to delete or anonymise.
	Planned int64 `json:"planned"`
	// Done is how many were deleted or anonymised so far.
	Done int64 `json:"done"`
	// Kept is how many were kept so far (holds, Keep rules).
	Kept int64 `json:"kept,omitempty"`
}

// JobInfo is what a host (or an admin screen) sees of an erasure job.
type JobInfo struct {
	// ID is the job's ID and RequestID its request's.
	ID        string `json:"id"`
	RequestID string `json:"request_id"`
	// Status is where the job stands.
	Status JobStatus `json:"status"`
	// Attempts counts the failed runs; LastError is the last one's error
	// (table and constraint names, never values).
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
	// NextRunAt is when a queued job is due.
	NextRunAt time.Time `json:"next_run_at"`
	// CreatedAt and UpdatedAt bound the job's life so far.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Pass is the verification pass the walk is in (0 for the first).
	Pass int `json:"pass"`
	// Progress has one line per kind with planned or done work, in the
	// order kinds act.
	Progress []Progress `json:"progress,omitempty"`
	// Done and Planned total the progress lines.
	Done    int64 `json:"done"`
	Planned int64 `json:"planned"`
	// Remaining estimates the time left from the pace so far (zero when
	// unknown or finished).
	Remaining time.Duration `json:"remaining,omitempty"`
	// Deviations lists what changed differently from the plan; a job
	// with deviations ends failed.
	Deviations []string `json:"deviations,omitempty"`
	// Residue lists where the verify pass still found the subject's
	// identifiers (kind, record, field; never the value).
	Residue []Finding `json:"residue,omitempty"`
}

// Job returns the job of an erasure request: status, attempts, last
// error, and done / planned per kind with an estimate of the time left.
// It returns an error wrapping gdprkit.ErrNotFound for an unknown request
// or one without a job (an access request).
func (s *Service) Job(ctx context.Context, account gdprkit.AccountID, requestID string) (JobInfo, error) {
	if err := account.Validate(); err != nil {
		return JobInfo{}, err
	}
	req, err := s.store.Request(ctx, account, requestID)
	if err != nil {
		return JobInfo{}, err
	}
	if req.JobID == "" {
		return JobInfo{}, fmt.Errorf("%w: request %s has no erasure job", gdprkit.ErrNotFound, requestID)
	}
	job, err := s.store.Job(ctx, account, req.JobID)
	if err != nil {
		return JobInfo{}, err
	}
	info := JobInfo{ID: job.ID, RequestID: job.RequestID, Status: job.Status, Attempts: job.Attempts, LastError: job.LastError,
		NextRunAt: job.NextRunAt, CreatedAt: job.CreatedAt, UpdatedAt: job.UpdatedAt}
	var st jobState
	if len(job.State) > 0 {
		if err := json.Unmarshal(job.State, &st); err != nil {
			return JobInfo{}, fmt.Errorf("erasure: read job state: %w", err)
		}
	}
	info.Pass, info.Deviations, info.Residue = st.Pass, st.Deviations, st.Residue
	for _, k := range s.cfg.Graph.order {
		p := Progress{Kind: k, Planned: st.Planned[k]}
		if c := st.Counts[k]; c != nil {
			p.Done, p.Kept = c.Deleted+c.Anonymized, max(c.Kept, c.PassKept)
		}
		if p.Planned == 0 && p.Done == 0 && p.Kept == 0 {
			continue
		}
		info.Progress = append(info.Progress, p)
		info.Done += p.Done
		info.Planned += p.Planned
	}
	if (job.Status == JobRunning || job.Status == JobQueued) && info.Done > 0 && info.Planned > info.Done {
		// The pace of the current (or last) run: time between its start
		// and its last checkpoint over the records done in it. Jobs saved
		// before runs recorded their start fall back to the job's age.
		elapsed, done := job.UpdatedAt.Sub(job.CreatedAt), info.Done
		if !st.RunFrom.IsZero() && st.SavedAt.After(st.RunFrom) && info.Done > st.RunFromDone {
			elapsed, done = st.SavedAt.Sub(st.RunFrom), info.Done-st.RunFromDone
		}
		if elapsed > 0 {
			info.Remaining = time.Duration(float64(elapsed) / float64(done) * float64(info.Planned-info.Done))
		}
	}
	return info, nil
}

// Jobs returns the jobs of the account's erasure requests that match f
// (open ones by default), as Job describes them: an admin screen lists
// failed jobs with their errors and offers Retry.
func (s *Service) Jobs(ctx context.Context, account gdprkit.AccountID, f RequestFilter) ([]JobInfo, error) {
	rs, err := s.Requests(ctx, account, f)
	if err != nil {
		return nil, err
	}
	var out []JobInfo
	for _, r := range rs {
		if r.JobID == "" {
			continue
		}
		j, err := s.Job(ctx, account, r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// Retry queues a failed erasure job again, from its last checkpoint, with
// its attempts reset, and reopens its request: after an admin removed the
// cause (a trigger, a constraint, a binding). It returns an error wrapping
// gdprkit.ErrConflict when the job has not failed.
func (s *Service) Retry(ctx context.Context, account gdprkit.AccountID, requestID string, by gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	if err := by.Validate(); err != nil {
		return err
	}
	req, err := s.store.Request(ctx, account, requestID)
	if err != nil {
		return err
	}
	if req.JobID == "" {
		return fmt.Errorf("%w: request %s has no erasure job", gdprkit.ErrNotFound, requestID)
	}
	if err := s.store.RequeueJob(ctx, account, req.JobID, s.now()); err != nil {
		return fmt.Errorf("erasure: retry: %w", err)
	}
	s.emit(ctx, account, "erasure.retried", by, req.SubjectPS, map[string]string{"request": req.ID, "job": req.JobID})
	return nil
}
